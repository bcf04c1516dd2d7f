import Foundation

/// customer_predictions: who will come back, and what are they worth? The page never lists the
/// customers (one row each, millions: the CSV and the workbook have them); it shows what they add
/// up to, from agg_prediction_rollup: the totals in a sentence, the distribution of p_alive
/// (one-time buyers on a bar of their own: the model gives them 1), and the predicted 365-day value
/// per cohort and per acquisition channel, the latter next to the channel's cost per acquisition
/// over all periods (channel_cpa: Σ spend ÷ Σ new customers).
struct PredictionSection {
    let facts: PredictionFacts
    /// channel_cpa, for each channel's CPA (nil: the values stand alone).
    let cpa: OutputTable?
    let notes: ModelNotes
    let ctx: ReportContext

    static let name = "customer_predictions"

    func render() -> String {
        let w = ctx.words
        let total = facts.total
        guard total.customers > 0 else {
            return section(HTML.p(esc(w("还没有客户：没有可预测的。", "No customers yet: nothing to predict."))), "")
        }
        var answer = sentence(total)
        answer += notes.warnings(model: "bgnbd", segment: "all") + notes.warnings(model: "gamma_gamma", segment: "all") + notes.historyWarning()
        if let fit = facts.fit("bgnbd", "all"), !fit.unidentified.isEmpty, fit.unidentified.count < 4 {
            answer += HTML.p(esc(w("模型有参数未被数据确定（\(fit.unidentified.joined(separator: "、"))），预测仍然可用：见下方“模型参数”一节的说明。",
                                   "Some parameters are not pinned down by the data (\(fit.unidentified.joined(separator: ", "))); the predictions still hold: see the explanation under “Model fit” below.")), cls: "note")
        }
        answer += HTML.p(esc(w("这些是模型的估计，不是承诺：模型假设每位客户的购买节奏稳定，大促、季节性、新渠道或调价都会让实际偏离。用它排序——谁更可能回来、哪个渠道的客户更值钱——而不是当作销售预测；先看下面的“预测检验”。",
                               "These are a model's estimates, not promises: the model assumes each customer buys at a steady pace, and promotions, seasons, new channels or price changes move reality away from it. Use them to rank — who is likely to come back, which channel's customers are worth more — not as a sales forecast; see the prediction check below first.")), cls: "note")
        var body = alive()
        body += cohorts()
        body += channels()
        body += HTML.p(esc(w("每位客户一行（不含个人信息）：共 \(Show.count(total.customers)) 行，在 ", "One row per customer (no personal data): \(Show.count(total.customers)) rows, in "))
                       + "<a href=\"\(esc(Self.name)).csv\" download>\(esc(Self.name)).csv</a>"
                       + (ctx.workbook ? esc(w(" 和 ", " and ")) + "<a href=\"report.xlsx\" download>report.xlsx</a>" : "")
                       + esc(w(" 中；页面只显示汇总。", "; the page shows what they add up to.")), cls: "note")
        return section(answer, body)
    }

    func section(_ answer: String, _ body: String) -> String {
        HTML.section(id: "predictions", output: Self.name, title: ctx.words("客户预测：谁还会回来，值多少？", "Predictions: who will come back, and what are they worth?"),
                     answer: answer, body: body, ctx.words)
    }

