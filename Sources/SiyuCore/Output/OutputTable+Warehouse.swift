extension OutputTable {
    /// Replaces the warehouse's out_<name> with this table, every cell as text, rows in order.
    func store(in db: Database) throws {
        let cols = columns.map { "\"\($0)\" TEXT" }.joined(separator: ", ")
        try db.execute("DROP TABLE IF EXISTS out_\(name); CREATE TABLE out_\(name)(\(cols));")
        let st = try db.prepare("INSERT INTO out_\(name) VALUES(\(Array(repeating: "?", count: columns.count).joined(separator: ",")))")
        for r in rows { try st.run(r.map { .text($0) }) }
    }
}
