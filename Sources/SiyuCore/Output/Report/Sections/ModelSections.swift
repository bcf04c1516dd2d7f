import Foundation

/// What the page says about the customer models' fits, in every prediction section: warnings
/// (not converged, too few customers, a short history, an infinite mean spend, nothing to learn
/// from) and plain-language explanations of the parameters the data did not pin down. Reads the
/// fits' status (siyu_meta `model_status`) and model_fit's values.
struct ModelNotes {
    let facts: PredictionFacts?
    let fitTable: OutputTable?
    let ctx: ReportContext

    /// A parameter's value in model_fit; nil when empty (not estimated) or absent.
    func value(_ model: String, _ segment: String, _ parameter: String) -> Double? {
        guard let t = fitTable else { return nil }
        let r = t.records.first { $0["model"] == model && $0["segment"] == segment && $0["parameter"] == parameter }
        return r.flatMap { Double($0["value"]) }
    }

    func modelName(_ m: String) -> String { m == "bgnbd" ? "BG/NBD" : m == "gamma_gamma" ? "Gamma-Gamma" : m }

    func segmentName(_ s: String) -> String {
        let w = ctx.words
        if s == "all" { return w("全部客户", "all customers") }
        if s.hasPrefix("calibration") { return w("校准日", "calibration date") + String(s.dropFirst("calibration".count)) }
        return ctx.names.platform(s)
    }

    /// The warnings of one fit (HTML, `p.warn` each): what makes its numbers untrustworthy.
    /// `few`: include the warning about too few customers (the model fit section gathers those in one).
    func warnings(model: String, segment: String, few: Bool = true) -> String {
        let w = ctx.words
        guard let f = facts?.fit(model, segment) else { return "" }
        let who = "\(modelName(model))（\(segmentName(f.segment))）", whoEn = "\(modelName(model)) (\(segmentName(f.segment)))"
        var out = ""
        if f.customers == 0 {
            out += HTML.warn(esc(model == "bgnbd" ? w("\(who)没有客户可拟合：没有预测。", "\(whoEn) has no customers to fit: no predictions.")
                                 : w("\(who)没有复购客户可拟合：预期单日金额和预期价值留空。", "\(whoEn) has no repeat customers to fit: expected value and predicted value are left empty.")))
            return out
        }
        if !f.converged {
            out += HTML.warn(esc(w("\(who)没有收敛：参数是搜索停下时的最好值，不是最大似然估计，它的预测只能作粗略参考。", "\(whoEn) did not converge: its parameters are the best the search found, not a maximum of the likelihood; read its predictions as rough at best."))
                             + (f.note.isEmpty ? "" : " <small>\(esc(w("技术说明：", "Details: ") + f.note))</small>"))
        }
        if model == "bgnbd" && !Set(f.dataLimits).isDisjoint(with: [ModelDataLimit.nobodyCameBack, ModelDataLimit.nothingObserved]) {
            out += HTML.warn(esc(w("\(who)：数据中还没有人复购（或观察期为 0），模型无从学习：p_alive 和预期复购日数没有意义。", "\(whoEn): nobody has come back yet (or nothing was observed), so the model has nothing to learn from: p_alive and the expected purchases mean nothing.")))
        }
        if model == "gamma_gamma", let q = value(model, segment, "q"), q <= 1 {
            out += HTML.warn(esc(w("\(who)：q = \(SignificantDigits.format(q)) ≤ 1，模型中总体平均单日金额为无穷大（通常是少数金额极大的客户造成的）：只买过一次的客户没有预期单日金额，其他客户的也不可信。请检查 customer_summary 中 monetary_value 的极端值。",
                                   "\(whoEn): q = \(SignificantDigits.format(q)) ≤ 1, so the model's mean value per purchase day is infinite (usually a few customers with huge amounts): one-time buyers get no expected value and the others' are not to be trusted. Look for extreme monetary_value in customer_summary.")))
        }
        if few && f.customers < PredictionFacts.fewCustomers {
            out += HTML.warn(esc(w("\(who)只基于 \(Show.count(f.customers)) 位\(model == "gamma_gamma" ? "复购" : "")客户（少于 \(PredictionFacts.fewCustomers) 位）：参数的不确定性大，预测宜用来排序，不要当作数量。",
                                   "\(whoEn) rests on only \(Show.count(f.customers)) \(model == "gamma_gamma" ? "repeat " : "")customers (fewer than \(PredictionFacts.fewCustomers)): its parameters are uncertain; use the predictions to rank, not as amounts.")))
        }
        return out
    }

