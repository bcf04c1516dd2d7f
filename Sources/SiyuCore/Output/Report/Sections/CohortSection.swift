/// cohort_repurchase: "Which month's new customers came back most?" — the cumulative repeat curve
/// of every cohort and their average, a sentence naming the best cohort at a fixed horizon, and
/// the heat map (retention, cumulative repeat or revenue; periods in progress hatched).
struct CohortSection {
    let t: OutputTable
    let ctx: ReportContext

    struct Cohort {
        var label: String
        var customers: Int
        var cells: [Int: Row] = [:]
        /// The first offset whose period is still in progress.
        var partialFrom: Int? { cells.filter { $0.value.flag("partial") }.keys.min() }
    }

    func cohorts(_ platform: String) -> [Cohort] {
        var out: [Cohort] = [], at: [String: Int] = [:]
        for r in t.records where r["acquisition_platform"] == platform {
            let c = r["cohort"]
            if at[c] == nil { at[c] = out.count; out.append(Cohort(label: c, customers: r.int("cohort_customers"))) }
            out[at[c]!].cells[r.int("period_offset")] = r
        }
        return out
    }

    var unit: (zh: String, en: String) { ctx.period == .week ? ("周", "week") : ("个月", "month") }
    /// The horizon cohorts are compared at: a quarter.
    var horizon: Int { ctx.period == .week ? 13 : 3 }

    func render() -> String {
        let w = ctx.words
        let platforms = Platforms.ordered(t.distinct("acquisition_platform"))
        var answer = "", body = ""
        for p in platforms {
            let cs = cohorts(p)
            answer += HTML.variant(p, selected: "all", sentence(cs, p))
            body += HTML.variant(p, selected: "all", curve(cs, p))
        }
        body += legend([("c-avg", w("平均（只计已结束的周期）", "average (finished periods only)")), ("c-best", w("复购最多的首购期", "the cohort that came back most")),
                        ("c-cohort", w("其他首购期", "other cohorts")), ("c-dash", w("虚线：未结束的周期", "dashed: period in progress"))])
        body += "<h3>\(esc(w("热力图：每个首购期逐期表现", "Heat map: every cohort, period by period")))</h3>"
        body += HTML.segmented(w("显示", "Show"), [("r", w("留存率", "retention")), ("c", w("累计复购率", "cumulative repeat")), ("v", w("净收入", "net revenue"))], selected: "r", ctl: "metric")
        body += "<p class=\"note\"><span data-m=\"r\">\(esc(w("留存率：首购后第 k 期在任一平台下单的客户比例。", "Retention: the share of the cohort that bought in period k, on any platform.")))</span>"
        body += "<span data-m=\"c\" hidden>\(esc(w("累计复购率：到第 k 期末已有第二个购买日的客户比例（只增不减）。", "Cumulative repeat: the share with a second purchase day by the end of period k (it only grows).")))</span>"
        body += "<span data-m=\"v\" hidden>\(esc(w("净收入：该首购期客户在第 k 期的实付减退款。", "Net revenue: what the cohort paid, net of refunds, in period k.")))</span> "
        body += "<span class=\"key inc-key\"></span>\(esc(w("斜线格：周期在截止日后才结束，数字仍会增长——不是流失。", "Hatched: the period ends after the as-of date; its numbers still grow — not churn.")))</p>"
        for p in platforms { body += HTML.variant(p, selected: "all", heat(cohorts(p))) }
        body += DataTable(table: t, filterColumn: t.index("acquisition_platform"), selected: "all").render(ctx)
        return HTML.section(id: "cohort", output: t.name, title: w("新客复购：哪一期的新客回来得最多？", "Cohort repurchase: which cohort came back most?"),
                            controls: Platforms.filter(platforms, ctx), answer: answer, body: body, filter: "all", w)
    }

    /// The average cumulative repeat rate at each offset over the cohorts whose period k has ended.
    func average(_ cs: [Cohort], maxK: Int) -> [Double?] {
        (0...maxK).map { k in
            var rep = 0, n = 0
            for c in cs { if let r = c.cells[k], !r.flag("partial") { rep += r.int("repeat_customers"); n += r.int("cohort_customers") } }
            return n > 0 ? Double(rep) / Double(n) : nil
        }
    }

    /// The horizon used to compare cohorts: a quarter, or the longest one some cohort has finished.
    func compareAt(_ cs: [Cohort]) -> Int? {
        let finished = cs.flatMap { c in c.cells.filter { !$0.value.flag("partial") && $0.key > 0 }.keys }
        guard let longest = finished.max() else { return nil }
        return min(horizon, longest)
    }

