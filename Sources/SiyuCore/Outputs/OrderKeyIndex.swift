/// Exact map from (platform, order id) to a dense index 0, 1, 2 … in the order keys are added, for
/// joining item lines to their orders in memory. As in `OrderKeySet`: numeric ids of up to 19
/// digits without a leading zero are integers in one open-addressing table per platform (12 bytes
/// a slot); other ids are kept as their bytes. Keys are equal when their bytes are (as SQLite
/// compares them): no hash stands in for a key, no Unicode normalisation.
struct OrderKeyIndex {
    private struct Table {
        var keys: [UInt64], values: [Int32]
        var count = 0
        init(capacity: Int) {
            let n = max(16, capacity + capacity / 4)
            keys = Array(repeating: 0, count: n)
            values = Array(repeating: -1, count: n)
        }

        /// The value of `k` (non-zero), adding `value` for it when it is new.
        mutating func find(_ k: UInt64, adding value: Int32?) -> Int32? {
            if value != nil, (count + 1) * 5 > keys.count * 4 { grow() }
            let n = keys.count
            var s = OrderKeySet.Table.slot(k, n)
            while true {
                let x = keys[s]
                if x == k { return values[s] }
                if x == 0 {
                    guard let value else { return nil }
                    keys[s] = k; values[s] = value; count += 1
                    return value
                }
                s = s + 1 == n ? 0 : s + 1
            }
        }

        private mutating func grow() {
            let (oldKeys, oldValues) = (keys, values)
            keys = Array(repeating: 0, count: oldKeys.count * 2)
            values = Array(repeating: -1, count: oldKeys.count * 2)
            count = 0
            for (k, v) in zip(oldKeys, oldValues) where k != 0 { _ = find(k, adding: v) }
        }
    }

    private var platforms: [[UInt8]] = []
    private var numeric: [Table] = []
    private var other: [[UInt8]: Int32] = [:]
    private(set) var count = 0

    /// The index of the key, a new one when it was not there.
    mutating func add(platform: UnsafeBufferPointer<UInt8>, orderID: UnsafeBufferPointer<UInt8>) -> Int {
        Int(find(platform, orderID, add: true)!)
    }

    /// The index of the key, nil when it was never added.
    mutating func index(platform: UnsafeBufferPointer<UInt8>, orderID: UnsafeBufferPointer<UInt8>) -> Int? {
        find(platform, orderID, add: false).map(Int.init)
    }

    private mutating func find(_ platform: UnsafeBufferPointer<UInt8>, _ id: UnsafeBufferPointer<UInt8>, add: Bool) -> Int32? {
        let value: Int32? = add ? Int32(count) : nil
        var found: Int32?
        if let v = Self.number(id) {
            var p = platforms.firstIndex { $0.elementsEqual(platform) }
            if p == nil, add {
                platforms.append(Array(platform))
                numeric.append(Table(capacity: 1 << 16))
                p = platforms.count - 1
            }
            guard let p else { return nil }
            found = numeric[p].find(v, adding: value)
        } else {
            let key = Array(platform) + [0x1f] + Array(id)
            found = other[key]
            if found == nil, let value { other[key] = value; found = value }
        }
        if add, found == value { count += 1 }
        return found
    }

    /// A positive id of 1–19 digits without a leading zero, as an integer (nil otherwise).
    @inline(__always) private static func number(_ id: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard (1...19).contains(id.count), id[0] != 0x30 else { return nil }
        var v: UInt64 = 0
        for b in id {
            guard b >= 0x30, b <= 0x39 else { return nil }
            v = v * 10 + UInt64(b - 0x30)
        }
        return v
    }
}
