import Foundation

/// What the union found: every node's component, numbered for this run, and per customer (a
/// component holding a qualifying order) its key, first order and earliest fan. Every component
/// gets a fresh id: customers first, in customer_key order (so int_customers is written in both
/// its primary key's and customer_key's order), then the others. Per node two 32-bit integers
/// (`roots`, which is the graph's own parent array, and `numberOfRoot`); per customer a few.
struct Components {
    /// The first id of this run (the warehouse's `next_component`); ids are `base + index`.
    let base: Int
    /// Every node's root (the graph's parent array, paths fully compressed: the same memory).
    let roots: [Int32]
    /// By root: the component's index (customers are 0..<customerCount).
    private let numberOfRoot: [Int32]
    /// Indexes handed out: the next run starts at `base + used`.
    let used: Int
    let customerCount: Int
    /// 64-bit customer keys by customer root, and customers (indexes into them) in key order.
    private let keys: [UInt64], keyOrder: [Int32]
    /// Each customer's first order (index into `QualifyingOrders`), in key order.
    private let firstOrder: [Int32]
    /// Each customer's earliest fan (index into `Fans`), -1 without one.
    private(set) var earliestFan: [Int32] = []

    @inline(__always) func index(of node: Int32) -> Int { Int(numberOfRoot[Int(roots[Int(node)])]) }
    @inline(__always) func id(of node: Int32) -> Int { base + index(of: node) }
    func key(ofCustomer c: Int) -> UInt64 { keys[Int(keyOrder[c])] }
    @inline(__always) func firstQ(_ c: Int) -> Int { Int(firstOrder[c]) }

    /// The components of `input`'s graph (its parent array becomes `roots`: the graph must not
    /// change after this). Reads an order id from stg_orders only to break a first-order tie.
    init(of input: inout LinkInput, base: Int, salt: [UInt8], db: Database, phase: PhaseLog) throws {
        self.base = base
        roots = input.graph.roots()
        let firstOf = try Self.firstOrders(input, roots: roots, db: db)
        phase("first orders")

        var customerRoots: [Int32] = []
        for r in 0..<Int32(roots.count) where firstOf[Int(r)] >= 0 { customerRoots.append(r) }
        let keys = Self.customerKeys(input.graph, roots: roots, customerRoots: customerRoots, salt: salt)
        var order = Array(0..<Int32(customerRoots.count))
        order.sort { keys[Int($0)] < keys[Int($1)] }
        (self.keys, keyOrder) = (keys, order)
        phase("customer keys")

        customerCount = customerRoots.count
        (numberOfRoot, used) = Self.number(roots: roots, customersInKeyOrder: keyOrder.lazy.map { customerRoots[Int($0)] })
        firstOrder = keyOrder.map { firstOf[Int(customerRoots[Int($0)])] }
        earliestFan = earliestFans(input.fans, graph: input.graph)
    }

    /// First qualifying order per component (by root; -1 for none): earliest payment time, then
    /// platform, then order id.
    private static func firstOrders(_ input: LinkInput, roots: [Int32], db: Database) throws -> [Int32] {
        let q = input.qualifying, orders = input.orders
        let platformRank = input.platforms.ranks
        let orderIDStatement = try db.prepare("SELECT order_id FROM stg_orders WHERE rowid=?")
        func orderID(_ i: Int) throws -> String {
            try orderIDStatement.bind([.int(orders.rowid[Int(q.order[i])])]); defer { orderIDStatement.reset() }
            return try orderIDStatement.step() ? orderIDStatement.text(0) : ""
        }
        var firstOf = [Int32](repeating: -1, count: roots.count)   // root -> index in q
        for i in 0..<q.count {
            let r = Int(roots[Int(orders.node[Int(q.order[i])])])
            let j = Int(firstOf[r])
            if j < 0 { firstOf[r] = Int32(i); continue }
            if (q.pay[i], platformRank[Int(q.platform[i])]) < (q.pay[j], platformRank[Int(q.platform[j])]) { firstOf[r] = Int32(i); continue }
            if q.pay[i] == q.pay[j], q.platform[i] == q.platform[j], try orderID(i) < orderID(j) { firstOf[r] = Int32(i) }
        }
        return firstOf
    }

    /// Each customer's key, from the string form of its smallest node (built only for that node).
    private static func customerKeys(_ graph: IdentityGraph, roots: [Int32], customerRoots: [Int32], salt: [UInt8]) -> [UInt64] {
        let smallest = graph.smallestNodes(roots: roots)
        return JoinStage.keys(count: customerRoots.count, salt: salt) { [graph, customerRoots, smallest] i, buffer in
            graph.appendString(smallest[Int(customerRoots[i])], to: &buffer)
        }
    }

    /// Indexes by root: the customers' roots in key order first, then every other root in node order.
    private static func number(roots: [Int32], customersInKeyOrder: some Sequence<Int32>) -> ([Int32], Int) {
        var numberOfRoot = [Int32](repeating: -1, count: roots.count)
        var next: Int32 = 0
        for r in customersInKeyOrder { numberOfRoot[Int(r)] = next; next += 1 }
        for i in roots.indices where numberOfRoot[Int(roots[i])] < 0 { numberOfRoot[Int(roots[i])] = next; next += 1 }
        return (numberOfRoot, Int(next))
    }

    /// Each customer's earliest follow: earliest time, then smallest openid.
    private func earliestFans(_ fans: Fans, graph: IdentityGraph) -> [Int32] {
        var earliest = [Int32](repeating: -1, count: customerCount)
        for f in 0..<fans.count {
            let c = index(of: fans.node[f])
            guard c < customerCount else { continue }
            let e = Int(earliest[c])
            if e < 0 || fans.ts[f] < fans.ts[e] || (fans.ts[f] == fans.ts[e] && graph.less(fans.node[f], fans.node[e])) {
                earliest[c] = Int32(f)
            }
        }
        return earliest
    }
}
