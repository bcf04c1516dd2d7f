import Foundation

/// The reading of nodes and links: the orders and follows `link` selected, read once from
/// stg_*, each row's identities interned in the graph (no String per node: keys go from
/// SQLite's column bytes into the graph's arena) and linked by union.
struct LinkInput {
    var graph: IdentityGraph
    var platforms = PlatformNames()
    var orders: OrderRows
    var qualifying: QualifyingOrders
    var follows: FollowRows
    var fans = Fans()
    /// False when the identity closure was computed elsewhere (the Spark engine's `spark_links`):
    /// the rows' nodes are interned but not united, and `unite(links:)` gives the components.
    var unites = true

    init(orderCount: Int, followCount: Int) {
        graph = IdentityGraph(capacity: orderCount + followCount + 1024)
        orders = OrderRows(capacity: orderCount)
        qualifying = QualifyingOrders(capacity: orderCount)
        follows = FollowRows(capacity: followCount)
    }

    /// Identity links from every order, qualifying or not.
    mutating func readOrders(_ db: Database, where condition: String, keepGroups: Bool) throws {
        let groupColumn = keepGroups ? "COALESCE((SELECT grp FROM int_order_group WHERE ref = stg_orders.rowid), -1)" : "-1"
        let st = try db.prepare("SELECT rowid, platform, order_id, buyer, phones, pay_ts, net_fen, is_test, \(groupColumn) FROM stg_orders WHERE \(condition)")
        var key: [UInt8] = []
        key.reserveCapacity(256)
        while try st.step() {
            let rowid = st.int(0)
            if let last = orders.rowid.last, last >= rowid { orders.rowidsAscending = false }
            let platform = st.bytes(1)
            let first = linkOrder(st, platform: platform, key: &key)
            if let pay = st.intOrNil(5), st.int(6) > 0, st.int(7) == 0 {
                qualifying.append(order: orders.rowid.count, pay: pay, net: st.int(6), platform: platforms.index(platform))
            }
            orders.rowid.append(rowid)
            orders.node.append(first)
            if keepGroups { orders.group.append(st.int(8)) }
        }
        st.reset()
    }

    /// The nodes of the order row `st` is on, linked: its buyer account and full mobiles, else
    /// the order itself. Returns the first of them (the order's node).
    private mutating func linkOrder(_ st: Statement, platform: UnsafeBufferPointer<UInt8>, key: inout [UInt8]) -> Int32 {
        var first: Int32 = -1
        if !st.isNull(3) {
            let buyer = st.bytes(3)
            if buyer.count > 0 { first = graph.node(.acct, platform, buyer, scratch: &key) }
        }
        let phoneBytes = st.bytes(4)
        if phoneBytes.count > 0 {
            var start = 0
            for k in 0...phoneBytes.count where k == phoneBytes.count || phoneBytes[k] == 0x2C {
                if let n = Self.phoneNumber(UnsafeBufferPointer(rebasing: phoneBytes[start..<k])) {
                    let node = graph.phone(n)
                    if first < 0 { first = node } else if unites { graph.union(first, node) }
                }
                start = k + 1
            }
        }
        if first < 0 { first = graph.node(.order, platform, st.bytes(2), scratch: &key) }
        return first
    }

