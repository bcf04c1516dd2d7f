import CSQLite
import Foundation

/// An error from SQLite. The message names the SQL; bound values (possibly personal data) stay out.
/// The description says, in words, what the code means for the warehouse and what to do.
public struct SQLiteError: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let sql: String?
    /// The database file, and the stage that was running (set by the runner).
    public var path: String? = nil
    public var stage: String? = nil

    public var description: String {
        let file = path ?? "the warehouse"
        let what: String
        switch code & 0xFF {
        case SQLITE_FULL: what = "\(file): the disk (or the temporary folder) is full; free space and run again: nothing this stage did was kept"
        case SQLITE_IOERR: what = "\(file): the disk reported an input/output error; check the disk and run again: nothing this stage did was kept"
        case SQLITE_READONLY: what = "\(file): the warehouse cannot be written (read-only file, folder or disk); check its permissions"
        case SQLITE_CANTOPEN: what = "\(file): the warehouse cannot be opened or created; check that its folder exists and is writable"
        case SQLITE_BUSY, SQLITE_LOCKED: what = "\(file): the warehouse is in use by another process that does not hold siyu's lock (a copy opened in a SQLite tool?); close it and run again"
        case SQLITE_CORRUPT, SQLITE_NOTADB: what = "\(file): the warehouse file is damaged; move it aside and rebuild the warehouse from the exports with `siyu run --full`"
        case SQLITE_PERM, SQLITE_AUTH: what = "\(file): access to the warehouse was denied; check its permissions"
        default: what = "\(file): the warehouse reported an error"
        }
        let detail = sql.map { "SQLite error \(code): \(message) (in: \($0.prefix(200)))" } ?? "SQLite error \(code): \(message)"
        return (stage.map { "stage \($0): " } ?? "") + what + " [\(detail)]"
    }
}

/// A thin, single-threaded handle on one SQLite database file. The only door to the C API.
public final class Database {
    let handle: OpaquePointer
    public let path: String

    /// `immutable`: read-only, without locks or change detection, for a reader beside a writer of
    /// a scratch file that never touches the tables this reader reads (see `Database.withoutWAL`).
    public init(path: String, readOnly: Bool = false, immutable: Bool = false) throws {
        var db: OpaquePointer?
        var flags = readOnly || immutable ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var name = path
        if immutable {
            flags |= SQLITE_OPEN_URI
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "?#%")
            name = "file:" + (path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path) + "?immutable=1"
        }
        if let problem = Self.notADatabase(path) {
            throw SiyuError.config(file: path, message: problem)
        }
        if !readOnly && !immutable {
            // 0600: the warehouse holds names, phones and addresses as exported (raw_*). SQLite
            // gives its -wal, -shm and journal files the same permissions as the database.
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd >= 0 { _ = fchmod(fd, 0o600); close(fd) } else if errno == ELOOP, let real = realpath(path, nil) {
                _ = chmod(real, 0o600); free(real)   // a warehouse reached through a link: the file itself
            }
        }
        let rc = sqlite3_open_v2(name, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close(db) }
            throw SQLiteError(code: rc, message: msg, sql: nil, path: path)
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5000)
        try execute("PRAGMA cache_size=-32768")   // 32 MiB per connection
        if immutable { return }
        try execute("PRAGMA journal_mode=WAL")
        try execute("PRAGMA synchronous=NORMAL")
        // Checkpoint when the last connection closes, not after every stage: a page that several
        // stages of one run touch is copied into the database once.
        try execute("PRAGMA wal_autocheckpoint=262144")
        try execute("PRAGMA temp_store=MEMORY")
        try execute("PRAGMA foreign_keys=OFF")
    }

    deinit { sqlite3_close_v2(handle) }

    /// Why `path` must not be opened as a database, or nil (a SQLite file, an empty file or no
    /// file yet). siyu never changes, journals or replaces a file that is not a database: a
    /// mistyped --warehouse pointing at a pipeline file, a device or a FIFO is refused untouched.
    public static func notADatabase(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }   // nothing there yet (or a dangling link: SQLite says)
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            return "is not a regular file (a folder, device or pipe); choose another warehouse path (--warehouse, or warehouse = \"…\" in the pipeline)"
        }
        if st.st_size == 0 { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }   // SQLite reports the permission problem itself
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &head, 16)
        if n == 16 && head == Array("SQLite format 3\0".utf8) { return nil }
        return "is not a siyu warehouse (not a SQLite database file); siyu leaves it untouched: point --warehouse (or warehouse = \"…\") at the warehouse, or at a new path to start one"
    }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? lastError
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: msg, sql: sql, path: path)
        }
    }

    public func prepare(_ sql: String) throws -> Statement { try Statement(db: self, sql: sql) }

    /// Runs `body` in one IMMEDIATE transaction: all or nothing.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// First column of the first row, as Int (0 when no row).
    public func scalarInt(_ sql: String, _ args: [SQLValue] = []) throws -> Int {
        let st = try prepare(sql)
        try st.bind(args)
        return try st.step() ? st.int(0) : 0
    }

    public func scalarText(_ sql: String, _ args: [SQLValue] = []) throws -> String? {
        let st = try prepare(sql)
        try st.bind(args)
        return try st.step() ? st.textOrNil(0) : nil
    }

    public func tableExists(_ name: String) throws -> Bool {
        try scalarInt("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?", [.text(name)]) > 0
    }
}

