/// A column of integers kept as 32-bit offsets from the first value while they fit (half the
/// memory of [Int]), as [Int] from the first one that does not.
struct IntColumn {
    private var base = 0
    private var small: [Int32] = []
    private var wide: [Int]?

    init(capacity: Int) { small.reserveCapacity(capacity) }

    var count: Int { wide?.count ?? small.count }
    var last: Int? { count == 0 ? nil : self[count - 1] }
    var indices: Range<Int> { 0..<count }

    mutating func append(_ v: Int) {
        if wide != nil { wide!.append(v); return }
        if small.isEmpty { base = v }
        let (d, overflow) = v.subtractingReportingOverflow(base)
        if !overflow, let d32 = Int32(exactly: d) { small.append(d32); return }
        var w = small.map { base + Int($0) }
        small = []
        w.append(v)
        wide = w
    }

    subscript(i: Int) -> Int {
        if let wide { return wide[i] }
        return base + Int(small[i])
    }
}