    /// The history the models learnt from, when it is shorter than twice the horizon.
    func historyWarning() -> String {
        let w = ctx.words
        guard let facts, let days = facts.historyDays(asOf: ctx.asOf, period: ctx.period), days < 2 * facts.horizon else { return "" }
        let calibration = days > facts.horizon ? w("预测检验的校准期只有约 \(days - facts.horizon) 天。", "the prediction check's calibration period is only about \(days - facts.horizon) days.")
            : w("数据还不到一个预测期，做不了预测检验。", "the data is shorter than one horizon, too short for the prediction check.")
        return HTML.warn(esc(w("数据只覆盖约 \(days) 天，不到预测期（\(facts.horizon) 天）的两倍：模型见过的复购太少，预测尤其不可靠；",
                               "The data covers about \(days) days, less than twice the horizon (\(facts.horizon) days): the models have seen few repeat purchases and the predictions are especially unreliable; ") + calibration))
    }

    /// What it means that a fit's parameters were not estimated (nil: all were).
    func unidentified(_ model: String, _ names: [String]) -> String? {
        let w = ctx.words
        guard !names.isEmpty else { return nil }
        let set = Set(names)
        var parts: [String] = []
        // Missing data is not a finding: say what the data lacks instead.
        var limits = Set((facts?.status?.fits ?? []).filter { $0.model == model && !$0.segment.hasPrefix("calibration") }.flatMap(\.dataLimits))
        // Dropout not seen yet speaks of a and b only; nobody came back of the rate too.
        if set.isDisjoint(with: ["a", "b"]) { limits.remove(ModelDataLimit.noDropoutSeen) }
        if set.isDisjoint(with: ["a", "b", "r", "alpha"]) { limits.remove(ModelDataLimit.nobodyCameBack) }
        if let reason = Self.limitText(Array(limits), w) {
            let symbols = names.map { ModelFitSection.symbol[$0] ?? $0 }
            return w("\(symbols.joined(separator: "、")) 未被数据确定（留空）：", "\(symbols.joined(separator: ", ")) not estimated (left empty): ") + reason
        }
        if model == "bgnbd" {
            if set.count == 4 { return w("r、α、a、b 都未被数据确定（没有复购可学）。", "r, α, a and b are all not estimated (no repeat purchase to learn from).") }
            if set.isSuperset(of: ["a", "b"]) {
                parts.append(w("a、b 未被数据确定（趋于无穷，留空）：按数据，每位客户每次购买后流失的概率都一样，没有“有人容易流失、有人不会”的差别。这本身就是结论；p_alive 和预期复购日数仍然可用，只是 a、b 的数值没有意义。",
                               "a and b are not estimated (they run to infinity; left empty): by the data, every customer has the same probability of dropping out after a purchase — no “some drop out easily, others never”. That is a finding in itself; p_alive and the expected purchases still hold, only the values of a and b mean nothing."))
            }
            if set.isSuperset(of: ["r", "alpha"]) {
                parts.append(w("r、α 未被数据确定（趋于无穷，留空）：按数据，活跃客户的购买频率人人相同。",
                               "r and α are not estimated (they run to infinity; left empty): by the data, every active customer buys at the same rate."))
            }
        } else {
            if set.contains("p") {
                parts.append(w("p 未被数据确定（留空）：每位客户每次的金额几乎不变。", "p is not estimated (left empty): each customer spends almost the same every time."))
            }
            if set.isSuperset(of: ["q", "gamma"]) {
                parts.append(w("q、γ 未被数据确定（留空）：客户之间的平均金额几乎相同。", "q and γ are not estimated (left empty): customers' mean spend hardly differs between them."))
            }
        }
        return parts.isEmpty ? w("\(names.joined(separator: "、")) 未被数据确定（留空）。", "\(names.joined(separator: ", ")) not estimated (left empty).") : parts.joined(separator: " ")
    }

