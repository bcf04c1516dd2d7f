/// channel_cpa: which channel's customers are cheapest per repeat buyer? Bars per channel sorted
/// by cost per repeat customer (by CPA while channel_cpa.csv has no repeat columns), for all
/// periods or one; a channel without spend reads "无投放", never 0.00.
struct ChannelSection {
    let t: OutputTable
    let ctx: ReportContext

    var hasRepeat: Bool { t.index("repeat_customers") != nil }

    struct Sum {
        var spend = 0, new = 0, repeaters = 0, firstDay = 0, rev = 0, incomplete = false
        mutating func add(_ r: Row) {
            spend += r.fen("spend"); new += r.int("new_customers"); repeaters += r.int("repeat_customers")
            firstDay += r.fen("first_order_revenue"); rev += r.fen("revenue_90d")
            if !r.flag("window_complete") { incomplete = true }
        }
        var cpa: Int? { new > 0 && spend > 0 ? (spend * 2 + new) / (2 * new) : nil }
        var perRepeat: Int? { repeaters > 0 && spend > 0 ? (spend * 2 + repeaters) / (2 * repeaters) : nil }
    }

    func sums(_ period: String) -> (channels: [(String, Sum)], blended: Sum) {
        var order: [String] = [], by: [String: Sum] = [:], blended = Sum()
        for r in t.records where period == "*" || r["period"] == period {
            if r["channel"] == "blended" { blended.add(r); continue }
            if by[r["channel"]] == nil { order.append(r["channel"]) }
            by[r["channel"], default: Sum()].add(r)
        }
        return (order.map { ($0, by[$0]!) }, blended)
    }

    /// The channel's cost per the unit the section ranks by (fen), nil when it has none.
    func cost(_ s: Sum) -> Int? { hasRepeat ? s.perRepeat : s.cpa }

    func ranked(_ chs: [(String, Sum)]) -> [(String, Sum)] {
        func group(_ s: Sum) -> Int { s.spend == 0 ? 3 : cost(s) == nil ? 2 : 1 }
        return chs.sorted { a, b in
            if group(a.1) != group(b.1) { return group(a.1) < group(b.1) }
            if let x = cost(a.1), let y = cost(b.1), x != y { return x < y }
            if a.1.new != b.1.new { return a.1.new > b.1.new }
            return a.0 < b.0
        }
    }

    func render() -> String {
        let w = ctx.words
        let periods = t.distinct("period")
        let options = [("*", w("全部时期", "all periods"))] + periods.reversed().map { ($0, Show.period($0, ctx.period)) }
        var answer = "", body = ""
        for (value, _) in options {
            let s = sums(value)
            answer += HTML.variant(value, selected: "*", sentence(s.channels, s.blended, value))
            body += HTML.variant(value, selected: "*", bars(s.channels, value))
        }
        body += DataTable(table: t, filterColumn: t.index("period"), selected: "*", override: noSpend).render(ctx)
        return HTML.section(id: "channel", output: t.name, title: w("渠道：哪个渠道的复购客最便宜？", "Channels: where is a repeat buyer cheapest?"),
                            controls: HTML.select(w("周期", "Period"), options, selected: "*"), answer: answer, body: body, filter: "*", w)
    }

    /// "无投放" instead of 0.00 for a channel without spend.
    func noSpend(_ r: [String], _ column: String) -> Cell? {
        guard let si = t.index("spend"), Show.fen(r[si]) == 0 else { return nil }
        guard ["spend", "cpa", "ltv_cac", "cost_per_repeat_customer"].contains(column) else { return nil }
        return Cell(text: ctx.words("无投放", "no spend"))
    }

    func sentence(_ chs: [(String, Sum)], _ blended: Sum, _ period: String) -> String {
        let w = ctx.words
        let name = ctx.names.channel
        let when = period == "*" ? w("全部时期", "Over all periods") : Show.period(period, ctx.period)
        let paid = ranked(chs).filter { cost($0.1) != nil }
        let unitZh = hasRepeat ? "每位复购客成本" : "获客成本（CPA）", unitEn = hasRepeat ? "cost per repeat buyer" : "cost per new customer (CPA)"
        var s: String
        if let best = paid.first {
            s = esc(w("\(when)，\(unitZh)最低的是 ", "\(when), the lowest \(unitEn) is ")) + HTML.b(name(best.0)) + esc(w("：", ": "))
            s += HTML.b(Show.yuan(fen: cost(best.1)!)) + esc(w(detailZh(best.1), detailEn(best.1)))
            if paid.count > 1, let worst = paid.last {
                s += esc(w("；最高的是 \(name(worst.0))：\(Show.yuan(fen: cost(worst.1)!))", "; the highest, \(name(worst.0)): \(Show.yuan(fen: cost(worst.1)!))"))
            }
            s += esc(w("。", "."))
        } else {
            s = esc(w("\(when)没有既有投放又有\(hasRepeat ? "复购客" : "新客")的渠道。", "\(when), no channel has both spend and \(hasRepeat ? "repeat buyers" : "new customers")."))
        }
        var out = HTML.p(s)
        let free = chs.filter { $0.1.spend == 0 && $0.1.new > 0 }
        if !free.isEmpty {
            let list = free.sorted { $0.1.new > $1.1.new }.map { c in
                w("\(name(c.0)) \(Show.count(c.1.new)) 位新客" + (hasRepeat ? "（\(Show.count(c.1.repeaters)) 位复购）" : ""),
                  "\(name(c.0)) \(Show.count(c.1.new)) new" + (hasRepeat ? " (\(Show.count(c.1.repeaters)) repeat)" : ""))
            }
            out += HTML.p(esc(w("无投放的渠道：", "Channels without spend: ") + list.joined(separator: w("，", ", ")) + w("。", ".")), cls: "note")
        }
        if blended.new > 0 || blended.spend > 0 {
            var b = w("全部渠道合计：投放 \(Show.yuan(fen: blended.spend))，新客 \(Show.count(blended.new))，获客成本 \(blended.cpa.map { Show.yuan(fen: $0) } ?? "—")",
                      "All channels: spend \(Show.yuan(fen: blended.spend)), \(Show.count(blended.new)) new customers, CPA \(blended.cpa.map { Show.yuan(fen: $0) } ?? "—")")
            if hasRepeat { b += w("，复购客 \(Show.count(blended.repeaters))，每位复购客 \(blended.perRepeat.map { Show.yuan(fen: $0) } ?? "—")", ", \(Show.count(blended.repeaters)) repeat buyers, \(blended.perRepeat.map { Show.yuan(fen: $0) } ?? "—") each") }
            b += w("；\(ctx.windowDays) 天收入 \(Show.yuan(fen: blended.rev))。", "; \(ctx.windowDays)-day revenue \(Show.yuan(fen: blended.rev)).")
            out += HTML.p(esc(b), cls: "note")
        }
        if !hasRepeat {
            out += HTML.warn(esc(w("本报告的 channel_cpa.csv 还没有 repeat_customers 和 cost_per_repeat_customer 列（较新的 siyu 会写出它们）：暂按获客成本排序。",
                                   "This channel_cpa.csv has no repeat_customers and cost_per_repeat_customer columns yet (a newer siyu writes them): channels are ranked by CPA meanwhile.")))
        }
        if chs.contains(where: { $0.1.incomplete }) {
            out += HTML.p(esc(w("部分新客的 \(ctx.windowDays) 天窗口未满：他们的收入\(hasRepeat ? "和复购" : "")仍会增加。", "Some new customers' \(ctx.windowDays)-day window is not over: their revenue\(hasRepeat ? " and repeat purchases" : "") will still grow.")), cls: "note")
        }
        return out
    }

