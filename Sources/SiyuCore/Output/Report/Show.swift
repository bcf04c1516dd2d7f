/// Numbers and labels as people read them on the page: `59.5%`, `¥411,339`, `1,234`,
/// `2025-W09 (2/24–3/2)`. The CSVs keep METRICS.md's formats; this is display only, computed from
/// the printed values with integer arithmetic (half up, like the outputs).
public enum Show {
    /// 1234567 → "1,234,567".
    public static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A printed integer grouped; anything else unchanged.
    public static func count(_ s: String) -> String { Int(s).map(count) ?? s }

    /// A printed decimal ("1234.5") grouped ("1,234.5").
    public static func decimal(_ s: String) -> String {
        guard let dot = s.firstIndex(of: ".") else { return count(s) }
        guard let whole = Int(s[..<dot]) else { return s }
        let sign = s.hasPrefix("-") && whole == 0 ? "-" : ""
        return sign + count(whole) + s[dot...]
    }

    /// A fraction printed with four decimals ("0.5953") as a percentage with one ("59.5%");
    /// empty (denominator 0) as "—".
    public static func pct(_ rate: String) -> String {
        guard let u = tenThousandths(rate) else { return rate.isEmpty ? "—" : rate }
        return pct(tenThousandths: u)
    }

    /// num / den as a percentage with one decimal, half up; "—" when den is 0.
    public static func pct(_ num: Int, _ den: Int) -> String {
        guard den > 0 else { return "—" }
        let tenths = (num * 2000 + den) / (2 * den)
        if tenths == 0 && num > 0 { return "<0.1%" }
        return "\(tenths / 10).\(tenths % 10)%"
    }

    static func pct(tenThousandths u: Int) -> String {
        let neg = u < 0
        let tenths = (Int(u.magnitude) + 5) / 10
        return "\(neg ? "-" : "")\(tenths / 10).\(tenths % 10)%"
    }

    /// "0.5953" → 5953 (exact); nil for anything that is not a plain decimal.
    public static func tenThousandths(_ s: String) -> Int? {
        guard !s.isEmpty else { return nil }
        var t = Substring(s)
        let neg = t.hasPrefix("-")
        if neg { t = t.dropFirst() }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int(parts[0]) else { return nil }
        var frac = parts.count == 2 ? String(parts[1]) : ""
        guard frac.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let roundUp = frac.count > 4 && frac[frac.index(frac.startIndex, offsetBy: 4)] >= "5"
        frac = String((frac + "0000").prefix(4))
        let v = whole * 10000 + Int(frac)! + (roundUp ? 1 : 0)
        return neg ? -v : v
    }

    /// A rate as a Double (for positions and colours), nil when empty.
    public static func fraction(_ s: String) -> Double? { tenThousandths(s).map { Double($0) / 10000 } }

    /// Printed yuan ("411339.00") to fen.
    public static func fen(_ s: String) -> Int? {
        if case .value(let v) = Values.fen(s) { return v }
        return nil
    }

    /// Fen as yuan: whole yuan ("¥411,339", half up) or with fen ("¥138.40").
    public static func yuan(fen: Int, cents: Bool = false) -> String {
        let neg = fen < 0
        let a = Int(fen.magnitude)
        if cents { return (neg ? "-¥" : "¥") + count(a / 100) + "." + (a % 100 < 10 ? "0" : "") + String(a % 100) }
        return (neg ? "-¥" : "¥") + count((a + 50) / 100)
    }

    /// Printed yuan as shown; "—" when empty.
    public static func yuan(_ s: String, cents: Bool = false) -> String {
        guard let f = fen(s) else { return s.isEmpty ? "—" : s }
        return yuan(fen: f, cents: cents)
    }

    /// A period label as read: months as printed, ISO weeks with their dates ("2025-W09 (2/24–3/2)").
    public static func period(_ label: String, _ kind: PeriodKind) -> String {
        guard kind == .week, let (first, last) = weekDays(label) else { return label }
        let a = CivilDate.civil(first), b = CivilDate.civil(last)
        return "\(label) (\(a.m)/\(a.d)–\(b.m)/\(b.d))"
    }

    /// The first and last day of an ISO week label "2025-W09".
    public static func weekDays(_ label: String) -> (Int, Int)? {
        let p = label.split(separator: "-")
        guard p.count == 2, let y = Int(p[0]), p[1].hasPrefix("W"), let wk = Int(p[1].dropFirst()), (1...53).contains(wk) else { return nil }
        let week1 = PeriodKind.week.index(ofDay: CivilDate.dayNumber(y, 1, 4))
        let first = PeriodKind.week.firstDay(week1 + wk - 1)
        return (first, first + 6)
    }

    /// A short axis label: "2025-03" → "03" (the year where it changes or at `first`), weeks "W09".
    public static func axis(_ label: String, first: Bool, previous: String?) -> String {
        let year = label.prefix(4), rest = label.dropFirst(5)
        if first || previous.map({ $0.prefix(4) != year }) ?? true { return label }
        return String(rest)
    }
}
