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
        let (work, globs) = Self.walk(wh.pipeline, logger: wh.logger)
        // A rebuild lands every row into a new file: straight into the database, not via the WAL.
        try wh.bulk { try wh.db.transaction {
            // Every ingest marks the files its globs match (`seen`): the files that count.
            let before = try activeFileIDs()
            let counting = try countingFiles()
            if work.isEmpty {
                // Most likely the folder is not there (an unmounted share, another working
                // directory): do not turn that into an empty report.
                let cwd = FileManager.default.currentDirectoryPath
                throw SiyuError.config(file: wh.pipeline.path, message: counting.isEmpty
                    ? "no input file matches any glob of the pipeline (relative globs are read from \(cwd)); check the paths, or run siyu from the folder the pipeline's paths start from. Nothing was done"
                    : "no input file matches any glob of the pipeline, but \(counting.count) file(s) counted until the last run; is the input folder missing or not mounted, or is siyu running from another directory (\(cwd))? Nothing was changed")
            }
            try checkMissingSources(globs, counting: counting)
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
                    // A workbook's parse (libxml2) is the slow side, not the landing: the next
                    // workbook parses at once, beside it, on the other core. A CSV file's parser
                    // starts the next when it has parsed its file (parsing and landing already
                    // keep both cores busy).
                    if Workbook.sniff(path: path) == .xlsx && Workbook.sniff(path: work[k + 1].0) == .xlsx { next.start() } else { parser.then(next) }
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

    /// The files a run takes, in ingest order (the file_id order of a rebuild): sources in
    /// pipeline order, each source's globs' matches deduplicated in delivery order
    /// (`Pipeline.inDeliveryOrder`); and each glob's matches (for the missing-source guards).
    /// `siyu _plan` lists the same walk.
    public static func walk(_ pipeline: Pipeline, logger: Logger) -> (work: [(String, SourceConfig)], globs: [(source: SourceConfig, glob: String, matched: [String])]) {
        var work: [(String, SourceConfig)] = []
        var globs: [(source: SourceConfig, glob: String, matched: [String])] = []
        for source in pipeline.sources {
            var matched: [String] = []
            for pattern in source.files {
                let m = Pipeline.matches(pattern)
                if m.isEmpty { logger.debug("no file matches this glob", metadata: ["source": "\(source.name)", "glob": "\(pattern)"]) }
                globs.append((source, pattern, m))
                matched += m
            }
            // One warning per source that finds nothing at all (a glob of a source that has other
            // files is often tomorrow's folder, not a mistake).
            if matched.isEmpty { logger.warning("no file matches any glob of this source", metadata: ["source": "\(source.name)", "globs": "\(source.files.joined(separator: " "))"]) }
            work += Pipeline.inDeliveryOrder(matched).map { ($0, source) }
        }
        return (work, globs)
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

    /// The files that count until now: the landed files the last ingest matched, and in a rebuild
    /// those of the warehouse it replaces (`Warehouse.previousFiles`).
    func countingFiles() throws -> [(source: String, path: String)] {
        try wh.db.prepare("SELECT source, path FROM raw_files WHERE status='landed' AND \(try wh.activeFiles())").rows { ($0.text(0), $0.text(1)) }
            + wh.previousFiles
    }

    /// A glob whose files counted until now and that matches nothing tonight stops the run (a
    /// typo in one glob, a renamed or unmounted folder must not drop a platform or a spend report
    /// from the report), and so does a file that counted and cannot be read now (a link to a share
    /// that is gone, permissions changed); unless the operator retires the source
    /// (`allow_missing = true`, `--allow-missing NAME`). Nothing is changed.
    func checkMissingSources(_ globs: [(source: SourceConfig, glob: String, matched: [String])], counting: [(source: String, path: String)]) throws {
        let retire = "If the source is really gone, run once with --allow-missing NAME (or set allow_missing = true in its [[source]]): its rows then leave the report"
        for (source, glob, matched) in globs where !source.allowMissing {
            let before = counting.filter { $0.source == source.name && fnmatch(glob, $0.path, 0) == 0 }
            if matched.isEmpty && !before.isEmpty {
                throw SiyuError.config(file: wh.pipeline.path, message: "source `\(source.name)` had \(before.count) file(s) counting until the last run from the glob \(glob), which matches no file now: \(Self.whyNoMatch(glob)) Nothing was changed. \(retire.replacingOccurrences(of: "NAME", with: source.name))")
            }
            let counted = Set(before.map(\.path))
            if let gone = matched.first(where: { counted.contains($0) && InputFile.problem($0) != nil }) {
                throw SiyuError.config(file: gone, message: "this file counted until the last run and is \(InputFile.problem(gone)!) Nothing was changed: restore it, or remove it from the folder to stop counting it")
            }
        }
        // A file that counted, is still there, and no glob of its source matches any more: a glob
        // was changed (a typo in one of several). A deleted or moved file stops counting (a warning).
        for source in wh.pipeline.sources where !source.allowMissing {
            let now = Set(globs.filter { $0.source.name == source.name }.flatMap(\.matched))
            if let stray = counting.first(where: { $0.source == source.name && !now.contains($0.path) && FileManager.default.fileExists(atPath: $0.path) }) {
                throw SiyuError.config(file: wh.pipeline.path, message: "source `\(source.name)`: \(stray.path) counted until the last run and is still there, but none of the source's globs (\(source.files.joined(separator: ", "))) matches it now: was a glob changed by mistake? Nothing was changed. \(retire.replacingOccurrences(of: "NAME", with: source.name))")
            }
        }
    }

    /// What a glob that matches nothing most likely means: its folder is missing or unreadable.
    static func whyNoMatch(_ glob: String) -> String {
        var dir = (glob as NSString).deletingLastPathComponent
        while dir.contains("*") || dir.contains("?") || dir.contains("[") { dir = (dir as NSString).deletingLastPathComponent }
        if dir.isEmpty { dir = "." }
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) || !isDir.boolValue {
            return "its folder \(dir) is not there (renamed, not mounted, or siyu runs from another directory: \(FileManager.default.currentDirectoryPath))."
        }
        if access(dir, R_OK | X_OK) != 0 { return "its folder \(dir) cannot be read (permission denied); give the user running siyu access." }
        return "its folder \(dir) holds no file that matches (a typo in the glob, or the files were moved)."
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
}
