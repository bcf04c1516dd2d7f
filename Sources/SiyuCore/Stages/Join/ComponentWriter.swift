import Foundation

/// Writes where each identity, order and follow went (int_nodes, int_order_group,
/// int_follow_group, int_groups) and, in `ComponentWriter+Customers`, the purchases, customers
/// and fans of the components. Every table is written in its primary key's order: appends to its
/// B-tree (a full join builds the secondary indexes once at the end).
struct ComponentWriter {
    let db: Database
    let components: Components
    /// Incremental: the rows read have groups already; only new rows, rows of groups that part and
    /// nodes whose group no longer leads to their component are written.
    let keepGroups: Bool

    /// int_nodes in key order. Incremental: a stored node stays when its group leads to its
    /// component after this run.
    func writeNodes(_ graph: IdentityGraph, moves: GroupMoves) throws {
        let sorted = Self.sortedNodes(graph)
        defer { sorted.deallocate() }
        let insertNode = try db.prepare("INSERT OR REPLACE INTO int_nodes VALUES(?,?)")
        let stored = try db.prepare("SELECT n.grp, COALESCE(g.component, n.grp) FROM int_nodes n LEFT JOIN int_groups g ON g.grp = n.grp WHERE n.node = ?")
        var text: [UInt8] = []
        for i in sorted {
            text.removeAll(keepingCapacity: true)
            graph.appendString(i, to: &text)
            let c = components.id(of: i)
            if keepGroups {
                text.withUnsafeBufferPointer { stored.bindBytes($0, at: 1) }
                let found = try stored.step()
                let leadsTo = found ? moves.movedTo(stored.int(0)) ?? stored.int(1) : -1
                stored.reset()
                if leadsTo == c { continue }
            }
            text.withUnsafeBufferPointer { insertNode.bindBytes($0, at: 1) }
            insertNode.bindInt(c, at: 2)
            try insertNode.step()
            insertNode.reset()
        }
    }

    /// The graph's nodes sorted by string form: a counting sort by kind (kinds sort as their
    /// prefixes do), then each kind sorted on its own task. The caller deallocates.
    private static func sortedNodes(_ graph: IdentityGraph) -> UnsafeMutableBufferPointer<Int32> {
        let nodeCount = graph.count
        let sorted = UnsafeMutableBufferPointer<Int32>.allocate(capacity: nodeCount)
        var kindStart = [Int](repeating: 0, count: 6)
        for k in graph.kinds { kindStart[Int(k.rawValue) + 1] += 1 }
        for k in 1..<6 { kindStart[k] += kindStart[k - 1] }
        var fill = kindStart
        for i in 0..<Int32(nodeCount) { let k = Int(graph.kinds[Int(i)].rawValue); sorted[fill[k]] = i; fill[k] += 1 }
        let work = Unchecked((sorted, kindStart, graph))
        DispatchQueue.concurrentPerform(iterations: 5) { k in
            let (sorted, kindStart, graph) = work.value
            var part = UnsafeMutableBufferPointer(rebasing: sorted[kindStart[k]..<kindStart[k + 1]])
            part.sort { graph.less($0, $1) }
        }
        return sorted
    }

    /// Each order's and follow's group: its component's id, unless it keeps its group; then the
    /// int_groups rows of the groups that moved whole.
    func writeGroups(_ orders: OrderRows, _ follows: FollowRows, moves: GroupMoves) throws {
        try writeGroups("int_order_group", count: orders.rowid.count, rowid: { orders.rowid[$0] }, node: { orders.node[$0] },
                        keep: { keepGroups && moves.keeps(orders.group[$0]) })
        try writeGroups("int_follow_group", count: follows.rowid.count, rowid: { follows.rowid[$0] }, node: { follows.node[$0] },
                        keep: { keepGroups && moves.keeps(follows.group[$0]) })
        try moves.write(db)
    }

    private func writeGroups(_ table: String, count: Int, rowid: (Int) -> Int, node: (Int) -> Int32, keep: (Int) -> Bool) throws {
        let insert = try db.prepare("INSERT OR REPLACE INTO \(table) VALUES(?,?)")
        for k in 0..<count where !keep(k) {
            insert.bindInt(rowid(k), at: 1)
            insert.bindInt(components.id(of: node(k)), at: 2)
            try insert.step()
            insert.reset()
        }
    }
}