    /// Best and worst cohorts at offset k (cohorts with a finished period k; at least 30 customers when some have).
    func ranking(_ cs: [Cohort], at k: Int) -> (best: (Cohort, Row), worst: (Cohort, Row), small: Bool)? {
        let done = cs.compactMap { c in c.cells[k].flatMap { $0.flag("partial") ? nil : (c, $0) } }
        let big = done.filter { $0.0.customers >= minimumGroup }
        let pool = big.isEmpty ? done : big
        func rate(_ x: (Cohort, Row)) -> Int { Show.tenThousandths(x.1["cumulative_repeat_rate"]) ?? 0 }
        guard let best = pool.max(by: { rate($0) < rate($1) || (rate($0) == rate($1) && $0.0.label > $1.0.label) }),
              let worst = pool.min(by: { rate($0) < rate($1) || (rate($0) == rate($1) && $0.0.label < $1.0.label) }) else { return nil }
        return (best, worst, big.isEmpty)
    }

    func sentence(_ cs: [Cohort], _ p: String) -> String {
        let w = ctx.words
        let who = p == "all" ? "" : w("（\(ctx.names.platform(p)) 获得的客户）", " (customers \(ctx.names.platform(p)) acquired)")
        guard let k = compareAt(cs), let rk = ranking(cs, at: k) else {
            return HTML.p(esc(w("还没有结束的后续周期：等下一期数据后才能比较各期新客的复购。", "No later period has ended yet: cohorts can be compared after the next period.") + who))
        }
        let maxK = cs.flatMap { $0.cells.keys }.max() ?? 0
        let avg = average(cs, maxK: maxK)
        let (bc, br) = rk.best, (wc, wr) = rk.worst
        var s = esc(w("到首购后第 \(k) \(unit.zh)末，复购比例最高的是 ", "By the end of \(unit.en) \(k) after the first purchase, the cohort that came back most is ")) + HTML.b(Show.period(bc.label, ctx.period))
        s += esc(w(" 的新客\(who)：", "\(who): "))
        s += HTML.b(Show.pct(br["cumulative_repeat_rate"])) + esc(w("（\(Show.count(br.int("cohort_customers"))) 人中 \(Show.count(br.int("repeat_customers"))) 人已复购）",
                                                                 " (\(Show.count(br.int("repeat_customers"))) of \(Show.count(br.int("cohort_customers"))))"))
        if avg[k] != nil { s += esc(w("；同期平均 ", "; the average is ")) + HTML.b(pctOf(cs, k)) }
        if wc.label != bc.label {
            s += esc(w("；最少的是 \(Show.period(wc.label, ctx.period))：\(Show.pct(wr["cumulative_repeat_rate"]))。",
                       "; the fewest, \(Show.period(wc.label, ctx.period)): \(Show.pct(wr["cumulative_repeat_rate"])).")) }
        else { s += esc(w("。", ".")) }
        var out = HTML.p(s)
        out += HTML.p(esc(w("每条细线是一个首购期的累计复购率（到第 k 期末已复购的比例），粗线是平均；悬停可看数值。",
                            "Each thin line is a cohort's cumulative repeat rate (the share that has bought again by the end of period k); the thick line is the average. Hover for values.")), cls: "note")
        if rk.small {
            out += HTML.warn(esc(w("每个首购期都不足 \(minimumGroup) 位新客：排名受偶然因素影响很大，请看平均线。",
                                   "Every cohort has fewer than \(minimumGroup) customers: the ranking is mostly chance; read the average line.")))
        }
        return out
    }

    /// The average at offset k as printed (exact, from the counts).
    func pctOf(_ cs: [Cohort], _ k: Int) -> String {
        var rep = 0, n = 0
        for c in cs { if let r = c.cells[k], !r.flag("partial") { rep += r.int("repeat_customers"); n += r.int("cohort_customers") } }
        return Show.pct(rep, n)
    }

