import Foundation

/// A bounded blocking queue between two threads.
final class BlockingQueue<T>: @unchecked Sendable {
    private var items: [T] = []
    private let cond = NSCondition()
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func push(_ item: T) {
        cond.lock()
        while items.count >= capacity { cond.wait() }
        items.append(item)
        cond.signal()
        cond.unlock()
    }

    func pop() -> T {
        cond.lock()
        while items.isEmpty { cond.wait() }
        let item = items.removeFirst()
        cond.broadcast()
        cond.unlock()
        return item
    }
}

/// Rows of a file parsed on the producer thread: joined cell bytes, ends and line numbers.
final class RowBatch: @unchecked Sendable {
    var bytes: [UInt8] = []
    var ends: [Int] = []
    var lines: [Int] = []
    /// Rows that failed the column count: line, found cells, raw text.
    var badRows: [(line: Int, found: Int, raw: String, reason: String?)] = []

    init() { bytes.reserveCapacity(FileParser.batchBytes + 65536) }
}

/// What the producer thread tells the SQLite thread about a file.
enum ParseEvent: @unchecked Sendable {
    /// The header found; for a workbook, the sheet it is on and the other sheets (not read).
    case header(HeaderMap, layout: String, sheet: String? = nil, otherSheets: [String] = [])
    case batch(RowBatch)
    case done(encoding: TextEncoding, rowsRead: Int, sha256: String)
    case failed(message: String, encoding: TextEncoding)
}

/// Decodes and parses one file on its own thread (iconv + libcsv), recognises its header and
/// checks column counts, while the caller's thread lands the rows in SQLite: two cores busy.
final class FileParser: @unchecked Sendable {
    static let batchBytes = 4 << 20
    let path: String
    let source: SourceConfig
    let events = BlockingQueue<ParseEvent>(capacity: 4)
    private let lock = NSLock()
    private var started = false, finished = false
    /// The next file's parser: started as soon as this one has parsed its file, so that it parses
    /// while the caller still lands this file's last batches.
    private var next: FileParser?

    init(path: String, source: SourceConfig) {
        self.path = path
        self.source = source
    }

    /// Starts parsing on its own thread (once: later calls do nothing).
    func start() {
        lock.lock()
        let first = !started
        started = true
        lock.unlock()
        guard first else { return }
        let t = Thread { [self] in
            self.parse()
            lock.lock()
            finished = true
            let next = self.next
            lock.unlock()
            next?.start()
        }
        t.stackSize = 8 << 20
        t.start()
    }

    /// Starts `parser` when this one has parsed its file (at once if it has).
    func then(_ parser: FileParser) {
        lock.lock()
        next = parser
        let done = finished
        lock.unlock()
        if done { parser.start() }
    }

    /// For a parser whose events will not be read: it never starts, or, started, it runs to its
    /// end without landing anything (its thread must not stay blocked on a full queue).
    func discard() {
        lock.lock()
        let wasStarted = started
        started = true
        lock.unlock()
        guard wasStarted else { return }
        while true {
            switch events.pop() {
            case .done, .failed: return
            default: continue
            }
        }
    }

    /// True when the file holds JSON lines (`user/info` objects), not CSV.
    static func looksLikeJSONLines(_ path: String) -> Bool {
        guard let h = try? InputFile.open(path) else { return false }
        defer { try? h.close() }
        for b in h.readData(ofLength: 4096) {
            if b == 0xEF || b == 0xBB || b == 0xBF || b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A { continue }
            return b == 0x7B   // "{"
        }
        return false
    }

    /// The follower fields of a `user/info` object, in the order they are landed.
    static let jsonFields = ["subscribe", "openid", "unionid", "subscribe_time", "subscribe_scene", "qr_scene", "qr_scene_str",
                             "mobile", "remark", "groupid", "tagid_list"]

