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
        try wh.db.transaction {
            for source in wh.pipeline.sources {
                let files = wh.pipeline.files(of: source)
                if files.isEmpty {
                    wh.logger.warning("no file matches the source's globs", metadata: ["source": "\(source.name)", "globs": "\(source.files.joined(separator: " "))"])
                }
                for path in files {
                    try ingestFile(path: path, source: source, runID: runID, report: &report)
                }
            }
            try wh.recordStage("ingest", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "files=\(report.filesIngested) skipped=\(report.filesSkipped) rejected=\(report.rejected.count)")
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    static func sha256(of path: String) throws -> (String, Int) {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot open the file for reading")
        }
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

    func ingestFile(path: String, source: SourceConfig, runID: String, report: inout StageReport) throws {
        let name = (path as NSString).lastPathComponent
        let (sha, size) = try Self.sha256(of: path)
        let db = wh.db
        if let existing = try db.scalarText("SELECT file_id FROM raw_files WHERE sha256=?", [.text(sha)]), let id = Int(existing) {
            let prevPath = try db.scalarText("SELECT path FROM raw_files WHERE file_id=?", [.int(id)]) ?? "?"
            if prevPath != path {
                try db.prepare("INSERT OR IGNORE INTO raw_redeliveries VALUES(?,?,?,?)")
                    .run([.text(path), .text(sha), .int(id), .text(Warehouse.timestamp(Date()))])
                wh.logger.info("skipped: same bytes as an ingested file", metadata: ["file": "\(path)", "same_as": "\(prevPath)"])
            }
            report.filesSkipped += 1
            return
        }
        let insertFile = try db.prepare("""
            INSERT INTO raw_files(source, kind, path, name, sha256, size, status, ingested_at, run_id, export_key)
            VALUES(?,?,?,?,?,?,'reading',?,?,?)
            """)
        try insertFile.run([.text(source.name), .text(source.kind.rawValue), .text(path), .text(name), .text(sha), .int(size),
                            .text(Warehouse.timestamp(Date())), .text(runID), .optText(Self.exportKey(fileName: name))])
        let fileID = try db.scalarInt("SELECT last_insert_rowid()")
        let table = Warehouse.rawTables[source.kind]!
        let insertRow = try db.prepare("INSERT INTO \(table)(file_id, line, cells) VALUES(?,?,?)")
        let quarantine = try db.prepare("INSERT INTO raw_quarantine(file_id, line, stage, reason, column_no, raw_text) VALUES(?,?,'ingest',?,?,?)")

        var header: HeaderMap?
        var format = ""
        var rowsRead = 0, landed = 0, quarantined = 0
        var fileError: String?
        let reader: UTF8ChunkReader
        do { reader = try UTF8ChunkReader(path: path) } catch { fileError = "\(error)"; reader = try UTF8ChunkReader(path: "/dev/null") }
        if fileError == nil {
            do {
                let parser = try CSVParser { rec in
                    guard let h = header else {
                        if rec.fields.allSatisfy({ Values.clean($0).isEmpty }) { return }   // leading blank line
                        let hm = HeaderMap(rec.fields)
                        switch Formats.detect(header: hm, source: source) {
                        case let .found(_, layout):
                            header = hm
                            format = layout
                        case let .unknown(nearest, missing):
                            throw SiyuError.input(file: path, line: rec.line, column: nil, message:
                                "unknown format for a \(source.kind.rawValue) source: the header matches no known export. Nearest: \(nearest?.id ?? "none"), missing headers: \(missing.joined(separator: ", ")). Check the source's kind in the pipeline file, or declare a generic source with [source.columns]")
                        }
                        return
                    }
                    rowsRead += 1
                    let n = h.names.count
                    var fields = rec.fields
                    if fields.count > n, fields[n...].allSatisfy({ $0.isEmpty }) { fields.removeLast(fields.count - n) }
                    if fields.count != n {
                        quarantined += 1
                        try quarantine.run([.int(fileID), .int(rec.line), .text("column_count: expected \(n) cells, found \(fields.count)"),
                                            .int(min(fields.count, n) + 1), .text(Self.rawText(rec.fields))])
                        return
                    }
                    insertRow.bindInt(fileID, at: 1)
                    insertRow.bindInt(rec.line, at: 2)
                    try insertRow.bind(.text(Warehouse.joinCells(fields)), at: 3)
                    try insertRow.step()
                    insertRow.reset()
                    landed += 1
                }
                try reader.forEachChunk { try parser.feed($0) }
                try parser.finish()
                if header == nil {
                    fileError = SiyuError.input(file: path, line: nil, column: nil, message: size == 0
                        ? "the file is empty (0 bytes); download the export again"
                        : "the file has no header row; it looks truncated, download the export again").description
                }
            } catch let e as SiyuError {
                fileError = e.description
            } catch let e as DecodeError {
                fileError = e.description
            }
        }
        if let err = fileError {
            // Rows of a rejected file never count as landed.
            try db.execute("DELETE FROM \(table) WHERE file_id=\(fileID); DELETE FROM raw_quarantine WHERE file_id=\(fileID)")
            try db.prepare("UPDATE raw_files SET status='rejected', error=?, encoding=?, format=? WHERE file_id=?")
                .run([.text(err), .text(reader.encoding.rawValue), .text(format.isEmpty ? "unknown" : format), .int(fileID)])
            report.rejected.append(err)
            wh.logger.error("\(err)")
            if wh.pipeline.stopOnBadFile { throw SiyuError.input(file: path, line: nil, column: nil, message: "stopping: on_bad_file = \"stop\" in the pipeline file") }
            return
        }
        try db.prepare("UPDATE raw_files SET status='landed', format=?, encoding=?, header=?, rows_read=?, rows_landed=?, rows_quarantined=? WHERE file_id=?")
            .run([.text(format), .text(reader.encoding.rawValue), .text(Warehouse.joinCells(header!.names)), .int(rowsRead), .int(landed), .int(quarantined), .int(fileID)])
        report.filesIngested += 1
        report.rowsIn += rowsRead
        report.rowsOut += landed
        report.quarantined += quarantined
        wh.logger.info("ingested", metadata: ["file": "\(name)", "format": "\(format)", "encoding": "\(reader.encoding.rawValue)",
                                              "rows.read": "\(rowsRead)", "rows.landed": "\(landed)", "rows.quarantined": "\(quarantined)"])
    }
}
