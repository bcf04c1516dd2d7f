import Foundation
import Logging

/// The executor side of the Spark engine (`siyu _clean-file`, run by Spark through `RDD.pipe`):
/// siyu's own ingest and clean of one export file at a time, printed as `SparkRows` lines. All
/// format knowledge (decoding, signatures, quirks, quarantine, the file's days) is the embedded
/// engine's code, run on a one-file copy of the pipeline in a scratch warehouse; what only the
/// whole set of files can decide (re-deliveries, newest observation wins, the rule fields'
/// headers) is left to the job and the client.
public enum SparkExecutor {
    /// One file to clean: `task` (the plan's ingest order), the index of its `[[source]]`, its path
    /// as the plan lists it.
    public struct Task: Equatable { public var task: Int, sourceIndex: Int, path: String }

    /// A task line: `task<TAB>source_index<TAB>path` (the path escaped as in the plan).
    public static func parseTask(_ line: Substring) -> Task? {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard f.count == 3, let t = Int(f[0]), let s = Int(f[1]) else { return nil }
        return Task(task: t, sourceIndex: s, path: SparkPlan.unescape(f[2]))
    }

    /// A glob that matches exactly `path` (glob's special characters escaped).
    static func literalGlob(_ path: String) -> String {
        var out = ""
        for c in path {
            if c == "*" || c == "?" || c == "[" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Ingests and cleans `task`'s file alone (in a scratch warehouse under `scratch`) and hands
    /// each output line to `emit`. An error of siyu's (the file stops the run) becomes an `E` line.
    public static func run(_ task: Task, pipeline: Pipeline, now: Date, scratch: String, logger: Logger, emit: (String) -> Void) {
        let t = String(task.task)
        do {
            guard pipeline.sources.indices.contains(task.sourceIndex) else {
                throw SiyuError.config(file: pipeline.path, message: "the Spark plan names source #\(task.sourceIndex), which the pipeline does not have; was the pipeline file changed during the run?")
            }
            var p = pipeline
            for i in p.sources.indices { p.sources[i].files = i == task.sourceIndex ? [literalGlob(task.path)] : [] }
            let dir = (scratch as NSString).appendingPathComponent("task-\(task.task)-\(getpid())")
            try? FileManager.default.removeItem(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var quiet = logger
            quiet.logLevel = .error
            let reports: [StageReport]
            do {
                let wh = try Warehouse(pipeline: p, logger: quiet, path: (dir as NSString).appendingPathComponent("w.sqlite"))
                wh.scratch = true
                let runID = "spark-task-\(task.task)"
                let ingest = try IngestStage(wh).run(runID: runID)
                var clean = CleanStage(wh, now: now)
                clean.checksRuleFields = false   // the client checks them against every file's header
                reports = [ingest, try clean.run(runID: runID)]
                try dump(wh.db, task: t, emit: emit)
            }
            for r in reports {
                emit(["R", t, r.stage, String(r.rowsIn), String(r.rowsOut), String(r.quarantined), String(r.filesIngested), String(r.filesSkipped)].joined(separator: "\t"))
                for message in r.rejected { emit("J\t\(t)\t\(SparkPlan.escape(message))") }
            }
        } catch {
            emit("E\t\(t)\t\(SparkPlan.escape(ErrorText.describe(error)))")
        }
    }

    /// `H` lines for every table, then its rows as `D` lines in rowid order.
    static func dump(_ db: Database, task: String, emit: (String) -> Void) throws {
        for table in SparkRows.tables {
            let st = try db.prepare("SELECT * FROM \(table) ORDER BY rowid")
            emit((["H", table] + (0..<st.columnCount).map { st.columnName($0) }).joined(separator: "\t"))
            var n = 0
            while try st.step() {
                n += 1
                var line = "D\t\(task)\t\(table)\t\(n)"
                for c in 0..<st.columnCount { line += "\t" + SparkRows.encode(try SparkRows.value(st, c)) }
                emit(line)
            }
            st.reset()
        }
    }
}
