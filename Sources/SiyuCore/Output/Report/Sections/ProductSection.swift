import Foundation

/// product_repurchase: which first product brings customers back? Entry products ranked by their
/// 90-day repeat rate, but only those with enough customers whose window is complete
/// (`minimumGroup`), and by the lower bound of the rate's 95 % Wilson interval, so that a product
/// bought first by 12 customers cannot outrank one bought by 3,000 on noise alone; then the paths
/// from first product to next product. A platform filter shows the customers each platform acquired.
struct ProductSection {
    let t: OutputTable
    let ctx: ReportContext

    /// The lower bound of the 95 % Wilson score interval of k successes in n trials.
    static func wilsonLower(_ k: Int, _ n: Int) -> Double {
        guard n > 0 else { return 0 }
        let z = 1.959964, nn = Double(n), p = Double(k) / nn
        let centre = p + z * z / (2 * nn)
        let spread = z * (p * (1 - p) / nn + z * z / (4 * nn * nn)).squareRoot()
        return max(0, (centre - spread) / (1 + z * z / nn))
    }

    /// The products of one acquisition platform that can be ranked, best lower bound first
    /// (ties: more customers, then the product code).
    static func ranked(_ rows: [Row]) -> [(row: Row, lower: Double)] {
        rows.filter { $0["product"] != "(unknown)" && $0.int("eligible_90d") >= minimumGroup }
            .map { ($0, wilsonLower($0.int("repeat_customers_90d"), $0.int("eligible_90d"))) }
            .sorted { ($0.lower, $0.row.int("eligible_90d"), $1.row["product"]) > ($1.lower, $1.row.int("eligible_90d"), $0.row["product"]) }
    }

    func name(_ r: Row) -> String {
        let title = r["title"]
        return title.isEmpty || title == r["product"] ? r["product"] : "\(title)（\(r["product"])）"
    }

    func variant(_ platform: String, _ rows: [Row]) -> String {
        let w = ctx.words
        let ranked = Self.ranked(rows)
        var h = ""
        if let best = ranked.first {
            let r = best.row
            var s = esc(w("90 天窗口已满的首购客户中，复购率最高的引流品是 ", "Among first-time buyers whose 90 days are over, the entry product that brings most back is "))
            s += HTML.b(name(r)) + esc(w("：", ": ")) + HTML.b(Show.pct(r["repeat_rate_90d"]))
            s += esc(w("（\(Show.count(r.int("eligible_90d"))) 位中 \(Show.count(r.int("repeat_customers_90d"))) 位复购；95% 区间下限 \(Show.pct(tenThousandths: Int((best.lower * 10000).rounded())))）。",
                       " (\(Show.count(r.int("repeat_customers_90d"))) of \(Show.count(r.int("eligible_90d"))); lower 95% bound \(Show.pct(tenThousandths: Int((best.lower * 10000).rounded()))))."))
            h += HTML.p(s)
            h += HTML.p(esc(w("排序按复购率 95% Wilson 区间的下限，只排至少 \(minimumGroup) 位窗口已满客户的商品：人数少的商品不会因偶然而排在前面。",
                              "Ranked by the lower bound of the repeat rate's 95% Wilson interval, over products with at least \(minimumGroup) customers whose window is over: a product with few customers cannot rank high by chance.")), cls: "note")
            let bars = ranked.prefix(15).map { item in
                Bars.Bar(label: name(item.row), value: item.row.rate("repeat_rate_90d"), text: Show.pct(item.row["repeat_rate_90d"]),
                         note: w("\(Show.count(item.row.int("eligible_90d"))) 位 · 下限 \(Show.pct(tenThousandths: Int((item.lower * 10000).rounded())))",
                                 "n \(Show.count(item.row.int("eligible_90d"))) · lower \(Show.pct(tenThousandths: Int((item.lower * 10000).rounded())))"),
                         cls: "b-store", tip: w("首购 \(name(item.row)) 的客户 90 天内复购的比例", "share of the customers who first bought \(name(item.row)) who came back within 90 days"))
            }
            h += Bars(bars: Array(bars), aria: w("引流品 90 天复购率", "90-day repeat rate by entry product"), maxValue: 1).render()
        } else {
            h += HTML.p(esc(w("还没有商品有至少 \(minimumGroup) 位 90 天窗口已满的首购客户：数据再多一些才能比较引流品。",
                              "No product has \(minimumGroup) first-time customers whose 90 days are over yet: entry products cannot be compared until there are more.")))
        }
        // Paths: first product → the product most often bought on the second purchase day.
        let paths = rows.filter { !$0["next_product"].isEmpty && $0.int("next_product_customers") > 0 }
            .sorted { ($0.int("next_product_customers"), $1["product"]) > ($1.int("next_product_customers"), $0["product"]) }.prefix(10)
        if !paths.isEmpty {
            let titles = Dictionary(rows.map { ($0["product"], name($0)) }, uniquingKeysWith: { a, _ in a })
            h += "<h3>\(esc(w("首购 → 第二次购买最常买的商品", "First product → the product most bought next")))</h3><ul class=\"paths\">"
            for p in paths {
                let next = titles[p["next_product"]] ?? p["next_product"]
                h += "<li>\(esc(name(p))) → <b>\(esc(next))</b> <small>\(esc(w("\(Show.count(p.int("next_product_customers"))) 位", "\(Show.count(p.int("next_product_customers"))) customers")))</small></li>"
            }
            h += "</ul>"
        }
        return HTML.variant(platform, selected: "all", h)
    }

    func render() -> String {
        let w = ctx.words
        let platforms = Platforms.ordered(t.distinct("acquisition_platform"))
        let rows = t.records
        var answer = ""
        for p in platforms { answer += variant(p, rows.filter { $0["acquisition_platform"] == p }) }
        let body = DataTable(table: t, filterColumn: t.index("acquisition_platform"), selected: "all").render(ctx)
        return HTML.section(id: "products", output: t.name, title: w("哪个首购商品带来复购？", "Which first product brings customers back?"),
                            controls: Platforms.filter(platforms, ctx), answer: answer, body: body, filter: "all", w)
    }
}
