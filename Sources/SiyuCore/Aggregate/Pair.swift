/// A pair of integers as a dictionary key of an output's cells: (group, period), (channel, period),
/// (cohort, group) ….
struct Pair: Hashable, Codable {
    var a: Int, b: Int
    init(_ a: Int, _ b: Int) { self.a = a; self.b = b }
}

/// Adds v at index i, growing the array with zeros (counts kept per period offset).
@inline(__always) func bump(_ a: inout [Int], _ i: Int, _ v: Int) {
    if i >= a.count { a.append(contentsOf: repeatElement(0, count: i - a.count + 1)) }
    a[i] += v
}
