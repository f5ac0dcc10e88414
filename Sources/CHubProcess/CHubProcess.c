#include "CHubProcess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <sys/auxv.h>
#endif

/// Set for the restarted image, so that it never restarts again whatever glibc does with its
/// own variable (it erases tunables in secure mode, for example).
static const char *const restarted_marker = "HUB_HUGE_PAGES_RESTARTED";

void chub_restart_with_huge_pages(char *const argv[]) {
#if defined(__GLIBC__) && defined(__linux__)
    if (getenv(restarted_marker) != NULL) {
        unsetenv(restarted_marker);
        return;
    }
    // Set-user-id or file capabilities: glibc ignores the tunable, so a restart gains nothing.
    if (getauxval(AT_SECURE) != 0) return;
    const char *opt_out = getenv("HUB_HUGE_PAGES");
    if (opt_out != NULL && strcmp(opt_out, "0") == 0) return;
    const char *tunables = getenv("GLIBC_TUNABLES");
    // Whatever the operator set for the hugetlb tunable (0 included) stands.
    if (tunables != NULL && strstr(tunables, "glibc.malloc.hugetlb") != NULL) return;

    char mode[128] = {0};
    FILE *file = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (file == NULL) return;
    size_t length = fread(mode, 1, sizeof(mode) - 1, file);
    fclose(file);
    mode[length] = '\0';
    if (strstr(mode, "[madvise]") == NULL && strstr(mode, "[always]") == NULL) return;

    // The old value, copied before the environment changes under `getenv`'s pointer.
    char previous[1024];
    int had_previous = tunables != NULL;
    if (had_previous) {
        if (strlen(tunables) >= sizeof(previous)) return;
        strcpy(previous, tunables);
    }
    char value[1024 + 32];
    int written = had_previous && previous[0] != '\0'
        ? snprintf(value, sizeof(value), "%s:glibc.malloc.hugetlb=1", previous)
        : snprintf(value, sizeof(value), "glibc.malloc.hugetlb=1");
    if (written < 0 || (size_t)written >= sizeof(value)) return;
    if (setenv("GLIBC_TUNABLES", value, 1) != 0) return;
    if (setenv(restarted_marker, "1", 1) != 0) {
        if (had_previous) setenv("GLIBC_TUNABLES", previous, 1); else unsetenv("GLIBC_TUNABLES");
        return;
    }
    execv("/proc/self/exe", argv);
    // Only on failure: carry on as before.
    unsetenv(restarted_marker);
    if (had_previous) setenv("GLIBC_TUNABLES", previous, 1); else unsetenv("GLIBC_TUNABLES");
#else
    (void)argv;
#endif
}
