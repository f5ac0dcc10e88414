#ifndef CSQLITE_SETTINGS_H
#define CSQLITE_SETTINGS_H

#include <stdbool.h>

/// Turns off SQLite's memory statistics (`SQLITE_CONFIG_MEMSTATUS`): with them on, every
/// allocation and free of the library takes a global mutex to count bytes, and the hub reads no
/// such count. `sqlite3_config` is variadic, so Swift cannot call it; hence this C.
///
/// Returns whether it took: false once the library is initialized (a connection was opened in
/// this process before: SQLITE_MISUSE), when the setting stays as it is.
bool csqlite_disable_memory_statistics(void);

#endif