    /// What the data lacks, in words (`ModelDataLimit` codes), most basic first; nil for none.
    static func limitText(_ codes: [String], _ w: Words) -> String? {
        let set = Set(codes)
        if set.contains(ModelDataLimit.noCustomers) { return w("还没有可拟合的客户。", "there are no customers to fit yet.") }
        if set.contains(ModelDataLimit.nothingObserved) {
            return w("每位客户都是在截止日首购的，还什么都没观察到，没有预测。", "every customer was acquired on the as-of date: nothing has been observed yet, so there are no predictions.")
        }
        if set.contains(ModelDataLimit.nobodyCameBack) {
            return w("还没有客户复购：无从估计流失，购买频率趋于 0，预期复购日数接近 0。", "nobody has come back yet: dropout cannot be estimated and the purchase rate runs to 0, so the expected purchases are near 0.")
        }
        if set.contains(ModelDataLimit.noDropoutSeen) {
            return w("复购客户的最后一次购买都在截止日：还看不出客户是否会在购买后流失；预测按“尚未见流失”计算，偏乐观。",
                     "every repeat customer's last purchase is on the as-of date: nothing shows yet whether customers drop out after a purchase; the predictions assume no dropout so far and are optimistic.")
        }
        return nil
    }

    /// Why no customer has a predicted value.
    func noValueReason() -> String {
        let w = ctx.words
        guard let f = facts?.fit("gamma_gamma", "all") else { return w("金额模型没有结果。", "the spend model has no result.") }
        if f.customers == 0 { return w("还没有复购客户，金额模型（Gamma-Gamma）无从拟合。", "nobody has come back yet, so the spend model (Gamma-Gamma) has nothing to fit.") }
        if let q = value("gamma_gamma", "all", "q"), q <= 1 { return w("Gamma-Gamma 的 q ≤ 1（平均金额为无穷大）。", "Gamma-Gamma's q ≤ 1 (an infinite mean spend).") }
        return w("Gamma-Gamma 没有给出有限的预期金额。", "Gamma-Gamma gives no finite expected value.")
    }
}

/// prediction_check: are the predictions any good? BG/NBD refitted with the as-of date moved back
/// by the horizon, its predictions for the held-out days against what customers then did, per
/// calibration frequency: grouped bars (predicted, actual) and the rows.
struct PredictionCheckSection {
    let t: OutputTable
    let notes: ModelNotes
    let ctx: ReportContext