public enum SQLValue {
    case int(Int)
    case text(String)
    case null

    public static func optText(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    public static func optInt(_ i: Int?) -> SQLValue { i.map { .int($0) } ?? .null }
}

/// A prepared statement: prepared in init, finalized in deinit; bind / step / reset explicitly.
public final class Statement {
    let stmt: OpaquePointer
    unowned let db: Database
    let sql: String

    init(db: Database, sql: String) throws {
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v2(db.handle, sql, -1, &s, nil)
        guard rc == SQLITE_OK, let s else { throw SQLiteError(code: rc, message: db.lastError, sql: sql, path: db.path) }
        stmt = s
        self.db = db
        self.sql = sql
    }

    deinit { sqlite3_finalize(stmt) }

    public func bind(_ values: [SQLValue]) throws {
        for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    public func bind(_ value: SQLValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .int(let i): rc = sqlite3_bind_int64(stmt, index, Int64(i))
        case .text(let s):
            rc = s.utf8.withContiguousStorageIfAvailable { buf in
                sqlite3_bind_text(stmt, index, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  Int32(buf.count), siyu_sqlite_transient())
            } ?? sqlite3_bind_text(stmt, index, s, -1, siyu_sqlite_transient())
        case .null: rc = sqlite3_bind_null(stmt, index)
        }
        if rc != SQLITE_OK { throw SQLiteError(code: rc, message: db.lastError, sql: sql, path: db.path) }
    }

    public func bindInt(_ value: Int, at index: Int32) { sqlite3_bind_int64(stmt, index, Int64(value)) }
    public func bindDouble(_ value: Double, at index: Int32) { sqlite3_bind_double(stmt, index, value) }

    /// Binds UTF-8 bytes as text without building a String.
    public func bindBytes(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int32) {
        if let base = bytes.baseAddress {
            sqlite3_bind_text(stmt, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                              Int32(bytes.count), siyu_sqlite_transient())
        } else {
            sqlite3_bind_text(stmt, index, "", 0, siyu_sqlite_transient())
        }
    }

    /// Steps once: true when a row is available, false when done.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw SQLiteError(code: rc, message: db.lastError, sql: sql, path: db.path)
    }

    /// Executes a statement that returns no rows, then resets it for reuse.
    public func run(_ values: [SQLValue] = []) throws {
        try bind(values)
        _ = try step()
        reset()
    }

    public func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    public func int(_ col: Int32) -> Int { Int(sqlite3_column_int64(stmt, col)) }
    public func double(_ col: Int32) -> Double { sqlite3_column_double(stmt, col) }
    public func isNull(_ col: Int32) -> Bool { sqlite3_column_type(stmt, col) == SQLITE_NULL }
    public func intOrNil(_ col: Int32) -> Int? { isNull(col) ? nil : int(col) }
    public func text(_ col: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, col) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, col))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    public func textOrNil(_ col: Int32) -> String? { isNull(col) ? nil : text(col) }
    public enum ColumnType { case null, integer, text, other }
    public func columnType(_ col: Int32) -> ColumnType {
        switch sqlite3_column_type(stmt, col) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer
        case SQLITE_TEXT: return .text
        default: return .other
        }
    }
    public var columnCount: Int32 { sqlite3_column_count(stmt) }
    public func columnName(_ col: Int32) -> String { sqlite3_column_name(stmt, col).map { String(cString: $0) } ?? "" }
    /// The column's UTF-8 bytes, valid until the next step or reset.
    public func bytes(_ col: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let p = sqlite3_column_text(stmt, col) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, col)))
    }

    /// All rows, mapped.
    public func rows<T>(_ values: [SQLValue] = [], _ map: (Statement) throws -> T) throws -> [T] {
        try bind(values)
        var out: [T] = []
        while try step() { out.append(try map(self)) }
        reset()
        return out
    }
}

extension Database {
    /// For a scratch database only (a rebuild beside the warehouse, deleted if the run dies):
    /// runs `body` with the rollback journal in memory and no fsync, so that a bulk load writes
    /// each page once instead of into the WAL and again when the WAL is checkpointed. Rollback
    /// still works (the journal keeps the pages that existed before the transaction, few in a new
    /// file). No other connection that takes locks may have the database open (immutable readers
    /// take none); WAL is back when `body` returns.
    public func withoutWAL<T>(_ body: () throws -> T) throws -> T {
        try execute("PRAGMA journal_mode=MEMORY")
        try execute("PRAGMA synchronous=OFF")
        defer {
            try? execute("PRAGMA synchronous=NORMAL")
            try? execute("PRAGMA journal_mode=WAL")
        }
        return try body()
    }

    /// Runs `body` with temporary storage (sorts for CREATE INDEX and ORDER BY, temp tables) in
    /// files rather than in memory, so that a bulk load's sorts spill to disk instead of growing
    /// the process: SQLite keeps a sort in memory only up to the cache size then. Must be called
    /// outside a transaction; temporary tables do not survive it.
    public func withTempFiles<T>(_ body: () throws -> T) throws -> T {
        try execute("PRAGMA temp_store=FILE")
        defer { try? execute("PRAGMA temp_store=MEMORY") }
        return try body()
    }
}
