import Foundation
import Logging

/// Union-find over identity node strings.
struct IdentityGraph {
    private var index: [String: Int] = [:]
    private(set) var names: [String] = []
    private var parent: [Int] = []

    mutating func node(_ name: String) -> Int {
        if let i = index[name] { return i }
        let i = names.count
        index[name] = i
        names.append(name)
        parent.append(i)
        return i
    }

    mutating func find(_ x: Int) -> Int {
        var r = x
        while parent[r] != r { r = parent[r] }
        var c = x
        while parent[c] != r { let n = parent[c]; parent[c] = r; c = n }
        return r
    }

    mutating func union(_ a: Int, _ b: Int) {
        let ra = find(a), rb = find(b)
        if ra != rb { if ra < rb { parent[rb] = ra } else { parent[ra] = rb } }
    }

    /// Links all nodes of one record; returns the first node.
    mutating func link(_ nodes: [String]) -> Int {
        let ids = nodes.map { node($0) }
        for i in ids.dropFirst() { union(ids[0], i) }
        return ids[0]
    }
}

/// Stage 3: customers across platforms and fans (transitive links of METRICS.md), salted opaque
/// customer_key, first purchase, acquisition platform and channel; fans with their first follow.
public struct JoinStage {
    let wh: Warehouse
    public init(_ wh: Warehouse) { self.wh = wh }

    struct Order {
        var platform: String, orderID: String, payTs: Int?, netFen: Int, isTest: Bool, promo: [String], node: Int
        var qualifies: Bool { payTs != nil && netFen > 0 && !isTest }
    }

    struct FollowRecord {
        var openid: String, followTs: Int?, scene: String?, qrScene: String?, qrSceneStr: String?, node: Int
    }

    /// Identity nodes of an order: its buyer account and full mobiles; an order with neither is its own node.
    static func orderNodes(platform: String, orderID: String, buyer: String?, phones: [String]) -> [String] {
        var nodes: [String] = []
        if let b = buyer, !b.isEmpty { nodes.append("acct:\(platform):\(b)") }
        for p in phones where !p.isEmpty { nodes.append("phone:\(p)") }
        if nodes.isEmpty { nodes.append("order:\(platform):\(orderID)") }
        return nodes
    }

    public static func customerKey(salt: String, smallestNode: String) -> String {
        String(SHA256.hexDigest(salt + "\u{1f}" + smallestNode).prefix(16))
    }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "join")
        try wh.requireUpstream("join", upstream: "clean")
        let p = wh.pipeline
        try wh.db.transaction {
            try wh.db.execute("DELETE FROM int_customers; DELETE FROM int_purchases; DELETE FROM int_fans;")
            var g = IdentityGraph()
            let orders = try wh.db.prepare("SELECT platform, order_id, buyer, phones, pay_ts, net_fen, is_test, promo FROM stg_orders ORDER BY platform, order_id").rows { st -> Order in
                let platform = st.text(0), id = st.text(1)
                let phones = st.text(3).split(separator: ",").map(String.init)
                let node = g.link(Self.orderNodes(platform: platform, orderID: id, buyer: st.textOrNil(2), phones: phones))
                let promo = st.text(7).split(separator: "\u{1f}").map(String.init)
                return Order(platform: platform, orderID: id, payTs: st.intOrNil(4), netFen: st.int(5), isTest: st.int(6) != 0, promo: promo, node: node)
            }
            let follows = try wh.db.prepare("SELECT openid, unionid, mobile, follow_ts, scene, qr_scene, qr_scene_str FROM stg_follow_records ORDER BY file_id, line").rows { st -> FollowRecord in
                var nodes = ["openid:\(st.text(0))"]
                if let u = st.textOrNil(1) { nodes.append("unionid:\(u)") }
                if let m = st.textOrNil(2) { nodes.append("phone:\(m)") }
                let node = g.link(nodes)
                return FollowRecord(openid: st.text(0), followTs: st.intOrNil(3), scene: st.textOrNil(4), qrScene: st.textOrNil(5), qrSceneStr: st.textOrNil(6), node: node)
            }
            report.rowsIn = orders.count + follows.count

            // Smallest node string per component: the order-independent basis of customer_key.
            var smallest: [Int: String] = [:]
            for i in 0..<g.names.count {
                let r = g.find(i)
                if let s = smallest[r], s <= g.names[i] { continue }
                smallest[r] = g.names[i]
            }
            // First qualifying order per component: earliest payment time, then platform, then order id.
            var first: [Int: Order] = [:]
            for o in orders where o.qualifies {
                let r = g.find(o.node)
                if let f = first[r], (f.payTs!, f.platform, f.orderID) <= (o.payTs!, o.platform, o.orderID) { continue }
                first[r] = o
            }
            var keyOf: [Int: String] = [:]
            for r in first.keys { keyOf[r] = Self.customerKey(salt: p.salt, smallestNode: smallest[r]!) }

            // Fans: the earliest follow time per openid; its record's scene and QR fields.
            var fanRecord: [String: FollowRecord] = [:]
            for f in follows {
                guard let t = f.followTs else { continue }
                if let prev = fanRecord[f.openid], prev.followTs! <= t { continue }
                fanRecord[f.openid] = f
            }
            var earliestFollowOfComponent: [Int: FollowRecord] = [:]
            for f in fanRecord.values {
                let r = g.find(f.node)
                if let prev = earliestFollowOfComponent[r], (prev.followTs!, prev.openid) <= (f.followTs!, f.openid) { continue }
                earliestFollowOfComponent[r] = f
            }

            let insertPurchase = try wh.db.prepare("INSERT INTO int_purchases VALUES(?,?,?,?,?,?)")
            for o in orders where o.qualifies {
                let key = keyOf[g.find(o.node)]!
                try insertPurchase.run([.text(key), .text(o.platform), .text(o.orderID), .int(o.payTs!), .int(o.payTs! / 86400), .int(o.netFen)])
                report.rowsOut += 1
            }
            let insertCustomer = try wh.db.prepare("INSERT INTO int_customers VALUES(?,?,?,?,?,?,?)")
            for (r, o) in first {
                let follow = earliestFollowOfComponent[r]
                var channel = p.channel(for: .order, values: o.promo)
                if channel == nil, let f = follow, f.followTs! < o.payTs! {
                    channel = p.channel(for: .follow, values: [f.scene, f.qrScene, f.qrSceneStr])
                }
                try insertCustomer.run([.text(keyOf[r]!), .int(o.payTs!), .int(o.payTs! / 86400), .text(o.platform), .text(o.orderID),
                                        .text(channel ?? p.defaultChannel(platform: o.platform)), .optInt(follow?.followTs)])
            }
            let insertFan = try wh.db.prepare("INSERT INTO int_fans VALUES(?,?,?,?,?,?,?,?)")
            for f in fanRecord.values {
                let channel = p.channel(for: .follow, values: [f.scene, f.qrScene, f.qrSceneStr]) ?? p.fanDefaultChannel
                try insertFan.run([.text(Self.customerKey(salt: p.salt, smallestNode: "openid:" + f.openid)), .optText(keyOf[g.find(f.node)]),
                                   .int(f.followTs!), .int(f.followTs! / 86400), .optText(f.scene), .optText(f.qrScene), .optText(f.qrSceneStr), .text(channel)])
            }
            try wh.recordStage("join", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "customers=\(first.count) fans=\(fanRecord.count)")
            wh.logger.info("joined", metadata: ["customers": "\(first.count)", "fans": "\(fanRecord.count)", "identities": "\(g.names.count)"])
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
