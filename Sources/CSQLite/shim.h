// SQLite (Debian: libsqlite3-dev).
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro over a function-pointer cast that Swift cannot import.
static inline void (*siyu_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
