/// customer_summary: the page shows what its rows add up to (counted while the CSV streams);
/// the rows themselves are in the CSV and the workbook only.
struct CustomerSection {
    let name: String
    let stats: CustomerStats
    let ctx: ReportContext

    func render() -> String {
        let w = ctx.words
        let platforms = ["all"] + Platforms.ordered(Array(stats.platforms.keys))
        var answer = "", body = ""
        for p in platforms {
            let g = p == "all" ? stats.all : stats.platforms[p] ?? CustomerStats.Group()
            let who = p == "all" ? "" : w("\(ctx.names.platform(p))获得的 ", " acquired on \(ctx.names.platform(p))")
            var s = esc(w(who, "Of the ")) + HTML.b(Show.count(g.customers)) + esc(w(" 位客户中 ", " customers\(who), ")) + HTML.b(Show.count(g.repeaters))
            s += esc(w(" 位（", " (")) + HTML.b(Show.pct(g.repeaters, g.customers)) + esc(w("）至少复购过一次", ") bought again on a later day"))
            if g.repeaters > 0 {
                let tenths = (g.repeatDays * 20 + g.repeaters) / (2 * g.repeaters)
                s += esc(w("，复购客户平均有 \(tenths / 10).\(tenths % 10) 个复购日", "; a repeat customer has \(tenths / 10).\(tenths % 10) repeat purchase days on average"))
            }
            s += esc(w("；其中粉丝 \(Show.count(g.fans)) 位。", "; \(Show.count(g.fans)) are fans."))
            answer += HTML.variant(p, selected: "all", HTML.p(s))
            let labels = [w("未复购", "no repeat"), w("1 个复购日", "1 repeat day"), w("2 个", "2"), w("3 个", "3"), w("4 个", "4"), w("5 个及以上", "5 or more")]
            let bars = labels.enumerated().map { i, l in
                Bars.Bar(label: l, value: Double(g.byFrequency[i]), text: Show.count(g.byFrequency[i]), note: Show.pct(g.byFrequency[i], g.customers),
                         cls: i == 0 ? "b-none" : "b-cust", tip: "\(l): " + w("\(Show.count(g.byFrequency[i])) 位客户", "\(Show.count(g.byFrequency[i])) customers"))
            }
            body += HTML.variant(p, selected: "all", "<figure class=\"chart-box\">" + Bars(bars: bars, aria: w("客户按复购日数分布", "customers by repeat purchase days")).render()
                                 + "<figcaption>\(esc(w("客户按复购日数（frequency）分布", "Customers by repeat purchase days (frequency)")))</figcaption></figure>")
        }
        body += HTML.p(esc(w("每位客户一行（不含个人信息）：共 \(Show.count(stats.total)) 行，在 ", "One row per customer (no personal data): \(Show.count(stats.total)) rows, in "))
                       + "<a href=\"\(esc(name)).csv\" download>\(esc(name)).csv</a>" + (ctx.workbook ? esc(w(" 和 ", " and ")) + "<a href=\"report.xlsx\" download>report.xlsx</a>" : "")
                       + esc(w(" 中；页面只显示汇总，保持轻量。", "; the page shows what they add up to and stays light. ")
                             + (ctx.predictions != nil ? w("siyu 用它们拟合的 BG/NBD 和 Gamma-Gamma 预测见下方“客户预测”。", "siyu's BG/NBD and Gamma-Gamma predictions from them are under “Predictions” below.")
                                                       : w("可用于 BG/NBD、Gamma-Gamma 等 CLV 模型（[predictions] enabled = true 时 siyu 自己拟合）。", "Feed them to BG/NBD or Gamma-Gamma for CLV (siyu fits them itself with [predictions] enabled = true)."))), cls: "note")
        return HTML.section(id: "customers", output: name, title: w("客户汇总", "Customers"),
                            controls: Platforms.filter(platforms, ctx), answer: answer, body: body, filter: "all", w)
    }
}

/// data_quality: nothing lost. Files, rows read = landed + quarantined, reasons, orders by status.
struct QualitySection {
    let t: OutputTable
    let ctx: ReportContext

