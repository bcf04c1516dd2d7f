/// repurchase_by_period: new versus returning buyers and the repurchase rate over time.
struct PeriodSection {
    let t: OutputTable
    let ctx: ReportContext

    func render() -> String {
        let w = ctx.words
        let platforms = Platforms.ordered(t.distinct("platform"))
        var answer = "", body = ""
        for p in platforms {
            let rows = t.records.filter { $0["platform"] == p }
            answer += HTML.variant(p, selected: "all", sentence(rows, p))
            body += HTML.variant(p, selected: "all", chart(rows, p))
        }
        body += legend([("k-new", w("新客", "new buyers")), ("k-ret", w("老客", "returning buyers")), ("s-ret", w("老客占比", "returning share")),
                        ("s-rep", w("本期复购率（期内两个及以上购买日）", "in-period repurchase rate (2+ purchase days)")), ("k-inc", w("斜线：未结束的周期", "hatched: period in progress"))])
        body += DataTable(table: t, filterColumn: t.index("platform"), selected: "all").render(ctx)
        return HTML.section(id: "period", output: t.name, title: w("每期买家：新客、老客与复购率", "Buyers per period: new, returning and repurchase"),
                            controls: Platforms.filter(platforms, ctx), answer: answer, body: body, filter: "all", w)
    }

    func sentence(_ rows: [Row], _ p: String) -> String {
        let w = ctx.words
        let done = rows.filter { !$0.flag("partial") }
        guard let last = done.last ?? rows.last else { return HTML.p(esc(w("还没有购买。", "No purchases yet."))) }
        let unitZh = ctx.period == .week ? "周" : "月", unitEn = ctx.period == .week ? "week" : "month"
        let where_ = p == "all" ? "" : w("在\(ctx.names.platform(p))", " on \(ctx.names.platform(p))")
        var s = esc(w("最近一个完整的\(unitZh) \(Show.period(last["period"], ctx.period))\(where_)：买家 ", "The last complete \(unitEn), \(Show.period(last["period"], ctx.period))\(where_): "))
        s += HTML.b(Show.count(last.int("buyers"))) + esc(w(" 位，其中老客 ", " buyers, of whom returning "))
        s += HTML.b(Show.pct(last["returning_share"])) + esc(w("（\(Show.count(last.int("returning_buyers"))) 位），本期复购率 ", " (\(Show.count(last.int("returning_buyers")))); in-period repurchase rate "))
        s += HTML.b(Show.pct(last["period_repurchase_rate"])) + esc(w("，净收入 \(Show.yuan(last["net_revenue"]))。", ", net revenue \(Show.yuan(last["net_revenue"]))."))
        // The trend: the returning share against the same span before (six months, or 13 weeks).
        let back = ctx.period == .week ? 13 : 6
        // Only against a period with `back` periods of history itself: the first periods of the data
        // have no returning buyers by construction.
        if done.count > 2 * back, let a = Show.tenThousandths(done[done.count - 1 - back]["returning_share"]), let b = Show.tenThousandths(last["returning_share"]) {
            let before = done[done.count - 1 - back]
            let diff = Show.pct(tenThousandths: abs(b - a)).dropLast()
            let dir = b > a ? w("上升", "up") : b < a ? w("下降", "down") : w("持平", "flat")
            s += esc(w(" 与 \(Show.period(before["period"], ctx.period)) 相比，老客占比\(dir) \(diff) 个百分点（当时 \(Show.pct(before["returning_share"]))）。",
                       " Against \(Show.period(before["period"], ctx.period)), the returning share is \(dir) \(diff) points (then \(Show.pct(before["returning_share"])))."))
        }
        let newSum = rows.reduce(0) { $0 + $1.int("new_buyers") }, retSum = rows.reduce(0) { $0 + $1.int("returning_buyers") }
        var out = HTML.p(s)
        out += HTML.p(esc(w("全部周期合计：新客购买 \(Show.count(newSum)) 人次，老客购买 \(Show.count(retSum)) 人次（老客占 \(Show.pct(retSum, newSum + retSum))）。",
                            "All periods: \(Show.count(newSum)) new and \(Show.count(retSum)) returning buyer-periods (returning \(Show.pct(retSum, newSum + retSum)))."))
                      + (rows.last?.flag("partial") == true ? esc(w(" \(Show.period(rows.last!["period"], ctx.period)) 尚未结束（斜线、虚线）。", " \(Show.period(rows.last!["period"], ctx.period)) is still in progress (hatched, dashed).")) : ""), cls: "note")
        return out
    }

    func chart(_ rows: [Row], _ p: String) -> String {
        let w = ctx.words
        let labels = rows.map { $0["period"] }
        let partialFrom = rows.firstIndex { $0.flag("partial") }
        let tips = rows.map { r in
            "\(Show.period(r["period"], ctx.period)): " + w("买家 \(Show.count(r.int("buyers"))) · 新客 \(Show.count(r.int("new_buyers"))) · 老客 \(Show.count(r.int("returning_buyers"))) (\(Show.pct(r["returning_share"]))) · 本期复购率 \(Show.pct(r["period_repurchase_rate"])) · 净收入 \(Show.yuan(r["net_revenue"]))",
                                                            "buyers \(Show.count(r.int("buyers"))) · new \(Show.count(r.int("new_buyers"))) · returning \(Show.count(r.int("returning_buyers"))) (\(Show.pct(r["returning_share"]))) · repurchase \(Show.pct(r["period_repurchase_rate"])) · net revenue \(Show.yuan(r["net_revenue"]))")
                + (r.flag("partial") ? w(" · 未结束", " · in progress") : "")
        }
        let dash = partialFrom.map { max(0, $0 - 1) }
        let c = PeriodChart(labels: labels, new: rows.map { $0.int("new_buyers") }, returning: rows.map { $0.int("returning_buyers") },
                            partial: rows.map { $0.flag("partial") }, tips: tips,
                            rates: [LineChart.Series(name: "returning_share", values: rows.map { $0.rate("returning_share") }, cls: "s-ret", tip: w("老客占比", "returning share"), dashedFrom: dash),
                                    LineChart.Series(name: "period_repurchase_rate", values: rows.map { $0.rate("period_repurchase_rate") }, cls: "s-rep", tip: w("本期复购率", "repurchase rate"), dashedFrom: dash)],
                            aria: w("每期新客与老客买家，以及老客占比和本期复购率", "new and returning buyers per period, returning share and repurchase rate") + " (\(ctx.names.platform(p)))")
        return "<figure class=\"chart-box\">\(c.render())<figcaption>\(esc(w("上：买家人数（新客 + 老客）；下：老客占比与本期复购率", "Top: buyers (new + returning); bottom: returning share and in-period repurchase rate")))</figcaption></figure>"
    }
}
