import Foundation
import Logging

/// Exact set of (platform, order id): numeric ids up to 19 digits (no leading zero) as integers in
/// one open-addressing table per platform (8 bytes an order), others as strings.
struct OrderKeySet {
    /// Open addressing over non-zero UInt64 (0: empty); sized for `capacity`, grown past 80 % load.
    struct Table {
        var slots: [UInt64]
        var count = 0
        init(capacity: Int) { slots = Array(repeating: 0, count: max(16, capacity + capacity / 4)) }

        @inline(__always) static func slot(_ v: UInt64, _ n: Int) -> Int {
            Int(IdentityGraph.mix(v).multipliedFullWidth(by: UInt64(n)).high)
        }

        /// True when `v` (non-zero) was not in the table.
        mutating func insert(_ v: UInt64) -> Bool {
            if (count + 1) * 5 > slots.count * 4 { grow() }
            let n = slots.count
            var s = Self.slot(v, n)
            while true {
                let x = slots[s]
                if x == v { return false }
                if x == 0 { slots[s] = v; count += 1; return true }
                s = s + 1 == n ? 0 : s + 1
            }
        }

        private mutating func grow() {
            let old = slots
            slots = Array(repeating: 0, count: old.count * 2)
            count = 0
            for v in old where v != 0 { _ = insert(v) }
        }
    }

    private let expected: [String: Int]
    private var platforms: [String] = []
    private var numeric: [Table] = []
    private var other = Set<String>()

    /// `expected`: how many orders to expect per platform (a table grows past it).
    init(expected: [String: Int] = [:]) { self.expected = expected }

    /// True when the key was not in the set.
    mutating func insert(platform: String, orderID: String) -> Bool {
        let u = orderID.utf8
        if u.count <= 19, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), u.first != 0x30, let v = UInt64(orderID) {
            let p: Int
            if let i = platforms.firstIndex(of: platform) { p = i } else {
                platforms.append(platform)
                numeric.append(Table(capacity: expected[platform] ?? 0))
                p = platforms.count - 1
            }
            return numeric[p].insert(v)
        }
        return other.insert(platform + "\u{1f}" + orderID).inserted
    }
}

