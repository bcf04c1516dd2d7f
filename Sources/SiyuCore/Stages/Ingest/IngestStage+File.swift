import Foundation
import Logging

/// What landing one file's rows gave: its header and format, counts, and how reading ended.
struct LandedFile {
    var header: HeaderMap?
    var format = ""
    var sheet: String?
    var landed = 0, quarantined = 0, rowsRead = 0
    var encoding = TextEncoding.utf8
    /// Why the file was rejected (the parser stopped), or nil.
    var error: String?
    var sha256: String?
}

/// One file of the ingest: skip it when seen before, register it, land its rows as the parser
/// delivers them, then settle it (a re-delivery, rejected, or landed).
extension IngestStage {
    /// Lands one file through `parser` (started here if the previous file's parser has not
    /// started it already).
    func ingestFile(path: String, source: SourceConfig, parser: FileParser, seq: Int, runID: String, stageStarted: Date, report: inout StageReport) throws {
        var drained = false   // the parser's last event was read
        defer { if !drained { parser.discard() } }
        if let problem = InputFile.problem(path) {
            return try rejectUnreadable(path: path, source: source, problem: problem, seq: seq, runID: runID, report: &report)
        }
        let (size, mtime) = try Self.stamp(path)
        if try markSeen(path: path, size: size, mtime: mtime, seq: seq) {
            report.filesSkipped += 1
            return
        }
        let fileID = try register(path: path, source: source, size: size, mtime: mtime, seq: seq, runID: runID)
        let table = Warehouse.rawTables[source.kind]!
        // Rows of one file are contiguous rowids: raw_files keeps the range instead of an index.
        let firstRowID = try wh.db.scalarInt("SELECT COALESCE(max(rowid), 0) + 1 FROM \(table)")
        let file = try land(parser, fileID: fileID, table: table, name: (path as NSString).lastPathComponent,
                            rowsBefore: report.rowsOut, stageStarted: stageStarted, drained: &drained)
        try settle(file, path: path, fileID: fileID, table: table, firstRowID: firstRowID, size: size, mtime: mtime, seq: seq, report: &report)
    }

    /// A file at the same path with the same size and modification time was seen before: it is
    /// marked as matched by this ingest and skipped without being read again (nightly runs see
    /// the whole history every night). A file rejected before is tried again (the pipeline file
    /// may have been fixed since).
    func markSeen(path: String, size: Int, mtime: Int, seq: Int) throws -> Bool {
        let db = wh.db
        try dropRejected(db, "path=?", .text(path))
        try db.prepare("UPDATE raw_files SET seen=?4 WHERE path=?1 AND size=?2 AND mtime_ns=?3").run([.text(path), .int(size), .int(mtime), .int(seq)])
        var seen = db.changes
        try db.prepare("UPDATE raw_redeliveries SET seen=?4 WHERE path=?1 AND size=?2 AND mtime_ns=?3").run([.text(path), .int(size), .int(mtime), .int(seq)])
        seen += db.changes
        return seen > 0
    }

    /// A raw_files row for the file being read (its sha256 is known once it has been read).
    func register(path: String, source: SourceConfig, size: Int, mtime: Int, seq: Int, runID: String) throws -> Int {
        let name = (path as NSString).lastPathComponent
        try wh.db.prepare("""
            INSERT INTO raw_files(source, kind, path, name, sha256, size, mtime_ns, status, ingested_at, run_id, export_key, seen)
            VALUES(?,?,?,?,?,?,?,'reading',?,?,?,?)
            """).run([.text(source.name), .text(source.kind.rawValue), .text(path), .text(name), .text("pending:\(path)"), .int(size), .int(mtime),
                      .text(Warehouse.timestamp(Date())), .text(runID), .optText(Self.exportKey(fileName: name)), .int(seq)])
        return try wh.db.scalarInt("SELECT last_insert_rowid()")
    }

