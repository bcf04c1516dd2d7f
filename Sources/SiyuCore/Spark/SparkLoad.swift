import Foundation

/// Loads what the Spark job staged into a rebuild's warehouse, so that join, aggregate and report
/// read exactly what a full embedded ingest + clean would have left: raw_files under the file ids
/// a rebuild gives (the counting files in ingest order), re-delivered copies in raw_redeliveries,
/// quarantined rows, the winning stg_* rows in a full clean's order (newest file first, each file
/// in its own row order), stg_order_counts, and the identity closure's links (`spark_links`).
struct SparkLoad {
    let wh: Warehouse
    let plan: SparkPlan
    let staging: String
    let runID: String
    let now: Date
    var ingest = StageReport(stage: "ingest")
    var clean = StageReport(stage: "clean")
    /// The plan's ingest order of a counting file → its file id.
    private var fileID: [Int: Int] = [:]
    private var columns: [String: [String]] = [:]

    init(wh: Warehouse, plan: SparkPlan, staging: String, runID: String, now: Date) throws {
        self.wh = wh
        self.plan = plan
        self.staging = staging
        self.runID = runID
        self.now = now
        var next = 0
        for f in plan.files where f.copyOf == nil {
            next += 1
            fileID[f.ingestOrder] = next
        }
    }

    private func path(_ name: String) -> String { (staging as NSString).appendingPathComponent(name) }

    /// The lines of a small staged file or folder (reports, columns, order counts) as text.
    private func lines(_ name: String, _ each: (Substring) throws -> Void) throws {
        try byteLines(name) { try each(String(decoding: $0, as: UTF8.self)[...]) }
    }

    private func task(_ field: Substring, in name: String) throws -> Int {
        guard let t = Int(field), let id = fileID[t] else {
            throw SiyuError.config(file: path(name), message: "a staged row names file \(field), which the plan does not have as a counting file")
        }
        return id
    }

    mutating func load() throws {
        let db = wh.db
        try readReports()
        try lines("columns.tsv") { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            columns[f[0]] = Array(f.dropFirst())
        }
        try db.execute("DROP INDEX IF EXISTS stg_orders_key; DROP INDEX IF EXISTS stg_items_key")
        for table in SparkRows.tables { try loadTable(table) }
        try db.execute("CREATE UNIQUE INDEX IF NOT EXISTS stg_orders_key ON stg_orders(platform, order_id); CREATE INDEX IF NOT EXISTS stg_items_key ON stg_items(platform, order_id)")
        try db.prepare("UPDATE raw_files SET run_id=?").run([.text(runID)])

        // Re-delivered copies: the same bytes as a file earlier in ingest order.
        let copy = try db.prepare("INSERT OR REPLACE INTO raw_redeliveries VALUES(?,?,?,?,?,?,1)")
        let pathOf = Dictionary(plan.files.map { ($0.ingestOrder, $0.path) }, uniquingKeysWith: { a, _ in a })
        for f in plan.files {
            guard let of = f.copyOf, let id = fileID[of], let sha = f.sha256 else { continue }
            // The same path matched by a second source is the same file seen again (ingest skips
            // it without a raw_redeliveries row), not a re-delivered copy.
            if pathOf[of] == f.path { ingest.filesSkipped += 1; continue }
            let (size, mtime) = try IngestStage.stamp(f.path)
            try copy.run([.text(f.path), .text(sha), .int(id), .text(Warehouse.timestamp(now)), .int(size), .int(mtime)])
            ingest.filesSkipped += 1
        }

        let count = try db.prepare("INSERT INTO stg_order_counts VALUES(?,?,?,?)")
        try lines("stg_order_counts") { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4, case .text(let platform)? = SparkRows.decode(f[1]), case .text(let status)? = SparkRows.decode(f[2]), let n = Int(f[3]) else {
                throw SiyuError.config(file: path("stg_order_counts"), message: "not an order count line")
            }
            try count.run([.int(try task(f[0], in: "stg_order_counts")), .text(platform), .text(status), .int(n)])
        }

        try db.execute("DROP TABLE IF EXISTS spark_links; CREATE TABLE spark_links(node TEXT NOT NULL, root TEXT NOT NULL)")
        let link = try db.prepare("INSERT INTO spark_links VALUES(?,?)")
        try byteLines("links") { line in
            guard let tab = line.firstIndex(of: 0x09) else { throw SiyuError.config(file: path("links"), message: "not a link line") }
            link.bindBytes(UnsafeBufferPointer(rebasing: line[..<tab]), at: 1)
            link.bindBytes(UnsafeBufferPointer(rebasing: line[(tab + 1)...]), at: 2)
            try link.step()
            link.reset()
        }

        try wh.setMeta("ingest_seq", "1")
        try wh.setMeta("clean_seq", "1")
        try wh.setMeta("join_full", "1")
        try wh.setMeta("engine", "spark")
        try wh.setMeta("clean_fingerprint", "spark")
        try CleanStage(wh).checkRuleFields()
        try wh.notePendingQuarantine(ingest.quarantined + clean.quarantined)
        try wh.recordStage("ingest", runID: runID, started: now, rowsIn: ingest.rowsIn, rowsOut: ingest.rowsOut,
                           detail: "spark files=\(ingest.filesIngested) skipped=\(ingest.filesSkipped) rejected=\(ingest.rejected.count)")
        try wh.recordStage("clean", runID: runID, started: now, rowsIn: clean.rowsIn, rowsOut: clean.rowsOut,
                           detail: "spark full files=\(clean.filesIngested) quarantined=\(clean.quarantined)")
    }

