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
                    if first < 0 { first = node } else { graph.union(first, node) }
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
            if !st.isNull(2) { graph.union(node, graph.node(.unionid, st.bytes(2))) }
            if !st.isNull(3), let m = Self.phoneNumber(st.bytes(3)) { graph.union(node, graph.phone(m)) }
            if let t = st.intOrNil(4) { fans.follow(node, at: t, rowid: rowid) }
        }
        st.reset()
        fans.sealIndex()
        graph.sealLookups()
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