    /// Lands the parser's rows in `table` and its bad rows in raw_quarantine until it is done or
    /// has failed. `drained`: the parser's last event was read (else it must be discarded).
    func land(_ parser: FileParser, fileID: Int, table: String, name: String, rowsBefore: Int, stageStarted: Date, drained: inout Bool) throws -> LandedFile {
        let db = wh.db
        let insertRow = try db.prepare("INSERT INTO \(table)(file_id, line, cells) VALUES(?,?,?)")
        let quarantine = try db.prepare("INSERT INTO raw_quarantine(file_id, line, stage, reason, column_no, raw_text) VALUES(?,?,'ingest',?,?,?)")
        parser.start()
        var file = LandedFile()
        while true {
            let event = parser.events.pop()
            do {
                switch event {
                case let .header(h, layout, sheet, others):
                    file.header = h
                    file.format = layout
                    file.sheet = sheet
                    if let sheet, !others.isEmpty {
                        wh.logger.info("workbook: reading one sheet, the others do not match an export", metadata: ["file": "\(name)", "sheet": "\(sheet)", "other_sheets": "\(others.joined(separator: ", "))"])
                    }
                case let .batch(b):
                    let n = file.header?.names.count ?? 0
                    for bad in b.badRows {
                        file.quarantined += 1
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
                    file.landed += b.ends.count
                    wh.progress.update(stage: "ingest", item: name, rows: rowsBefore + file.landed, since: stageStarted)
                case let .done(encoding, read, digest):
                    (file.encoding, file.rowsRead, file.sha256) = (encoding, read, digest)
                    drained = true
                    return file
                case let .failed(message, encoding):
                    (file.encoding, file.error) = (encoding, message)
                    drained = true
                    return file   // the producer stops after a failure
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
    }

    /// A file read whole: a re-delivery (the same bytes as a landed file: its rows go, the path is
    /// noted), rejected (its rows never count), or landed.
    func settle(_ file: LandedFile, path: String, fileID: Int, table: String, firstRowID: Int, size: Int, mtime: Int, seq: Int,
                report: inout StageReport) throws {
        let db = wh.db
        let digest = try file.sha256 ?? Self.sha256(of: path).0
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
        if let err = file.error {
            try db.execute("DELETE FROM \(table) WHERE rowid >= \(firstRowID); DELETE FROM raw_quarantine WHERE file_id=\(fileID)")
            try db.prepare("UPDATE raw_files SET status='rejected', error=?, encoding=?, format=? WHERE file_id=?")
                .run([.text(err), .text(file.encoding.rawValue), .text(file.format.isEmpty ? "unknown" : file.format), .int(fileID)])
            report.rejected.append(err)
            wh.progress.clear()
            wh.logger.error("\(err)")
            if wh.pipeline.stopOnBadFile { throw SiyuError.input(file: path, line: nil, column: nil, message: "stopping: on_bad_file = \"stop\" in the pipeline file") }
            return
        }
        try db.prepare("UPDATE raw_files SET status='landed', format=?, encoding=?, header=?, rows_read=?, rows_landed=?, rows_quarantined=?, first_rowid=?, last_rowid=?, sheet=? WHERE file_id=?")
            .run([.text(file.format), .text(file.encoding.rawValue), .text(Warehouse.joinCells(file.header!.names)), .int(file.rowsRead), .int(file.landed),
                  .int(file.quarantined), .int(firstRowID), .int(firstRowID + file.landed - 1), .optText(file.sheet), .int(fileID)])
        report.filesIngested += 1
        report.rowsIn += file.rowsRead
        report.rowsOut += file.landed
        report.quarantined += file.quarantined
        wh.progress.clear()
        wh.logger.info("ingested", metadata: ["file": "\((path as NSString).lastPathComponent)\(file.sheet.map { "#\($0)" } ?? "")", "format": "\(file.format)",
                                              "encoding": "\(file.encoding.rawValue)", "rows.read": "\(file.rowsRead)", "rows.landed": "\(file.landed)",
                                              "rows.quarantined": "\(file.quarantined)"])
    }
}