    func sentence(_ total: PredictionFacts.Group) -> String {
        let w = ctx.words, h = facts.horizon
        let rep = facts.repeaters, once = facts.oneTime
        var s = esc(w("按 BG/NBD 和 Gamma-Gamma 模型，", "By the BG/NBD and Gamma-Gamma models, the ")) + HTML.b(Show.count(total.customers))
        s += esc(w(" 位客户未来 \(h) 天预计共有 ", " customers are expected to make ")) + HTML.b(Est.two(total.expectedSum))
        s += esc(w(" 个复购日（平均每位 \(Est.two(total.meanExpected))）", " repeat purchase days in the next \(h) days (\(Est.two(total.meanExpected)) each)"))
        if total.valueCustomers > 0 {
            s += esc(w("，未来 365 天的预期价值合计 ", "; their next 365 days are worth ")) + HTML.b(Est.yuan(total.valueSum))
            s += esc(w("（平均每位 \(Est.yuan(total.meanValue, cents: true))，未折现）", " (\(Est.yuan(total.meanValue, cents: true)) each, undiscounted)"))
        }
        s += esc(w("。", "."))
        var out = HTML.p(s)
        var s2 = ""
        if rep.customers > 0 {
            s2 += esc(w("复购过的 \(Show.count(rep.customers)) 位客户平均仍活跃概率（p_alive）为 ", "The \(Show.count(rep.customers)) customers who came back are still active with probability (p_alive) "))
            s2 += HTML.b(Est.pct(rep.meanAlive)) + esc(once.customers > 0 ? w("；", " on average; ") : w("。", " on average."))
        }
        if once.customers > 0 {
            s2 += esc(w("\(Show.count(once.customers)) 位只买过一次的客户，模型一律记为 100%（见下图），他们未来 \(h) 天平均只有 \(Est.two(once.meanExpected)) 个复购日。",
                        "\(rep.customers > 0 ? "the" : "The") model gives the \(Show.count(once.customers)) one-time buyers 100% (see the chart), and they are expected to make only \(Est.two(once.meanExpected)) repeat purchase days each in the next \(h) days."))
        }
        if !s2.isEmpty { out += HTML.p(s2) }
        if total.valueCustomers == 0 {
            out += HTML.warn(esc(w("预期价值无法估计：", "The predicted value cannot be estimated: ") + notes.noValueReason()))
        } else if total.valueCustomers < total.customers {
            out += HTML.p(esc(w("\(Show.count(total.customers - total.valueCustomers)) 位客户没有预期价值（他们的预期单日金额无法估计），不计入价值合计和平均。",
                                "\(Show.count(total.customers - total.valueCustomers)) customers have no predicted value (their expected value per purchase day cannot be estimated) and are left out of the value's sum and mean.")), cls: "note")
        }
        return out
    }

    /// The distribution of p_alive: deciles among customers who came back, one-time buyers apart.
    func alive() -> String {
        let w = ctx.words, h = facts.horizon
        let rep = facts.repeaters, once = facts.oneTime
        var bars: [Bars.Bar] = []
        for k in (0..<PredictionFacts.oneTimeBin).reversed() {
            let g = facts.alive.first { $0.ord == k }
            let n = g?.customers ?? 0
            let label = "\(k * 10)–\((k + 1) * 10)%"
            var note = "", tip = "p_alive \(label): " + w("\(Show.count(n)) 位客户", "\(Show.count(n)) customers")
            if let g, n > 0 {
                note = w("占复购客户 \(Show.pct(n, rep.customers)) · 平均未来 \(h) 天 \(Est.two(g.meanExpected)) 个复购日", "\(Show.pct(n, rep.customers)) of repeat customers · \(Est.two(g.meanExpected)) repeat days in \(h) days each")
                if g.valueCustomers > 0 { note += w(" · 平均 365 天价值 \(Est.yuan(g.meanValue))", " · 365-day value \(Est.yuan(g.meanValue)) each") }
                tip += " · " + note
            }
            bars.append(Bars.Bar(label: label, value: Double(n), text: Show.count(n), note: note, cls: "b-alive", tip: tip))
        }
        if once.customers > 0 {
            var note = w("模型记为 100% · 平均未来 \(h) 天 \(Est.two(once.meanExpected)) 个复购日", "the model gives 100% · \(Est.two(once.meanExpected)) repeat days in \(h) days each")
            if once.valueCustomers > 0 { note += w(" · 平均 365 天价值 \(Est.yuan(once.meanValue))", " · 365-day value \(Est.yuan(once.meanValue)) each") }
            bars.append(Bars.Bar(label: w("只买过一次", "one-time buyers"), value: Double(once.customers), text: Show.count(once.customers), note: note,
                                 cls: "b-once", tip: w("只买过一次的客户：", "one-time buyers: ") + note))
        }
        let title = w("仍活跃概率（p_alive）分布：复购过的客户按 10% 分组，只买过一次的客户单列", "Probability of being still active (p_alive): customers who came back in steps of 10%, one-time buyers apart")
        var out = "<h3>\(esc(w("谁还活跃？", "Who is still active?")))</h3>"
        out += "<figure class=\"chart-box\">" + Bars(bars: bars, aria: title).render() + "<figcaption>\(esc(title))</figcaption></figure>"
        out += HTML.p(esc(w("p_alive 是客户在截止日仍“活跃”（还没有流失）的概率：一向常买、最近也买过的客户接近 100%；过去买得很勤、却很久没买的客户接近 0。",
                            "p_alive is the probability that a customer is still “active” (has not dropped out) at the as-of date: one who always bought often and bought recently is near 100%; one who used to buy often but has not for a long time is near 0.")), cls: "note")
        if once.customers > 0 {
            out += HTML.p(esc(w("只买过一次的客户为什么是 100%？在 BG/NBD 里，客户只会在一次购买之后流失；没有复购，模型就无从判断他们是否已流失，所以给 p_alive = 1。这不表示他们一定会回来：看他们的预期复购日数（平均 \(Est.two(once.meanExpected))），它已经考虑了这一点。",
                                "Why 100% for one-time buyers? In BG/NBD a customer can only drop out right after a purchase; with no repeat purchase the model has nothing to judge by, so it gives p_alive = 1. That does not mean they will come back: read their expected purchases (\(Est.two(once.meanExpected)) on average), which take it into account.")), cls: "note")
        }
        return out
    }

