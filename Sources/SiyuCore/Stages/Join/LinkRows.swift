import Foundation

// The rows `link` reads, as columns of integers: per order and follow a few integers, never a
// String (a node is an index into the `IdentityGraph`; a platform an index into `PlatformNames`).
// Row ids and payment times are `IntColumn`s, 32-bit offsets while they fit.

/// Every order read (its newest observation, qualifying or not): its row and first node.
struct OrderRows {
    var rowid: IntColumn
    var node: [Int32] = []
    /// The group each order has (incremental): -1 for a new one; empty in a full join.
    var group: [Int] = []
    /// Rows were read in rowid order (purchases then need no sort beyond the counting sort).
    var rowidsAscending = true

    init(capacity: Int) {
        rowid = IntColumn(capacity: capacity)
        node.reserveCapacity(capacity)
    }
}

/// Qualifying orders (paid, net > 0, not a test), as indexes into the orders.
struct QualifyingOrders {
    var order: [Int32] = [], pay: IntColumn, net: IntColumn, platform: [UInt16] = []

    init(capacity: Int) {
        pay = IntColumn(capacity: capacity)
        net = IntColumn(capacity: capacity)
        order.reserveCapacity(capacity)
        platform.reserveCapacity(capacity)
    }

    var count: Int { order.count }

    mutating func append(order o: Int, pay p: Int, net n: Int, platform pl: Int) {
        order.append(Int32(o))
        pay.append(p)
        net.append(n)
        platform.append(UInt16(pl))
    }
}

/// Every follow record read, in delivery order: its row, its openid's node and (incremental) group.
struct FollowRows {
    var rowid: [Int] = [], node: [Int32] = []
    /// As `OrderRows.group`.
    var group: [Int] = []

    init(capacity: Int = 0) {
        rowid.reserveCapacity(capacity)
        node.reserveCapacity(capacity)
    }
}

/// Fans (openids with a follow time): each one's first follow, the earliest time and, between
/// records of that time, the first in delivery order.
struct Fans {
    var node: [Int32] = [], ts: [Int] = [], rowid: [Int] = []
    /// Node -> fan while the follows are read (`sealIndex` frees it).
    private var ofNode: [Int32: Int32] = [:]

    var count: Int { node.count }

    mutating func follow(_ n: Int32, at t: Int, rowid r: Int) {
        if let j = ofNode[n] {
            if ts[Int(j)] <= t { return }
            ts[Int(j)] = t
            rowid[Int(j)] = r
        } else {
            ofNode[n] = Int32(node.count)
            node.append(n); ts.append(t); rowid.append(r)
        }
    }

    mutating func sealIndex() { ofNode = [:] }
}

/// Platforms by index (a few): matched on their bytes, equal as `String`s are.
struct PlatformNames {
    private(set) var names: [String] = []
    private var spellings: [[UInt8]] = []       // every spelling seen, with its index
    private var indexOfSpelling: [Int] = []

    mutating func index(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        for (k, known) in spellings.enumerated() where known.elementsEqual(b) { return indexOfSpelling[k] }
        let name = String(decoding: b, as: UTF8.self)
        let i = names.firstIndex(of: name) ?? { names.append(name); return names.count - 1 }()
        spellings.append(Array(b))
        indexOfSpelling.append(i)
        return i
    }

    /// Each platform's rank by name (a first-order tie goes to the smaller one).
    var ranks: [Int] {
        var rank = [Int](repeating: 0, count: names.count)
        for (r, i) in names.indices.sorted(by: { names[$0] < names[$1] }).enumerated() { rank[i] = r }
        return rank
    }

    /// Each platform's name as bytes, to bind.
    var utf8: [[UInt8]] { names.map { Array($0.utf8) } }
}
