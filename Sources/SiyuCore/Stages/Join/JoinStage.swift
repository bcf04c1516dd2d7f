import Foundation
import Logging

/// Stage 3: customers across platforms and fans (transitive links of METRICS.md), salted opaque
/// customer_key, first purchase, acquisition platform and channel; fans with their first follow.
public struct JoinStage {
    let wh: Warehouse
    public init(_ wh: Warehouse) { self.wh = wh }

    public static func customerKey(salt: String, smallestNode: String) -> String {
        String(SHA256.hexDigest(salt + "\u{1f}" + smallestNode).prefix(16))
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

    /// Hands the heap's free pages back to the system (glibc `malloc_trim`, looked up at run time;
    /// nothing elsewhere). A stage's many small allocations, freed, otherwise stay resident and
    /// add to the next stage's peak when `siyu run` runs them in one process.
    static func releaseFreedMemory() {
        #if os(Linux)
        typealias Trim = @convention(c) (Int) -> Int32
        guard let program = dlopen(nil, RTLD_NOW), let trim = dlsym(program, "malloc_trim") else { return }
        _ = unsafeBitCast(trim, to: Trim.self)(0)
        #endif
    }

    /// Resident and peak resident memory of this process in MiB (Linux /proc; 0 elsewhere), for the phase log.
    static func residentMB() -> (rss: Int, peak: Int) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) / 1024
        }
        return (field("VmRSS:"), field("VmHWM:"))
    }

    /// What join's output depends on besides stg_*: when it changes, join runs in full.
    var fingerprint: String {
        let p = wh.pipeline
        var parts = ["join-v1", p.salt, p.fanDefaultChannel]
        for s in p.sources { parts.append("\(s.name)|\(s.platform)|\(s.defaultChannel)") }
        for r in p.rules { parts.append(r.fingerprint) }
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
    /// their nodes, orders and follows are gathered through int_nodes and their groups, re-linked, and
    /// their int_* rows replaced. A first run, a full clean, or a changed salt or rule set rebuilds all.
    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "join")
        try wh.requireUpstream("join", upstream: "clean")
        let db = wh.db
        var mark = Date()
        func phase(_ name: String) {
            let memory = JoinStage.residentMB()
            wh.logger.debug("phase done", metadata: ["stage": "join", "phase": "\(name)", "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(mark)))",
                                                     "rss_mb": "\(memory.rss)", "peak_mb": "\(memory.peak)"])
            mark = Date()
        }
        // Rebuilt whole: dropping is cheaper than deleting row by row.
        func dropForFullJoin() throws {
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
        // A rebuild's first join (always full) writes without the WAL; the thread that reads
        // customers' and fans' details beside the writer opens the file immutable, which is safe
        // because nothing it reads (stg_*) changes and the schema changes are committed before.
        let noWAL = try wh.scratch && wh.meta("join_seq") == nil
        if noWAL { try db.transaction { try dropForFullJoin() } }
        // Sorts (follows in file order, the secondary indexes of a full rebuild) spill to temp files.
        try wh.bulk(when: noWAL) { try db.withTempFiles { try db.transaction {
            let cleanSeq = Int(try wh.meta("clean_seq") ?? "0") ?? 0
            let lastSeq = try wh.meta("join_seq").flatMap { Int($0) }
            let joinFull = try wh.meta("join_full"), joinFingerprint = try wh.meta("join_fingerprint")
            let full = lastSeq == nil || joinFull == "1" || joinFingerprint != fingerprint
            var orderWhere = "1", followWhere = "1"
            var affected = 0   // components rebuilt by an incremental run
            if full {
                if !noWAL { try dropForFullJoin() }
            } else {
                try db.execute("""
                    CREATE TEMP TABLE IF NOT EXISTS j_seed(node TEXT PRIMARY KEY) WITHOUT ROWID; DELETE FROM j_seed;
                    CREATE TEMP TABLE IF NOT EXISTS j_comp(component INTEGER PRIMARY KEY); DELETE FROM j_comp;
                    CREATE TEMP TABLE IF NOT EXISTS j_groups(grp INTEGER PRIMARY KEY); DELETE FROM j_groups;
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
                orderWhere = "rowid IN (SELECT ref FROM j_orders)"
                followWhere = "rowid IN (SELECT ref FROM j_follows)"
                affected = try db.scalarInt("SELECT count(*) FROM j_comp")
            }
            phase(full ? "full rebuild" : "affected components")

            let customersRebuilt = try link(orderWhere: orderWhere, followWhere: followWhere, keepGroups: !full, immutableReader: noWAL,
                                            report: &report, phase: phase)
            if full { try wh.createSchema() }   // the secondary indexes dropped for the bulk load
            phase("indexes")
            try db.execute("DELETE FROM stg_replaced")
            try wh.setMeta("join_seq", String(cleanSeq))
            try wh.setMeta("join_full", "0")
            try wh.setMeta("join_fingerprint", fingerprint)
            let totalCustomers = try db.scalarInt("SELECT count(*) FROM int_customers")
            try wh.recordStage("join", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: full ? "full customers=\(totalCustomers)" : "incremental components=\(affected) customers=\(totalCustomers)")
            wh.logger.info("joined", metadata: ["mode": "\(full ? "full" : "incremental")", "customers": "\(totalCustomers)", "customers.rebuilt": "\(customersRebuilt.customers)", "identities": "\(customersRebuilt.identities)"])
        } } }
        phase("commit")
        Self.releaseFreedMemory()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}

extension JoinStage {
    /// Hex form of a 64-bit key (what `customerKey` returns: the first 16 hex digits of the digest).
    static func hex16(_ v: UInt64) -> String {
        SHA256.hex((0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) })
    }

    /// `customerKey` as a number (its hex digits read as one big-endian 64-bit value: same order).
    static func customerKey64(salt: [UInt8], node: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = SHA256()
        h.update(salt)
        h.update(CollectionOfOne(UInt8(0x1f)))
        h.update(UnsafeRawBufferPointer(node))
        let d = h.finalize()
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(d[k]) }
        return v
    }

    /// Links the orders and follows selected by the two conditions into components and writes their
    /// int_nodes, int_order_group, int_follow_group, int_groups, int_purchases, int_customers and int_fans
    /// rows. Per identity it keeps a few integers and the key bytes; per order and follow, integers.
    /// `keepGroups`: the rows read have groups already (an incremental run): only new rows, rows of
    /// groups that split and nodes whose group no longer leads to their component are written.
    /// `immutableReader`: the details reader opens the file immutable (a writer without the WAL).
    func link(orderWhere: String, followWhere: String, keepGroups: Bool, immutableReader: Bool, report: inout StageReport,
              phase: (String) -> Void) throws -> (customers: Int, identities: Int) {
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

    /// 64-bit customer keys of many node strings at once, on both cores; `node(i, &buffer)` appends
    /// the i-th node string.
    static func keys(count: Int, salt: [UInt8], _ node: (Int, inout [UInt8]) -> Void) -> [UInt64] {
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(count, 1))
        defer { buffer.deallocate() }
        let chunks = 2, size = (count + chunks - 1) / chunks
        withoutActuallyEscaping(node) { node in
            let work = Unchecked((node, buffer))
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let (node, out) = work.value
                let lo = c * size, hi = min(count, lo + size)
                guard lo < hi else { return }
                var buffer: [UInt8] = []
                for i in lo..<hi {
                    buffer.removeAll(keepingCapacity: true)
                    node(i, &buffer)
                    out[i] = buffer.withUnsafeBufferPointer { customerKey64(salt: salt, node: $0) }
                }
            }
        }
        return Array(buffer.prefix(count))
    }
}
