/// fan_conversion: followers → buyers → repeat → loyal, per fan channel.
struct FanConversionSection {
    let t: OutputTable
    let ctx: ReportContext

    struct Sum {
        var fans = 0, already = 0, prospects = 0, c7 = 0, c30 = 0, c90 = 0, repeaters = 0, loyal = 0
        /// 30-day conversion over the follow periods whose 30 days are over.
        var doneProspects = 0, doneC30 = 0
        mutating func add(_ r: Row) {
            fans += r.int("fans"); already += r.int("already_customers"); prospects += r.int("prospects")
            c7 += r.int("converted_7d"); c30 += r.int("converted_30d"); c90 += r.int("converted_90d")
            repeaters += r.int("repeat_fans"); loyal += r.int("loyal_fans")
            if r.flag("window_complete_30d") { doneProspects += r.int("prospects"); doneC30 += r.int("converted_30d") }
        }
    }

    func sum(_ channel: String) -> Sum {
        var s = Sum()
        for r in t.records where r["fan_channel"] == channel { s.add(r) }
        return s
    }

    func render() -> String {
        let w = ctx.words
        let channels = t.distinct("fan_channel")
        let ordered = (channels.contains("all") ? ["all"] : []) + channels.filter { $0 != "all" }.sorted { sum($0).fans > sum($1).fans }
        var answer = "", body = ""
        for c in ordered {
            let s = sum(c)
            answer += HTML.variant(c, selected: "all", sentence(s, c, ordered))
            body += HTML.variant(c, selected: "all", funnel(s, c))
        }
        // Every channel's 30-day conversion side by side.
        let others = ordered.filter { $0 != "all" }
        if !others.isEmpty {
            let bars = others.map { c -> Bars.Bar in
                let s = sum(c)
                return Bars.Bar(label: ctx.names.channel(c), value: s.doneProspects > 0 ? Double(s.doneC30) / Double(s.doneProspects) : nil,
                                text: Show.pct(s.doneC30, s.doneProspects),
                                note: w("\(Show.count(s.doneC30)) / \(Show.count(s.doneProspects)) 位潜在客户 · 新粉丝 \(Show.count(s.fans))", "\(Show.count(s.doneC30)) of \(Show.count(s.doneProspects)) prospects · \(Show.count(s.fans)) fans"),
                                cls: s.doneProspects < minimumGroup ? "b-fan small" : "b-fan",
                                tip: ctx.names.channel(c) + ": " + w("30 天转化率（只计 30 天窗口已满的关注期）", "30-day conversion (follow periods whose 30 days are over)"))
            }
            body += "<h3>\(esc(w("各渠道 30 天转化率", "30-day conversion per fan channel")))</h3>" + Bars(bars: bars, aria: w("各粉丝渠道的 30 天转化率", "30-day conversion per fan channel"), maxValue: 1).render()
            body += HTML.p(esc(w("浅色：潜在客户不足 \(minimumGroup) 位，比例不稳定。", "Pale: fewer than \(minimumGroup) prospects, the rate is unstable.")), cls: "note")
        }
        body += DataTable(table: t, filterColumn: t.index("fan_channel"), selected: "all").render(ctx)
        let options = ordered.map { ($0, ctx.names.channel($0)) }
        return HTML.section(id: "fans", output: t.name, title: w("粉丝转化：从关注到忠实粉丝", "Fan conversion: from follower to loyal fan"),
                            controls: options.count > 1 ? HTML.select(w("粉丝渠道", "Fan channel"), options, selected: "all") : "",
                            answer: answer, body: body, filter: "all", w)
    }

