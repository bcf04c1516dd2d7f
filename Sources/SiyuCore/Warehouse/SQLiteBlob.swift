import CSQLite

extension Statement {
    /// Binds bytes as a BLOB (copied by SQLite).
    public func bindBlob(_ bytes: [UInt8], at index: Int32) {
        bytes.withUnsafeBytes { raw in
            _ = sqlite3_bind_blob(stmt, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), siyu_sqlite_transient())
        }
    }

    /// A BLOB column's bytes, copied out.
    public func blob(_ col: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(stmt, col))
        guard n > 0, let p = sqlite3_column_blob(stmt, col) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}

extension Database {
    /// True inside BEGIN … COMMIT.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
}
