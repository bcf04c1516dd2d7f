import CXLSXWriter
import Foundation

/// report.xlsx: a sheet per output (numbers as numbers, dates as dates, flags as TRUE/FALSE,
/// header row frozen and filtered) and a last sheet naming every column. Written with Debian's
/// libxlsxwriter in constant-memory mode: rows stream to temporary files in the report folder, so
/// customer_summary's millions of rows never sit in memory; a sheet that reaches Excel's
/// 1,048,576 rows continues on `<name>_2`, `<name>_3` … The file is written under a temporary
/// name and renamed with the others; its creation date is the as-of date, so the same outputs
/// give the same bytes.
public final class ReportWorkbook {
    let path: String
    public let temporaryPath: String
    var wb: UnsafeMutablePointer<lxw_workbook>?
    var tmpdir: UnsafeMutablePointer<CChar>?
    var formats: [String: UnsafeMutablePointer<lxw_format>] = [:]
    var sheetNames = Set<String>()
    let words: Words
    /// Rows a sheet holds, its header included (Excel's limit; smaller in a test).
    var rowsPerSheet: UInt32 = 1_048_576

    public init(path: String, asOf: String, title: String, language: ReportLanguage) throws {
        self.path = path
        temporaryPath = path + ".tmp-\(getpid())"
        words = Words(language)
        unlink(temporaryPath)
        tmpdir = strdup((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        var options = lxw_workbook_options(constant_memory: 1, tmpdir: tmpdir, use_zip64: 0)
        guard let wb = workbook_new_opt(temporaryPath, &options) else {
            free(tmpdir)
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot create the workbook; check that the output directory is writable")
        }
        self.wb = wb
        // The creation date is the as-of date (noon UTC): the same outputs give the same file.
        let day = CivilDate.parseDay(asOf) ?? 0
        var props = lxw_doc_properties()
        let t = strdup(title), creator = strdup("siyu")
        defer { free(t); free(creator) }
        props.title = t
        props.author = creator
        props.created = time_t(day * 86400 + 43200)
        workbook_set_properties(wb, &props)
        func format(_ name: String, _ numFormat: String?, bold: Bool = false) {
            guard let f = workbook_add_format(wb) else { return }
            if let numFormat { format_set_num_format(f, numFormat) }
            if bold { format_set_bold(f); format_set_bg_color(f, 0xEEF2F6); format_set_text_wrap(f) }
            formats[name] = f
        }
        format("header", nil, bold: true)
        format("count", "#,##0")
        format("yuan", "#,##0.00")
        format("rate", "0.00%")
        format("ratio", "0.00")
        format("day", "yyyy-mm-dd")
        format("number", "General")
    }

    /// Set once `finish` has written the file: it is the caller's to rename from then on.
    var written = false

    deinit { if !written { abandon() } }

    /// Removes what was written (after a failure elsewhere).
    public func abandon() {
        if let wb { workbook_close(wb); self.wb = nil }   // frees its temporary files
        unlink(temporaryPath)
        if let tmpdir { free(tmpdir); self.tmpdir = nil }
    }

    /// A sheet for an output, its header written.
    public func sheet(for output: String, columns: [String]) throws -> Sheet {
        let kinds = columns.map { ColumnCatalog.info(output, $0).kind }
        return try Sheet(book: self, output: output, columns: columns, kinds: kinds)
    }

    func addWorksheet(_ wanted: String) throws -> UnsafeMutablePointer<lxw_worksheet> {
        var name = String(wanted.unicodeScalars.filter { !"[]:*?/\\".unicodeScalars.contains($0) }.prefix(31))
        var n = 2
        while sheetNames.contains(name.lowercased()) { name = String(wanted.prefix(28)) + "_\(n)"; n += 1 }
        sheetNames.insert(name.lowercased())
        guard let wb, let ws = workbook_add_worksheet(wb, name) else {
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot add the sheet \(name) to the workbook")
        }
        return ws
    }

    /// The last sheet: every column of every output, with its label and definition.
    public func addDictionary(_ outputs: [(name: String, columns: [String])]) throws {
        let w = words
        let s = try Sheet(book: self, output: "", columns: [w("工作表", "sheet"), w("列", "column"), w("名称", "label"), w("含义", "definition")],
                          kinds: [.text, .text, .text, .text], sheetName: w("字段说明", "dictionary"), widths: [22, 28, 22, 90])
        for o in outputs {
            for c in o.columns {
                let info = ColumnCatalog.info(o.name, c)
                s.row([o.name, c, info.label(w), info.definition(w)])
            }
        }
        try s.finish()
    }

    /// Writes the workbook to its temporary name; the caller renames it into place with the other files.
    public func finish() throws -> String {
        guard let wb else { return temporaryPath }
        self.wb = nil
        let err = workbook_close(wb)
        if let tmpdir { free(tmpdir); self.tmpdir = nil }
        guard err == LXW_NO_ERROR else {
            unlink(temporaryPath)
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot write the workbook (\(String(cString: lxw_strerror(err)))); check the disk space in the output directory")
        }
        written = true
        return temporaryPath
    }

    /// One output's rows, written in order (constant-memory mode writes each row once).
    public final class Sheet {
        let book: ReportWorkbook
        let name: String
        let columns: [String]
        let kinds: [ColumnKind]
        let widths: [Double]?
        var ws: UnsafeMutablePointer<lxw_worksheet>
        var row: UInt32 = 0
        var part = 1
        var scratch: [CChar] = Array(repeating: 0, count: 256)
        var failed: lxw_error = LXW_NO_ERROR

        init(book: ReportWorkbook, output: String, columns: [String], kinds: [ColumnKind], sheetName: String? = nil, widths: [Double]? = nil) throws {
            self.book = book
            name = sheetName ?? output
            self.columns = columns
            self.kinds = kinds
            self.widths = widths
            ws = try book.addWorksheet(name)
            start()
        }

        func start() {
            for (i, k) in kinds.enumerated() {
                let width: Double = widths?[i] ?? {
                    switch k {
                    case .key: return 20
                    case .text: return 18
                    case .day, .period: return 12
                    default: return max(10, min(24, Double(columns[i].count) + 2))
                    }
                }()
                worksheet_set_column(ws, lxw_col_t(i), lxw_col_t(i), width, nil)
            }
            for (i, c) in columns.enumerated() { note(worksheet_write_string(ws, 0, lxw_col_t(i), c, book.formats["header"])) }
            worksheet_freeze_panes(ws, 1, 0)
            row = 1
        }

        func note(_ e: lxw_error) { if e != LXW_NO_ERROR && failed == LXW_NO_ERROR { failed = e } }

        /// The filter on the header; the next part when the sheet is full.
        func close() {
            if row > 1 { note(worksheet_autofilter(ws, 0, 0, row - 1, lxw_col_t(max(columns.count - 1, 0)))) }
        }

        func nextRow() throws {
            if row >= book.rowsPerSheet {
                close()
                part += 1
                ws = try book.addWorksheet("\(String(name.prefix(28)))_\(part)")
                start()
            }
        }

        public func row(_ cells: [String]) {
            do { try nextRow() } catch { failed = LXW_ERROR_MEMORY_MALLOC_FAILED; return }
            for (i, c) in cells.enumerated() where i < kinds.count {
                var c = c
                c.withUTF8 { cell(i, $0) }
            }
            row += 1
        }

        /// A row straight from a statement's columns (customer_summary's millions of rows).
        public func row(_ st: Statement, columns n: Int32) {
            do { try nextRow() } catch { failed = LXW_ERROR_MEMORY_MALLOC_FAILED; return }
            for k in 0..<Int(min(n, Int32(kinds.count))) { cell(k, st.bytes(Int32(k))) }
            row += 1
        }

        func cell(_ col: Int, _ bytes: UnsafeBufferPointer<UInt8>) {
            let n = bytes.count
            guard n > 0 else { return }
            if scratch.count < n + 1 { scratch = Array(repeating: 0, count: n * 2 + 1) }
            scratch.withUnsafeMutableBufferPointer { s in
                for i in 0..<n { s[i] = CChar(bitPattern: bytes[i]) }
                s[n] = 0
                let p = s.baseAddress!
                let c = lxw_col_t(col)
                let f = book.formats
                switch kinds[col] {
                case .count, .number, .yuan, .yuanUnit, .rate, .ratio, .param, .offset:
                    var end: UnsafeMutablePointer<CChar>? = nil
                    let v = strtod(p, &end)
                    if end == p + n, v.isFinite {
                        let fmt: UnsafeMutablePointer<lxw_format>? = switch kinds[col] {
                        case .count, .offset: f["count"]
                        case .yuan, .yuanUnit: f["yuan"]
                        case .rate: f["rate"]
                        case .ratio: f["ratio"]
                        default: f["number"]
                        }
                        note(worksheet_write_number(ws, row, c, v, fmt))
                    } else {
                        note(worksheet_write_string(ws, row, c, p, nil))
                    }
                case .flag:
                    if n == 4 && memcmp(p, "true", 4) == 0 { note(worksheet_write_boolean(ws, row, c, 1, nil)) }
                    else if n == 5 && memcmp(p, "false", 5) == 0 { note(worksheet_write_boolean(ws, row, c, 0, nil)) }
                    else { note(worksheet_write_string(ws, row, c, p, nil)) }
                case .day:
                    if let d = Self.day(bytes) {
                        // Excel's serial day: days since 1899-12-30.
                        note(worksheet_write_number(ws, row, c, Double(d + 25569), f["day"]))
                    } else {
                        note(worksheet_write_string(ws, row, c, p, nil))
                    }
                case .text, .key, .period, .platform, .channel:
                    note(worksheet_write_string(ws, row, c, p, nil))
                }
            }
        }

        /// "2025-03-01" → its day number, without building a String (millions of cells).
        static func day(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
            guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return nil }
            func num(_ r: Range<Int>) -> Int? {
                var v = 0
                for i in r { guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }; v = v * 10 + Int(b[i] - 0x30) }
                return v
            }
            guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m), d >= 1, d <= CivilDate.daysInMonth(y, m) else { return nil }
            return CivilDate.dayNumber(y, m, d)
        }

        /// Ends the sheet: its header filter; an error from any write.
        public func finish() throws {
            close()
            if failed != LXW_NO_ERROR {
                throw SiyuError.input(file: book.path, line: nil, column: nil, message: "cannot write the sheet \(name) (\(String(cString: lxw_strerror(failed))))")
            }
        }
    }
}