    func sentence(_ s: Sum, _ c: String, _ all: [String]) -> String {
        let w = ctx.words
        let who = c == "all" ? "" : w("（\(ctx.names.channel(c))）", " (\(ctx.names.channel(c)))")
        var t = esc(w("共 ", "")) + HTML.b(Show.count(s.fans)) + esc(w(" 位新粉丝\(who)，其中 ", " new fans\(who); ")) + HTML.b(Show.count(s.already))
        t += esc(w(" 位关注前已是客户；", " were customers before they followed. "))
        t += esc(w("在 30 天窗口已满的关注期里，\(Show.count(s.doneProspects)) 位潜在客户中 ", "Of the \(Show.count(s.doneProspects)) prospects whose 30 days are over, "))
        t += HTML.b(Show.count(s.doneC30)) + esc(w(" 位在关注后 30 天内首购（", " bought within 30 days of following (")) + HTML.b(Show.pct(s.doneC30, s.doneProspects))
        t += esc(w("）。复购粉丝 \(Show.count(s.repeaters)) 位，忠实粉丝（关注后 ≥ \(ctx.loyalThreshold) 个购买日）\(Show.count(s.loyal)) 位。",
                   "). \(Show.count(s.repeaters)) fans bought again after following; \(Show.count(s.loyal)) are loyal (≥ \(ctx.loyalThreshold) purchase days after the follow)."))
        var out = HTML.p(t)
        if c == "all" {
            func rate(_ s: Sum) -> Double { Double(s.doneC30) / Double(max(s.doneProspects, 1)) }
            let candidates: [(String, Sum)] = all.filter { $0 != "all" }.map { ($0, sum($0)) }.filter { $0.1.doneProspects >= minimumGroup }
            let ranked = candidates.max { rate($0.1) < rate($1.1) }
            if let (best, b) = ranked {
                out += HTML.p(esc(w("30 天转化率最高的渠道（潜在客户 ≥ \(minimumGroup)）：\(ctx.names.channel(best)) \(Show.pct(b.doneC30, b.doneProspects))。",
                                    "Best 30-day conversion (channels with ≥ \(minimumGroup) prospects): \(ctx.names.channel(best)) \(Show.pct(b.doneC30, b.doneProspects)).")), cls: "note")
            }
        }
        if s.doneProspects < minimumGroup {
            out += HTML.warn(esc(w("潜在客户不足 \(minimumGroup) 位：转化率受偶然因素影响大。", "Fewer than \(minimumGroup) prospects: the conversion rate is mostly chance.")))
        }
        return out
    }

    func funnel(_ s: Sum, _ c: String) -> String {
        let w = ctx.words
        let stages: [(String, Int, String)] = [
            (w("新粉丝", "new fans"), s.fans, ""),
            (w("关注前已是客户", "already customers"), s.already, Show.pct(s.already, s.fans)),
            (w("潜在客户", "prospects"), s.prospects, Show.pct(s.prospects, s.fans)),
            (w("7 天内首购", "bought within 7 days"), s.c7, w("潜在客户的 ", "of prospects ") + Show.pct(s.c7, s.prospects)),
            (w("30 天内首购", "bought within 30 days"), s.c30, w("潜在客户的 ", "of prospects ") + Show.pct(s.c30, s.prospects)),
            (w("90 天内首购", "bought within 90 days"), s.c90, w("潜在客户的 ", "of prospects ") + Show.pct(s.c90, s.prospects)),
            (w("复购粉丝", "repeat fans"), s.repeaters, w("粉丝的 ", "of fans ") + Show.pct(s.repeaters, s.fans)),
            (w("忠实粉丝", "loyal fans"), s.loyal, w("粉丝的 ", "of fans ") + Show.pct(s.loyal, s.fans)),
        ]
        let bars = stages.map { Bars.Bar(label: $0.0, value: Double($0.1), text: Show.count($0.1), note: $0.2, cls: "b-funnel", tip: "\($0.0): \(Show.count($0.1)) \($0.2)") }
        return "<figure class=\"chart-box\">" + Bars(bars: bars, aria: w("粉丝漏斗", "fan funnel"), maxValue: Double(max(s.fans, 1))).render()
            + "<figcaption>\(esc(w("全部关注期合计；最近的关注期转化窗口可能未满", "All follow periods together; the latest periods' windows may not be over")))</figcaption></figure>"
    }
}

/// fan_lift: do fans come back more often? The overall 180-day repeat rate of fans and non-fans
/// with their sample sizes, over cohorts whose 180 days are over (or all cohorts), per cohort below.
struct FanLiftSection {
    let t: OutputTable
    let ctx: ReportContext

    func totals(_ complete: Bool) -> (fan: (Int, Int), non: (Int, Int), cohorts: [String]) {
        var f = (0, 0), n = (0, 0), cohorts: [String] = []
        for r in t.records where !complete || r.flag("window_complete") {
            if !cohorts.contains(r["cohort"]) { cohorts.append(r["cohort"]) }
            if r["group"] == "fan" { f.0 += r.int("repeat_customers_180d"); f.1 += r.int("customers") }
            else { n.0 += r.int("repeat_customers_180d"); n.1 += r.int("customers") }
        }
        return (f, n, cohorts)
    }

