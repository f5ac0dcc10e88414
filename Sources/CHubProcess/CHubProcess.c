#include "CHubProcess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void chub_restart_with_huge_pages(char *const argv[]) {
#if defined(__linux__)
    const char *opt_out = getenv("HUB_HUGE_PAGES");
    if (opt_out != NULL && strcmp(opt_out, "0") == 0) return;
    const char *tunables = getenv("GLIBC_TUNABLES");
    if (tunables != NULL && strstr(tunables, "glibc.malloc.hugetlb") != NULL) return;

    char mode[128] = {0};
    FILE *file = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (file == NULL) return;
    size_t length = fread(mode, 1, sizeof(mode) - 1, file);
    fclose(file);
    mode[length] = '\0';
    if (strstr(mode, "[madvise]") == NULL && strstr(mode, "[always]") == NULL) return;

    char value[1024];
    int written = tunables != NULL && tunables[0] != '\0'
        ? snprintf(value, sizeof(value), "%s:glibc.malloc.hugetlb=1", tunables)
        : snprintf(value, sizeof(value), "glibc.malloc.hugetlb=1");
    if (written < 0 || (size_t)written >= sizeof(value)) return;
    if (setenv("GLIBC_TUNABLES", value, 1) != 0) return;
    execv("/proc/self/exe", argv);
    // Only on failure: carry on as we are, and do not try again in a child.
    unsetenv("GLIBC_TUNABLES");
    if (tunables != NULL) setenv("GLIBC_TUNABLES", tunables, 1);
#else
    (void)argv;
#endif
}