    func render() -> String {
        let w = ctx.words
        let h = notes.facts?.horizon ?? 90
        let rows = t.records
        let n = rows.reduce(0) { $0 + $1.int("customers") }
        let predicted = rows.reduce(0.0) { $0 + Double($1.int("customers")) * (Double($1["predicted_mean"]) ?? 0) }
        let actual = rows.reduce(0.0) { $0 + Double($1.int("customers")) * (Double($1["actual_mean"]) ?? 0) }.rounded()
        // The calibration date: the calibration fit's, else as-of − horizon (no customer by then, no fit).
        let date = notes.facts?.calibrationDate ?? CivilDate.parseDay(ctx.asOf).map { CivilDate.iso($0 - h) }
        var answer = "", body = ""
        // Every customer acquired on the calibration date itself: nothing observed, nothing predicted.
        let unpredicted = rows.contains { $0.int("customers") > 0 && Double($0["predicted_mean"]) == nil }
        if n == 0 || unpredicted {
            answer = HTML.p(esc(n == 0 ? w("截止日前移 \(h) 天\(date.map { "（\($0)）" } ?? "")时还没有客户：数据不够长，无法检验预测。", "No customer had been acquired \(h) days before the as-of date\(date.map { " (\($0))" } ?? ""): the data is too short to check the predictions.")
                                : w("截止日前移 \(h) 天\(date.map { "（\($0)）" } ?? "")时的客户都是当天首购的，还没有可观察的历史：无法检验预测。", "Every customer acquired by \(h) days before the as-of date\(date.map { " (\($0))" } ?? "") was acquired on that very day: no history to predict from, nothing to check.")))
        } else {
            var s = esc(w("把截止日前移 \(h) 天到 ", "With the as-of date moved back \(h) days to ")) + HTML.b(date ?? "—")
            s += esc(w("（校准日），只用那之前的购买重新拟合 BG/NBD，预测每位客户之后 \(h) 天的复购日数，再与实际对照：", " (the calibration date), BG/NBD is fitted on the purchases before it and predicts each customer's repeat purchase days in the \(h) days after; against what they did: "))
            s += HTML.b(Show.count(n)) + esc(w(" 位客户平均预测 ", " customers, ")) + HTML.b(Est.two(predicted / Double(n)))
            s += esc(w(" 个复购日，实际 ", " predicted per customer, ")) + HTML.b(Est.two(actual / Double(n))) + esc(w(" 个", " made"))
            let verdict: String
            if actual > 0 {
                let d = (predicted - actual) / actual
                let pct = Est.pct(abs(d))
                s += esc(abs(d) < 0.005 ? w("（几乎一致）。", " (almost the same).") : d > 0 ? w("（预测比实际多 \(pct)）。", " (the prediction is \(pct) high).") : w("（预测比实际少 \(pct)）。", " (the prediction is \(pct) low)."))
                if abs(d) <= 0.10 {
                    verdict = HTML.p(esc(w("整体与实际相差不到 10%：预测的数量可以参考（仍要看下图各组）。", "Within 10% overall: the predicted amounts can be used (still, look at each group below).")), cls: "note")
                } else if abs(d) <= 0.25 {
                    verdict = HTML.p(esc(w("整体相差 10%–25%：预测的排序可用，数量要打折扣。", "Off by 10–25% overall: the ranking can be used, the amounts with a discount.")), cls: "note")
                } else {
                    verdict = HTML.warn(esc(w("整体相差超过 25%：只用预测排序（谁更可能回来），不要当作数量。如果留出的 \(h) 天里有大促或季节高峰（或相反），偏差可能来自它而不是模型。",
                                              "Off by more than 25% overall: use the predictions to rank (who is likely to come back), not as amounts. If the held-out \(h) days had a big promotion or a seasonal peak (or a trough), the gap may come from it rather than from the model.")))
                }
            } else {
                s += esc(w("。", "."))
                verdict = HTML.warn(esc(w("留出的 \(h) 天里没有人复购：无法衡量预测的偏差。", "Nobody came back in the held-out \(h) days: the predictions' error cannot be measured.")))
            }
            answer = HTML.p(s) + verdict
            let chart = ColumnChart(labels: rows.map { $0["frequency"] },
                                    series: [.init(name: "predicted", cls: "s-pred", values: rows.map { Double($0["predicted_mean"]) }, texts: rows.map { Est.two(Double($0["predicted_mean"])) }),
                                             .init(name: "actual", cls: "s-act", values: rows.map { Double($0["actual_mean"]) }, texts: rows.map { Est.two(Double($0["actual_mean"])) })],
                                    tips: rows.map { r in
                                        w("校准期复购 \(r["frequency"]) 天的 \(Show.count(r.int("customers"))) 位客户：预测平均 \(Est.two(Double(r["predicted_mean"]))) 个复购日，实际 \(Est.two(Double(r["actual_mean"])))",
                                          "\(Show.count(r.int("customers"))) customers with \(r["frequency"]) repeat days before the calibration date: \(Est.two(Double(r["predicted_mean"]))) predicted each, \(Est.two(Double(r["actual_mean"]))) made")
                                    },
                                    aria: w("预测与实际：留出期内每位客户的平均复购日数，按校准期复购天数分组", "Predicted and actual repeat purchase days per customer in the held-out days, by calibration frequency"),
                                    axis: Chart.plain, faint: Set(rows.indices.filter { rows[$0].int("customers") < minimumGroup }),
                                    xTitle: w("校准日之前的复购天数（frequency）", "repeat purchase days before the calibration date (frequency)"))
            body += "<figure class=\"chart-box\">" + chart.render()
            body += "<figcaption>\(esc(w("留出的 \(h) 天里每位客户的平均复购日数：预测对实际；浅色：少于 \(minimumGroup) 位客户，偶然性大", "Mean repeat purchase days per customer in the held-out \(h) days, predicted against actual; pale: fewer than \(minimumGroup) customers, mostly chance")))</figcaption></figure>"
            body += legend([("k-pred", w("预测（模型）", "predicted (model)")), ("k-act", w("实际", "actual"))])
            body += HTML.p(esc(w("每组是校准日之前复购天数相同的客户；两根柱子越接近越好。0 组（校准日前只买过一次）常被高估：他们中很多人其实已经流失，但模型给他们 p_alive = 1。",
                                 "Each group holds the customers with the same number of repeat purchase days before the calibration date; the closer the two bars, the better. Group 0 (one purchase before the calibration date) is often overestimated: many of them have in fact dropped out, but the model gives them p_alive = 1.")), cls: "note")
        }
        answer += notes.warnings(model: "bgnbd", segment: "calibration") + notes.historyWarning()
        body += DataTable(table: t).render(ctx)
        return HTML.section(id: "predcheck", output: t.name, title: w("预测准不准？用留出的 \(h) 天检验", "Are the predictions any good? A check on \(h) held-out days"),
                            answer: answer, body: body, w)
    }
}