    /// Per cohort: customers, mean p_alive, mean expected purchases, mean and total predicted value.
    func cohorts() -> String {
        let w = ctx.words, h = facts.horizon
        let cs = facts.cohorts.filter { $0.customers > 0 }
        guard !cs.isEmpty else { return "" }
        var out = "<h3>\(esc(w("按首购期：每位客户未来 365 天的预期价值", "By cohort: each customer's predicted value over the next 365 days")))</h3>"
        let labels = cs.map(\.label)
        let tips = cs.map { g in
            "\(Show.period(g.label, ctx.period)): " + w("\(Show.count(g.customers)) 位客户 · 平均仍活跃 \(Est.pct(g.meanAlive)) · 平均未来 \(h) 天 \(Est.two(g.meanExpected)) 个复购日 · 平均 365 天价值 \(Est.yuan(g.meanValue, cents: true))",
                                                         "\(Show.count(g.customers)) customers · mean p_alive \(Est.pct(g.meanAlive)) · \(Est.two(g.meanExpected)) repeat days in \(h) days each · 365-day value \(Est.yuan(g.meanValue, cents: true)) each")
        }
        if cs.contains(where: { $0.valueCustomers > 0 }) {
            let chart = ColumnChart(labels: labels, series: [.init(name: "value", cls: "s-val", values: cs.map(\.meanValue), texts: cs.map { Est.yuan($0.meanValue) })],
                                    tips: tips, aria: w("每个首购期每位客户的 365 天预期价值", "predicted 365-day value per customer, by cohort"),
                                    axis: { Show.yuan(fen: Int(($0 * 100).rounded())) }, periods: true,
                                    faint: Set(cs.indices.filter { cs[$0].customers < minimumGroup }))
            out += "<figure class=\"chart-box\">" + chart.render() + "<figcaption>\(esc(w("每位客户未来 365 天的平均预期价值（元，未折现）；浅色：少于 \(minimumGroup) 位客户", "Mean predicted value per customer over the next 365 days (yuan, undiscounted); pale: fewer than \(minimumGroup) customers")))</figcaption></figure>"
        }
        out += HTML.p(esc(w("较新的首购期通常更高：他们刚买过，多半仍活跃；较早的首购期里，还留下的客户才是真正的老客户。平均仍活跃概率把只买过一次的客户按 100% 计（模型如此）。",
                            "Recent cohorts usually come out higher: they have just bought and are mostly still active; in older cohorts, those still around are the true regulars. The mean p_alive counts one-time buyers as 100% (as the model does).")), cls: "note")
        let rows = cs.map { g -> [SmallTable.Item] in
            [.init(Show.period(g.label, ctx.period)), .init(Show.count(g.customers)), .init(Est.pct(g.meanAlive)), .init(Est.two(g.meanExpected)),
             .init(Est.yuan(g.meanValue, cents: true)), .init(g.valueCustomers > 0 ? Est.yuan(g.valueSum) : "—")]
        }
        let table = SmallTable(columns: [.init(w("首购期", "cohort"), numeric: false), .init(w("客户", "customers")),
                                         .init(w("平均仍活跃概率", "mean p_alive"), tip: w("只买过一次的客户按 100% 计", "one-time buyers count as 100%")),
                                         .init(w("平均未来 \(h) 天复购日", "mean expected purchases (\(h) days)")),
                                         .init(w("平均 365 天预期价值", "mean predicted value (365 days)")),
                                         .init(w("365 天预期价值合计", "total predicted value (365 days)"))], rows: rows)
        out += HTML.fold(esc(w("各首购期", "Every cohort")) + " · " + esc(w("\(cs.count) 行", "\(cs.count) rows")), open: cs.count <= 30, table.render())
        return out
    }

