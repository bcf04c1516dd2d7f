/// platform_migration: how many customers another platform acquired did the micro-store make its
/// own? A from/to matrix (acquisition platform × repurchase platform) and a headline that counts
/// only customers acquired elsewhere.
struct MigrationSection {
    let t: OutputTable
    let ctx: ReportContext
    static let store = "microstore"

    /// Customers acquired on other platforms who repurchased in the micro-store, and how many those platforms acquired.
    static func intoStore(_ t: OutputTable) -> (moved: Int, acquired: Int, per: [(String, Int, Int)])? {
        let rows = t.records
        guard rows.contains(where: { $0["repurchase_platform"] == store }) else { return nil }
        var per: [(String, Int, Int)] = []
        for r in rows where r["repurchase_platform"] == store && r["acquisition_platform"] != "all" && r["acquisition_platform"] != store {
            per.append((r["acquisition_platform"], r.int("customers_repurchasing_on"), r.int("acquired_customers")))
        }
        return (per.reduce(0) { $0 + $1.1 }, per.reduce(0) { $0 + $1.2 }, per)
    }

    func render() -> String {
        let w = ctx.words
        let store = ctx.names.platform(Self.store)
        let rows = t.records
        let from = Platforms.ordered(t.distinct("acquisition_platform").filter { $0 != "all" }) + ["all"]
        let to = Platforms.ordered(t.distinct("repurchase_platform").filter { $0 != "any" }) + ["any"]
        var answer = ""
        if let m = Self.intoStore(t) {
            let own = rows.first { $0["acquisition_platform"] == Self.store && $0["repurchase_platform"] == Self.store }
            var s = esc(w("其他平台获得的客户中，有 ", "Of the customers other platforms acquired, ")) + HTML.b(Show.count(m.moved))
            s += esc(w(" 位后来在\(store)复购（占他们 \(Show.count(m.acquired)) 位的 ", " later repurchased in the \(store) (")) + HTML.b(Show.pct(m.moved, m.acquired))
            s += esc(w("）", " of their \(Show.count(m.acquired)))"))
            let parts = m.per.sorted { $0.1 > $1.1 }.map { p in
                w("\(ctx.names.platform(p.0)) \(Show.count(p.1))（\(Show.pct(p.1, p.2))）", "\(ctx.names.platform(p.0)) \(Show.count(p.1)) (\(Show.pct(p.1, p.2)))")
            }
            if !parts.isEmpty { s += esc(w("：" + parts.joined(separator: "、"), ": " + parts.joined(separator: ", "))) }
            s += esc(w("。", "."))
            var out = HTML.p(s)
            if let own {
                out += HTML.p(esc(w("\(store)自己获得的 \(Show.count(own.int("acquired_customers"))) 位客户中 \(Show.count(own.int("customers_repurchasing_on"))) 位在\(store)复购——他们本来就是\(store)的客户，不计入上面的数字。",
                                    "The \(store)'s own \(Show.count(own.int("acquired_customers"))) customers, \(Show.count(own.int("customers_repurchasing_on"))) of whom repurchased there, were the store's from the start and are not counted above.")), cls: "note")
            }
            answer = out
        } else {
            answer = HTML.p(esc(w("这个管道没有微商城（youzan）来源：下表是各平台之间的复购。", "This pipeline has no micro-store (youzan) source: the matrix shows repurchase between the platforms.")))
        }
        // The matrix.
        var cell: [String: [String: Row]] = [:]
        for r in rows { cell[r["acquisition_platform"], default: [:]][r["repurchase_platform"]] = r }
        var h = "<div class=\"tbox wide\"><table class=\"matrix\"><thead><tr><th class=\"rowh\">\(esc(w("获客平台 ↓ · 复购平台 →", "acquired on ↓ · repurchased on →")))</th>"
        for c in to { h += "<th\(c == Self.store ? " class=\"focus\"" : "")>\(esc(ctx.names.platform(c)))</th>" }
        h += "</tr></thead><tbody>"
        for f in from {
            let n = cell[f]?.values.first?.int("acquired_customers") ?? 0
            h += "<tr data-hl=\"\(esc(f))\"\(f == "all" ? " class=\"total\"" : "")><th class=\"rowh\" scope=\"row\">\(esc(ctx.names.platform(f))) <small>\(esc(w("获客 \(Show.count(n))", "\(Show.count(n)) acquired")))</small></th>"
            for c in to {
                guard let r = cell[f]?[c] else { h += "<td class=\"none\">—</td>"; continue }
                let share = r.rate("share") ?? 0
                let other = f != "all" && f != Self.store && c == Self.store
                let tip = "\(ctx.names.platform(f)) → \(ctx.names.platform(c)): " + w("\(Show.count(r.int("customers_repurchasing_on"))) / \(Show.count(r.int("acquired_customers"))) 位客户（\(Show.pct(r["share"]))）",
                                                                                       "\(Show.count(r.int("customers_repurchasing_on"))) of \(Show.count(r.int("acquired_customers"))) customers (\(Show.pct(r["share"])))")
                h += "<td class=\"\(c == Self.store ? "focus" : "")\(other ? " moved" : "")\" data-tip=\"\(esc(tip))\" style=\"background-color:\(HeatColor.css(min(1, share / 0.6)))\(share > 0.33 ? ";color:#fff" : "")\">"
                h += "<b>\(esc(Show.count(r.int("customers_repurchasing_on"))))</b><small>\(esc(Show.pct(r["share"])))</small></td>"
            }
            h += "</tr>"
        }
        h += "</tbody></table></div>"
        var body = "<figure class=\"chart-box\">\(h)<figcaption>\(esc(w("每格：在该平台复购的客户数和占获客数的比例；粗框为计入上面数字的格（其他平台获客、\(store)复购）；“任一平台”为总复购率。", "Each cell: customers who repurchased on that platform and their share of those acquired; outlined cells are the ones counted above (acquired elsewhere, repurchased in the \(store)); “any platform” is the overall repeat rate.")))</figcaption></figure>"
        if let m = Self.intoStore(t), !m.per.isEmpty {
            let bars = m.per.sorted { Double($0.1) / Double(max($0.2, 1)) > Double($1.1) / Double(max($1.2, 1)) }.map { p in
                Bars.Bar(label: ctx.names.platform(p.0), value: Double(p.1) / Double(max(p.2, 1)), text: Show.pct(p.1, p.2),
                         note: w("\(Show.count(p.1)) / \(Show.count(p.2)) 位", "\(Show.count(p.1)) of \(Show.count(p.2))"), cls: "b-store",
                         tip: w("\(ctx.names.platform(p.0))获得的客户中在\(store)复购的比例", "share of \(ctx.names.platform(p.0))'s customers who repurchased in the \(store)"))
            }
            body += "<h3>\(esc(w("各平台客户转入\(store)的比例", "Share of each platform's customers moved into the \(store)")))</h3>" + Bars(bars: bars, aria: w("转入微商城的比例", "share moved into the micro-store"), maxValue: 1).render()
        }
        body += DataTable(table: t, filterColumn: t.index("acquisition_platform"), selected: "*").render(ctx)
        let options = [("*", w("全部行", "every row"))] + Platforms.options(from, ctx).map { ($0.value, $0.label) }
        return HTML.section(id: "migration", output: t.name, title: w("平台客户转入\(store)", "Platform customers into the \(store)"),
                            controls: HTML.segmented(w("获客平台", "Acquired on"), options, selected: "*"), answer: answer, body: body, filter: "*", w)
    }
}
