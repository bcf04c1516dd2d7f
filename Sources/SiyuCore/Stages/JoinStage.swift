import Foundation
import Logging

/// Identity nodes, interned by kind so that no node string is built on the hot path.
/// The string form of a node (`acct:<platform>:<buyer>`, `openid:<id>`, `order:<platform>:<id>`,
/// `phone:<11 digits>`, `unionid:<id>`) is made only for the smallest node of each customer.
struct IdentityGraph {
    /// Kinds in the order their string forms sort ("acct:" < "openid:" < "order:" < "phone:" < "unionid:").
    enum Kind: UInt8 { case acct = 0, openid, order, phone, unionid }
    static let prefixes = ["acct:", "openid:", "order:", "phone:", "unionid:"]

    private var strings: [[String: Int32]] = Array(repeating: [:], count: 5)   // acct, openid, order, unionid
    private var phones: [UInt64: Int32] = [:]
    private(set) var kinds: [Kind] = []
    /// For phone nodes the number, for the others the index into `names`.
    private var payload: [UInt64] = []
    private var names: [String] = []
    private var parent: [Int32] = []

    init(capacity: Int) {
        for i in 0..<5 { strings[i].reserveCapacity(capacity) }
        phones.reserveCapacity(capacity)
        kinds.reserveCapacity(capacity * 2)
        payload.reserveCapacity(capacity * 2)
        parent.reserveCapacity(capacity * 2)
    }

    var count: Int { parent.count }

    private mutating func add(_ kind: Kind, _ payloadValue: UInt64) -> Int32 {
        let i = Int32(parent.count)
        kinds.append(kind)
        payload.append(payloadValue)
        parent.append(i)
        return i
    }

    mutating func node(_ kind: Kind, _ key: String) -> Int32 {
        if let i = strings[Int(kind.rawValue)][key] { return i }
        names.append(key)
        let i = add(kind, UInt64(names.count - 1))
        strings[Int(kind.rawValue)][key] = i
        return i
    }

    mutating func phone(_ number: UInt64) -> Int32 {
        if let i = phones[number] { return i }
        let i = add(.phone, number)
        phones[number] = i
        return i
    }

    mutating func find(_ x: Int32) -> Int32 {
        var r = x
        while parent[Int(r)] != r { r = parent[Int(r)] }
        var c = x
        while parent[Int(c)] != r { let n = parent[Int(c)]; parent[Int(c)] = r; c = n }
        return r
    }

    mutating func union(_ a: Int32, _ b: Int32) {
        let ra = find(a), rb = find(b)
        if ra != rb { if ra < rb { parent[Int(rb)] = ra } else { parent[Int(ra)] = rb } }
    }

    /// The key part of a node's string form (after its kind prefix), comparable within a kind.
    func key(_ i: Int32) -> String {
        let k = kinds[Int(i)]
        if k == .phone { return String(payload[Int(i)]) }
        return names[Int(payload[Int(i)])]
    }

    func string(_ i: Int32) -> String { Self.prefixes[Int(kinds[Int(i)].rawValue)] + key(i) }

    /// The smallest node string of every component, by root.
    mutating func smallestNodes() -> [Int32: Int32] {
        var best: [Int32: Int32] = [:]
        for i in 0..<Int32(count) {
            let r = find(i)
            guard let b = best[r] else { best[r] = i; continue }
            let kb = kinds[Int(b)], ki = kinds[Int(i)]
            if ki.rawValue < kb.rawValue { best[r] = i; continue }
            if ki != kb { continue }
            if ki == .phone { if payload[Int(i)] < payload[Int(b)] { best[r] = i } } else if key(i) < key(b) { best[r] = i }
        }
        return best
    }
}

/// Stage 3: customers across platforms and fans (transitive links of METRICS.md), salted opaque
/// customer_key, first purchase, acquisition platform and channel; fans with their first follow.
public struct JoinStage {
    let wh: Warehouse
    public init(_ wh: Warehouse) { self.wh = wh }

    struct Order {
        var rowid: Int, platform: Int, payTs: Int, netFen: Int, node: Int32
    }

    struct FollowRecord {
        var openid: String, followTs: Int?, scene: String?, qrScene: String?, qrSceneStr: String?, node: Int32
    }

    public static func customerKey(salt: String, smallestNode: String) -> String {
        String(SHA256.hexDigest(salt + "\u{1f}" + smallestNode).prefix(16))
    }