    func render() -> String {
        let w = ctx.words
        let options = [("complete", w("180 天已满的首购期", "cohorts whose 180 days are over")), ("*", w("全部首购期", "all cohorts"))]
        let hasComplete = t.records.contains { $0.flag("window_complete") }
        let selected = hasComplete ? "complete" : "*"
        var answer = "", body = ""
        for (v, _) in options {
            let tot = totals(v == "complete")
            answer += HTML.variant(v, selected: selected, sentence(tot, complete: v == "complete"))
            body += HTML.variant(v, selected: selected, bars(tot))
        }
        body += "<h3>\(esc(w("每个首购期：粉丝与非粉丝的 180 天复购率", "Per cohort: 180-day repeat rate of fans and non-fans")))</h3>" + perCohort()
        body += DataTable(table: t, filterColumn: nil).render(ctx)
        return HTML.section(id: "fanlift", output: t.name, title: w("粉丝是否复购更多？", "Do fans come back more often?"),
                            controls: HTML.segmented(w("范围", "Cohorts"), options, selected: selected), answer: answer, body: body, filter: selected, w)
    }

    func sentence(_ tot: (fan: (Int, Int), non: (Int, Int), cohorts: [String]), complete: Bool) -> String {
        let w = ctx.words
        let (f, n) = (tot.fan, tot.non)
        guard f.1 + n.1 > 0 else {
            return HTML.p(esc(complete ? w("还没有 180 天窗口已满的首购期；请选“全部首购期”。", "No cohort's 180 days are over yet; choose “all cohorts”.") : w("还没有客户。", "No customers yet.")))
        }
        let scope = complete ? w("在 180 天窗口已满的 \(tot.cohorts.count) 个首购期（\(range(tot.cohorts))）中，", "Over the \(tot.cohorts.count) cohorts whose 180 days are over (\(range(tot.cohorts))), ")
                             : w("在全部 \(tot.cohorts.count) 个首购期中（含 180 天未满的，复购率偏低），", "Over all \(tot.cohorts.count) cohorts (including those whose 180 days are not over, so rates are lower), ")
        var s = esc(scope) + esc(w("粉丝 180 天复购率 ", "fans repeat within 180 days at ")) + HTML.b(Show.pct(f.0, f.1))
        s += esc(w("（\(Show.count(f.1)) 人中 \(Show.count(f.0)) 人），非粉丝 ", " (\(Show.count(f.0)) of \(Show.count(f.1))), non-fans at ")) + HTML.b(Show.pct(n.0, n.1))
        s += esc(w("（\(Show.count(n.1)) 人中 \(Show.count(n.0)) 人）", " (\(Show.count(n.0)) of \(Show.count(n.1)))"))
        let cmp = f.1 > 0 && n.1 > 0 ? f.0 * n.1 - n.0 * f.1 : 0
        if f.1 > 0 && n.1 > 0 {
            let verdict = cmp > 0 ? w("粉丝复购更多", "fans repeat more") : cmp < 0 ? w("粉丝复购更少", "fans repeat less") : w("两者相同", "the same")
            s += esc(w("：", ": ")) + HTML.b(verdict)
            if cmp != 0 { s += esc(w("，相差 \(points(f.0, f.1, n.0, n.1)) 个百分点", ", by \(points(f.0, f.1, n.0, n.1)) points")) }
        }
        s += esc(w("。", "."))
        var out = HTML.p(s)
        if f.1 < minimumGroup || n.1 < minimumGroup {
            let small = f.1 < minimumGroup ? w("粉丝", "fans") : w("非粉丝", "non-fans")
            out += HTML.warn(esc(w("\(small)只有 \(Show.count(min(f.1, n.1))) 人（少于 \(minimumGroup)）：样本太小，不能比较。", "Only \(Show.count(min(f.1, n.1))) \(small) (fewer than \(minimumGroup)): too few to compare.")))
        } else if let z = twoProportionZ(f.0, f.1, n.0, n.1) {
            out += HTML.p(esc(abs(z) < 1.96 ? w("按两组的样本量，这个差距在偶然波动范围内（双比例检验 |z| = \(Chart.num(abs(z))) < 1.96）。", "At these sample sizes the gap is within chance (two-proportion test |z| = \(Chart.num(abs(z))) < 1.96).")
                                             : w("按两组的样本量，这个差距超出偶然波动（双比例检验 |z| = \(Chart.num(abs(z))) ≥ 1.96）。", "At these sample sizes the gap is more than chance (two-proportion test |z| = \(Chart.num(abs(z))) ≥ 1.96).")), cls: "note")
        }
        out += HTML.p(esc(w("粉丝：在第二个购买日（没有复购的，截止日）前已关注公众号的客户。", "Fans: customers who followed the account by their second purchase day (or by the as-of date when they have none).")), cls: "note")
        return out
    }