/// model_fit: the models' parameters per segment, what they mean in plain words, and how each fit
/// went (converged, parameters the data did not pin down, too few customers).
struct ModelFitSection {
    let t: OutputTable
    let notes: ModelNotes
    let ctx: ReportContext

    static let parameters = ["bgnbd": ["r", "alpha", "a", "b"], "gamma_gamma": ["p", "q", "gamma"]]
    static let symbol = ["alpha": "α", "gamma": "γ"]

    func customers(_ model: String, _ segment: String) -> Int {
        t.records.first { $0["model"] == model && $0["segment"] == segment }?.int("customers") ?? 0
    }

    func render() -> String {
        let w = ctx.words
        let segments = t.distinct("segment")
        let fits = segments.flatMap { s in ["bgnbd", "gamma_gamma"].map { (model: $0, segment: s) } }
        var s = esc(w("BG/NBD 在 \(Show.count(customers("bgnbd", "all"))) 位客户上拟合，Gamma-Gamma 在其中 \(Show.count(customers("gamma_gamma", "all"))) 位复购客户上拟合",
                      "BG/NBD is fitted on \(Show.count(customers("bgnbd", "all"))) customers, Gamma-Gamma on the \(Show.count(customers("gamma_gamma", "all"))) of them who came back"))
        let others = segments.filter { $0 != "all" }
        if others.isEmpty {
            let min = notes.facts?.segmentMinCustomers ?? PredictionFacts.fewCustomers
            s += esc(w("；没有获客平台达到 \(Show.count(min)) 位客户，只拟合了全部客户", "; no acquisition platform has \(Show.count(min)) customers, so only all customers are fitted"))
        } else {
            s += esc(w("；另外按获客平台分别拟合：", "; each large acquisition platform is also fitted on its own: ")
                     + others.map { "\(notes.segmentName($0)) \(Show.count(customers("bgnbd", $0)))" }.joined(separator: w("、", ", ")))
        }
        if let facts = notes.facts, facts.status != nil {
            let unconverged = fits.filter { facts.fit($0.model, $0.segment).map { !$0.converged && $0.customers > 0 } ?? false }
            let ran = fits.filter { (facts.fit($0.model, $0.segment)?.customers ?? 0) > 0 }
            s += esc(ran.isEmpty ? w("；没有客户，没有拟合。", "; there are no customers, so nothing was fitted.")
                     : unconverged.isEmpty ? w("；都已收敛。", "; all converged.") : w("；\(unconverged.count) 个没有收敛（见下）。", "; \(unconverged.count) did not converge (below)."))
        } else {
            s += esc(w("。", "."))
        }
        var answer = HTML.p(s)
        for f in fits { answer += notes.warnings(model: f.model, segment: f.segment, few: false) }
        let few = fits.compactMap { f -> String? in
            guard let st = notes.facts?.fit(f.model, f.segment), st.customers > 0, st.customers < PredictionFacts.fewCustomers else { return nil }
            return w("\(notes.modelName(f.model))（\(notes.segmentName(f.segment))）\(Show.count(st.customers)) 位", "\(notes.modelName(f.model)) (\(notes.segmentName(f.segment))) \(Show.count(st.customers))")
        }
        if !few.isEmpty {
            answer += HTML.warn(esc(w("客户少于 \(PredictionFacts.fewCustomers) 位的拟合：\(few.joined(separator: "、"))（Gamma-Gamma 只计复购客户）。它们的参数不确定性大：预测宜用来排序，不要当作数量。",
                                      "Fits on fewer than \(PredictionFacts.fewCustomers) customers: \(few.joined(separator: ", ")) (Gamma-Gamma counts repeat customers only). Their parameters are uncertain: use their predictions to rank, not as amounts.")))
        }
        let open = fits.compactMap { f -> String? in
            guard let st = notes.facts?.fit(f.model, f.segment), st.customers > 0, !st.unidentified.isEmpty else { return nil }
            return w("\(notes.modelName(f.model))（\(notes.segmentName(f.segment))）", "\(notes.modelName(f.model)) (\(notes.segmentName(f.segment))) ") + st.unidentified.map { Self.symbol[$0] ?? $0 }.joined(separator: w("、", ", "))
        }
        if !open.isEmpty {
            answer += HTML.p(esc(w("数据没有确定、因而留空的参数：\(open.joined(separator: "；"))。这不是错误：含义见下方“参数的含义”。",
                                   "Parameters the data does not pin down, left empty: \(open.joined(separator: "; ")). Not an error: what it means is under “What the parameters say” below.")), cls: "note")
        }
        var body = "<h3>\(esc(w("参数的含义（全部客户）", "What the parameters say (all customers)")))</h3>" + meaning()
        for model in ["bgnbd", "gamma_gamma"] {
            body += "<h3>\(esc(notes.modelName(model)))</h3>" + table(model, segments)
        }
        body += DataTable(table: t, override: { r, c in
            if c == "segment" { return Cell(text: notes.segmentName(r[t.index("segment") ?? 1])) }
            if c == "value", r[t.index("value") ?? 4].isEmpty, r[t.index("customers") ?? 2] != "0" { return Cell(text: w("未估计", "not estimated")) }
            return nil
        }).render(ctx)
        return HTML.section(id: "modelfit", output: t.name, title: w("模型参数：拟合得怎么样？", "The models: parameters and fit"), answer: answer, body: body, w)
    }

