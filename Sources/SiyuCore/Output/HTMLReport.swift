import Foundation

/// One self-contained HTML page (inline CSS and SVG, no network requests). Every value is escaped.
public enum HTMLReport {
    public static func escape(_ s: String) -> String {
        var o = ""
        o.reserveCapacity(s.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&#39;"
            default: o.unicodeScalars.append(c)
            }
        }
        return o
    }

    /// Parses a printed yuan amount back to fen (for totals on the page).
    static func fen(_ s: String) -> Int {
        if case .value(let v) = Values.fen(s) { return v }
        return 0
    }

    static let css = """
    body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC",system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
    header{background:#12355b;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
    main{padding:8px 28px 40px;max-width:1280px}section{background:#fff;border:1px solid #dde3ea;border-radius:8px;margin:18px 0;padding:14px 18px}
    h2{font-size:18px;margin:4px 0 6px}p.note{color:#5a6878;font-size:13px;margin:2px 0 10px}
    .kpis{display:flex;gap:14px;flex-wrap:wrap}.kpi{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:10px 16px;min-width:150px}
    .kpi b{display:block;font-size:22px}.kpi span{color:#5a6878;font-size:12px}
    table{border-collapse:collapse;font-size:12px;margin-top:6px}th,td{border:1px solid #e3e8ee;padding:3px 7px;text-align:right;white-space:nowrap}
    th{background:#eef2f6;position:sticky;top:0}td.t,th.t{text-align:left}.scroll{max-height:420px;overflow:auto}
    tr.partial td{color:#8a96a3;font-style:italic}svg text{font-family:inherit}
    details summary{cursor:pointer;color:#12355b;font-size:13px;margin-top:6px}
    """

    public static func render(tables: [String: OutputTable], pipelineName: String, asOf: String, period: String,
                              statusCounts: [(String, String, Int)], customers: (total: Int, repeaters: Int)? = nil) -> String {
        // customer_summary may hold only the first rows; `customers` counts them all.
        let customers = customers ?? tables["customer_summary"].map { t in (t.rows.count, t.rows.filter { (Int($0[3]) ?? 0) > 0 }.count) }
        var h = "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        h += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        h += "<title>siyu report: \(escape(pipelineName))</title><style>\(css)</style></head><body>"
        h += "<header><h1>siyu 私域 report: \(escape(pipelineName))</h1><p>As of \(escape(asOf)) · periods: \(escape(period))</p></header><main>"
        h += kpis(tables, customers: customers)
        if let t = tables["cohort_repurchase"] {
            h += section("Cohort repurchase", "Share of each cohort's new customers who bought again in later periods, on any platform (the `all` rows). Darker = higher retention; faded cells and italic rows are partial periods.", heatmap(t) + tableHTML(t, keyText: 2))
        }
        if let t = tables["repurchase_by_period"] {
            h += section("Repurchase by period", "Buyers per period and platform, new versus returning, and buyers with two or more purchase days in the period.", tableHTML(t, keyText: 2))
        }
        if let t = tables["platform_migration"] {
            h += section("Platform migration", "Of the customers each platform acquired, how many repurchased on each platform. The microstore rows show how many platform customers became the store's own.", tableHTML(t, keyText: 2))
        }
        if let t = tables["channel_cpa"] {
            h += section("Channel cost per acquisition", "Spend per new customer by first-touch channel, over all periods (bars), and per period (table). revenue_90d counts the first 90 days of each new customer.", cpaBars(t) + tableHTML(t, keyText: 2))
        }
        if let t = tables["fan_conversion"] {
            h += section("Fan conversion", "Followers of the WeChat account: how many were already customers, how many prospects bought, came back, and became loyal.", funnel(t) + tableHTML(t, keyText: 2))
        }
        if let t = tables["fan_lift"] {
            h += section("Fan lift", "Do fans come back more often? 180-day repeat rate of each cohort, fans versus non-fans.", tableHTML(t, keyText: 2))
        }
        if let t = tables["customer_summary"] {
            let shown = OutputTable(name: t.name, columns: t.columns, rows: Array(t.rows.prefix(200)))
            let total = customers?.total ?? t.rows.count
            h += section("Customer summary", "One row per customer (opaque salted key, no personal data), lifetimes conventions. \(total) customers; the first \(shown.rows.count) are shown, the CSV holds all.", tableHTML(shown, keyText: 3, total: total))
        }
        if let t = tables["data_quality"] {
            // The page shows the first 12 hex digits of each sha256; the CSV has them all.
            let shortened = OutputTable(name: t.name, columns: t.columns, rows: t.rows.map { r in var r = r; r[1] = String(r[1].prefix(12)); return r })
            var body = tableHTML(shortened, keyText: 3)
            if !statusCounts.isEmpty {
                body += "<h3>Orders by status</h3><p class=\"note\">Every landed order, qualifying or not (its newest observation). Only paid orders with net_paid &gt; 0 count as purchases; test orders never do.</p><table><tr><th class=\"t\">platform</th><th class=\"t\">status</th><th>orders</th></tr>"
                for (pl, st, n) in statusCounts { body += "<tr><td class=\"t\">\(escape(pl))</td><td class=\"t\">\(escape(st))</td><td>\(n)</td></tr>" }
                body += "</table>"
            }
            h += section("Data quality", "Every input file: rows read = rows landed + rows quarantined. Quarantined rows stay in the warehouse (raw_quarantine) with file, line, raw text and reason.", body)
        }
        h += "</main></body></html>\n"
        return h
    }

    static func section(_ title: String, _ note: String, _ body: String) -> String {
        "<section><h2>\(escape(title))</h2><p class=\"note\">\(escape(note))</p>\(body)</section>"
    }

    static func kpis(_ tables: [String: OutputTable], customers: (total: Int, repeaters: Int)?) -> String {
        var items: [(String, String)] = []
        if let s = customers {
            items.append(("customers", String(s.total)))
            items.append(("repeat customers", "\(s.repeaters) (\(Fmt.rate(s.repeaters, s.total)))"))
        }
        if let m = tables["platform_migration"],
           let r = m.rows.first(where: { $0[0] == "all" && $0[1] == "microstore" }) {
            items.append(("repurchased in the microstore", "\(r[3]) (\(r[4]))"))
        }
        if let f = tables["fan_conversion"] {
            let fans = f.rows.filter { $0[1] == "all" }.reduce(0) { $0 + (Int($1[2]) ?? 0) }
            items.append(("fans", String(fans)))
        }
        if let c = tables["cohort_repurchase"] {
            let rev = c.rows.filter { $0[1] == "all" }.reduce(0) { $0 + fen($1[8]) }
            items.append(("net revenue", "¥" + Fmt.yuan(rev)))
        }
        return "<div class=\"kpis\" style=\"margin-top:18px\">" + items.map { "<div class=\"kpi\"><b>\(escape($0.1))</b><span>\(escape($0.0))</span></div>" }.joined() + "</div>"
    }

    static func tableHTML(_ t: OutputTable, keyText: Int, total: Int? = nil) -> String {
        let partialCol = t.columns.firstIndex(of: "partial")
        let count = total.map { $0 == t.rows.count ? "\($0) rows" : "first \(t.rows.count) of \($0) rows" } ?? "\(t.rows.count) rows"
        var h = "<details\(t.rows.count <= 40 ? " open" : "")><summary>\(escape(t.name)).csv — \(count)</summary><div class=\"scroll\"><table><tr>"
        for (i, c) in t.columns.enumerated() { h += "<th\(i < keyText ? " class=\"t\"" : "")>\(escape(c))</th>" }
        h += "</tr>"
        for r in t.rows {
            let partial = partialCol.map { r[$0] == "true" } ?? false
            h += partial ? "<tr class=\"partial\">" : "<tr>"
            for (i, v) in r.enumerated() { h += "<td\(i < keyText ? " class=\"t\"" : "")>\(escape(v))</td>" }
            h += "</tr>"
        }
        return h + "</table></div></details>"
    }

    static func heatmap(_ t: OutputTable) -> String {
        let rows = t.rows.filter { $0[1] == "all" }
        let cohorts = rows.reduce(into: [String]()) { if !$0.contains($1[0]) { $0.append($1[0]) } }
        let maxK = rows.compactMap { Int($0[2]) }.max() ?? 0
        guard !cohorts.isEmpty else { return "<p class=\"note\">No cohorts yet.</p>" }
        let cw = 46, ch = 22, left = 120, top = 24
        let w = left + (maxK + 1) * cw + 10, hgt = top + cohorts.count * ch + 10
        var s = "<svg role=\"img\" aria-label=\"cohort retention heat map\" width=\"\(w)\" height=\"\(hgt)\" viewBox=\"0 0 \(w) \(hgt)\" xmlns=\"http://www.w3.org/2000/svg\">"
        for k in 0...maxK { s += "<text x=\"\(left + k * cw + cw / 2)\" y=\"16\" font-size=\"11\" text-anchor=\"middle\">+\(k)</text>" }
        for (i, c) in cohorts.enumerated() {
            let y = top + i * ch
            let n = rows.first { $0[0] == c }?[3] ?? "0"
            s += "<text x=\"\(left - 6)\" y=\"\(y + 15)\" font-size=\"11\" text-anchor=\"end\">\(escape(c)) (\(escape(n)))</text>"
            for r in rows where r[0] == c {
                guard let k = Int(r[2]) else { continue }
                let rate = Double(r[5]) ?? 0
                let shade = k == 0 ? 0.9 : min(1.0, rate * 2.5)
                let light = Int(96 - shade * 60)
                let fg = light < 60 ? "#fff" : "#1d2733"
                s += "<rect x=\"\(left + k * cw)\" y=\"\(y)\" width=\"\(cw - 2)\" height=\"\(ch - 2)\" fill=\"hsl(212,60%,\(light)%)\"\(r[9] == "true" ? " opacity=\"0.55\"" : "")><title>\(escape(c)) +\(k): \(escape(r[4])) of \(escape(r[3])) active</title></rect>"
                let label = r[5].isEmpty ? "" : String(format: "%.0f%%", rate * 100)
                s += "<text x=\"\(left + k * cw + cw / 2 - 1)\" y=\"\(y + 15)\" font-size=\"10\" text-anchor=\"middle\" fill=\"\(fg)\">\(escape(label))</text>"
            }
        }
        return s + "</svg>"
    }

    static func cpaBars(_ t: OutputTable) -> String {
        var spend: [String: Int] = [:], new: [String: Int] = [:]
        var order: [String] = []
        for r in t.rows where r[1] != "blended" {
            if spend[r[1]] == nil { order.append(r[1]) }
            spend[r[1], default: 0] += fen(r[2])
            new[r[1], default: 0] += Int(r[3]) ?? 0
        }
        let bars = order.map { ch -> (String, Int?, Int, Int) in
            let n = new[ch] ?? 0, sp = spend[ch] ?? 0
            return (ch, n > 0 ? (sp * 2 + n) / (2 * n) : nil, sp, n)
        }
        guard !bars.isEmpty else { return "<p class=\"note\">No spend or new customers yet.</p>" }
        let maxV = max(1, bars.compactMap { $0.1 }.max() ?? 1)
        let left = 140, bw = 420, bh = 22
        let hgt = bars.count * (bh + 6) + 10
        var s = "<svg role=\"img\" aria-label=\"CPA per channel\" width=\"\(left + bw + 260)\" height=\"\(hgt)\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, b) in bars.enumerated() {
            let y = 4 + i * (bh + 6)
            s += "<text x=\"\(left - 8)\" y=\"\(y + 15)\" font-size=\"12\" text-anchor=\"end\">\(escape(b.0))</text>"
            if b.2 == 0 {
                s += "<text x=\"\(left + 4)\" y=\"\(y + 15)\" font-size=\"12\" fill=\"#8a96a3\">no spend · \(b.3) new</text>"
            } else if let v = b.1 {
                let w = max(2, v * bw / maxV)
                s += "<rect x=\"\(left)\" y=\"\(y)\" width=\"\(w)\" height=\"\(bh)\" fill=\"#2f7ed8\"/>"
                s += "<text x=\"\(left + w + 6)\" y=\"\(y + 15)\" font-size=\"12\">CPA ¥\(Fmt.yuan(v)) · spend ¥\(Fmt.yuan(b.2)) · \(b.3) new</text>"
            } else {
                s += "<text x=\"\(left + 4)\" y=\"\(y + 15)\" font-size=\"12\" fill=\"#8a96a3\">no new customers · spend ¥\(Fmt.yuan(b.2))</text>"
            }
        }
        return s + "</svg>"
    }

    static func funnel(_ t: OutputTable) -> String {
        let all = t.rows.filter { $0[1] == "all" }
        func sum(_ i: Int) -> Int { all.reduce(0) { $0 + (Int($1[i]) ?? 0) } }
        // Nested stages: every repeat fan is a buyer, every loyal fan a repeat fan.
        let stages = [("fans", sum(2)), ("buyers (already + within 90 days)", sum(3) + sum(7)), ("repeat fans", sum(9)), ("loyal fans", sum(10))]
        let top = max(1, stages[0].1)
        let width = 520, bh = 34, left = 260
        var s = "<svg role=\"img\" aria-label=\"fan funnel\" width=\"\(left + width + 20)\" height=\"\(stages.count * (bh + 6) + 10)\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, st) in stages.enumerated() {
            let w = max(2, st.1 * width / top)
            let x = left + (width - w) / 2, y = 4 + i * (bh + 6)
            s += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(bh)\" rx=\"4\" fill=\"hsl(150,45%,\(38 + i * 8)%)\"/>"
            s += "<text x=\"\(left - 10)\" y=\"\(y + 21)\" font-size=\"12\" text-anchor=\"end\">\(escape(st.0)): \(st.1)</text>"
        }
        return s + "</svg>"
    }
}
