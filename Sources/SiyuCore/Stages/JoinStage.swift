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

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "join")
        try wh.requireUpstream("join", upstream: "clean")
        let p = wh.pipeline
        var mark = Date()
        func phase(_ name: String) {
            wh.logger.debug("phase done", metadata: ["stage": "join", "phase": "\(name)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(mark)))"])
            mark = Date()
        }
        try wh.db.transaction {
            // Rebuilt whole: dropping is cheaper than deleting row by row.
            try wh.db.execute("DROP TABLE IF EXISTS int_customers; DROP TABLE IF EXISTS int_purchases; DROP TABLE IF EXISTS int_fans;")
            try wh.createSchema()
            let orderCount = try wh.db.scalarInt("SELECT count(*) FROM stg_orders")
            var g = IdentityGraph(capacity: orderCount)
            var platforms: [String] = []
            var platformIndex: [String: Int] = [:]
            var qualifying: [Order] = []
            qualifying.reserveCapacity(orderCount)
            // Identity links from every order (its newest observation), qualifying or not.
            let st = try wh.db.prepare("SELECT rowid, platform, order_id, buyer, phones, pay_ts, net_fen, is_test FROM stg_orders")
            while try st.step() {
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
                if let pay = st.intOrNil(5), st.int(6) > 0, st.int(7) == 0 {
                    qualifying.append(Order(rowid: st.int(0), platform: pi, payTs: pay, netFen: st.int(6), node: first))
                }
            }
            st.reset()
            phase("read orders")
            let follows = try wh.db.prepare("SELECT openid, unionid, mobile, follow_ts, scene, qr_scene, qr_scene_str FROM stg_follow_records ORDER BY file_id, line").rows { st -> FollowRecord in
                let node = g.node(.openid, st.text(0))
                if let u = st.textOrNil(1) { g.union(node, g.node(.unionid, u)) }
                if st.textOrNil(2) != nil, let n = Self.phoneNumber(st.bytes(2)) { g.union(node, g.phone(n)) }
                return FollowRecord(openid: st.text(0), followTs: st.intOrNil(3), scene: st.textOrNil(4), qrScene: st.textOrNil(5), qrSceneStr: st.textOrNil(6), node: node)
            }
            report.rowsIn = orderCount + follows.count
            phase("read follows")

            // First qualifying order per component: earliest payment time, then platform, then order id.
            var first: [Int32: Int] = [:]   // root -> index in qualifying
            first.reserveCapacity(qualifying.count / 2)
            let orderID = try wh.db.prepare("SELECT order_id FROM stg_orders WHERE rowid=?")
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
            // Customers in key order get dense integer ids.
            let smallest = g.smallestNodes()
            let roots = Array(first.keys)
            let keys = Self.customerKeys(salt: p.salt, nodes: roots.map { g.string(smallest[$0]!) })
            var customers: [(key: String, root: Int32)] = Array(zip(keys, roots))
            customers.sort { $0.key < $1.key }
            var customerID: [Int32: Int] = [:]
            customerID.reserveCapacity(customers.count)
            for (i, c) in customers.enumerated() { customerID[c.root] = i }

            phase("customer keys")
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

            let insertPurchase = try wh.db.prepare("INSERT INTO int_purchases VALUES(?,?,?,?,?,?)")
            for o in qualifying {
                guard let c = customerID[g.find(o.node)] else { continue }
                try insertPurchase.run([.int(c), .text(platforms[o.platform]), .int(o.rowid), .int(o.payTs), .int(o.payTs / 86400), .int(o.netFen)])
                report.rowsOut += 1
            }
            phase("write purchases")
            let promo = try wh.db.prepare("SELECT promo, order_id FROM stg_orders WHERE rowid=?")
            let insertCustomer = try wh.db.prepare("INSERT INTO int_customers VALUES(?,?,?,?,?,?,?,?)")
            var orderRule: [String: String?] = [:]   // promo text -> channel (many orders share one)
            // First orders are looked up in rowid order (sequential reads), then written by customer id.
            var rows: [(id: Int, promo: String, orderID: String)] = []
            rows.reserveCapacity(customers.count)
            for (i, c) in customers.enumerated().sorted(by: { qualifying[first[$0.element.root]!].rowid < qualifying[first[$1.element.root]!].rowid }) {
                try promo.bind([.int(qualifying[first[c.root]!].rowid)])
                _ = try promo.step()
                rows.append((i, promo.text(0), promo.text(1)))
                promo.reset()
            }
            rows.sort { $0.id < $1.id }
            for (i, c) in customers.enumerated() {
                let o = qualifying[first[c.root]!]
                let promoText = rows[i].promo, firstOrderID = rows[i].orderID
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
                try insertCustomer.run([.int(i), .text(c.key), .int(o.payTs), .int(o.payTs / 86400), .text(platform), .text(firstOrderID),
                                        .text(channel ?? p.defaultChannel(platform: platform)), .optInt(follow?.followTs)])
            }
            phase("write customers")
            let insertFan = try wh.db.prepare("INSERT INTO int_fans VALUES(?,?,?,?,?,?,?,?)")
            var channelOfFollow: [String: String] = [:]
            let fans = fanRecord.values.sorted(by: { $0.openid < $1.openid })
            let fanKeys = Self.customerKeys(salt: p.salt, nodes: fans.map { "openid:" + $0.openid })
            for (fi, f) in fans.enumerated() {
                let sig = "\(f.scene ?? "")\u{1f}\(f.qrScene ?? "")\u{1f}\(f.qrSceneStr ?? "")"
                let channel = channelOfFollow[sig] ?? (p.channel(for: .follow, values: [f.scene, f.qrScene, f.qrSceneStr]) ?? p.fanDefaultChannel)
                channelOfFollow[sig] = channel
                try insertFan.run([.text(fanKeys[fi]), .optInt(customerID[g.find(f.node)]),
                                   .int(f.followTs!), .int(f.followTs! / 86400), .optText(f.scene), .optText(f.qrScene), .optText(f.qrSceneStr), .text(channel)])
            }
            phase("write fans")
            try wh.recordStage("join", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "customers=\(customers.count) fans=\(fanRecord.count)")
            wh.logger.info("joined", metadata: ["customers": "\(customers.count)", "fans": "\(fanRecord.count)", "identities": "\(g.count)"])
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