    /// Followers exported as JSON lines: each object becomes a row of `jsonFields`.
    private func parseJSONLines() throws -> (TextEncoding, Int) {
        let reader = try UTF8ChunkReader(path: path)
        let header = HeaderMap(Self.jsonFields)
        events.push(.header(header, layout: "wechat_followers_jsonl", sheet: nil, otherSheets: []))
        var batch = RowBatch()
        var pending: [UInt8] = []
        var line = 0, rowsRead = 0
        func handle(_ bytes: ArraySlice<UInt8>) {
            line += 1
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            rowsRead += 1
            guard let obj = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                batch.badRows.append((line, 0, String(decoding: bytes, as: UTF8.self), "bad_json: the line is not a JSON object"))
                return
            }
            let cells = Self.jsonFields.map { k -> String in
                switch obj[k] {
                case nil, is NSNull: return ""
                case let s as String: return s.replacingOccurrences(of: "\u{1F}", with: " ")
                case let a as [Any]: return a.map { "\($0)" }.joined(separator: ",")
                // JSON true/false arrive as NSNumber: keep them words, so that a boolean in a time
                // field is not read as Unix second 1.
                case let n as NSNumber where String(cString: n.objCType) == "c": return n.boolValue ? "true" : "false"
                case let v?: return "\(v)"
                }
            }
            batch.bytes.append(contentsOf: Array(cells.joined(separator: "\u{1F}").utf8))
            batch.ends.append(batch.bytes.count)
            batch.lines.append(line)
        }
        try reader.forEachChunk { chunk in
            pending.append(contentsOf: chunk)
            var start = 0
            for i in pending.indices where pending[i] == 0x0A {
                handle(pending[start..<i])
                start = i + 1
            }
            pending.removeFirst(start)
            if batch.bytes.count >= Self.batchBytes { events.push(.batch(batch)); batch = RowBatch() }
        }
        if !pending.isEmpty { handle(pending[...]) }
        events.push(.batch(batch))
        let sha = reader.sha256()
        events.push(.done(encoding: reader.encoding, rowsRead: rowsRead, sha256: sha))
        return (reader.encoding, rowsRead)
    }

    /// Reads a .xlsx workbook (recognised by its content, whatever its name): the first sheet
    /// whose header (after up to `maxPreambleLines` rows) matches a signature is read, streamed
    /// row by row like a CSV file; the sheet's row numbers are the rows' line numbers.
    private func parseWorkbook() throws {
        // The file's sha256 on a thread of its own, beside the parse (a stored 千牛 workbook is
        // about four times its CSV: hashing it after the parse cost a fifth of the time).
        let digest = BlockingQueue<Result<String, Error>>(capacity: 1)
        let path = self.path
        Thread { digest.push(Result { try IngestStage.sha256(of: path).0 }) }.start()
        defer { _ = digest.pop() }   // never leave the thread behind (waited for once, below, on success)
        let reader: XLSXReader
        do { reader = try XLSXReader(path: path) } catch let e as WorkbookError {
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot read this .xlsx workbook: \(e.message)")
        }
        var chosen: (sheet: Int, headerRow: Int, header: HeaderMap, layout: String)?
        var firstMiss: (line: Int, nearest: String, missing: [String])?
        var skipped: [String] = []
        for (k, name) in reader.sheetNames.enumerated() {
            var looked = 0
            do {
                try reader.forEachRow(sheet: k) { row, cells in
                    let hm = HeaderMap(cells.strings)
                    if hm.names.allSatisfy(\.isEmpty) { return true }   // a blank row above the header
                    switch Formats.detect(header: hm, source: source) {
                    case let .found(_, layout):
                        chosen = (k, row, hm, layout)
                        return false
                    case let .unknown(nearest, missing):
                        if firstMiss == nil { firstMiss = (row, nearest?.id ?? "none", missing) }
                        looked += 1
                        return looked <= Self.maxPreambleLines
                    }
                }
            } catch let e as WorkbookError {
                throw SiyuError.input(file: path, line: nil, column: nil, message: "sheet \"\(name)\": \(e.message)")
            }
            if chosen != nil { break }
            skipped.append(name)
        }
        guard let chosen else {
            if let m = firstMiss { throw unknownFormat(m) }
            throw SiyuError.input(file: path, line: nil, column: nil, message: "the workbook has no sheet with a header row (sheets: \(reader.sheetNames.joined(separator: ", "))); download the export again")
        }
        let sheetName = reader.sheetNames[chosen.sheet]
        let others = reader.sheetNames.enumerated().filter { $0.offset != chosen.sheet }.map(\.element)
        events.push(.header(chosen.header, layout: chosen.layout, sheet: sheetName, otherSheets: others))
        let n = chosen.header.names.count
        var batch = RowBatch()
        var rowsRead = 0
        do {
            try reader.forEachRow(sheet: chosen.sheet) { row, cells in
                guard row > chosen.headerRow else { return true }   // the preamble and the header
                if cells.count == 0 || cells.joined.allSatisfy({ $0 == 0x1F || $0 == 0x20 }) { return true }   // a blank row
                rowsRead += 1
                if cells.count > n {
                    batch.badRows.append((row, cells.count, IngestStage.rawText(cells.strings), nil))
                } else {
                    batch.bytes.append(contentsOf: cells.joined)
                    // Cells after the last non-empty one are not written in a sheet: empty.
                    if cells.count < n { batch.bytes.append(contentsOf: repeatElement(0x1F, count: n - cells.count)) }
                    batch.ends.append(batch.bytes.count)
                    batch.lines.append(row)
                }
                if batch.bytes.count >= Self.batchBytes {
                    events.push(.batch(batch))
                    batch = RowBatch()
                }
                return true
            }
        } catch let e as WorkbookError {
            throw SiyuError.input(file: path, line: nil, column: nil, message: "sheet \"\(sheetName)\": \(e.message)")
        }
        events.push(.batch(batch))
        let sha = try digest.pop().get()
        digest.push(.success(sha))   // for the deferred wait
        events.push(.done(encoding: .workbook, rowsRead: rowsRead, sha256: sha))
    }

    /// What to do with a workbook siyu cannot read, by what its first bytes say it is.
    static func workbookRefusal(_ sniff: WorkbookSniff) -> String? {
        switch sniff {
        case .xls: return "this is an Excel 97-2003 workbook (.xls), which siyu does not read; open it in Excel or WPS and save it as an Excel Workbook (.xlsx) or CSV UTF-8, or export again from the back office"
        case .encrypted: return "this workbook is protected with a password, so its sheets cannot be read; open it, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it), save it and put it back"
        case .unknownOLE: return "this is an Office compound file, not an .xlsx workbook or a CSV export; export the report again as .xlsx or CSV"
        case .xlsx, .notWorkbook: return nil
        }
    }

    /// The error for a file whose header (first line, or one of the few after it) matches no format.
    func unknownFormat(_ m: (line: Int, nearest: String, missing: [String])) -> SiyuError {
        .input(file: path, line: m.line, column: nil, message:
            "unknown format for a \(source.kind.rawValue) source: the header matches no known export. Nearest: \(m.nearest), missing headers: \(m.missing.joined(separator: ", ")). Check the source's kind in the pipeline file, or declare a generic source with [source.columns]")
    }

    /// Lines above the header that are tolerated (a report title, a date range).
    static let maxPreambleLines = 5

    private func parse() {
        let sniff = Workbook.sniff(path: path)
        if let refusal = Self.workbookRefusal(sniff) {
            events.push(.failed(message: SiyuError.input(file: path, line: nil, column: nil, message: refusal).description, encoding: .workbook))
            return
        }
        if sniff == .xlsx {
            do { try parseWorkbook() } catch { events.push(.failed(message: ErrorText.describe(error), encoding: .workbook)) }
            return
        }
        if source.kind == .followers, Self.looksLikeJSONLines(path) {
            do { _ = try parseJSONLines() } catch { events.push(.failed(message: "\(error)", encoding: .utf8)) }
            return
        }
        var encoding = TextEncoding.utf8
        var header: HeaderMap?
        var rowsRead = 0
        var batch = RowBatch()
        var preamble = 0
        var firstMiss: (line: Int, nearest: String, missing: [String])?
        do {
            let reader = try UTF8ChunkReader(path: path)
            let parser = try CSVParser { [self] rec in
                guard let h = header else {
                    if rec.isBlank { return }   // leading blank line
                    let hm = HeaderMap(rec.fields)
                    switch Formats.detect(header: hm, source: source) {
                    case let .found(_, layout):
                        header = hm
                        events.push(.header(hm, layout: layout, sheet: nil, otherSheets: []))
                    case let .unknown(nearest, missing):
                        // Some back offices write a title or date-range line or two above the header
                        // (京准通): look a few lines further before giving up.
                        if firstMiss == nil { firstMiss = (rec.line, nearest?.id ?? "none", missing) }
                        preamble += 1
                        if preamble > Self.maxPreambleLines {
                            let m = firstMiss!
                            throw unknownFormat(m)
                        }
                    }
                    return
                }
                rowsRead += 1
                let n = h.names.count
                var joined = rec.joined
                if rec.fieldCount > n {
                    // Extra trailing empty cells (a trailing comma) are not extra columns.
                    var separators = 0, cut = joined.count
                    for (i, b) in joined.enumerated() where b == 0x1F {
                        separators += 1
                        if separators == n { cut = i; break }
                    }
                    if joined[cut...].allSatisfy({ $0 == 0x1F }) { joined = UnsafeBufferPointer(rebasing: joined[..<cut]) }
                }
                let count = joined.count == rec.joined.count ? rec.fieldCount : n
                if count != n {
                    batch.badRows.append((rec.line, rec.fieldCount, IngestStage.rawText(rec.fields), nil))
                } else {
                    batch.bytes.append(contentsOf: joined)
                    batch.ends.append(batch.bytes.count)
                    batch.lines.append(rec.line)
                }
                if batch.bytes.count >= Self.batchBytes {
                    events.push(.batch(batch))
                    batch = RowBatch()
                }
            }
            defer { encoding = reader.encoding }
            try reader.forEachChunk { try parser.feed($0) }
            try parser.finish()
            encoding = reader.encoding
            if header == nil, let m = firstMiss {
                throw unknownFormat(m)
            }
            if header == nil {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                throw SiyuError.input(file: path, line: nil, column: nil, message: size == 0
                    ? "the file is empty (0 bytes); download the export again"
                    : "the file has no header row; it looks truncated, download the export again")
            }
            events.push(.batch(batch))
            events.push(.done(encoding: encoding, rowsRead: rowsRead, sha256: reader.sha256()))
        } catch {
            events.push(.failed(message: "\(error)", encoding: encoding))
        }
    }
}