    /// The executors' stage reports, summed as one ingest and one clean would count; an error
    /// line (siyu stopped on a file) stops the run.
    private mutating func readReports() throws {
        var stopped: [(Int, String)] = [], rejected: [(Int, String)] = []
        try lines("reports.tsv") { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 3, let t = Int(f[1]) else { return }
            switch f[0] {
            case "R":
                guard f.count == 8, let rowsIn = Int(f[3]), let rowsOut = Int(f[4]), let q = Int(f[5]), let ingested = Int(f[6]), let skipped = Int(f[7]) else { return }
                if f[2] == "ingest" {
                    ingest.rowsIn += rowsIn; ingest.rowsOut += rowsOut; ingest.quarantined += q; ingest.filesIngested += ingested; ingest.filesSkipped += skipped
                } else {
                    clean.rowsIn += rowsIn; clean.rowsOut += rowsOut; clean.quarantined += q; clean.filesIngested += ingested
                }
            case "J": rejected.append((t, SparkPlan.unescape(f[2])))
            case "E": stopped.append((t, SparkPlan.unescape(f[2])))
            default: break
            }
        }
        ingest.rejected = rejected.sorted { $0.0 < $1.0 }.map(\.1)
        if let (t, message) = stopped.min(by: { $0.0 < $1.0 }) {
            let file = plan.files.first { $0.ingestOrder == t }?.path ?? "file \(t)"
            throw SiyuError.input(file: file, line: nil, column: nil, message: "siyu stopped on this file on a Spark executor: \(message)")
        }
    }