    /// Many keys at once, on both cores.
    static func customerKeys(salt: String, nodes: [String]) -> [String] {
        final class Out: @unchecked Sendable { var keys: [String]; init(_ n: Int) { keys = Array(repeating: "", count: n) } }
        let out = Out(nodes.count)
        let chunks = 2, size = (nodes.count + chunks - 1) / max(chunks, 1)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * size, hi = min(nodes.count, lo + size)
            guard lo < hi else { return }
            var local: [String] = []
            local.reserveCapacity(hi - lo)
            for i in lo..<hi { local.append(customerKey(salt: salt, smallestNode: nodes[i])) }
            // Each chunk writes its own slice.
            out.keys.withUnsafeMutableBufferPointer { buf in for (k, v) in local.enumerated() { buf[lo + k] = v } }
        }
        return out.keys
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

    /// What join's output depends on besides stg_*: when it changes, join runs in full.
    var fingerprint: String {
        let p = wh.pipeline
        var parts = ["join-v1", p.salt, p.fanDefaultChannel]
        for s in p.sources { parts.append("\(s.name)|\(s.platform)|\(s.defaultChannel)") }
        for r in p.rules { parts.append("\(r.channel)|\(r.on.map(\.rawValue).sorted())|\(r.contains)|\(r.equals)") }
        return SHA256.hexDigest(parts.joined(separator: "\n"))
    }

    /// Identity node strings of an order row (buyer account, full mobiles; else the order itself).
    /// The seeds of an incremental run; `run` builds the same nodes through `IdentityGraph` (the
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

