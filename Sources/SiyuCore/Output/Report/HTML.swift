/// HTML text for the page: every value from an output, a pipeline file or an export goes through
/// `esc`, in text and in attributes alike.
@inline(__always) func esc(_ s: String) -> String { HTMLReport.escape(s) }

enum HTML {
    /// A section of the page: a header with its title, the link to its columns' definitions and
    /// its CSV, the controls, the answer (a sentence and a chart) first, then the rest.
    static func section(id: String, output: String?, title: String, controls: String = "", answer: String, body: String,
                        filter: String? = nil, _ w: Words) -> String {
        var h = "<section id=\"\(esc(id))\" class=\"card\"\(output.map { " data-output=\"\(esc($0))\"" } ?? "")"
        if let filter { h += " data-filter=\"\(esc(filter))\"" }
        h += "><div class=\"sec-head\"><h2>\(esc(title))</h2><span class=\"links\">"
        if let output {
            h += "<a class=\"dict\" href=\"#dict-\(esc(output))\" title=\"\(esc(w("每一列的含义：数据字典（docs/data-dictionary.md）", "What every column means: the data dictionary (docs/data-dictionary.md)")))\">\(esc(w("字段说明", "Columns")))</a>"
            h += "<a class=\"csv\" href=\"\(esc(output)).csv\" download>\(esc(output)).csv</a>"
        }
        h += "</span></div>"
        if !controls.isEmpty { h += "<div class=\"controls\">\(controls)</div>" }
        return h + "<div class=\"answer\">\(answer)</div>\(body)</section>"
    }

    /// Buttons of which one is pressed: a platform filter (`ctl` filter) or the heat map's measure (`metric`).
    static func segmented(_ label: String, _ options: [(value: String, label: String)], selected: String, ctl: String = "filter") -> String {
        var h = "<div class=\"seg\" role=\"group\" aria-label=\"\(esc(label))\" data-ctl=\"\(esc(ctl))\"><span class=\"seg-label\">\(esc(label))</span>"
        for o in options {
            h += "<button type=\"button\" data-val=\"\(esc(o.value))\" aria-pressed=\"\(o.value == selected)\">\(esc(o.label))</button>"
        }
        return h + "</div>"
    }

    /// A drop-down filter (many values: periods, channels).
    static func select(_ label: String, _ options: [(value: String, label: String)], selected: String) -> String {
        var h = "<label class=\"sel\"><span class=\"seg-label\">\(esc(label))</span><select data-ctl=\"filter\">"
        for o in options {
            h += "<option value=\"\(esc(o.value))\"\(o.value == selected ? " selected" : "")>\(esc(o.label))</option>"
        }
        return h + "</select></label>"
    }

    /// One of several versions of a part (one per filter value); only the selected one is shown.
    static func variant(_ value: String, selected: String, _ body: String, tag: String = "div") -> String {
        "<\(tag) data-v=\"\(esc(value))\"\(value == selected ? "" : " hidden")>\(body)</\(tag)>"
    }

    /// Content that folds away on screen (the full tables); printed unfolded.
    static func fold(_ label: String, open: Bool, _ body: String) -> String {
        "<div class=\"fold\" data-open=\"\(open)\"><button type=\"button\" class=\"fold-btn\" aria-expanded=\"\(open)\">\(label)</button><div class=\"fold-body\">\(body)</div></div>"
    }

    static func p(_ html: String, cls: String = "lead") -> String { "<p class=\"\(cls)\">\(html)</p>" }

    /// A number in a sentence, emphasised.
    static func b(_ s: String) -> String { "<b>\(esc(s))</b>" }

    static func warn(_ html: String) -> String { "<p class=\"warn\" role=\"note\">\(html)</p>" }
}

/// How a cell is shown. The page's script sorts numeric columns by the number in the text
/// (`¥27,071`, `44.0%`, `+3`; "—" and words last), the others by the text.
struct Cell {
    var text: String