    func detailZh(_ s: Sum) -> String {
        hasRepeat ? "（投放 \(Show.yuan(fen: s.spend))，\(Show.count(s.new)) 位新客中 \(Show.count(s.repeaters)) 位复购）" : "（投放 \(Show.yuan(fen: s.spend))，新客 \(Show.count(s.new))）"
    }

    func detailEn(_ s: Sum) -> String {
        hasRepeat ? " (spend \(Show.yuan(fen: s.spend)); \(Show.count(s.repeaters)) of \(Show.count(s.new)) new customers came back)" : " (spend \(Show.yuan(fen: s.spend)), \(Show.count(s.new)) new customers)"
    }

    func bars(_ chs: [(String, Sum)], _ period: String) -> String {
        let w = ctx.words
        let bars = ranked(chs).map { c -> Bars.Bar in
            let s = c.1, name = ctx.names.channel(c.0)
            var note = w("新客 \(Show.count(s.new))", "\(Show.count(s.new)) new")
            if hasRepeat { note += w(" · 复购客 \(Show.count(s.repeaters))", " · \(Show.count(s.repeaters)) repeat") }
            if s.spend > 0 { note += w(" · 投放 \(Show.yuan(fen: s.spend))", " · spend \(Show.yuan(fen: s.spend))") }
            if hasRepeat, let cpa = s.cpa { note += w(" · 获客成本 \(Show.yuan(fen: cpa))", " · CPA \(Show.yuan(fen: cpa))") }
            let ltv = s.spend > 0 ? Show.pct(s.rev, s.spend) : "—"
            let tip = "\(name): " + w("投放 \(s.spend > 0 ? Show.yuan(fen: s.spend) : "无投放") · 新客 \(Show.count(s.new))\(hasRepeat ? " · 复购客 \(Show.count(s.repeaters))" : "") · \(ctx.windowDays) 天收入 \(Show.yuan(fen: s.rev)) · 收入/投放 \(ltv)",
                                      "spend \(s.spend > 0 ? Show.yuan(fen: s.spend) : "none") · new \(Show.count(s.new))\(hasRepeat ? " · repeat \(Show.count(s.repeaters))" : "") · \(ctx.windowDays)-day revenue \(Show.yuan(fen: s.rev)) · revenue/spend \(ltv)")
                + (s.incomplete ? w(" · 窗口未满", " · window not over") : "")
            if s.spend == 0 {
                return Bars.Bar(label: name, value: nil, text: w("无投放", "no spend"), note: note, cls: "b-free", tip: tip)
            }
            guard let v = cost(s) else {
                let text = s.new == 0 ? w("无新客", "no new customers") : w("无复购客", "no repeat buyers")
                return Bars.Bar(label: name, value: nil, text: text, note: note, cls: "b-none", tip: tip)
            }
            return Bars.Bar(label: name, value: Double(v), text: Show.yuan(fen: v) + (hasRepeat ? w(" / 复购客", " / repeat buyer") : w(" / 新客", " / new customer")),
                            note: note, cls: s.incomplete && period != "*" ? "b-cost inc" : "b-cost", tip: tip)
        }
        guard !bars.isEmpty else { return HTML.p(esc(w("这一期没有投放也没有新客。", "No spend and no new customers in this period.")), cls: "note") }
        let title = hasRepeat ? w("每位复购客成本（投放 ÷ 复购客），从低到高", "Cost per repeat buyer (spend ÷ repeat buyers), lowest first")
                              : w("获客成本（投放 ÷ 新客），从低到高", "Cost per new customer (spend ÷ new customers), lowest first")
        return "<figure class=\"chart-box\">" + Bars(bars: bars, aria: title).render() + "<figcaption>\(esc(title))</figcaption></figure>"
    }
}
