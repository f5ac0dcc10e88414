#include "CSQLiteSettings.h"

#include <sqlite3.h>

bool csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
}