    /// Follows in delivery order; per openid its earliest follow (the first record of that time).
    /// The last read: the graph's lookup table is freed after it.
    mutating func readFollows(_ wh: Warehouse, where condition: String, keepGroups: Bool) throws {
        try Self.rankFollowerFiles(wh)
        let groupColumn = keepGroups ? "COALESCE((SELECT grp FROM int_follow_group WHERE ref = stg_follow_records.rowid), -1)" : "-1"
        let st = try wh.db.prepare("""
            SELECT rowid, openid, unionid, mobile, follow_ts, \(groupColumn) FROM stg_follow_records WHERE \(condition)
            ORDER BY (SELECT rank FROM j_file_rank WHERE j_file_rank.file_id = stg_follow_records.file_id), line
            """)
        while try st.step() {
            let rowid = st.int(0)
            let node = graph.node(.openid, st.bytes(1))
            follows.rowid.append(rowid)
            follows.node.append(node)
            if keepGroups { follows.group.append(st.int(5)) }
            if !st.isNull(2) {
                let u = graph.node(.unionid, st.bytes(2))
                if unites { graph.union(node, u) }
            }
            if !st.isNull(3), let m = Self.phoneNumber(st.bytes(3)) {
                let p = graph.phone(m)
                if unites { graph.union(node, p) }
            }
            if let t = st.intOrNil(4) { fans.follow(node, at: t, rowid: rowid) }
        }
        st.reset()
        fans.sealIndex()
        if !unites { try unite(links: wh) }
        graph.sealLookups()
    }

    /// The Spark engine's identity closure: every node of a component with more than one node,
    /// with the component's root, as the job computed them from the same rows. Each must be a
    /// node these rows made (else the two engines read the rows differently: an error, never a
    /// silently different customer).
    mutating func unite(links wh: Warehouse) throws {
        let st = try wh.db.prepare("SELECT node, root FROM spark_links")
        var n = 0
        while try st.step() {
            n += 1
            let node = SparkPlan.unescape(st.text(0)[...]), root = SparkPlan.unescape(st.text(1)[...])
            guard let a = graph.existing(string: node), let b = graph.existing(string: root) else {
                throw SiyuError.internalError("the Spark job's identity closure names a \(node.prefix { $0 != ":" }) node that siyu's join did not read from the same rows (link \(n) of spark_links); the two engines disagree: run with --engine embedded and report this")
            }
            graph.union(a, b)
        }
        st.reset()
    }

    /// j_file_rank: each followers file's place in delivery order, which is how a rebuild ingests
    /// the files (the pipeline's sources in order, each source's files by path), not arrival order
    /// (file_id), so that a tie between two records of one openid at one time goes the same way in
    /// a nightly warehouse and in a rebuild.
    static func rankFollowerFiles(_ wh: Warehouse) throws {
        let db = wh.db, p = wh.pipeline
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS j_file_rank(file_id INTEGER PRIMARY KEY, rank INTEGER NOT NULL); DELETE FROM j_file_rank;")
        let paths = try wh.currentPaths()
        let sourceIndex = Dictionary(p.sources.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let files = try db.prepare("SELECT file_id, source, path FROM raw_files WHERE kind = 'followers'").rows { ($0.int(0), $0.text(1), $0.text(2)) }
        func key(_ f: (Int, String, String)) -> (Int, String, Int) { (sourceIndex[f.1] ?? Int.max, Pipeline.deliveryKey(paths[f.0]?.first ?? f.2), f.0) }
        let rank = try db.prepare("INSERT INTO j_file_rank VALUES(?,?)")
        for (r, f) in files.sorted(by: { key($0) < key($1) }).enumerated() { try rank.run([.int(f.0), .int(r)]) }
    }

    /// An 11-digit mobile as an integer (stg_orders keeps only normalized numbers).
    static func phoneNumber(_ b: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var v: UInt64 = 0
        for c in b {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v * 10 + UInt64(c - 0x30)
        }
        return b.count == 11 ? v : nil
    }
}

extension IdentityGraph {
    /// The node `<platform>:<rest>` of `kind` (an account or an order), its key put together in
    /// `scratch` (one buffer for every row: no allocation per node).
    mutating func node(_ kind: Kind, _ platform: UnsafeBufferPointer<UInt8>, _ rest: UnsafeBufferPointer<UInt8>,
                       scratch key: inout [UInt8]) -> Int32 {
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: platform)
        key.append(0x3A)
        key.append(contentsOf: rest)
        return key.withUnsafeBufferPointer { node(kind, $0) }
    }
}