    /// The `all` segment's parameters in plain words.
    func meaning() -> String {
        let w = ctx.words
        func v(_ m: String, _ p: String) -> Double? { notes.value(m, "all", p) }
        // What it means where some segment's fit left these parameters empty (the all segment's text first).
        func unestimated(_ m: String, _ ps: [String]) -> String? {
            let segments = t.distinct("segment").filter { seg in
                guard let st = notes.facts?.fit(m, seg), st.customers > 0 else { return false }
                return !Set(st.unidentified).isDisjoint(with: ps)
            }
            let found = Set(segments.flatMap { notes.facts?.fit(m, $0)?.unidentified ?? [] })
            guard !segments.isEmpty, let text = notes.unidentified(m, ps.filter(found.contains)) else { return nil }
            return segments == ["all"] ? text : w("\(segments.map(notes.segmentName).joined(separator: "、"))：", "For \(segments.map(notes.segmentName).joined(separator: ", ")): ") + text
        }
        var h = "<dl class=\"params\">"
        func item(_ term: String, _ text: String) { h += "<dt>\(esc(term))</dt><dd>\(esc(text))</dd>" }
        // r, α: the purchase rate of an active customer, λ ~ Gamma(r, α), mean r/α per day.
        if let r = v("bgnbd", "r"), let a = v("bgnbd", "alpha"), a > 0 {
            let perDay = r / a, every = Int((1 / perDay).rounded())
            let often = every >= 1 ? w("约每 \(Show.count(every)) 天一次、", "about one every \(Show.count(every)) days, ") : ""
            item(w("r = \(SignificantDigits.format(r))，α = \(SignificantDigits.format(a)) 天：购买频率", "r = \(SignificantDigits.format(r)), α = \(SignificantDigits.format(a)) days: purchase rate"),
                 w("活跃客户的购买频率因人而异（Gamma 分布）：平均每天 r/α = \(SignificantDigits.format(perDay, digits: 3)) 个购买日，\(often)一年约 \(Est.two(365 * perDay)) 次。r 越小，客户之间差别越大" + (r < 1 ? "（r < 1：多数人买得少，少数人买得多）。" : "。"),
                   "An active customer's purchase rate differs between customers (a Gamma distribution): r/α = \(SignificantDigits.format(perDay, digits: 3)) purchase days a day on average, \(often)\(Est.two(365 * perDay)) a year. The smaller r, the more customers differ" + (r < 1 ? " (r < 1: most buy rarely, a few buy a lot)." : "."))
                 + (unestimated("bgnbd", ["r", "alpha"]).map { " " + $0 } ?? ""))
        } else {
            item(w("r、α：购买频率", "r, α: purchase rate"), unestimated("bgnbd", ["r", "alpha"]) ?? notes.unidentified("bgnbd", ["r", "alpha"]) ?? "—")
        }
        if let a = v("bgnbd", "a"), let b = v("bgnbd", "b") {
            item(w("a = \(SignificantDigits.format(a))，b = \(SignificantDigits.format(b))：流失", "a = \(SignificantDigits.format(a)), b = \(SignificantDigits.format(b)): dropout"),
                 w("每次购买之后客户流失的概率因人而异（Beta 分布）：平均 a/(a+b) = \(Est.pct(a / (a + b)))。a+b 越大，客户之间越相似。",
                   "After each purchase a customer drops out with a probability that differs between customers (a Beta distribution): a/(a+b) = \(Est.pct(a / (a + b))) on average. The larger a+b, the more alike customers are.")
                 + (unestimated("bgnbd", ["a", "b"]).map { " " + $0 } ?? ""))
        } else {
            item(w("a、b：流失", "a, b: dropout"), unestimated("bgnbd", ["a", "b"]) ?? notes.unidentified("bgnbd", ["a", "b"]) ?? "—")
        }
        if let p = v("gamma_gamma", "p"), let q = v("gamma_gamma", "q"), let g = v("gamma_gamma", "gamma") {
            let mean = q > 1 ? w("总体平均单日金额 p·γ/(q−1) = \(Est.yuan(p * g / (q - 1), cents: true))（只买过一次的客户的预期单日金额就是它）。", "The mean value of a purchase day, p·γ/(q−1) = \(Est.yuan(p * g / (q - 1), cents: true)) (what a one-time buyer is expected to spend).")
                : w("q ≤ 1：总体平均单日金额为无穷大，只买过一次的客户没有预期单日金额。", "q ≤ 1: the mean value of a purchase day is infinite; one-time buyers get no expected value.")
            item(w("p = \(SignificantDigits.format(p))，q = \(SignificantDigits.format(q))，γ = \(SignificantDigits.format(g))：金额", "p = \(SignificantDigits.format(p)), q = \(SignificantDigits.format(q)), γ = \(SignificantDigits.format(g)): spend"),
                 w("每位客户每个购买日的金额围绕自己的平均值波动（p 越大波动越小）；客户之间的平均金额由 q、γ 决定。", "Each customer's spend per purchase day varies around their own mean (the larger p, the less); q and γ set how that mean differs between customers. ") + mean
                 + (unestimated("gamma_gamma", ["p", "q", "gamma"]).map { " " + $0 } ?? ""))
        } else {
            let missing = ["p", "q", "gamma"].filter { v("gamma_gamma", $0) == nil }
            item(w("p、q、γ：金额", "p, q, γ: spend"), unestimated("gamma_gamma", missing) ?? notes.unidentified("gamma_gamma", missing) ?? "—")
        }
        item("log_likelihood", w("对数似然：只用来比较同一数据上的不同拟合，数值本身没有可解读的单位。", "Log-likelihood: only for comparing fits on the same data; its value has no unit to read."))
        return h + "</dl>"
    }