    /// A channel's predicted value next to what a customer of it cost.
    struct ChannelValue {
        var code: String
        var group: PredictionFacts.Group
        var spend = 0, newCustomers = 0
        /// Fen per new customer over all periods; nil without spend or new customers.
        var cpa: Int? { spend > 0 && newCustomers > 0 ? (spend * 2 + newCustomers) / (2 * newCustomers) : nil }
        /// Mean predicted 365-day value ÷ CPA.
        var ratio: Double? {
            guard let cpa, let v = group.meanValue else { return nil }
            return v * 100 / Double(cpa)
        }
    }

    /// Σ spend and Σ new customers per channel over every period of channel_cpa (blended apart).
    func spend() -> (channels: [String: (spend: Int, new: Int)], blended: (spend: Int, new: Int)) {
        var by: [String: (spend: Int, new: Int)] = [:], blended = (spend: 0, new: 0)
        for r in cpa?.records ?? [] {
            if r["channel"] == "blended" { blended.spend += r.fen("spend"); blended.new += r.int("new_customers"); continue }
            by[r["channel"], default: (0, 0)].spend += r.fen("spend")
            by[r["channel"], default: (0, 0)].new += r.int("new_customers")
        }
        return (by, blended)
    }

    /// Channels with a ratio first (highest first), then the others by customers.
    func channelValues() -> [ChannelValue] {
        let s = spend().channels
        let vs = facts.channels.filter { $0.customers > 0 }.map { g in
            ChannelValue(code: g.label, group: g, spend: s[g.label]?.spend ?? 0, newCustomers: s[g.label]?.new ?? 0)
        }
        return vs.sorted { a, b in
            switch (a.ratio, b.ratio) {
            case let (x?, y?) where x != y: return x > y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return (a.group.customers, b.code) > (b.group.customers, a.code)
            }
        }
    }

