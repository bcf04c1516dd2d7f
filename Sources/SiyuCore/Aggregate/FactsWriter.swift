/// Keeps agg_facts: each component's facts as they were added, so that a nightly run can take out
/// exactly that when the join retires the component.
struct FactsWriter {
    let insert: Statement, delete: Statement
    init(_ db: Database) throws {
        insert = try db.prepare("INSERT OR REPLACE INTO agg_facts VALUES(?,?)")
        delete = try db.prepare("DELETE FROM agg_facts WHERE component=?")
    }

    func add(_ f: ComponentFacts) throws {
        insert.bindInt(f.component, at: 1)
        insert.bindBlob(f.encoded(), at: 2)
        _ = try insert.step()
        insert.reset()
    }

    func remove(_ component: Int) throws { try delete.run([.int(component)]) }

    /// The stored facts of the components a query selects (its first column is the component).
    static func load(_ db: Database, _ sql: String, _ args: [SQLValue] = []) throws -> [ComponentFacts] {
        try db.prepare("SELECT component, facts FROM agg_facts WHERE component IN (\(sql)) ORDER BY component")
            .rows(args) { ComponentFacts(component: $0.int(0), bytes: $0.blob(1)) }
    }
}