    func curve(_ cs: [Cohort], _ p: String) -> String {
        let w = ctx.words
        let maxK = cs.flatMap { $0.cells.keys }.max() ?? 0
        let best = compareAt(cs).flatMap { ranking(cs, at: $0) }?.best.0.label
        let pointsEach = cs.count * (maxK + 1) <= 400
        var series: [LineChart.Series] = []
        for c in cs {
            let values = (0...maxK).map { k in c.cells[k]?.rate("cumulative_repeat_rate") }
            let tips: [String?] = (0...maxK).map { k in
                c.cells[k].map { r in
                    "\(Show.period(c.label, ctx.period)) +\(k): " + w("累计复购 \(Show.pct(r["cumulative_repeat_rate"]))（\(Show.count(r.int("repeat_customers")))/\(Show.count(r.int("cohort_customers")))）",
                                                                   "cumulative repeat \(Show.pct(r["cumulative_repeat_rate"])) (\(Show.count(r.int("repeat_customers")))/\(Show.count(r.int("cohort_customers"))))")
                        + (r.flag("partial") ? w(" · 未结束", " · in progress") : "")
                }
            }
            let last = c.cells.keys.max().flatMap { c.cells[$0] }
            let tip = "\(Show.period(c.label, ctx.period)) · " + w("\(Show.count(c.customers)) 位新客", "\(Show.count(c.customers)) customers")
                + (last.map { " · " + Show.pct($0["cumulative_repeat_rate"]) } ?? "")
            let isBest = c.label == best
            series.append(LineChart.Series(name: c.label, values: values, cls: isBest ? "c-best" : "c-cohort", tip: tip,
                                           dashedFrom: c.partialFrom.map { max(0, $0 - 1) },
                                           pointTips: pointsEach || isBest ? tips : nil,
                                           endLabel: isBest ? Show.axis(c.label, first: true, previous: nil) : nil))
        }
        // The best cohort and the average are drawn last, on top.
        series.sort { ($0.cls == "c-best" ? 1 : 0) < ($1.cls == "c-best" ? 1 : 0) }
        let avg = average(cs, maxK: maxK)
        let avgTips: [String?] = (0...maxK).map { k in avg[k].map { _ in "+\(k): " + w("平均累计复购 ", "average cumulative repeat ") + pctOf(cs, k) } }
        series.append(LineChart.Series(name: "avg", values: avg, cls: "c-avg", tip: w("平均", "average"), pointTips: avgTips, endLabel: w("平均", "avg")))
        let labels = (0...maxK).map { "+\($0)" }
        let chart = LineChart(xLabels: labels, series: series,
                              aria: w("各首购期的累计复购率曲线", "cumulative repeat rate per cohort") + " (\(ctx.names.platform(p)))").render()
        let axis = w("横轴：首购后第 k \(unit.zh)（+0 为首购期）", "x: periods after the first purchase (+0: the cohort's own \(unit.en))")
        return "<figure class=\"chart-box\">\(chart)<figcaption>\(esc(axis))</figcaption></figure>"
    }

    /// The heat map as a table: values of the three measures in each cell for the switch.
    func heat(_ cs: [Cohort]) -> String {
        let w = ctx.words
        guard !cs.isEmpty else { return HTML.p(esc(w("还没有首购期。", "No cohorts yet.")), cls: "note") }
        let maxK = cs.flatMap { $0.cells.keys }.max() ?? 0
        let compact = maxK > 24
        var maxR = 0, maxC = 0, maxV = 0   // in ten-thousandths and fen, over offsets ≥ 1 (offset 0 is 100 % retention)
        for c in cs { for (k, r) in c.cells {
            maxC = max(maxC, Show.tenThousandths(r["cumulative_repeat_rate"]) ?? 0)
            if k > 0 { maxR = max(maxR, Show.tenThousandths(r["retention_rate"]) ?? 0); maxV = max(maxV, r.fen("net_revenue")) }
        } }
        maxR = max(maxR, 1); maxC = max(maxC, 1); maxV = max(maxV, 1)
        var h = "<div class=\"heatbox\"><table class=\"heat\(compact ? " compact" : "")\" data-max=\"\(maxR) \(maxC) \(maxV)\"><thead><tr><th class=\"rowh\">\(esc(w("首购期（人数）", "cohort (customers)")))</th>"
        for k in 0...maxK { h += "<th>\(compact && k % 4 != 0 ? "" : "+\(k)")</th>" }
        h += "</tr></thead><tbody>"
        for c in cs {
            h += "<tr data-n=\"\(c.customers)\"><th class=\"rowh\" scope=\"row\">\(esc(Show.period(c.label, ctx.period))) <small>\(esc(Show.count(c.customers)))</small></th>"
            for k in 0...maxK {
                guard let r = c.cells[k] else { h += "<td class=\"none\"></td>"; continue }
                let active = r.int("active_customers"), rep = r.int("repeat_customers"), rev = r.fen("net_revenue")
                let ten = Show.tenThousandths(r["retention_rate"]) ?? 0
                let shade = k == 0 ? 1.0 : min(1.0, Double(ten) / Double(maxR))
                h += "<td data-x=\"\(active) \(rep) \(rev)\" class=\"\(HeatColor.level(shade))\(r.flag("partial") ? " inc" : "")\">"
                if !compact { h += esc(HeatColor.cellPct(active, c.customers)) }
                h += "</td>"
            }
            h += "</tr>"
        }
        return h + "</tbody></table></div>"
    }
}

/// The heat map's colour scale; the page's script draws the same one when the measure changes:
/// eleven steps, classes h0 … h10 (PageAssets.css).
enum HeatColor {
    static func level(_ t: Double) -> String { "h\(Int((max(0, min(1, t)) * 10).rounded()))" }

    static func css(_ t: Double) -> String {
        let l = Int((97 - 55 * max(0, min(1, t))).rounded())
        return "hsl(212,65%,\(l)%)"
    }

    /// A cell's short percentage (whole per cent, half up).
    static func cellPct(_ num: Int, _ den: Int) -> String {
        guard den > 0 else { return "" }
        return "\((num * 200 + den) / (2 * den))%"
    }
}
