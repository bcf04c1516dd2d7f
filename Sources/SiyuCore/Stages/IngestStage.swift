import Foundation
import Logging

/// Stage 1: land every input file as exported, row by row, in raw_* tables.
/// A file seen before (same sha256) is skipped; a file siyu cannot read is rejected with one
/// clear error and the others go on (unless the pipeline says on_bad_file = "stop").
public struct IngestStage {
    let wh: Warehouse
    public init(_ wh: Warehouse) { self.wh = wh }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "ingest")
        var work: [(String, SourceConfig)] = []
        for source in wh.pipeline.sources {
            var matched: [String] = []
            for pattern in source.files {
                let m = Pipeline.matches(pattern)
                if m.isEmpty { wh.logger.debug("no file matches this glob", metadata: ["source": "\(source.name)", "glob": "\(pattern)"]) }
                matched += m
            }
            // One warning per source that finds nothing at all (a glob of a source that has other
            // files is often tomorrow's folder, not a mistake).
            if matched.isEmpty { wh.logger.warning("no file matches any glob of this source", metadata: ["source": "\(source.name)", "globs": "\(source.files.joined(separator: " "))"]) }
            work += Pipeline.inDeliveryOrder(matched).map { ($0, source) }
        }
        // A rebuild lands every row into a new file: straight into the database, not via the WAL.
        try wh.bulk { try wh.db.transaction {
            // Every ingest marks the files its globs match (`seen`): the files that count.
            let before = try activeFileIDs()
            try checkMissingSources(matched: Set(work.map(\.1.name)))
            if work.isEmpty && !before.isEmpty {
                // Most likely the folder is not there (an unmounted share, another working
                // directory): do not turn that into an empty report.
                throw SiyuError.config(file: wh.pipeline.path, message: "no input file matches any glob of the pipeline, but \(before.count) file(s) counted until the last run; is the input folder missing or not mounted, or is siyu running from another directory? Nothing was changed. If the folder is really empty now, run `siyu run --full`")
            }
            let seq = (Int(try wh.meta("ingest_seq") ?? "0") ?? 0) + 1
            try wh.setMeta("ingest_seq", String(seq))
            // Each file's parser starts the next file's when it has parsed its file (FileParser.then),
            // unless the next file will be skipped (seen before) or is the same path again.
            var prefetched: FileParser?
            defer { prefetched?.discard() }
            for (k, (path, source)) in work.enumerated() {
                let parser = prefetched ?? FileParser(path: path, source: source)
                prefetched = nil
                if k + 1 < work.count, work[k + 1].0 != path, (try? seenBefore(work[k + 1].0)) == false {
                    let next = FileParser(path: work[k + 1].0, source: work[k + 1].1)
                    parser.then(next)
                    prefetched = next
                }
                try ingestFile(path: path, source: source, parser: parser, seq: seq, runID: runID, stageStarted: started, report: &report)
            }
            let after = try activeFileIDs()
            let gone = before.subtracting(after)
            if !gone.isEmpty {
                let names = try gone.sorted().prefix(3).map { try wh.db.scalarText("SELECT path FROM raw_files WHERE file_id=?", [.int($0)]) ?? "file \($0)" }
                wh.logger.warning("files ingested before are no longer matched (deleted, replaced in place, moved out of the globs, or their source left the pipeline): their rows no longer count",
                                  metadata: ["files": "\(gone.count)", "first": "\(names.joined(separator: ", "))"])
            }
            wh.progress.clear()
            try wh.notePendingQuarantine(report.quarantined)
            try wh.recordStage("ingest", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "files=\(report.filesIngested) skipped=\(report.filesSkipped) rejected=\(report.rejected.count)\(gone.isEmpty ? "" : " gone=\(gone.count)")",
                               changed: report.filesIngested > 0 || !report.rejected.isEmpty || before != after)
        } }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    static func sha256(of path: String) throws -> (String, Int) {
        let h = try InputFile.open(path)
        defer { try? h.close() }
        var hasher = SHA256()
        var size = 0
        while true {
            let d = h.readData(ofLength: 1 << 20)
            if d.isEmpty { break }
            size += d.count
            hasher.update(d)
        }
        return (SHA256.hex(hasher.finalize()), size)
    }

    /// The export time in a file name: the last run of 8 to 14 digits (YYYYMMDD[HHMM[SS]]), padded to 14.
    public static func exportKey(fileName: String) -> String? {
        var runs: [String] = []
        var cur = ""
        for ch in fileName {
            if ch.isASCII && ch.isNumber { cur.append(ch) } else { if !cur.isEmpty { runs.append(cur) }; cur = "" }
        }
        if !cur.isEmpty { runs.append(cur) }
        guard let r = runs.last(where: { $0.count >= 8 && $0.count <= 14 && ($0.hasPrefix("19") || $0.hasPrefix("20")) }) else { return nil }
        return r + String(repeating: "0", count: 14 - r.count)
    }

    /// A record's text as it would appear in a CSV file (for quarantine).
    static func rawText(_ fields: [String]) -> String {
        fields.map { f in
            f.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
        }.joined(separator: ",")
    }

    /// Size and modification time (ns) of a file, for the cheap "seen before" check.
    static func stamp(_ path: String) throws -> (size: Int, mtime: Int) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot read the file's size and time (errno \(errno)); check that it exists and is readable")
        }
        return (Int(st.st_size), Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec))
    }

    /// The landed files that count now (a rejected file is tried again every night under a new
    /// id: it is not a file whose rows come or go).
    func activeFileIDs() throws -> Set<Int> {
        Set(try wh.db.prepare("SELECT file_id FROM raw_files WHERE status='landed' AND \(try wh.activeFiles())").rows { $0.int(0) })
    }

    /// A source whose files counted until now and whose globs match nothing tonight stops the run
    /// (a typo in a glob, an unmounted share must not drop a platform from the report), unless the
    /// operator retires it (`allow_missing = true`, `--allow-missing NAME`).
    func checkMissingSources(matched: Set<String>) throws {
        for source in wh.pipeline.sources where !matched.contains(source.name) && !source.allowMissing {
            let n = try wh.db.scalarInt("SELECT count(*) FROM raw_files WHERE source=? AND status='landed' AND \(try wh.activeFiles())", [.text(source.name)])
            guard n > 0 else { continue }
            throw SiyuError.config(file: wh.pipeline.path, message: "source `\(source.name)` had \(n) file(s) counting until the last run, but its globs (\(source.files.joined(separator: ", "))) match no file now: is the folder missing, renamed or not mounted, or is siyu running from another directory? Nothing was changed. If the source is really gone, run once with --allow-missing \(source.name) (or set allow_missing = true in its [[source]]): its rows then leave the report")
        }
    }

    /// Records a file that cannot be read at all (not a regular file, unreadable) as rejected,
    /// without opening it; it is tried again next run.
    func rejectUnreadable(path: String, source: SourceConfig, problem: String, seq: Int, runID: String, report: inout StageReport) throws {
        let db = wh.db
        try dropRejected(db, "path=?", .text(path))
        let message = SiyuError.input(file: path, line: nil, column: nil, message: problem).description
        try db.prepare("""
            INSERT INTO raw_files(source, kind, path, name, sha256, size, mtime_ns, status, error, format, ingested_at, run_id, export_key, seen)
            VALUES(?,?,?,?,?,0,0,'rejected',?,'unreadable',?,?,NULL,?)
            """).run([.text(source.name), .text(source.kind.rawValue), .text(path), .text((path as NSString).lastPathComponent),
                      .text("unreadable:\(path)"), .text(message), .text(Warehouse.timestamp(Date())), .text(runID), .int(seq)])
        report.rejected.append(message)
        wh.progress.clear()
        wh.logger.error("\(message)")
        if wh.pipeline.stopOnBadFile { throw SiyuError.input(file: path, line: nil, column: nil, message: "stopping: on_bad_file = \"stop\" in the pipeline file") }
    }

    /// Forgets rejected files matching `condition` (their rows were never landed).
    func dropRejected(_ db: Database, _ condition: String, _ value: SQLValue) throws {
        let ids = try db.prepare("SELECT file_id FROM raw_files WHERE status='rejected' AND \(condition)").rows([value]) { $0.int(0) }
        for id in ids { try db.execute("DELETE FROM raw_quarantine WHERE file_id=\(id); DELETE FROM raw_files WHERE file_id=\(id)") }
    }

    /// True when `path` would be skipped as seen before (same size and modification time), once
    /// rejected files at that path are forgotten (as `ingestFile` does first).
    func seenBefore(_ path: String) throws -> Bool {
        let (size, mtime) = try Self.stamp(path)
        return try wh.db.scalarInt("""
            SELECT (SELECT count(*) FROM raw_files WHERE path=?1 AND size=?2 AND mtime_ns=?3 AND status<>'rejected')
                 + (SELECT count(*) FROM raw_redeliveries WHERE path=?1 AND size=?2 AND mtime_ns=?3)
            """, [.text(path), .int(size), .int(mtime)]) > 0
    }

    /// Lands one file through `parser` (started here if the previous file's parser has not
    /// started it already).
    func ingestFile(path: String, source: SourceConfig, parser: FileParser, seq: Int, runID: String, stageStarted: Date, report: inout StageReport) throws {
        var drained = false   // the parser's last event was read
        defer { if !drained { parser.discard() } }
        let name = (path as NSString).lastPathComponent
        let db = wh.db
        if let problem = InputFile.problem(path) {
            return try rejectUnreadable(path: path, source: source, problem: problem, seq: seq, runID: runID, report: &report)
        }
        // A file at the same path with the same size and modification time was seen before: skip
        // it without reading it again (nightly runs see the whole history every night).
        let (size, mtime) = try Self.stamp(path)
        // A file rejected before is tried again (the pipeline file may have been fixed since).
        try dropRejected(db, "path=?", .text(path))
        try db.prepare("UPDATE raw_files SET seen=?4 WHERE path=?1 AND size=?2 AND mtime_ns=?3").run([.text(path), .int(size), .int(mtime), .int(seq)])
        var seen = db.changes
        try db.prepare("UPDATE raw_redeliveries SET seen=?4 WHERE path=?1 AND size=?2 AND mtime_ns=?3").run([.text(path), .int(size), .int(mtime), .int(seq)])
        seen += db.changes
        if seen > 0 {
            report.filesSkipped += 1
            return
        }
        let insertFile = try db.prepare("""
            INSERT INTO raw_files(source, kind, path, name, sha256, size, mtime_ns, status, ingested_at, run_id, export_key, seen)
            VALUES(?,?,?,?,?,?,?,'reading',?,?,?,?)
            """)
        try insertFile.run([.text(source.name), .text(source.kind.rawValue), .text(path), .text(name), .text("pending:\(path)"), .int(size), .int(mtime),
                            .text(Warehouse.timestamp(Date())), .text(runID), .optText(Self.exportKey(fileName: name)), .int(seq)])
        let fileID = try db.scalarInt("SELECT last_insert_rowid()")
        let table = Warehouse.rawTables[source.kind]!
        let insertRow = try db.prepare("INSERT INTO \(table)(file_id, line, cells) VALUES(?,?,?)")
        let quarantine = try db.prepare("INSERT INTO raw_quarantine(file_id, line, stage, reason, column_no, raw_text) VALUES(?,?,'ingest',?,?,?)")
        // Rows of one file are contiguous rowids: raw_files keeps the range instead of an index.
        let firstRowID = try db.scalarInt("SELECT COALESCE(max(rowid), 0) + 1 FROM \(table)")

        parser.start()
        var header: HeaderMap?
        var format = ""
        var landed = 0, quarantined = 0, rowsRead = 0
        var encoding = TextEncoding.utf8
        var fileError: String?
        var sha: String?
        var sheet: String?
        loop: while true {
            let event = parser.events.pop()
            do {
            switch event {
            case let .header(h, layout, sheetName, others):
                header = h
                format = layout
                sheet = sheetName
                if let sheetName, !others.isEmpty {
                    wh.logger.info("workbook: reading one sheet, the others do not match an export", metadata: ["file": "\(name)", "sheet": "\(sheetName)", "other_sheets": "\(others.joined(separator: ", "))"])
                }
            case let .batch(b):
                let n = header?.names.count ?? 0
                for bad in b.badRows {
                    quarantined += 1
                    try quarantine.run([.int(fileID), .int(bad.line), .text(bad.reason ?? "column_count: expected \(n) cells, found \(bad.found)"),
                                        bad.reason == nil ? .int(min(bad.found, n) + 1) : .null, .text(bad.raw)])
                }
                try b.bytes.withUnsafeBufferPointer { all in
                    var start = 0
                    for (k, end) in b.ends.enumerated() {
                        insertRow.bindInt(fileID, at: 1)
                        insertRow.bindInt(b.lines[k], at: 2)
                        insertRow.bindBytes(UnsafeBufferPointer(rebasing: all[start..<end]), at: 3)
                        try insertRow.step()
                        insertRow.reset()
                        start = end
                    }
                }
                landed += b.ends.count
                wh.progress.update(stage: "ingest", item: name, rows: report.rowsOut + landed, since: stageStarted)
            case let .done(enc, read, digest):
                encoding = enc
                rowsRead = read
                sha = digest
                drained = true
                break loop
            case let .failed(message, enc):
                encoding = enc
                fileError = message
                drained = true
                break loop   // the producer stops after a failure
            }
            } catch {
                // Let the producer thread finish before the error travels up.
                while true {
                    switch parser.events.pop() {
                    case .done, .failed: drained = true; throw error
                    default: continue
                    }
                }
            }
        }
        // Re-delivery: the same bytes as a file already landed. Its rows go; the file is noted.
        let digest = try sha ?? Self.sha256(of: path).0
        try dropRejected(db, "sha256=?", .text(digest))
        if let existing = try db.scalarText("SELECT file_id FROM raw_files WHERE sha256=? AND file_id<>?", [.text(digest), .int(fileID)]), let id = Int(existing) {
            try db.execute("DELETE FROM \(table) WHERE rowid >= \(firstRowID); DELETE FROM raw_quarantine WHERE file_id=\(fileID); DELETE FROM raw_files WHERE file_id=\(fileID)")
            let prevPath = try db.scalarText("SELECT path FROM raw_files WHERE file_id=?", [.int(id)]) ?? "?"
            try db.prepare("INSERT OR REPLACE INTO raw_redeliveries VALUES(?,?,?,?,?,?,?)")
                .run([.text(path), .text(digest), .int(id), .text(Warehouse.timestamp(Date())), .int(size), .int(mtime), .int(seq)])
            wh.progress.clear()
            wh.logger.info("skipped: same bytes as an ingested file", metadata: ["file": "\(path)", "same_as": "\(prevPath)"])
            report.filesSkipped += 1
            return
        }
        try db.prepare("UPDATE raw_files SET sha256=? WHERE file_id=?").run([.text(digest), .int(fileID)])
        if let err = fileError {
            // Rows of a rejected file never count as landed.
            try db.execute("DELETE FROM \(table) WHERE rowid >= \(firstRowID); DELETE FROM raw_quarantine WHERE file_id=\(fileID)")
            try db.prepare("UPDATE raw_files SET status='rejected', error=?, encoding=?, format=? WHERE file_id=?")
                .run([.text(err), .text(encoding.rawValue), .text(format.isEmpty ? "unknown" : format), .int(fileID)])
            report.rejected.append(err)
            wh.progress.clear()
            wh.logger.error("\(err)")
            if wh.pipeline.stopOnBadFile { throw SiyuError.input(file: path, line: nil, column: nil, message: "stopping: on_bad_file = \"stop\" in the pipeline file") }
            return
        }
        try db.prepare("UPDATE raw_files SET status='landed', format=?, encoding=?, header=?, rows_read=?, rows_landed=?, rows_quarantined=?, first_rowid=?, last_rowid=?, sheet=? WHERE file_id=?")
            .run([.text(format), .text(encoding.rawValue), .text(Warehouse.joinCells(header!.names)), .int(rowsRead), .int(landed), .int(quarantined),
                  .int(firstRowID), .int(firstRowID + landed - 1), .optText(sheet), .int(fileID)])
        report.filesIngested += 1
        report.rowsIn += rowsRead
        report.rowsOut += landed
        report.quarantined += quarantined
        wh.progress.clear()
        wh.logger.info("ingested", metadata: ["file": "\(name)\(sheet.map { "#\($0)" } ?? "")", "format": "\(format)", "encoding": "\(encoding.rawValue)",
                                              "rows.read": "\(rowsRead)", "rows.landed": "\(landed)", "rows.quarantined": "\(quarantined)"])
    }
}