    func channels() -> String {
        let w = ctx.words, h = facts.horizon
        let vs = channelValues()
        guard !vs.isEmpty else { return "" }
        let name = ctx.names.channel
        var out = "<h3>\(esc(w("按获客渠道：预期价值与获客成本", "By acquisition channel: predicted value against acquisition cost")))</h3>"
        let paid = vs.filter { $0.ratio != nil }
        if cpa != nil {
            if let best = paid.first, let r = best.ratio {
                var s = esc(w("每位客户未来 365 天的预期价值与获客成本之比最高的是 ", "The highest predicted 365-day value per customer against its acquisition cost: ")) + HTML.b(name(best.code))
                s += esc(w("：\(Est.yuan(best.group.meanValue, cents: true)) 对 \(Show.yuan(fen: best.cpa!, cents: true))，", ", \(Est.yuan(best.group.meanValue, cents: true)) against \(Show.yuan(fen: best.cpa!, cents: true)): ")) + HTML.b(w("\(Est.two(r)) 倍", "\(Est.two(r))×"))
                if paid.count > 1, let worst = paid.last, let r2 = worst.ratio {
                    s += esc(w("；最低的是 \(name(worst.code))：\(Est.yuan(worst.group.meanValue, cents: true)) 对 \(Show.yuan(fen: worst.cpa!, cents: true))，\(Est.two(r2)) 倍",
                               "; the lowest, \(name(worst.code)): \(Est.yuan(worst.group.meanValue, cents: true)) against \(Show.yuan(fen: worst.cpa!, cents: true)), \(Est.two(r2))×"))
                }
                out += HTML.p(s + esc(w("。", ".")))
            } else {
                out += HTML.p(esc(w("没有渠道同时有投放和新客：无法把预期价值和获客成本对比。", "No channel has both spend and new customers: predicted value cannot be set against acquisition cost.")))
            }
            let b = spend().blended
            if b.spend > 0, b.new > 0, let v = facts.total.meanValue {
                let c = (b.spend * 2 + b.new) / (2 * b.new)
                out += HTML.p(esc(w("全部渠道合计：每位客户预期价值 \(Est.yuan(v, cents: true))，获客成本 \(Show.yuan(fen: c, cents: true))（投放 \(Show.yuan(fen: b.spend)) ÷ 新客 \(Show.count(b.new))），\(Est.two(v * 100 / Double(c))) 倍。",
                                    "All channels: \(Est.yuan(v, cents: true)) predicted per customer against a CPA of \(Show.yuan(fen: c, cents: true)) (spend \(Show.yuan(fen: b.spend)) ÷ \(Show.count(b.new)) new customers), \(Est.two(v * 100 / Double(c)))×.")), cls: "note")
            }
        }
        let bars = vs.map { v -> Bars.Bar in
            let g = v.group
            var note = w("\(Show.count(g.customers)) 位客户 · 每位预期价值 \(Est.yuan(g.meanValue, cents: true))", "\(Show.count(g.customers)) customers · \(Est.yuan(g.meanValue, cents: true)) predicted each")
            if let c = v.cpa { note += w(" · 获客成本 \(Show.yuan(fen: c, cents: true))", " · CPA \(Show.yuan(fen: c, cents: true))") }
            let tip = "\(name(v.code)): " + note + w(" · 平均仍活跃 \(Est.pct(g.meanAlive)) · 平均未来 \(h) 天 \(Est.two(g.meanExpected)) 个复购日", " · mean p_alive \(Est.pct(g.meanAlive)) · \(Est.two(g.meanExpected)) repeat days in \(h) days each")
            let small = g.customers < minimumGroup ? " small" : ""
            if let r = v.ratio {
                return Bars.Bar(label: name(v.code), value: r, text: w("\(Est.two(r)) 倍", "\(Est.two(r))×"), note: note, cls: (r >= 1 ? "b-store" : "b-warn") + small, tip: tip)
            }
            let text = v.spend == 0 ? w("无投放", "no spend") : g.meanValue == nil ? w("无预期价值", "no value") : w("无新客", "no new customers")
            return Bars.Bar(label: name(v.code), value: nil, text: text, note: note, cls: "b-free" + small, tip: tip)
        }
        if cpa != nil {
            let title = w("每位客户 365 天预期价值 ÷ 获客成本（全部时期），从高到低；浅色：少于 \(minimumGroup) 位客户", "Predicted 365-day value per customer ÷ CPA (all periods), highest first; pale: fewer than \(minimumGroup) customers")
            out += "<figure class=\"chart-box\">" + Bars(bars: bars, aria: title).render() + "<figcaption>\(esc(title))</figcaption></figure>"
            out += HTML.p(esc(w("获客成本 = 该渠道全部时期的投放 ÷ 新客（channel_cpa.csv）。预期价值只算未来 365 天的收入：不含客户已经付的钱，不是利润，也未折现。比值大于 1 表示仅未来一年的预期收入就超过了获客成本；小于 1 不等于亏损（首单收入不在其中）。",
                                "CPA = the channel's spend over all periods ÷ its new customers (channel_cpa.csv). The predicted value counts revenue over the next 365 days only: not what customers already paid, not profit, not discounted. Above 1, next year's expected revenue alone exceeds what a customer cost; below 1 is not a loss (the first orders are not in it).")), cls: "note")
        }
        let rows = vs.map { v -> [SmallTable.Item] in
            let g = v.group
            return [.init(name(v.code)), .init(Show.count(g.customers)), .init(Est.pct(g.meanAlive)), .init(Est.two(g.meanExpected)),
                    .init(Est.yuan(g.meanValue, cents: true)),
                    .init(v.cpa.map { Show.yuan(fen: $0, cents: true) } ?? (v.spend == 0 ? w("无投放", "no spend") : "—")),
                    .init(v.ratio.map { Est.two($0) } ?? "—")]
        }
        var columns: [SmallTable.Column] = [.init(w("渠道", "channel"), numeric: false), .init(w("客户", "customers")),
                                            .init(w("平均仍活跃概率", "mean p_alive"), tip: w("只买过一次的客户按 100% 计", "one-time buyers count as 100%")),
                                            .init(w("平均未来 \(h) 天复购日", "mean expected purchases (\(h) days)")),
                                            .init(w("平均 365 天预期价值", "mean predicted value (365 days)"))]
        if cpa != nil {
            columns += [.init(w("获客成本（全部时期）", "CPA (all periods)")), .init(w("预期价值 ÷ 获客成本", "value ÷ CPA"))]
        }
        let table = SmallTable(columns: columns, rows: cpa != nil ? rows : rows.map { Array($0.prefix(5)) })
        out += HTML.fold(esc(w("各获客渠道", "Every acquisition channel")) + " · " + esc(w("\(vs.count) 行", "\(vs.count) rows")), open: vs.count <= 30, table.render())
        return out
    }
}

