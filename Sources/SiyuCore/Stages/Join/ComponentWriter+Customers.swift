import Foundation

/// int_purchases, int_customers and int_fans of the components: the graph's results joined with
/// the details the second connection read (`DetailsFetch`).
extension ComponentWriter {
    /// Purchases in primary key order (customer, order row): appends to the table's B-tree.
    /// Returns how many were written.
    func writePurchases(_ orders: OrderRows, _ q: QualifyingOrders, platformText: [[UInt8]]) throws -> Int {
        let insertPurchase = try db.prepare("INSERT INTO int_purchases VALUES(?,?,?,?,?,?)")
        for i in purchaseOrder(orders, q) {
            let k = Int(i)
            let o = Int(q.order[k])
            insertPurchase.bindInt(components.id(of: orders.node[o]), at: 1)
            platformText[Int(q.platform[k])].withUnsafeBufferPointer { insertPurchase.bindBytes($0, at: 2) }
            insertPurchase.bindInt(orders.rowid[o], at: 3)
            insertPurchase.bindInt(q.pay[k], at: 4)
            insertPurchase.bindInt(q.pay[k] / 86400, at: 5)
            insertPurchase.bindInt(q.net[k], at: 6)
            try insertPurchase.step()
            insertPurchase.reset()
        }
        return q.count
    }

    /// The qualifying orders by customer, then order row. A counting sort by customer keeps each
    /// customer's orders in read order (rowid order unless the rows came otherwise).
    private func purchaseOrder(_ orders: OrderRows, _ q: QualifyingOrders) -> [Int32] {
        func customer(_ i: Int) -> Int { components.index(of: orders.node[Int(q.order[i])]) }
        var start = [Int32](repeating: 0, count: components.customerCount + 1)
        for i in 0..<q.count { start[customer(i) + 1] += 1 }
        for c in 0..<components.customerCount { start[c + 1] += start[c] }
        var purchaseOrder = [Int32](repeating: 0, count: q.count)
        for i in 0..<q.count {
            let c = customer(i)
            purchaseOrder[Int(start[c])] = Int32(i)
            start[c] += 1
        }
        if !orders.rowidsAscending {
            purchaseOrder.sort { (customer(Int($0)), orders.rowid[Int(q.order[Int($0)])]) < (customer(Int($1)), orders.rowid[Int(q.order[Int($1)])]) }
        }
        return purchaseOrder
    }

    /// int_customers in key order (both its primary key's and customer_key's).
    func writeCustomers(_ q: QualifyingOrders, fanTs: [Int], platformText: [[UInt8]], details d: DetailsFetch.Details) throws {
        let insertCustomer = try db.prepare("INSERT INTO int_customers VALUES(?,?,?,?,?,?,?,?)")
        let channelText = d.channels.map { Array($0.utf8) }
        for c in 0..<components.customerCount {
            let first = components.firstQ(c)
            let e = components.earliestFan[c]
            insertCustomer.bindInt(components.base + c, at: 1)
            try insertCustomer.bind(.text(JoinStage.hex16(components.key(ofCustomer: c))), at: 2)
            insertCustomer.bindInt(q.pay[first], at: 3)
            insertCustomer.bindInt(q.pay[first] / 86400, at: 4)
            platformText[Int(q.platform[first])].withUnsafeBufferPointer { insertCustomer.bindBytes($0, at: 5) }
            d.firstOrderIDs.withUnsafeBufferPointer { insertCustomer.bindBytes(UnsafeBufferPointer(rebasing: $0[d.firstOrderIDAt[c]..<d.firstOrderIDAt[c + 1]]), at: 6) }
            channelText[Int(d.customerChannel[c])].withUnsafeBufferPointer { insertCustomer.bindBytes($0, at: 7) }
            try insertCustomer.bind(.optInt(e >= 0 ? fanTs[Int(e)] : nil), at: 8)
            try insertCustomer.step()
            insertCustomer.reset()
        }
    }

    /// int_fans in key order (appends to the primary key's B-tree); a fan's channel is its
    /// scene's, by the follow rules (memoised per scene), else the fans' default.
    func writeFans(_ fans: Fans, pipeline p: Pipeline, details d: DetailsFetch.Details) throws {
        let insertFan = try db.prepare("INSERT INTO int_fans VALUES(?,?,?,?,?,?,?,?,?)")
        var fanChannel: [Int32: String] = [:]
        var fanOrder = Array(0..<Int32(fans.count))
        fanOrder.sort { d.fanKey[Int($0)] < d.fanKey[Int($1)] }
        for f32 in fanOrder {
            let f = Int(f32)
            let s = d.fanScene[f], sc = d.scenes[Int(s)]
            let channel = fanChannel[s] ?? (p.channel(for: .follow, source: p.followerSource, platform: nil, fields: sc.ruleFields) ?? p.fanDefaultChannel)
            fanChannel[s] = channel
            let c = components.index(of: fans.node[f])
            try insertFan.run([.text(JoinStage.hex16(d.fanKey[f])), .optInt(c < components.customerCount ? components.base + c : nil), .int(components.base + c),
                               .int(fans.ts[f]), .int(fans.ts[f] / 86400), .optText(sc.scene), .optText(sc.qrScene), .optText(sc.qrSceneStr), .text(channel)])
        }
    }
}
