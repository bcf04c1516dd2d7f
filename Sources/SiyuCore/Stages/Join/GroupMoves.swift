import Foundation

/// Incremental group rewriting. Nodes, orders and follows carry a group (the component they were
/// linked into), and int_groups says which component a group is in now. After a nightly re-link,
/// a group whose rows all went to one component only gets a new int_groups row instead of all its
/// nodes, orders and follows written again; a group whose rows went to several (a replaced
/// observation took a link away) is parted: its rows are written again under their new
/// component's id. Empty in a full join (no row has a group yet).
struct GroupMoves {
    /// Re-linked group -> its component after this run, or -1 when it parted.
    private var componentOfGroup: [Int: Int] = [:]

    init() {}

    init(orders: OrderRows, follows: FollowRows, components: Components) {
        for k in orders.group.indices { place(orders.group[k], components.id(of: orders.node[k])) }
        for k in follows.group.indices { place(follows.group[k], components.id(of: follows.node[k])) }
    }

    private mutating func place(_ group: Int, _ component: Int) {
        guard group >= 0 else { return }
        if let known = componentOfGroup[group] {
            if known != component { componentOfGroup[group] = -1 }
        } else {
            componentOfGroup[group] = component
        }
    }

    /// The component a re-linked group is in after this run (nil: not re-linked, or parted).
    func movedTo(_ group: Int) -> Int? { componentOfGroup[group].flatMap { $0 >= 0 ? $0 : nil } }

    /// The group's rows stay together: they keep their group.
    func keeps(_ group: Int) -> Bool { movedTo(group) != nil }

    /// The int_groups rows of the groups that moved whole.
    func write(_ db: Database) throws {
        let moveGroup = try db.prepare("INSERT OR REPLACE INTO int_groups VALUES(?,?)")
        for (group, c) in componentOfGroup where c >= 0 { try moveGroup.run([.int(group), .int(c)]) }
    }
}