    /// A quarantine reason as the page names it, with its code (as in data_quality.csv).
    func reason(_ code: String) -> String {
        let w = ctx.words
        let names: [String: (String, String)] = [
            "bad_date": ("日期无法识别", "not a date"), "implausible_date": ("日期不合理", "implausible date"),
            "bad_amount": ("金额无法识别", "not an amount"), "refund_above_paid": ("退款大于实付", "refund above paid"),
            "column_count": ("列数不对", "wrong number of cells"), "summary_row": ("合计行", "a total row"),
            "missing_order_id": ("缺少订单号", "no order id"), "missing_openid": ("缺少 openid", "no openid"),
            "file_rejected": ("文件被拒收", "file rejected"),
        ]
        guard let n = names[code] else { return code }
        return "\(w(n.0, n.1)) (\(code))"
    }

    /// An order status as the page names it.
    func status(_ s: String) -> String {
        let w = ctx.words
        switch s {
        case "paid": return w("已付款", "paid")
        case "unpaid": return w("未付款", "unpaid")
        case "closed": return w("付款前关闭", "closed before payment")
        case "refunded": return w("全额退款", "fully refunded")
        case "test": return w("测试单", "test")
        default: return s
        }
    }

    func render() -> String {
        let w = ctx.words
        let files = t.records.filter { $0["reason"].isEmpty }
        let reasons = t.records.filter { !$0["reason"].isEmpty }
        let read = files.reduce(0) { $0 + $1.int("rows_read") }, landed = files.reduce(0) { $0 + $1.int("rows_landed") }
        let quarantined = files.reduce(0) { $0 + $1.int("rows_quarantined") }
        let duplicates = files.filter { $0["format"].hasPrefix("duplicate_of:") }.count
        let rejected = files.filter { $0["format"].hasPrefix("rejected") }.count
        var s = esc(w("读取 \(Show.count(files.count)) 个文件的 ", "\(Show.count(files.count)) files, ")) + HTML.b(Show.count(read)) + esc(w(" 行：落地 ", " rows read: ")) + HTML.b(Show.count(landed))
        s += esc(w(" 行，隔离 ", " landed, ")) + HTML.b(Show.count(quarantined)) + esc(w(" 行（\(Show.pct(quarantined, read))）", " quarantined (\(Show.pct(quarantined, read)))"))
        if duplicates > 0 { s += esc(w("；\(duplicates) 个重复交付的文件已跳过", "; \(duplicates) re-delivered file\(duplicates == 1 ? "" : "s") skipped")) }
        if rejected > 0 { s += esc(w("；\(rejected) 个文件被拒收", "; \(rejected) file\(rejected == 1 ? "" : "s") rejected")) }
        s += esc(w("。读取 = 落地 + 隔离，一行不丢。", ". Read = landed + quarantined: nothing is lost."))
        var answer = HTML.p(s)
        var body = ""
        if !reasons.isEmpty {
            var by: [String: Int] = [:]
            for r in reasons { by[r["reason"], default: 0] += r.int("count") }
            let bars = by.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map {
                Bars.Bar(label: reason($0.key), value: Double($0.value), text: Show.count($0.value), cls: "b-warn", tip: "\($0.key): " + w("\(Show.count($0.value)) 行", "\(Show.count($0.value)) rows"))
            }
            body += "<h3>\(esc(w("隔离原因", "Quarantine reasons")))</h3><figure class=\"chart-box\">" + Bars(bars: bars, aria: w("隔离原因", "quarantine reasons")).render() + "</figure>"
            answer += HTML.p(esc(w("隔离的行仍在仓库里（raw_quarantine：文件、行号、原文、原因）。", "Quarantined rows stay in the warehouse (raw_quarantine: file, line, raw text, reason).")), cls: "note")
        }
        var controls = ""
        if !ctx.statusCounts.isEmpty {
            let platforms = Platforms.ordered(Array(Set(ctx.statusCounts.map(\.0))))
            let options = [("*", w("全部平台", "all platforms"))] + platforms.map { ($0, ctx.names.platform($0)) }
            controls = HTML.segmented(w("平台", "Platform"), options, selected: "*")
            for p in ["*"] + platforms {
                var by: [String: Int] = [:], order: [String] = []
                for (pl, st, n) in ctx.statusCounts where p == "*" || pl == p {
                    if by[st] == nil { order.append(st) }
                    by[st, default: 0] += n
                }
                let total = by.values.reduce(0, +)
                let bars = order.sorted { by[$0]! > by[$1]! }.map { st in
                    Bars.Bar(label: status(st), value: Double(by[st]!), text: Show.count(by[st]!), note: Show.pct(by[st]!, total), cls: st == "paid" ? "b-cust" : "b-none",
                             tip: "\(status(st)): " + w("\(Show.count(by[st]!)) 个订单", "\(Show.count(by[st]!)) orders"))
                }
                body += HTML.variant(p, selected: "*", "<h3>\(esc(w("订单状态", "Orders by status"))) · \(esc(p == "*" ? w("全部平台", "all platforms") : ctx.names.platform(p)))</h3><figure class=\"chart-box\">"
                                     + Bars(bars: bars, aria: w("订单状态", "orders by status")).render() + "</figure>")
            }
            body += HTML.p(esc(w("每个落地的订单（按最新观察）：只有已付款且净实付 > 0 的订单算购买，测试单从不计入。", "Every landed order (its newest observation): only paid orders with net paid > 0 are purchases; test orders never are.")), cls: "note")
            var h = "<table class=\"data\"><thead><tr><th tabindex=\"0\" aria-sort=\"none\">\(esc(w("平台", "platform")))</th><th tabindex=\"0\" aria-sort=\"none\">\(esc(w("状态", "status")))</th><th class=\"n\" tabindex=\"0\" aria-sort=\"none\">\(esc(w("订单", "orders")))</th></tr></thead><tbody>"
            for (pl, st, n) in ctx.statusCounts { h += "<tr data-f=\"\(esc(pl))\"><td>\(esc(ctx.names.platform(pl)))</td><td>\(esc(status(st)))</td><td data-s=\"\(n)\">\(esc(Show.count(n)))</td></tr>" }
            h += "</tbody></table>"
            body += HTML.fold(esc(w("订单状态明细", "Orders by status, every row")) + " · <span class=\"nrows\" data-total=\"\(ctx.statusCounts.count)\">\(esc(w("\(ctx.statusCounts.count) 行", "\(ctx.statusCounts.count) rows")))</span>", open: false, "<div class=\"tbox\">\(h)</div>")
        }
        // The page shows the first 12 hex digits of each sha256; the CSV has them all.
        let sha = t.index("sha256")
        body += DataTable(table: t, filterColumn: nil, map: { r in var r = r; if let i = sha { r[i] = String(r[i].prefix(12)) }; return r }).render(ctx)
        return HTML.section(id: "quality", output: t.name, title: w("数据质量：一行不丢", "Data quality: nothing lost"),
                            controls: controls, answer: answer, body: body, filter: "*", w)
    }
}

