#define _GNU_SOURCE
#include "CTestSpawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

int ctest_spawn(const char *path, char *const argv[], char *const envp[], const char *directory, const char *output, pid_t *pid) {
    // Signals as a new program expects them: none blocked, every one at its default action (the
    // test process blocks or ignores some, and a child would inherit that).
    posix_spawnattr_t attributes;
    int error = posix_spawnattr_init(&attributes);
    if (error != 0) return error;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if ((error = posix_spawnattr_setsigmask(&attributes, &none)) != 0 || (error = posix_spawnattr_setsigdefault(&attributes, &all)) != 0
        || (error = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) != 0) {
        posix_spawnattr_destroy(&attributes);
        return error;
    }
    posix_spawn_file_actions_t actions;
    if ((error = posix_spawn_file_actions_init(&actions)) != 0) {
        posix_spawnattr_destroy(&attributes);
        return error;
    }
    const char *sink = output != NULL ? output : "/dev/null";
    if ((error = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) == 0
        && (error = posix_spawn_file_actions_addopen(&actions, 1, sink, O_WRONLY | O_CREAT | O_APPEND, 0644)) == 0
        && (error = posix_spawn_file_actions_adddup2(&actions, 1, 2)) == 0
#if defined(__APPLE__)
        // (No closefrom there: every descriptor not named above is closed in the child.)
        && (error = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_CLOEXEC_DEFAULT)) == 0
#else
        && (error = posix_spawn_file_actions_addclosefrom_np(&actions, 3)) == 0
#endif
        && (directory == NULL || (error = posix_spawn_file_actions_addchdir_np(&actions, directory)) == 0)) {
        error = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return error;
}