    /// Incremental: only the components (customers) that new or replaced rows touch are rebuilt:
    /// their nodes, orders and follows are gathered through int_nodes and int_links, re-linked, and
    /// their int_* rows replaced. A first run, a full clean, or a changed salt or rule set rebuilds all.
    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "join")
        try wh.requireUpstream("join", upstream: "clean")
        let p = wh.pipeline
        let db = wh.db
        var mark = Date()
        func phase(_ name: String) {
            wh.logger.debug("phase done", metadata: ["stage": "join", "phase": "\(name)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(mark)))"])
            mark = Date()
        }
        try db.transaction {
            let cleanSeq = Int(try wh.meta("clean_seq") ?? "0") ?? 0
            let lastSeq = try wh.meta("join_seq").flatMap { Int($0) }
            let joinFull = try wh.meta("join_full"), joinFingerprint = try wh.meta("join_fingerprint")
            let full = lastSeq == nil || joinFull == "1" || joinFingerprint != fingerprint
            var orderWhere = "1", followWhere = "1"
            var affected = 0   // components rebuilt by an incremental run
            if full {
                // Rebuilt whole: dropping is cheaper than deleting row by row.
                try db.execute("""
                    DROP TABLE IF EXISTS int_customers; DROP TABLE IF EXISTS int_purchases; DROP TABLE IF EXISTS int_fans;
                    DROP TABLE IF EXISTS int_nodes; DROP TABLE IF EXISTS int_order_component; DROP TABLE IF EXISTS int_follow_component;
                    """)
                try wh.createSchema()
                // Bulk load without secondary indexes; they are built once at the end (sorting is
                // far cheaper than a million random B-tree inserts).
                try db.execute("""
                    DROP INDEX int_order_component_c; DROP INDEX int_follow_component_c;
                    DROP INDEX int_fans_component; DROP INDEX int_fans_day;
                    """)
                try wh.setMeta("next_component", "0")
                // Aggregate state built on the old component ids is void: a new generation.
                try db.execute("DELETE FROM int_retired")
                try wh.setMeta("join_generation", String((Int(try wh.meta("join_generation") ?? "0") ?? 0) + 1))
            } else {
                try db.execute("""
                    CREATE TEMP TABLE IF NOT EXISTS j_seed(node TEXT PRIMARY KEY) WITHOUT ROWID; DELETE FROM j_seed;
                    CREATE TEMP TABLE IF NOT EXISTS j_comp(component INTEGER PRIMARY KEY); DELETE FROM j_comp;
                    CREATE TEMP TABLE IF NOT EXISTS j_orders(ref INTEGER PRIMARY KEY); DELETE FROM j_orders;
                    CREATE TEMP TABLE IF NOT EXISTS j_follows(ref INTEGER PRIMARY KEY); DELETE FROM j_follows;
                    INSERT INTO j_orders SELECT rowid FROM stg_orders WHERE seq > \(lastSeq!);
                    INSERT INTO j_follows SELECT rowid FROM stg_follow_records WHERE seq > \(lastSeq!);
                    """)
                // Seeds: the nodes of new rows and of replaced observations.
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
                // Affected components: those of the seeds and of replaced observations; then every
                // order and follow of those components is linked again. (A node that no row carries
                // any more keeps pointing at a retired component id: ids are never reused.)
                try db.execute("""
                    INSERT OR IGNORE INTO j_comp SELECT component FROM int_nodes WHERE node IN (SELECT node FROM j_seed);
                    INSERT OR IGNORE INTO j_comp SELECT component FROM int_order_component WHERE ref IN (SELECT rowid_replaced FROM stg_replaced);
                    INSERT OR IGNORE INTO j_orders SELECT ref FROM int_order_component WHERE component IN (SELECT component FROM j_comp);
                    INSERT OR IGNORE INTO j_follows SELECT ref FROM int_follow_component WHERE component IN (SELECT component FROM j_comp);
                    DELETE FROM int_order_component WHERE ref IN (SELECT ref FROM j_orders) OR ref IN (SELECT rowid_replaced FROM stg_replaced);
                    DELETE FROM int_follow_component WHERE ref IN (SELECT ref FROM j_follows);
                    DELETE FROM int_customers WHERE customer_id IN (SELECT component FROM j_comp);
                    DELETE FROM int_purchases WHERE customer_id IN (SELECT component FROM j_comp);
                    DELETE FROM int_fans WHERE component IN (SELECT component FROM j_comp);
                    INSERT OR IGNORE INTO int_retired SELECT component FROM j_comp;
                    """)
                orderWhere = "rowid IN (SELECT ref FROM j_orders)"
                followWhere = "rowid IN (SELECT ref FROM j_follows)"
                affected = try db.scalarInt("SELECT count(*) FROM j_comp")
            }
            phase(full ? "full rebuild" : "affected components")

            let orderCount = try db.scalarInt("SELECT count(*) FROM stg_orders WHERE \(orderWhere)")
            var g = IdentityGraph(capacity: orderCount)
            var platforms: [String] = []
            var platformIndex: [String: Int] = [:]
            var qualifying: [Order] = []
            qualifying.reserveCapacity(orderCount)
            // Each order's and follow's first node, for int_order_component / int_follow_component.
            var links: [(kind: Int, ref: Int, node: Int32)] = []
            links.reserveCapacity(orderCount + 1024)
            // Identity links from every order (its newest observation), qualifying or not.
            let st = try db.prepare("SELECT rowid, platform, order_id, buyer, phones, pay_ts, net_fen, is_test FROM stg_orders WHERE \(orderWhere)")
            while try st.step() {
                let rowid = st.int(0)
                let platform = st.text(1)
                let pi: Int
                if let i = platformIndex[platform] { pi = i } else { pi = platforms.count; platformIndex[platform] = pi; platforms.append(platform) }
                var first: Int32 = -1
                if let buyer = st.textOrNil(3), !buyer.isEmpty { first = g.node(.acct, platform + ":" + buyer) }
                let phoneBytes = st.bytes(4)
                if phoneBytes.count > 0 {
                    var start = 0
                    for k in 0...phoneBytes.count where k == phoneBytes.count || phoneBytes[k] == 0x2C {
                        if let n = Self.phoneNumber(UnsafeBufferPointer(rebasing: phoneBytes[start..<k])) {
                            let node = g.phone(n)
                            if first < 0 { first = node } else { g.union(first, node) }
                        }
                        start = k + 1
                    }
                }
                if first < 0 { first = g.node(.order, platform + ":" + st.text(2)) }
                links.append((0, rowid, first))
                if let pay = st.intOrNil(5), st.int(6) > 0, st.int(7) == 0 {
                    qualifying.append(Order(rowid: rowid, platform: pi, payTs: pay, netFen: st.int(6), node: first))
                }
            }
            st.reset()
            phase("read orders")
            let follows = try db.prepare("SELECT rowid, openid, unionid, mobile, follow_ts, scene, qr_scene, qr_scene_str FROM stg_follow_records WHERE \(followWhere) ORDER BY file_id, line").rows { st -> FollowRecord in
                let rowid = st.int(0)
                let node = g.node(.openid, st.text(1))
                links.append((1, rowid, node))
                if let u = st.textOrNil(2) { g.union(node, g.node(.unionid, u)) }
                if st.textOrNil(3) != nil, let m = Self.phoneNumber(st.bytes(3)) { g.union(node, g.phone(m)) }
                return FollowRecord(openid: st.text(1), followTs: st.intOrNil(4), scene: st.textOrNil(5), qrScene: st.textOrNil(6), qrSceneStr: st.textOrNil(7), node: node)
            }
            report.rowsIn = orderCount + follows.count
            phase("read follows")

            // First qualifying order per component: earliest payment time, then platform, then order id.
            var first: [Int32: Int] = [:]   // root -> index in qualifying
            first.reserveCapacity(qualifying.count / 2)
            let orderID = try db.prepare("SELECT order_id FROM stg_orders WHERE rowid=?")
            func id(_ o: Order) throws -> String {
                try orderID.bind([.int(o.rowid)]); defer { orderID.reset() }
                return try orderID.step() ? orderID.text(0) : ""
            }
            for (i, o) in qualifying.enumerated() {
                let r = g.find(o.node)
                guard let j = first[r] else { first[r] = i; continue }
                let f = qualifying[j]
                if (o.payTs, platforms[o.platform]) < (f.payTs, platforms[f.platform]) { first[r] = i; continue }
                if o.payTs == f.payTs, o.platform == f.platform, try id(o) < id(f) { first[r] = i }
            }
            phase("first orders")
            // Customers (components with a qualifying order) in customer_key order.
            let smallest = g.smallestNodes()
            let roots = Array(first.keys)
            let keys = Self.customerKeys(salt: p.salt, nodes: roots.map { g.string(smallest[$0]!) })
            var customers: [(key: String, root: Int32)] = Array(zip(keys, roots))
            customers.sort { $0.key < $1.key }
            phase("customer keys")
            // Every component gets a fresh id: customers first, in key order (so int_customers is
            // written in both its primary key's and customer_key's order), then the others.
            var nextComponent = Int(try wh.meta("next_component") ?? "0") ?? 0
            var componentID: [Int32: Int] = [:]
            componentID.reserveCapacity(g.count)
            for c in customers { componentID[c.root] = nextComponent; nextComponent += 1 }
            let insertNode = try db.prepare("INSERT OR REPLACE INTO int_nodes VALUES(?,?)")
            var nodeRows: [(String, Int)] = []
            nodeRows.reserveCapacity(g.count)
            for i in 0..<Int32(g.count) {
                let r = g.find(i)
                let c: Int
                if let existing = componentID[r] { c = existing } else { c = nextComponent; nextComponent += 1; componentID[r] = c }
                nodeRows.append((g.string(i), c))
            }
            nodeRows.sort { $0.0 < $1.0 }   // key order: appends to the primary key's B-tree
            for (node, c) in nodeRows { try insertNode.run([.text(node), .int(c)]) }
            try wh.setMeta("next_component", String(nextComponent))
            let orderComponent = try db.prepare("INSERT OR REPLACE INTO int_order_component VALUES(?,?)")
            let followComponent = try db.prepare("INSERT OR REPLACE INTO int_follow_component VALUES(?,?)")
            for l in links {
                try (l.kind == 0 ? orderComponent : followComponent).run([.int(l.ref), .int(componentID[g.find(l.node)]!)])
            }
            phase("write nodes and links")

            // Fans: the earliest follow time per openid; its record's scene and QR fields.
            var fanRecord: [String: FollowRecord] = [:]
            for f in follows {
                guard let t = f.followTs else { continue }
                if let prev = fanRecord[f.openid], prev.followTs! <= t { continue }
                fanRecord[f.openid] = f
            }
            var earliestFollow: [Int32: FollowRecord] = [:]
            for f in fanRecord.values {
                let r = g.find(f.node)
                if let prev = earliestFollow[r], (prev.followTs!, prev.openid) <= (f.followTs!, f.openid) { continue }
                earliestFollow[r] = f
            }
            let isCustomer = Set(first.keys)

            let insertPurchase = try db.prepare("INSERT INTO int_purchases VALUES(?,?,?,?,?,?)")
            // In primary key order (customer, order row): appends to the table's B-tree.
            var purchaseRows = qualifying.map { (customer: componentID[g.find($0.node)]!, order: $0) }
            purchaseRows.sort { ($0.customer, $0.order.rowid) < ($1.customer, $1.order.rowid) }
            for (c, o) in purchaseRows {
                try insertPurchase.run([.int(c), .text(platforms[o.platform]), .int(o.rowid), .int(o.payTs), .int(o.payTs / 86400), .int(o.netFen)])
                report.rowsOut += 1
            }
            phase("write purchases")
            let promo = try db.prepare("SELECT promo, order_id FROM stg_orders WHERE rowid=?")
            let insertCustomer = try db.prepare("INSERT INTO int_customers VALUES(?,?,?,?,?,?,?,?)")
            var orderRule: [String: String?] = [:]   // promo text -> channel (many orders share one)
            // First orders are looked up in rowid order (sequential reads).
            var promoOf: [Int: (promo: String, orderID: String)] = [:]
            for rowid in customers.map({ qualifying[first[$0.root]!].rowid }).sorted() {
                try promo.bind([.int(rowid)])
                _ = try promo.step()
                promoOf[rowid] = (promo.text(0), promo.text(1))
                promo.reset()
            }
            for c in customers {
                let o = qualifying[first[c.root]!]
                let (promoText, firstOrderID) = promoOf[o.rowid]!
                let follow = earliestFollow[c.root]
                var channel: String?
                if let cached = orderRule[promoText] { channel = cached } else {
                    channel = p.channel(for: .order, values: promoText.split(separator: "\u{1f}").map(String.init))
                    orderRule[promoText] = channel
                }
                if channel == nil, let f = follow, f.followTs! < o.payTs {
                    channel = p.channel(for: .follow, values: [f.scene, f.qrScene, f.qrSceneStr])
                }
                let platform = platforms[o.platform]
                try insertCustomer.run([.int(componentID[c.root]!), .text(c.key), .int(o.payTs), .int(o.payTs / 86400), .text(platform), .text(firstOrderID),
                                        .text(channel ?? p.defaultChannel(platform: platform)), .optInt(follow?.followTs)])
            }
            phase("write customers")
            let insertFan = try db.prepare("INSERT INTO int_fans VALUES(?,?,?,?,?,?,?,?,?)")
            var channelOfFollow: [String: String] = [:]
            let fans = fanRecord.values.sorted(by: { $0.openid < $1.openid })
            let fanKeys = Self.customerKeys(salt: p.salt, nodes: fans.map { "openid:" + $0.openid })
            // Inserted in key order: appends to the primary key's B-tree.
            for fi in fans.indices.sorted(by: { fanKeys[$0] < fanKeys[$1] }) {
                let f = fans[fi]
                let sig = "\(f.scene ?? "")\u{1f}\(f.qrScene ?? "")\u{1f}\(f.qrSceneStr ?? "")"
                let channel = channelOfFollow[sig] ?? (p.channel(for: .follow, values: [f.scene, f.qrScene, f.qrSceneStr]) ?? p.fanDefaultChannel)
                channelOfFollow[sig] = channel
                let r = g.find(f.node)
                try insertFan.run([.text(fanKeys[fi]), .optInt(isCustomer.contains(r) ? componentID[r] : nil), .int(componentID[r]!),
                                   .int(f.followTs!), .int(f.followTs! / 86400), .optText(f.scene), .optText(f.qrScene), .optText(f.qrSceneStr), .text(channel)])
            }
            phase("write fans")
            if full { try wh.createSchema() }   // the secondary indexes dropped for the bulk load
            phase("indexes")
            try db.execute("DELETE FROM stg_replaced")
            try wh.setMeta("join_seq", String(cleanSeq))
            try wh.setMeta("join_full", "0")
            try wh.setMeta("join_fingerprint", fingerprint)
            let totalCustomers = try db.scalarInt("SELECT count(*) FROM int_customers")
            try wh.recordStage("join", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: full ? "full customers=\(totalCustomers)" : "incremental components=\(affected) customers=\(totalCustomers)")
            wh.logger.info("joined", metadata: ["mode": "\(full ? "full" : "incremental")", "customers": "\(totalCustomers)", "customers.rebuilt": "\(customers.count)", "identities": "\(g.count)"])
        }
        phase("commit")
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
