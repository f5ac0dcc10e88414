#ifndef CTEST_SPAWN_H
#define CTEST_SPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (both NULL-terminated) by `posix_spawn`, for the tests'
/// child processes (the hub, SIPp) in place of Foundation's `Process`.
///
/// Foundation's `Process.run()` on Linux (swift-corelibs-foundation up to 6.3) scans
/// `/proc/self/fd` and copies each entry's name as a fixed 256 bytes: past the end of the
/// directory buffer when the process has more than about 1,300 descriptors open, which a parallel
/// test run has (every open store holds several). Where the buffer ends at an unmapped page the
/// whole test process dies of SIGSEGV (upstream issue swift-corelibs-foundation#5472).
///
/// The child gets standard input from /dev/null and standard output and error appended to
/// `output` (created if missing; /dev/null when NULL), starts in `directory` (unchanged when
/// NULL), inherits no other descriptor (`posix_spawn_file_actions_addclosefrom_np`), and has
/// no signal blocked or ignored.
/// Returns 0 and the child's pid in `pid`, or an errno value.
int ctest_spawn(const char *path, char *const argv[], char *const envp[], const char *directory, const char *output, pid_t *pid);

#endif