    static func show(_ v: String, _ info: ColumnInfo, _ ctx: ReportContext) -> Cell {
        let w = ctx.words
        switch info.kind {
        case .text: return Cell(text: label(info.name, v, w))
        case .key, .day, .param: return Cell(text: v)
        case .period: return Cell(text: Show.period(v, ctx.period))
        case .offset: return Cell(text: "+" + v)
        case .platform: return Cell(text: ctx.names.platform(v))
        case .channel: return Cell(text: ctx.names.channel(v))
        case .count: return Cell(text: v.isEmpty ? "—" : Show.count(v))
        case .number: return Cell(text: v.isEmpty ? "—" : Show.decimal(v))
        case .yuan: return Cell(text: Show.yuan(v))
        case .yuanUnit: return Cell(text: Show.yuan(v, cents: true))
        case .rate: return Cell(text: Show.pct(v))
        case .ratio:
            guard let u = Show.tenThousandths(v) else { return Cell(text: "—") }
            let h = (u + 50) / 100
            return Cell(text: "\(h / 100).\(h % 100 < 10 ? "0" : "")\(h % 100)")
        case .flag:
            let yes = v == "true"
            switch info.name {
            case "partial": return Cell(text: yes ? w("未结束", "in progress") : "")
            case let n where n.hasPrefix("window_complete"): return Cell(text: yes ? w("已满", "complete") : w("未满", "not yet"))
            default: return Cell(text: yes ? w("是", "yes") : w("否", "no"))
            }
        }
    }

    /// The words siyu writes into some text columns, as the page names them.
    static func label(_ column: String, _ v: String, _ w: Words) -> String {
        switch (column, v) {
        case ("group", "fan"): return w("粉丝", "fans")
        case ("group", "non_fan"): return w("非粉丝", "non-fans")
        default: return v
        }
    }
}

/// A sortable table of every row of an output (the rows of other filter values hidden).
struct DataTable {
    var table: OutputTable
    /// The column whose value the section's filter selects rows by (nil: no filter).
    var filterColumn: Int? = nil
    /// The filter value shown first ("*": every row).
    var selected = "*"
    /// The columns left out on the page (still in the CSV).
    var hide: Set<String> = []
    /// A cell shown otherwise than its column says (row, column name) → cell.
    var override: (([String], String) -> Cell?)? = nil
    /// Cells rewritten before display (data_quality's short sha256).
    var map: (([String]) -> [String])? = nil

    func render(_ ctx: ReportContext) -> String {
        let w = ctx.words
        let cols = table.columns.enumerated().filter { !hide.contains($0.element) }
        let infos = table.columns.enumerated().map { i, c in ColumnCatalog.info(table.name, c, sample: table.rows.first?[i]) }
        let partialCol = table.columns.firstIndex(of: "partial")
        let numeric = infos.map { ![.text, .key, .period, .day, .platform, .channel].contains($0.kind) }
        var h = "<table class=\"data\"><thead><tr>"
        for (i, c) in cols {
            let info = infos[i]
            let tip = info.definition(w).isEmpty ? c : "\(c): \(info.definition(w))"
            h += "<th\(numeric[i] ? " class=\"n\"" : "") tabindex=\"0\" aria-sort=\"none\" title=\"\(esc(tip))\">\(esc(info.label(w)))<small>\(esc(c))</small></th>"
        }
        h += "</tr></thead><tbody>"
        var shown = 0
        for raw in table.rows {
            let r = map?(raw) ?? raw
            var attrs = ""
            if let f = filterColumn {
                attrs += " data-f=\"\(esc(r[f]))\""
                if selected != "*" && r[f] != selected { attrs += " hidden" } else { shown += 1 }
            } else { shown += 1 }
            if let p = partialCol, r[p] == "true" { attrs += " class=\"inc\"" }
            h += "<tr\(attrs)>"
            for (i, c) in cols {
                let cell = override?(r, c) ?? Cell.show(r[i], infos[i], ctx)
                h += numeric[i] ? "<td>" : "<td class=\"t\">"
                h += esc(cell.text) + "</td>"
            }
            h += "</tr>"
        }
        h += "</tbody></table>"
        let count = "<span class=\"nrows\" data-total=\"\(table.rows.count)\">\(esc(rowsLabel(shown, table.rows.count, w)))</span>"
        let label = "\(esc(w("全部数据", "All rows"))) · \(esc(table.name)).csv · \(count)"
        return HTML.fold(label, open: shown <= 30, "<div class=\"tbox\">\(h)</div>")
    }

    func rowsLabel(_ shown: Int, _ total: Int, _ w: Words) -> String {
        shown == total ? w("\(Show.count(total)) 行", "\(Show.count(total)) rows")
            : w("显示 \(Show.count(shown)) / 共 \(Show.count(total)) 行", "\(Show.count(shown)) of \(Show.count(total)) rows")
    }
}
