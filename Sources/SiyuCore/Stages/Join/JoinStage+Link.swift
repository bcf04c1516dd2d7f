import Foundation

extension JoinStage {
    /// Links the orders and follows selected by the two conditions into components and writes their
    /// int_nodes, int_order_group, int_follow_group, int_groups, int_purchases, int_customers and int_fans
    /// rows. Per identity it keeps a few integers and the key bytes; per order and follow, integers.
    /// `keepGroups`: the rows read have groups already (an incremental run): only new rows, rows of
    /// groups that split and nodes whose group no longer leads to their component are written.
    /// `immutableReader`: the details reader opens the file immutable (a writer without the WAL).
    func link(orderWhere: String, followWhere: String, keepGroups: Bool, immutableReader: Bool, report: inout StageReport,
              phase: PhaseLog) throws -> (customers: Int, identities: Int) {
        let p = wh.pipeline
        let db = wh.db
        let orderCount = try db.scalarInt("SELECT count(*) FROM stg_orders WHERE \(orderWhere)")
        let followCount = try db.scalarInt("SELECT count(*) FROM stg_follow_records WHERE \(followWhere)")
        var g = IdentityGraph(capacity: orderCount + followCount + 1024)

        // Platforms by index (a few): matched on their bytes, equal as `String`s are.
        var platforms: [String] = []
        var platformBytes: [[UInt8]] = []       // every spelling seen, with its index
        var platformOfBytes: [Int] = []
        func platformIndex(_ b: UnsafeBufferPointer<UInt8>) -> Int {
            for (k, known) in platformBytes.enumerated() where known.elementsEqual(b) { return platformOfBytes[k] }
            let name = String(decoding: b, as: UTF8.self)
            let i = platforms.firstIndex(of: name) ?? { platforms.append(name); return platforms.count - 1 }()
            platformBytes.append(Array(b))
            platformOfBytes.append(i)
            return i
        }

        // Every order read (its newest observation, qualifying or not): row and first node.
        var orderRowid = IntColumn(capacity: orderCount), orderNode: [Int32] = []
        orderNode.reserveCapacity(orderCount)
        // Qualifying orders (paid, net > 0, not a test), as indexes into the orders.
        var qOrder: [Int32] = [], qPay = IntColumn(capacity: orderCount), qNet = IntColumn(capacity: orderCount), qPlatform: [UInt16] = []
        qOrder.reserveCapacity(orderCount); qPlatform.reserveCapacity(orderCount)
        var rowidsAscending = true
        var key: [UInt8] = []
        key.reserveCapacity(256)
        func keyNode(_ kind: IdentityGraph.Kind, _ platform: UnsafeBufferPointer<UInt8>, _ rest: UnsafeBufferPointer<UInt8>) -> Int32 {
            key.removeAll(keepingCapacity: true)
            key.append(contentsOf: platform)
            key.append(0x3A)
            key.append(contentsOf: rest)
            return key.withUnsafeBufferPointer { g.node(kind, $0) }
        }
        // Identity links from every order, qualifying or not.
        // The group each order has (incremental): -1 for a new one.
        var orderGroup: [Int] = []
        let groupColumn = keepGroups ? "COALESCE((SELECT grp FROM int_order_group WHERE ref = stg_orders.rowid), -1)" : "-1"
        let st = try db.prepare("SELECT rowid, platform, order_id, buyer, phones, pay_ts, net_fen, is_test, \(groupColumn) FROM stg_orders WHERE \(orderWhere)")
        while try st.step() {
            let rowid = st.int(0)
            if let last = orderRowid.last, last >= rowid { rowidsAscending = false }
            let platform = st.bytes(1)
            var first: Int32 = -1
            if !st.isNull(3) {
                let buyer = st.bytes(3)
                if buyer.count > 0 { first = keyNode(.acct, platform, buyer) }
            }
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
            if first < 0 { first = keyNode(.order, platform, st.bytes(2)) }
            if let pay = st.intOrNil(5), st.int(6) > 0, st.int(7) == 0 {
                qOrder.append(Int32(orderRowid.count))
                qPay.append(pay)
                qNet.append(st.int(6))
                qPlatform.append(UInt16(platformIndex(platform)))
            }
            orderRowid.append(rowid)
            orderNode.append(first)
            if keepGroups { orderGroup.append(st.int(8)) }
        }
        st.reset()
        phase("read orders")

        // Follows in delivery order; per openid its earliest follow (the first record of that time).
        // Delivery order is how a rebuild ingests the files (the pipeline's sources in order, each
        // source's files by path), not arrival order (file_id), so that a tie between two records
        // of one openid at one time goes the same way in a nightly warehouse and in a rebuild.
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS j_file_rank(file_id INTEGER PRIMARY KEY, rank INTEGER NOT NULL); DELETE FROM j_file_rank;")
        do {
            let paths = try wh.currentPaths()
            let sourceIndex = Dictionary(p.sources.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            let files = try db.prepare("SELECT file_id, source, path FROM raw_files WHERE kind = 'followers'").rows { ($0.int(0), $0.text(1), $0.text(2)) }
            func key(_ f: (Int, String, String)) -> (Int, String, Int) { (sourceIndex[f.1] ?? Int.max, Pipeline.deliveryKey(paths[f.0]?.first ?? f.2), f.0) }
            let rank = try db.prepare("INSERT INTO j_file_rank VALUES(?,?)")
            for (r, f) in files.sorted(by: { key($0) < key($1) }).enumerated() { try rank.run([.int(f.0), .int(r)]) }
        }
        var followRowid: [Int] = [], followNode: [Int32] = [], followGroup: [Int] = []
        followRowid.reserveCapacity(followCount)
        followNode.reserveCapacity(followCount)
        var fanOfNode: [Int32: Int32] = [:]
        var fanNode: [Int32] = [], fanTs: [Int] = [], fanRowid: [Int] = []
        let followGroupColumn = keepGroups ? "COALESCE((SELECT grp FROM int_follow_group WHERE ref = stg_follow_records.rowid), -1)" : "-1"
        let follows = try db.prepare("""
            SELECT rowid, openid, unionid, mobile, follow_ts, \(followGroupColumn) FROM stg_follow_records WHERE \(followWhere)
            ORDER BY (SELECT rank FROM j_file_rank WHERE j_file_rank.file_id = stg_follow_records.file_id), line
            """)
        while try follows.step() {
            let rowid = follows.int(0)
            let node = g.node(.openid, follows.bytes(1))
            followRowid.append(rowid)
            followNode.append(node)
            if keepGroups { followGroup.append(follows.int(5)) }
            if !follows.isNull(2) { g.union(node, g.node(.unionid, follows.bytes(2))) }
            if !follows.isNull(3), let m = Self.phoneNumber(follows.bytes(3)) { g.union(node, g.phone(m)) }
            guard let t = follows.intOrNil(4) else { continue }
            if let j = fanOfNode[node] {
                if fanTs[Int(j)] <= t { continue }
                fanTs[Int(j)] = t
                fanRowid[Int(j)] = rowid
            } else {
                fanOfNode[node] = Int32(fanNode.count)
                fanNode.append(node); fanTs.append(t); fanRowid.append(rowid)
            }
        }
        follows.reset()
        fanOfNode = [:]
        g.sealLookups()
        report.rowsIn = orderCount + followCount
        phase("read follows")

        let nodeCount = g.count
        let roots = g.roots()
        // First qualifying order per component: earliest payment time, then platform, then order id.
        var platformRank = [Int](repeating: 0, count: platforms.count)
        for (r, i) in platforms.indices.sorted(by: { platforms[$0] < platforms[$1] }).enumerated() { platformRank[i] = r }
        var firstOf = [Int32](repeating: -1, count: nodeCount)   // root -> index in q*
        let orderIDStatement = try db.prepare("SELECT order_id FROM stg_orders WHERE rowid=?")
        func orderID(_ q: Int) throws -> String {
            try orderIDStatement.bind([.int(orderRowid[Int(qOrder[q])])]); defer { orderIDStatement.reset() }
            return try orderIDStatement.step() ? orderIDStatement.text(0) : ""
        }
        for i in 0..<qOrder.count {
            let r = Int(roots[Int(orderNode[Int(qOrder[i])])])
            let j = Int(firstOf[r])
            if j < 0 { firstOf[r] = Int32(i); continue }
            if (qPay[i], platformRank[Int(qPlatform[i])]) < (qPay[j], platformRank[Int(qPlatform[j])]) { firstOf[r] = Int32(i); continue }
            if qPay[i] == qPay[j], qPlatform[i] == qPlatform[j], try orderID(i) < orderID(j) { firstOf[r] = Int32(i) }
        }
        phase("first orders")

        // Customers (components with a qualifying order) in customer_key order.
        var customerRoots: [Int32] = []
        for r in 0..<Int32(nodeCount) where firstOf[Int(r)] >= 0 { customerRoots.append(r) }
        let salt = Array(p.salt.utf8)
        let customerKeys = Self.keys(count: customerRoots.count, salt: salt) { [g, customerRoots, smallest = g.smallestNodes(roots: roots)] i, buffer in
            g.appendString(smallest[Int(customerRoots[i])], to: &buffer)
        }
        var customerOrder = Array(0..<Int32(customerRoots.count))
        customerOrder.sort { customerKeys[Int($0)] < customerKeys[Int($1)] }
        phase("customer keys")

        // Every component gets a fresh id: customers first, in key order (so int_customers is
        // written in both its primary key's and customer_key's order), then the others.
        // compOf holds ids relative to `base`, by root; customers are 0..<customers.
        let base = Int(try wh.meta("next_component") ?? "0") ?? 0
        var compOf = [Int32](repeating: -1, count: nodeCount)
        var nextRelative: Int32 = 0
        for c in customerOrder { compOf[Int(customerRoots[Int(c)])] = nextRelative; nextRelative += 1 }
        for i in 0..<nodeCount where compOf[Int(roots[i])] < 0 { compOf[Int(roots[i])] = nextRelative; nextRelative += 1 }
        @inline(__always) func component(_ node: Int32) -> Int32 { compOf[Int(roots[Int(node)])] }
        let customerCount = customerRoots.count

        // Each customer's earliest follow: earliest time, then smallest openid.
        let fanCount = fanNode.count
        var earliestFan = [Int32](repeating: -1, count: customerCount)
        for f in 0..<fanCount {
            let c = Int(component(fanNode[f]))
            guard c < customerCount else { continue }
            let e = Int(earliestFan[c])
            if e < 0 || fanTs[f] < fanTs[e] || (fanTs[f] == fanTs[e] && g.less(fanNode[f], fanNode[e])) {
                earliestFan[c] = Int32(f)
            }
        }
        // While this thread writes nodes, links and purchases, another reads what customers and
        // fans need from stg_* (committed by clean: a read connection sees the same rows).
        // Each customer's first order (index in q*), in key order.
        let customerFirst = (0..<customerCount).map { firstOf[Int(customerRoots[Int(customerOrder[$0])])] }
        firstOf = []; customerRoots = []
        @inline(__always) func firstQ(_ c: Int) -> Int { Int(customerFirst[c]) }
        let details = DetailsFetch(dbPath: db.path, pipeline: p, salt: salt, fanRowid: fanRowid, fanTs: fanTs, earliestFan: earliestFan,
                                   firstRowid: (0..<customerCount).map { orderRowid[Int(qOrder[firstQ($0)])] },
                                   firstPay: (0..<customerCount).map { qPay[firstQ($0)] },
                                   firstPlatform: (0..<customerCount).map { qPlatform[firstQ($0)] }, platforms: platforms,
                                   immutable: immutableReader)
        defer { _ = details.wait() }

        // Incremental: the component each re-linked group's rows now belong to, or -1 when they
        // went to several (a replaced observation took a link away): such a group's rows are
        // written again under their new component's id.
        var groupComponent: [Int: Int] = [:]
        func place(_ group: Int, _ node: Int32) {
            guard group >= 0 else { return }
            let c = base + Int(component(node))
            if let known = groupComponent[group] { if known != c { groupComponent[group] = -1 } } else { groupComponent[group] = c }
        }
        for k in orderGroup.indices { place(orderGroup[k], orderNode[k]) }
        for k in followGroup.indices { place(followGroup[k], followNode[k]) }
        /// The component a re-linked group is in after this run (nil: not re-linked, or parted).
        func movedTo(_ group: Int) -> Int? { groupComponent[group].flatMap { $0 >= 0 ? $0 : nil } }
        func keeps(_ group: Int) -> Bool { movedTo(group) != nil }

        // int_nodes in key order (appends to its B-tree): nodes sorted by string form, one kind per task.
        do {
            let sorted = UnsafeMutableBufferPointer<Int32>.allocate(capacity: nodeCount)
            defer { sorted.deallocate() }
            var kindStart = [Int](repeating: 0, count: 6)
            for k in g.kinds { kindStart[Int(k.rawValue) + 1] += 1 }
            for k in 1..<6 { kindStart[k] += kindStart[k - 1] }
            var fill = kindStart
            for i in 0..<Int32(nodeCount) { let k = Int(g.kinds[Int(i)].rawValue); sorted[fill[k]] = i; fill[k] += 1 }
            let work = Unchecked((sorted, kindStart, g))
            DispatchQueue.concurrentPerform(iterations: 5) { k in
                let (sorted, kindStart, graph) = work.value
                var part = UnsafeMutableBufferPointer(rebasing: sorted[kindStart[k]..<kindStart[k + 1]])
                part.sort { graph.less($0, $1) }
            }
            let insertNode = try db.prepare("INSERT OR REPLACE INTO int_nodes VALUES(?,?)")
            // A stored node stays when its group leads to its component after this run.
            let stored = try db.prepare("SELECT n.grp, COALESCE(g.component, n.grp) FROM int_nodes n LEFT JOIN int_groups g ON g.grp = n.grp WHERE n.node = ?")
            var text: [UInt8] = []
            for i in sorted {
                text.removeAll(keepingCapacity: true)
                g.appendString(i, to: &text)
                let c = base + Int(component(i))
                if keepGroups {
                    text.withUnsafeBufferPointer { stored.bindBytes($0, at: 1) }
                    let found = try stored.step()
                    let leadsTo = found ? movedTo(stored.int(0)) ?? stored.int(1) : -1
                    stored.reset()
                    if leadsTo == c { continue }
                }
                text.withUnsafeBufferPointer { insertNode.bindBytes($0, at: 1) }
                insertNode.bindInt(c, at: 2)
                try insertNode.step()
                insertNode.reset()
            }
        }
        g = IdentityGraph(capacity: 0)   // key bytes are no longer needed
        // Started once the graph is gone, so that the two never take memory at the same time; it
        // still has the component and purchase writes to overlap with.
        details.start()
        try wh.setMeta("next_component", String(base + Int(nextRelative)))
        // Each order's and follow's group: its component's id, unless it keeps its group.
        func writeGroups(_ table: String, count: Int, rowid: (Int) -> Int, node: (Int) -> Int32, keep: (Int) -> Bool) throws {
            let insert = try db.prepare("INSERT OR REPLACE INTO \(table) VALUES(?,?)")
            for k in 0..<count where !keep(k) {
                insert.bindInt(rowid(k), at: 1)
                insert.bindInt(base + Int(component(node(k))), at: 2)
                try insert.step()
                insert.reset()
            }
        }
        try writeGroups("int_order_group", count: orderRowid.count, rowid: { orderRowid[$0] }, node: { orderNode[$0] },
                        keep: { keepGroups && keeps(orderGroup[$0]) })
        try writeGroups("int_follow_group", count: followRowid.count, rowid: { followRowid[$0] }, node: { followNode[$0] },
                        keep: { keepGroups && keeps(followGroup[$0]) })
        let moveGroup = try db.prepare("INSERT OR REPLACE INTO int_groups VALUES(?,?)")
        for (group, c) in groupComponent where c >= 0 { try moveGroup.run([.int(group), .int(c)]) }
        followRowid = []; followNode = []; followGroup = []; orderGroup = []; groupComponent = [:]
        phase("write nodes and links")

        // Purchases in primary key order (customer, order row): appends to the table's B-tree.
        // A counting sort by customer keeps each customer's orders in read order (rowid order).
        var purchaseOrder: [Int32]
        do {
            var start = [Int32](repeating: 0, count: customerCount + 1)
            for i in qOrder.indices { start[Int(component(orderNode[Int(qOrder[i])])) + 1] += 1 }
            for c in 0..<customerCount { start[c + 1] += start[c] }
            purchaseOrder = [Int32](repeating: 0, count: qOrder.count)
            for i in qOrder.indices {
                let c = Int(component(orderNode[Int(qOrder[i])]))
                purchaseOrder[Int(start[c])] = Int32(i)
                start[c] += 1
            }
            if !rowidsAscending {
                purchaseOrder.sort { (component(orderNode[Int(qOrder[Int($0)])]), orderRowid[Int(qOrder[Int($0)])])
                    < (component(orderNode[Int(qOrder[Int($1)])]), orderRowid[Int(qOrder[Int($1)])]) }
            }
        }
        let platformText = platforms.map { Array($0.utf8) }
        let insertPurchase = try db.prepare("INSERT INTO int_purchases VALUES(?,?,?,?,?,?)")
        for i in purchaseOrder {
            let q = Int(i)
            insertPurchase.bindInt(base + Int(component(orderNode[Int(qOrder[q])])), at: 1)
            platformText[Int(qPlatform[q])].withUnsafeBufferPointer { insertPurchase.bindBytes($0, at: 2) }
            insertPurchase.bindInt(orderRowid[Int(qOrder[q])], at: 3)
            insertPurchase.bindInt(qPay[q], at: 4)
            insertPurchase.bindInt(qPay[q] / 86400, at: 5)
            insertPurchase.bindInt(qNet[q], at: 6)
            try insertPurchase.step()
            insertPurchase.reset()
            report.rowsOut += 1
        }
        purchaseOrder = []
        phase("write purchases")

        let d = try details.wait().get()
        phase("read customers and fans")
        let insertCustomer = try db.prepare("INSERT INTO int_customers VALUES(?,?,?,?,?,?,?,?)")
        let channelText = d.channels.map { Array($0.utf8) }
        for c in 0..<customerCount {
            let q = firstQ(c)
            let e = earliestFan[c]
            insertCustomer.bindInt(base + c, at: 1)
            try insertCustomer.bind(.text(Self.hex16(customerKeys[Int(customerOrder[c])])), at: 2)
            insertCustomer.bindInt(qPay[q], at: 3)
            insertCustomer.bindInt(qPay[q] / 86400, at: 4)
            platformText[Int(qPlatform[q])].withUnsafeBufferPointer { insertCustomer.bindBytes($0, at: 5) }
            d.firstOrderIDs.withUnsafeBufferPointer { insertCustomer.bindBytes(UnsafeBufferPointer(rebasing: $0[d.firstOrderIDAt[c]..<d.firstOrderIDAt[c + 1]]), at: 6) }
            channelText[Int(d.customerChannel[c])].withUnsafeBufferPointer { insertCustomer.bindBytes($0, at: 7) }
            try insertCustomer.bind(.optInt(e >= 0 ? fanTs[Int(e)] : nil), at: 8)
            try insertCustomer.step()
            insertCustomer.reset()
        }
        phase("write customers")

        // Fans in key order: appends to the primary key's B-tree.
        let insertFan = try db.prepare("INSERT INTO int_fans VALUES(?,?,?,?,?,?,?,?,?)")
        var fanChannel: [Int32: String] = [:]
        var fanOrder = Array(0..<Int32(fanCount))
        fanOrder.sort { d.fanKey[Int($0)] < d.fanKey[Int($1)] }
        for f32 in fanOrder {
            let f = Int(f32)
            let s = d.fanScene[f], sc = d.scenes[Int(s)]
            let channel = fanChannel[s] ?? (p.channel(for: .follow, source: p.followerSource, platform: nil, fields: sc.ruleFields) ?? p.fanDefaultChannel)
            fanChannel[s] = channel
            let c = Int(component(fanNode[f]))
            try insertFan.run([.text(Self.hex16(d.fanKey[f])), .optInt(c < customerCount ? base + c : nil), .int(base + c),
                               .int(fanTs[f]), .int(fanTs[f] / 86400), .optText(sc.scene), .optText(sc.qrScene), .optText(sc.qrSceneStr), .text(channel)])
        }
        phase("write fans")
        return (customerCount, nodeCount)
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
