/// Reading output rows by column name, and the filter options the sections share.
extension OutputTable {
    func index(_ column: String) -> Int? { columns.firstIndex(of: column) }

    /// The distinct values of a column, in first-seen order.
    func distinct(_ column: String) -> [String] {
        guard let i = index(column) else { return [] }
        var seen = Set<String>(), out: [String] = []
        for r in rows where seen.insert(r[i]).inserted { out.append(r[i]) }
        return out
    }
}

/// A row's cells by column name.
struct Row {
    let cells: [String]
    let t: OutputTable
    subscript(_ c: String) -> String { t.index(c).map { cells[$0] } ?? "" }
    func int(_ c: String) -> Int { Int(self[c]) ?? 0 }
    func fen(_ c: String) -> Int { Show.fen(self[c]) ?? 0 }
    func rate(_ c: String) -> Double? { Show.fraction(self[c]) }
    func flag(_ c: String) -> Bool { self[c] == "true" }
}

extension OutputTable {
    var records: [Row] { rows.map { Row(cells: $0, t: self) } }
}

enum Platforms {
    /// Platform codes in the page's order: all, tmall, jd, microstore, then the others by name.
    static func ordered(_ codes: [String]) -> [String] {
        let fixed = ["all", "tmall", "jd", "microstore"]
        return fixed.filter(codes.contains) + codes.filter { !fixed.contains($0) && $0 != "any" }.sorted() + (codes.contains("any") ? ["any"] : [])
    }

    static func options(_ codes: [String], _ ctx: ReportContext) -> [(value: String, label: String)] {
        ordered(codes).map { ($0, ctx.names.platform($0)) }
    }

    static func filter(_ codes: [String], _ ctx: ReportContext, selected: String = "all") -> String {
        let codes = ordered(codes)
        guard codes.count > 1 else { return "" }
        return HTML.segmented(ctx.words("平台", "Platform"), options(codes, ctx), selected: selected)
    }
}

/// Two-proportion z statistic (pooled), for "is this gap more than chance?"
func twoProportionZ(_ a: Int, _ n1: Int, _ b: Int, _ n2: Int) -> Double? {
    guard n1 > 0, n2 > 0 else { return nil }
    let p1 = Double(a) / Double(n1), p2 = Double(b) / Double(n2)
    let p = Double(a + b) / Double(n1 + n2)
    let se = (p * (1 - p) * (1 / Double(n1) + 1 / Double(n2))).squareRoot()
    guard se > 0 else { return nil }
    return (p1 - p2) / se
}

/// The smallest group a rate is compared on without a warning.
let minimumGroup = 30

/// Percentage points between two rates (one decimal).
func points(_ a: Int, _ n1: Int, _ b: Int, _ n2: Int) -> String {
    // In thousandths of the whole, exactly: (a/n1 - b/n2) * 1000, half up in magnitude.
    let num = a * n2 - b * n1, den = n1 * n2
    guard den > 0 else { return "—" }
    let tenths = (Int(num.magnitude) * 2000 + den) / (2 * den)
    return "\(tenths / 10).\(tenths % 10)"
}