    func range(_ cohorts: [String]) -> String {
        guard let a = cohorts.first, let b = cohorts.last else { return "" }
        return a == b ? Show.period(a, ctx.period) : "\(Show.period(a, ctx.period)) – \(Show.period(b, ctx.period))"
    }

    func bars(_ tot: (fan: (Int, Int), non: (Int, Int), cohorts: [String])) -> String {
        let w = ctx.words
        let groups = [(w("粉丝", "fans"), tot.fan, "b-fan"), (w("非粉丝", "non-fans"), tot.non, "b-non")]
        let bars = groups.map { g in
            Bars.Bar(label: g.0, value: g.1.1 > 0 ? Double(g.1.0) / Double(g.1.1) : nil, text: Show.pct(g.1.0, g.1.1),
                     note: w("\(Show.count(g.1.0)) / \(Show.count(g.1.1)) 人", "\(Show.count(g.1.0)) of \(Show.count(g.1.1))") + (g.1.1 < minimumGroup ? w(" · 样本太小", " · too few") : ""),
                     cls: g.2 + (g.1.1 < minimumGroup ? " small" : ""), tip: "\(g.0): " + w("180 天复购率", "180-day repeat rate"))
        }
        return "<figure class=\"chart-box\">" + Bars(bars: bars, aria: w("粉丝与非粉丝的 180 天复购率", "180-day repeat rate, fans and non-fans"), maxValue: 1).render() + "</figure>"
    }

    func perCohort() -> String {
        let w = ctx.words
        let cohorts = t.distinct("cohort")
        let rows = t.records
        func series(_ g: String, _ cls: String, _ name: String) -> LineChart.Series {
            let rs = cohorts.map { c in rows.first { $0["cohort"] == c && $0["group"] == g } }
            let tips: [String?] = zip(cohorts, rs).map { c, r in
                r.map { r in "\(Show.period(c, ctx.period)) \(name): \(Show.pct(r["repeat_rate_180d"])) (\(Show.count(r.int("repeat_customers_180d")))/\(Show.count(r.int("customers"))))"
                    + (r.int("customers") < minimumGroup ? w(" · 样本小", " · small group") : "") + (r.flag("window_complete") ? "" : w(" · 180 天未满", " · 180 days not over")) }
            }
            let firstOpen = rs.firstIndex { $0.map { !$0.flag("window_complete") } ?? false }
            return LineChart.Series(name: g, values: rs.map { $0?.rate("repeat_rate_180d") }, cls: cls, tip: name, dashedFrom: firstOpen.map { max(0, $0 - 1) }, pointTips: tips)
        }
        let chart = LineChart(xLabels: cohorts, series: [series("non_fan", "s-non", w("非粉丝", "non-fans")), series("fan", "s-fan", w("粉丝", "fans"))],
                              aria: w("每个首购期粉丝与非粉丝的 180 天复购率", "180-day repeat rate per cohort, fans and non-fans")).render()
        return "<figure class=\"chart-box\">\(chart)</figure>" + legend([("s-fan", w("粉丝", "fans")), ("s-non", w("非粉丝", "non-fans")), ("c-dash", w("虚线：180 天未满", "dashed: 180 days not over"))])
            + HTML.p(esc(w("每个首购期的组都很小（悬停可看人数）：单期的高低多为偶然，请看上面的合计。", "Each cohort's groups are small (hover for sizes): single cohorts swing by chance; read the totals above.")), cls: "note")
    }
}
