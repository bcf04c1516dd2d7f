/// index.html: one self-contained page (inline CSS, SVG and script; no network request, ever),
/// in the pipeline's language. Each section answers its question first — a sentence and a chart —
/// then shows every row of its output in a sortable table; per-customer outputs stay in the CSV
/// and the workbook. Every value is escaped.
public enum HTMLReport {
    public static func escape(_ s: String) -> String {
        substitute(s) {
            switch $0 {
            case "&": return "&amp;"
            case "<": return "&lt;"
            case ">": return "&gt;"
            case "\"": return "&quot;"
            case "'": return "&#39;"
            default: return nil
            }
        }
    }

    /// `s` with the scalars `f` maps replaced (nil: kept).
    static func substitute(_ s: String, _ f: (Unicode.Scalar) -> String?) -> String {
        var o = ""
        o.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            if let r = f(c) { o += r } else { o.unicodeScalars.append(c) }
        }
        return o
    }

    public static func render(tables: [String: OutputTable], context ctx: ReportContext) -> String {
        let w = ctx.words
        var sections: [(id: String, title: String, html: String)] = []
        func add(_ id: String, _ title: String, _ html: String) { sections.append((id, title, html)) }
        var done = Set<String>()
        for name in ColumnCatalog.order + tables.keys.sorted() where !done.contains(name) {
            done.insert(name)
            if name == "customer_summary", let stats = ctx.customers {
                add("customers", w("客户", "Customers"), CustomerSection(name: name, stats: stats, ctx: ctx).render())
                continue
            }
            let notes = ModelNotes(facts: ctx.predictions, fitTable: tables["model_fit"], ctx: ctx)
            if name == "customer_predictions", tables[name] == nil, let facts = ctx.predictions {
                // Streamed like customer_summary: the page shows what its rows add up to.
                add("predictions", w("客户预测", "Predictions"), PredictionSection(facts: facts, cpa: tables["channel_cpa"], notes: notes, ctx: ctx).render())
                continue
            }
            guard let t = tables[name] else { continue }
            switch name {
            case "cohort_repurchase": add("cohort", w("新客复购", "Cohorts"), CohortSection(t: t, ctx: ctx).render())
            case "repurchase_by_period": add("period", w("新客与老客", "New vs returning"), PeriodSection(t: t, ctx: ctx).render())
            case "platform_migration": add("migration", w("转入微商城", "Into the store"), MigrationSection(t: t, ctx: ctx).render())
            case "channel_cpa": add("channel", w("渠道成本", "Channels"), ChannelSection(t: t, ctx: ctx).render())
            case "fan_conversion": add("fans", w("粉丝转化", "Fans"), FanConversionSection(t: t, ctx: ctx).render())
            case "fan_lift": add("fanlift", w("粉丝复购", "Fan lift"), FanLiftSection(t: t, ctx: ctx).render())
            case "product_repurchase": add("products", w("引流品", "Entry products"), ProductSection(t: t, ctx: ctx).render())
            case "prediction_check": add("predcheck", w("预测检验", "Prediction check"), PredictionCheckSection(t: t, notes: notes, ctx: ctx).render())
            case "model_fit": add("modelfit", w("模型参数", "Model fit"), ModelFitSection(t: t, notes: notes, ctx: ctx).render())
            case "data_quality": add("quality", w("数据质量", "Data quality"), QualitySection(t: t, ctx: ctx).render())
            default:
                let title = ColumnCatalog.output(name)?.title(w) ?? name
                add("out-\(name)", title, GenericSection(t: t, ctx: ctx).render())
            }
        }
        // Data quality last among the sections.
        if let q = sections.firstIndex(where: { $0.id == "quality" }) { sections.append(sections.remove(at: q)) }

        let title = w("\(ctx.pipelineName) · 私域复购报告", "\(ctx.pipelineName) · siyu repurchase report")
        var h = "<!DOCTYPE html><html lang=\"\(w("zh-CN", "en"))\"><head><meta charset=\"utf-8\">"
        h += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        h += "<title>\(esc(title))</title><style>\(PageAssets.css)</style></head>"
        h += "<body>" + PageAssets.svgDefs
        h += "<header class=\"top\"><h1>\(esc(title))</h1><p>"
        h += esc(w("数据截至 \(ctx.asOf) · 按\(ctx.period == .week ? "周（ISO 周，周一开始）" : "月")统计", "As of \(ctx.asOf) · by \(ctx.period == .week ? "ISO week (Monday first)" : "month")"))
        if ctx.workbook { h += " · <a href=\"report.xlsx\" download>\(esc(w("下载 Excel（report.xlsx，每个输出一个工作表）", "Download Excel (report.xlsx, a sheet per output)")))</a>" }
        h += "</p></header>"
        h += "<nav class=\"toc\" aria-label=\"\(esc(w("目录", "Contents")))\">" + sections.map { "<a href=\"#\(esc($0.id))\">\(esc($0.title))</a>" }.joined()
            + "<a href=\"#dictionary\">\(esc(w("数据字典", "Dictionary")))</a></nav><main>"
        h += kpis(tables, ctx)
        for s in sections { h += s.html }
        h += dictionary(tables, ctx)
        h += "</main><div id=\"tip\" role=\"tooltip\"></div>"
        h += "<script type=\"application/json\" id=\"siyu-words\">\(PageAssets.words(w))</script>"
        h += "<script>\(PageAssets.script)</script></body></html>\n"
        return h
    }

    static func kpis(_ tables: [String: OutputTable], _ ctx: ReportContext) -> String {
        let w = ctx.words
        var items: [(String, String, String)] = []   // value, label, section
        if let s = ctx.customers {
            items.append((Show.count(s.total), w("客户", "customers"), "customers"))
            items.append(("\(Show.count(s.repeaters)) (\(Show.pct(s.repeaters, s.total)))", w("复购客户（至少两个购买日）", "repeat customers (2+ purchase days)"), "customers"))
        }
        if let m = tables["platform_migration"], let into = MigrationSection.intoStore(m) {
            items.append(("\(Show.count(into.moved)) (\(Show.pct(into.moved, into.acquired)))",
                          w("其他平台获客、在\(ctx.names.platform(MigrationSection.store))复购的客户", "customers other platforms acquired who repurchased in the \(ctx.names.platform(MigrationSection.store))"), "migration"))
        }
        if let f = tables["fan_conversion"] {
            let fans = f.records.filter { $0["fan_channel"] == "all" }.reduce(0) { $0 + $1.int("fans") }
            items.append((Show.count(fans), w("公众号新粉丝", "new followers"), "fans"))
        }
        if let c = tables["cohort_repurchase"] {
            let rev = c.records.filter { $0["acquisition_platform"] == "all" }.reduce(0) { $0 + $1.fen("net_revenue") }
            items.append((Show.yuan(fen: rev), w("净收入（实付 − 退款）", "net revenue (paid − refunded)"), "cohort"))
        }
        return "<div class=\"kpis\">" + items.map { "<a class=\"kpi\" href=\"#\(esc($0.2))\"><b>\(esc($0.0))</b><span>\(esc($0.1))</span></a>" }.joined() + "</div>"
    }

    /// Every column of every output on the page: its label and definition (docs/data-dictionary.md says more).
    static func dictionary(_ tables: [String: OutputTable], _ ctx: ReportContext) -> String {
        let w = ctx.words
        var names = ColumnCatalog.order.filter {
            tables[$0] != nil || ($0 == "customer_summary" && ctx.customers != nil) || ($0 == CustomerPredictions.name && ctx.predictions != nil)
        }
        names += tables.keys.sorted().filter { !names.contains($0) }
        var h = "<section id=\"dictionary\" class=\"card\"><div class=\"sec-head\"><h2>\(esc(w("数据字典：每一列的含义", "Data dictionary: what every column means")))</h2></div>"
        h += HTML.p(esc(w("完整的说明（包括口径和例外）在仓库的 docs/data-dictionary.md；精确定义见 METRICS.md。", "The full explanations (conventions and exceptions) are in the repository's docs/data-dictionary.md; the exact definitions in METRICS.md.")), cls: "note")
        for n in names {
            let info = ColumnCatalog.output(n)
            var cols = tables[n]?.columns ?? info?.columns.map(\.name) ?? []
            if n == CustomerPredictions.name, tables[n] == nil, let p = ctx.predictions { cols = CustomerPredictions.columns(horizon: p.horizon) }
            h += "<div class=\"dict-out\" id=\"dict-\(esc(n))\"><h3>\(esc(info?.title(w) ?? n)) · <code>\(esc(n)).csv</code></h3><dl>"
            for c in cols {
                let ci = ColumnCatalog.info(n, c)
                h += "<dt><code>\(esc(c))</code> \(esc(ci.label(w) == c ? "" : ci.label(w)))</dt><dd>\(esc(ci.definition(w).isEmpty ? "—" : ci.definition(w)))</dd>"
            }
            h += "</dl></div>"
        }
        return h + "</section>"
    }
}