/// An output this page has no section of its own for: its sentence is its size, its rows a
/// sortable table (filtered by platform when it has one); per-customer outputs only link their files.
struct GenericSection {
    let t: OutputTable
    let ctx: ReportContext

    func render() -> String {
        let w = ctx.words
        let info = ColumnCatalog.output(t.name)
        let title = info?.title(w) ?? t.name
        if ctx.perCustomer.contains(t.name) || t.columns.first == "customer_key" {
            let answer = HTML.p(esc(w("每位客户一行，共 \(Show.count(t.rows.count)) 行：在 ", "One row per customer, \(Show.count(t.rows.count)) rows: in "))
                                + "<a href=\"\(esc(t.name)).csv\" download>\(esc(t.name)).csv</a>" + (ctx.workbook ? esc(w(" 和 ", " and ")) + "<a href=\"report.xlsx\" download>report.xlsx</a>" : "")
                                + esc(w(" 中（页面不列出每位客户）。", " (the page does not list customers).")))
            return HTML.section(id: "out-\(t.name)", output: t.name, title: title, answer: answer, body: "", w)
        }
        let pcol = ["acquisition_platform", "platform", "segment"].compactMap { t.index($0) }.first
        var controls = "", selected = "*"
        if let pcol {
            let values = Platforms.ordered(t.distinct(t.columns[pcol]))
            selected = values.contains("all") ? "all" : "*"
            let options = (selected == "*" ? [("*", w("全部", "all rows"))] : []) + Platforms.options(values, ctx).map { ($0.value, $0.label) }
            if options.count > 1 { controls = HTML.segmented(w("平台", "Platform"), options, selected: selected) }
        }
        let answer = HTML.p(esc(w("\(title)：\(Show.count(t.rows.count)) 行。点列名排序。", "\(title): \(Show.count(t.rows.count)) rows. Click a column to sort.")))
        let body = DataTable(table: t, filterColumn: pcol, selected: selected).render(ctx)
        return HTML.section(id: "out-\(t.name)", output: t.name, title: title, controls: controls, answer: answer, body: body, filter: selected, w)
    }
}
