/// The texts of products and titles, by small integer ids (agg_product_names), so that a
/// component's item lines are kept in agg_facts as a few varints instead of the codes and titles
/// themselves. An id never changes while agg_facts refers to it: names are only added by a night,
/// and a full aggregate starts the table again with the facts (`ProductRepurchase.reset`). Id 0 is
/// no name (a line without a title; the `(unknown)` product).
///
/// Names are the same when their UTF-8 bytes are (code point for code point, as SQLite compares
/// them): two codes that Unicode calls equivalent but that are spelled differently are two products.
enum ProductNames {
    /// Every name, by id.
    static func load(_ db: Database) throws -> [Int: String] {
        var names: [Int: String] = [:]
        let st = try db.prepare("SELECT id, name FROM agg_product_names")
        while try st.step() { names[st.int(0)] = st.text(1) }
        st.reset()
        return names
    }

    static func reset(_ db: Database) throws { try db.execute("DELETE FROM agg_product_names") }

    /// Gives each name its id, adding the new ones to the table.
    final class Registry {
        private var ids: [[UInt8]: Int] = [:]
        private var next: Int
        private let insert: Statement

        init(_ db: Database) throws {
            let st = try db.prepare("SELECT id, name FROM agg_product_names")
            var maxID = 0
            while try st.step() {
                ids[Array(st.bytes(1))] = st.int(0)
                maxID = max(maxID, st.int(0))
            }
            st.reset()
            next = maxID + 1
            insert = try db.prepare("INSERT INTO agg_product_names VALUES(?, ?)")
        }

        /// The id of a non-empty name (bytes valid for the call only).
        func id(_ name: UnsafeBufferPointer<UInt8>) throws -> Int {
            let key = Array(name)
            if let id = ids[key] { return id }
            let id = next
            next += 1
            insert.bindInt(id, at: 1)
            insert.bindBytes(name, at: 2)
            _ = try insert.step()
            insert.reset()
            ids[key] = id
            return id
        }
    }
}

extension String {
    /// Ordered by code points (UTF-8 bytes), not by Swift's Unicode canonical ordering: METRICS.md's
    /// "smallest by code point", as the cross-check's Python compares.
    func precedesByCodePoint(_ other: String) -> Bool { utf8.lexicographicallyPrecedes(other.utf8) }
}
