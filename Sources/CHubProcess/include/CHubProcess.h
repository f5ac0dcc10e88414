#ifndef CHUB_PROCESS_H
#define CHUB_PROCESS_H

/// Restarts the process in place (same pid, same arguments) with glibc's malloc tunable
/// `glibc.malloc.hugetlb=1`, so that the heap is backed by transparent huge pages where the
/// kernel offers them on request (`/sys/kernel/mm/transparent_hugepage/enabled` is `madvise` or
/// `always`). The router's state is hundreds of megabytes of small records read in random order;
/// with 4 KiB pages nearly every read also misses the TLB.
///
/// Does nothing, and returns, in the restarted image (marked by `HUB_HUGE_PAGES_RESTARTED`, which
/// it removes), when the hugetlb tunable is already set (by an operator, whatever its value),
/// when `HUB_HUGE_PAGES=0`, in secure mode (set-user-id or file capabilities, where glibc ignores
/// tunables), when the kernel has huge pages off, outside glibc, or when the restart fails. Call
/// it first thing in `main`, before anything else has started.
void chub_restart_with_huge_pages(char *const argv[]);

#endif