/// Estimates as the page prints them: from Doubles, rounded half away from zero like the outputs.
enum Est {
    /// Two decimals, grouped ("1,234.57"); "—" for nil or not finite.
    static func two(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return Show.decimal(Decimals.format(v, 2))
    }

    /// A probability as a percentage with one decimal ("55.1%").
    static func pct(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "—" }
        return Show.pct(tenThousandths: Int((v * 10000).rounded(.toNearestOrAwayFromZero)))
    }

    /// Yuan: whole ("¥1,235") or with fen ("¥1,234.57"); "—" for nil, not finite or out of range.
    static func yuan(_ v: Double?, cents: Bool = false) -> String {
        guard let v, v.isFinite, abs(v) < 1e13 else { return "—" }
        return Show.yuan(fen: Int((v * 100).rounded(.toNearestOrAwayFromZero)), cents: cents)
    }
}

/// A small sortable table the page builds itself (not an output's rows): the same look and
/// sorting as the output tables; every cell escaped.
struct SmallTable {
    struct Column {
        var label: String
        var numeric = true
        var tip = ""
        init(_ label: String, numeric: Bool = true, tip: String = "") {
            self.label = label
            self.numeric = numeric
            self.tip = tip
        }
    }
    struct Item {
        var text: String
        var tip = ""
        var cls = ""
        init(_ text: String, tip: String = "", cls: String = "") {
            self.text = text
            self.tip = tip
            self.cls = cls
        }
    }
    var columns: [Column]
    var rows: [[Item]]

    func render() -> String {
        var h = "<div class=\"tbox\"><table class=\"data\"><thead><tr>"
        for c in columns {
            h += "<th\(c.numeric ? " class=\"n\"" : "") tabindex=\"0\" aria-sort=\"none\"\(c.tip.isEmpty ? "" : " title=\"\(esc(c.tip))\"")>\(esc(c.label))</th>"
        }
        h += "</tr></thead><tbody>"
        for r in rows {
            h += "<tr>"
            for (i, cell) in r.enumerated() {
                var cls = i < columns.count && columns[i].numeric ? "" : "t"
                if !cell.cls.isEmpty { cls += (cls.isEmpty ? "" : " ") + cell.cls }
                h += "<td\(cls.isEmpty ? "" : " class=\"\(esc(cls))\"")\(cell.tip.isEmpty ? "" : " title=\"\(esc(cell.tip))\"")>\(esc(cell.text))</td>"
            }
            h += "</tr>"
        }
        return h + "</tbody></table></div>"
    }
}
