import Foundation

/// What a join starts from: a full join drops the int_* tables; an incremental (nightly) one
/// finds the components that new or replaced rows touch and selects their orders and follows
/// (temp tables j_orders and j_follows), so that only those are linked again.
extension JoinStage {
    /// Rebuilt whole: dropping is cheaper than deleting row by row.
    func dropForFullJoin() throws {
        let db = wh.db
        try db.execute("""
            DROP TABLE IF EXISTS int_customers; DROP TABLE IF EXISTS int_purchases; DROP TABLE IF EXISTS int_fans;
            DROP TABLE IF EXISTS int_nodes; DROP TABLE IF EXISTS int_order_group; DROP TABLE IF EXISTS int_follow_group;
            DROP TABLE IF EXISTS int_groups;
            """)
        try wh.createSchema()
        // Bulk load without secondary indexes; they are built once at the end (sorting is
        // far cheaper than a million random B-tree inserts).
        try db.execute("""
            DROP INDEX int_order_group_g; DROP INDEX int_follow_group_g;
            DROP INDEX int_fans_component; DROP INDEX int_fans_day;
            """)
        try wh.setMeta("next_component", "0")
        // Aggregate state built on the old component ids is void: a new generation.
        try db.execute("DELETE FROM int_retired")
        try wh.setMeta("join_generation", String((Int(try wh.meta("join_generation") ?? "0") ?? 0) + 1))
    }

    /// Incremental: fills j_comp with the components to rebuild and j_orders and j_follows with
    /// every row to link again (rows of clean runs after `lastSeq`, orders whose item lines came
    /// in those runs (an item report delivered after its orders: the customer's products change,
    /// so aggregate must take the component out and add it again), and all rows of those
    /// components); deletes the components' int_customers, int_purchases and int_fans rows and
    /// retires their ids (int_retired, for aggregate).
    func selectAffectedComponents(since lastSeq: Int) throws {
        let db = wh.db
        try db.execute("""
            CREATE TEMP TABLE IF NOT EXISTS j_seed(node TEXT PRIMARY KEY) WITHOUT ROWID; DELETE FROM j_seed;
            CREATE TEMP TABLE IF NOT EXISTS j_comp(component INTEGER PRIMARY KEY); DELETE FROM j_comp;
            CREATE TEMP TABLE IF NOT EXISTS j_groups(grp INTEGER PRIMARY KEY); DELETE FROM j_groups;
            CREATE TEMP TABLE IF NOT EXISTS j_orders(ref INTEGER PRIMARY KEY); DELETE FROM j_orders;
            CREATE TEMP TABLE IF NOT EXISTS j_follows(ref INTEGER PRIMARY KEY); DELETE FROM j_follows;
            INSERT INTO j_orders SELECT rowid FROM stg_orders WHERE seq > \(lastSeq);
            INSERT OR IGNORE INTO j_orders SELECT o.rowid FROM stg_items i JOIN stg_orders o ON o.platform = i.platform AND o.order_id = i.order_id
              WHERE i.seq > \(lastSeq);
            INSERT INTO j_follows SELECT rowid FROM stg_follow_records WHERE seq > \(lastSeq);
            """)
        try seedNewNodes()
        // Affected components: those of the seeds and of replaced observations; then every
        // order and follow of those components (of their groups) is linked again. Nodes,
        // orders and follows carry a group, and a group belongs to a component: its row in
        // int_groups, else the component of its own id. A re-linked group whose rows stay
        // together only changes its row in int_groups; new rows and rows of a group that
        // splits are written with their new component's id as their group. (A node that no
        // row carries any more keeps its group: at worst it makes a component affected
        // for nothing; ids are never reused.)
        try db.execute("""
            INSERT OR IGNORE INTO j_comp SELECT COALESCE(g.component, n.grp) FROM int_nodes n LEFT JOIN int_groups g ON g.grp = n.grp
              WHERE n.node IN (SELECT node FROM j_seed);
            INSERT OR IGNORE INTO j_comp SELECT COALESCE(g.component, o.grp) FROM int_order_group o LEFT JOIN int_groups g ON g.grp = o.grp
              WHERE o.ref IN (SELECT rowid_replaced FROM stg_replaced);
            INSERT OR IGNORE INTO j_groups SELECT grp FROM int_groups WHERE component IN (SELECT component FROM j_comp);
            INSERT OR IGNORE INTO j_groups SELECT component FROM j_comp WHERE component NOT IN (SELECT grp FROM int_groups);
            INSERT OR IGNORE INTO j_orders SELECT ref FROM int_order_group WHERE grp IN (SELECT grp FROM j_groups);
            INSERT OR IGNORE INTO j_follows SELECT ref FROM int_follow_group WHERE grp IN (SELECT grp FROM j_groups);
            DELETE FROM int_order_group WHERE ref IN (SELECT rowid_replaced FROM stg_replaced);
            DELETE FROM int_customers WHERE customer_id IN (SELECT component FROM j_comp);
            DELETE FROM int_purchases WHERE customer_id IN (SELECT component FROM j_comp);
            DELETE FROM int_fans WHERE component IN (SELECT component FROM j_comp);
            INSERT OR IGNORE INTO int_retired SELECT component FROM j_comp;
            """)
    }

    /// Seeds (j_seed): the nodes of new rows and of replaced observations.
    private func seedNewNodes() throws {
        let db = wh.db
        let seed = try db.prepare("INSERT OR IGNORE INTO j_seed VALUES(?)")
        let newOrders = try db.prepare("SELECT platform, order_id, buyer, phones FROM stg_orders WHERE rowid IN (SELECT ref FROM j_orders)")
        while try newOrders.step() {
            for n in Self.orderNodes(platform: newOrders.text(0), orderID: newOrders.text(1), buyer: newOrders.textOrNil(2), phones: newOrders.text(3)) {
                try seed.run([.text(n)])
            }
        }
        let newFollows = try db.prepare("SELECT openid, unionid, mobile FROM stg_follow_records WHERE rowid IN (SELECT ref FROM j_follows)")
        while try newFollows.step() {
            for n in Self.followNodes(openid: newFollows.text(0), unionid: newFollows.textOrNil(1), mobile: newFollows.textOrNil(2)) {
                try seed.run([.text(n)])
            }
        }
    }

    /// Identity node strings of an order row (buyer account, full mobiles; else the order itself).
    /// The seeds of an incremental run; `link` builds the same nodes through `IdentityGraph` (the
    /// nightly-equals-full tests hold the two to the same rule).
    static func orderNodes(platform: String, orderID: String, buyer: String?, phones: String) -> [String] {
        var nodes: [String] = []
        if let b = buyer, !b.isEmpty { nodes.append("acct:" + platform + ":" + b) }
        for ph in phones.split(separator: ",") where ph.count == 11 { nodes.append("phone:" + ph) }
        if nodes.isEmpty { nodes.append("order:" + platform + ":" + orderID) }
        return nodes
    }

    static func followNodes(openid: String, unionid: String?, mobile: String?) -> [String] {
        var nodes = ["openid:" + openid]
        if let u = unionid { nodes.append("unionid:" + u) }
        if let m = mobile, m.count == 11 { nodes.append("phone:" + m) }
        return nodes
    }
}