    /// One staged table: each `D` line inserted with its file id mapped to the rebuild's. Read as
    /// bytes in chunks (a table's rows can be gigabytes at 10M order lines): a value is bound
    /// straight from the line, unescaped only when it holds a backslash.
    private func loadTable(_ table: String) throws {
        guard let cols = columns[table] else { return }   // no file printed it: no rows
        let own = try wh.db.prepare("SELECT * FROM \(table) LIMIT 0")
        let have = Set((0..<own.columnCount).map { own.columnName($0) })
        for c in cols where !have.contains(c) {
            throw SiyuError.config(file: path("columns.tsv"), message: "the executors' siyu writes column \(table).\(c), which this siyu's warehouse does not have: the executors run another siyu version")
        }
        let fileColumn = cols.firstIndex(of: "file_id").map { $0 + 4 } ?? -1
        let insert = try wh.db.prepare("INSERT INTO \(table)(\(cols.joined(separator: ","))) VALUES(\(Array(repeating: "?", count: cols.count).joined(separator: ",")))")
        let prefix = Array("D\t".utf8), tableName = Array(table.utf8)
        var scratch: [UInt8] = []
        var ends: [Int] = []
        func bad(_ what: String) -> SiyuError { .config(file: path(table), message: "a staged row of \(table) \(what)") }
        try byteLines(table) { line in
            // field boundaries: field k is line[start(k) ..< ends[k]]
            ends.removeAll(keepingCapacity: true)
            for (i, b) in line.enumerated() where b == 0x09 { ends.append(i) }
            ends.append(line.count)
            guard ends.count == cols.count + 4, line.starts(with: prefix),
                  line[(ends[1] + 1)..<ends[2]].elementsEqual(tableName) else { throw bad("does not have the \(cols.count) columns of columns.tsv") }
            for k in 4..<ends.count {
                let start = ends[k - 1] + 1, end = ends[k], at = Int32(k - 3)
                if k == fileColumn {
                    guard let t = Self.integer(line[(ends[0] + 1)..<ends[1]]), let id = fileID[t] else { throw bad("names a file the plan does not count") }
                    insert.bindInt(id, at: at)
                    continue
                }
                guard start < end else { throw bad("has an untyped value in \(cols[k - 4])") }
                switch line[start] {
                case 0x69:   // i
                    guard let v = Self.integer(line[(start + 1)..<end]) else { throw bad("has a bad integer in \(cols[k - 4])") }
                    insert.bindInt(v, at: at)
                case 0x74:   // t
                    let text = UnsafeBufferPointer(rebasing: line[(start + 1)..<end])
                    if text.contains(0x5C) {
                        SparkPlan.unescape(bytes: text, into: &scratch)
                        scratch.withUnsafeBufferPointer { insert.bindBytes($0, at: at) }
                    } else {
                        insert.bindBytes(text, at: at)
                    }
                case 0x5C where end - start == 2 && line[start + 1] == 0x4E:   // \N
                    try insert.bind(.null, at: at)
                default:
                    throw bad("has an untyped value in \(cols[k - 4])")
                }
            }
            try insert.step()
            insert.reset()
        }
    }

    /// A decimal integer (optionally negative) from ASCII bytes.
    static func integer(_ b: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        var i = b.startIndex, negative = false
        if i < b.endIndex, b[i] == 0x2D { negative = true; i += 1 }
        guard i < b.endIndex else { return nil }
        var v = 0
        while i < b.endIndex {
            let d = b[i] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int(d)) : m.addingReportingOverflow(Int(d))
            guard !o1, !o2 else { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// The lines of a staged file, or of a staged folder's part files in name order (the order
    /// Spark wrote a sorted result in), as bytes, read in chunks (a table's rows can be gigabytes).
    private func byteLines(_ name: String, _ each: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let p = path(name)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
            throw SiyuError.config(file: p, message: "the Spark job left no `\(name)`; the job did not finish as siyu expects (a different spark/siyu_job.py?)")
        }
        let files = isDir.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: p).filter { $0.hasPrefix("part-") }.sorted().map { (p as NSString).appendingPathComponent($0) }
            : [p]
        var carry: [UInt8] = []
        for f in files {
            let h = try FileHandle(forReadingFrom: URL(fileURLWithPath: f))
            defer { try? h.close() }
            carry.removeAll(keepingCapacity: true)
            while true {
                let chunk = h.readData(ofLength: 8 << 20)
                let last = chunk.isEmpty
                carry.append(contentsOf: chunk)
                let used = try carry.withUnsafeBufferPointer { all -> Int in
                    var start = 0
                    for i in 0..<all.count where all[i] == 0x0A {
                        if i > start { try each(UnsafeBufferPointer(rebasing: all[start..<i])) }
                        start = i + 1
                    }
                    if last, start < all.count { try each(UnsafeBufferPointer(rebasing: all[start..<all.count])); start = all.count }
                    return start
                }
                carry.removeSubrange(0..<used)
                if last { break }
            }
        }
    }
}