    /// One model's parameters, a row per segment, with the fit's status.
    func table(_ model: String, _ segments: [String]) -> String {
        let w = ctx.words
        let names = Self.parameters[model] ?? []
        var columns: [SmallTable.Column] = [.init(w("客群", "segment"), numeric: false), .init(w("客户", "customers"))]
        columns += names.map { .init(Self.symbol[$0] ?? $0) } + [.init(w("对数似然", "log-likelihood")), .init(w("状态", "status"), numeric: false)]
        let rows = segments.map { seg -> [SmallTable.Item] in
            let recs = t.records.filter { $0["model"] == model && $0["segment"] == seg }
            let n = recs.first?.int("customers") ?? 0
            func cell(_ p: String) -> SmallTable.Item {
                let v = recs.first { $0["parameter"] == p }?["value"] ?? ""
                if n == 0 { return .init("—") }
                return v.isEmpty ? .init(w("未估计", "not estimated"), tip: w("数据没有确定这个参数（见上方说明）", "the data does not pin this parameter down (see above)"), cls: "na") : .init(Show.decimal(v))
            }
            var status: [String] = []
            let st = notes.facts?.fit(model, seg)
            if n == 0 { status.append(w("无客户", "no customers")) } else if let st {
                status.append(st.converged ? w("已收敛", "converged") : w("未收敛", "not converged"))
                if !st.unidentified.isEmpty { status.append(w("部分参数未估计", "some not estimated")) }
            }
            if n > 0 && n < PredictionFacts.fewCustomers { status.append(w("客户少", "few customers")) }
            if model == "gamma_gamma", let q = Double(recs.first { $0["parameter"] == "q" }?["value"] ?? ""), q <= 1 { status.append("q ≤ 1") }
            return [.init(notes.segmentName(seg)), .init(Show.count(n))] + names.map(cell) + [cell("log_likelihood"),
                    .init(status.joined(separator: w("；", "; ")), tip: st?.note ?? "", cls: st.map { !$0.converged && n > 0 } ?? false ? "bad" : "")]
        }
        return SmallTable(columns: columns, rows: rows).render()
    }
}
