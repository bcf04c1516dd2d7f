/// Number formatting of METRICS.md: yuan with two decimals from fen, rates with four decimals,
/// half up from exact integers, empty when the denominator is 0.
public enum Fmt {
    public static func yuan(_ fen: Int) -> String {
        let sign = fen < 0 ? "-" : ""
        let a = fen.magnitude
        return "\(sign)\(a / 100).\(pad2(Int(a % 100)))"
    }

    /// num / den rounded half up to 4 decimals; "" when den == 0. Computed in 128 bits: a ratio of
    /// two sums of fen (revenue over spend) cannot overflow whatever the landed values.
    public static func rate(_ num: Int, _ den: Int) -> String {
        guard den != 0 else { return "" }
        let neg = (num < 0) != (den < 0) && num != 0
        let n = Int128(num.magnitude), d = Int128(den.magnitude)
        let v = (n * 20000 + d) / (2 * d)     // half up at the 4th decimal
        let frac = String(v % 10000)
        return "\(neg ? "-" : "")\(v / 10000).\(String(repeating: "0", count: 4 - frac.count))\(frac)"
    }

    /// fen / count rounded half up to whole fen, printed as yuan; "" when count == 0.
    public static func yuanPer(_ fen: Int, _ count: Int) -> String {
        guard count != 0 else { return "" }
        let neg = fen < 0
        let v = Int((Int128(fen.magnitude) * 2 + Int128(count.magnitude)) / (2 * Int128(count.magnitude)))
        return yuan(neg ? -v : v)
    }

    /// Median of integers: an integer, or a value ending in .5.
    public static func median(_ values: [Int]) -> String {
        guard !values.isEmpty else { return "" }
        let s = values.sorted()
        let n = s.count
        if n % 2 == 1 { return String(s[n / 2]) }
        let sum = s[n / 2 - 1] + s[n / 2]
        return sum % 2 == 0 ? String(sum / 2) : "\(sum / 2).5"
    }

    public static func bool(_ b: Bool) -> String { b ? "true" : "false" }

    static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
}

/// One output of METRICS.md: its file name, its columns and its rows of printed cells.
public struct OutputTable {
    public var name: String
    public var columns: [String]
    public var rows: [[String]]
    public init(name: String, columns: [String], rows: [[String]] = []) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }
}
