import Foundation
import Logging

public enum Stage: String, CaseIterable, Sendable {
    case ingest, clean, join, aggregate, report
}

/// Exit codes, documented in the README.
public enum ExitCode: Int32 {
    case success = 0
    case failure = 1
    case quarantined = 2      // finished, but rows were quarantined or files rejected
    case usage = 64
}

/// Runs stages against a warehouse and records the run manifest.
public struct Runner {
    public let pipeline: Pipeline
    public let logger: Logger
    public let asOf: Int?
    public let warehousePath: String?
    /// Which engine runs ingest, clean and the identity closure (`siyu run --engine`, `[pipeline] engine`).
    public var engine: EngineKind

    public init(pipeline: Pipeline, logger: Logger, asOf: Int? = nil, warehousePath: String? = nil) {
        self.pipeline = pipeline
        self.logger = logger
        self.asOf = asOf
        self.warehousePath = warehousePath
        engine = pipeline.engine
    }

    public func openWarehouse(readOnly: Bool = false) throws -> Warehouse {
        try Warehouse(pipeline: pipeline, logger: logger, path: warehousePath, readOnly: readOnly)
    }

    public static func newRunID() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd'T'HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date()) + "-\(getpid())"
    }

    /// Runs the stages in order; returns their reports. `full` rebuilds the warehouse from scratch.
    public func run(_ stages: [Stage], full fullAsked: Bool = false, command: String) throws -> (reports: [StageReport], exit: ExitCode, unreported: Int) {
        let path = warehousePath ?? pipeline.warehouse
        var full = fullAsked
        if engine == .spark && stages != Stage.allCases {
            // A Spark run is a rebuild of every stage (docs/spark.md); one stage by hand runs on
            // the embedded engine (the guard below keeps it off a Spark-built warehouse's stg_*).
            var embedded = self
            embedded.engine = .embedded
            return try embedded.run(stages, full: fullAsked, command: command)
        }

        // Before anything is created beside it (the lock): a path that is no warehouse is left alone.
        if path.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw SiyuError.config(file: pipeline.path, message: "the warehouse path is empty; set warehouse = \"build/warehouse.sqlite\" (or --warehouse FILE)")
        }
        if let problem = Database.notADatabase(Self.resolvingLinks(path)) { throw SiyuError.config(file: path, message: problem) }
        let lock = try RunLock(warehouse: path, command: command)
        defer { withExtendedLifetime(lock) {} }
        if let stale = lock.staleHolder {
            logger.warning("a previous run did not finish; its lock was stale and is taken over", metadata: ["previous": "\(stale)"])
        }
        // A warehouse reached through a symbolic link (say, on a bigger disk) is rebuilt where it
        // really is, and the link stays.
        let real = Self.resolvingLinks(path)
        let target = real + ".rebuild"
        func remove(_ p: String, _ suffixes: [String]) { for s in suffixes { try? FileManager.default.removeItem(atPath: p + s) } }
        // A rebuild killed half-way left its file (and a Spark run its staging folder) beside the
        // warehouse: no run is using them (we hold the lock).
        remove(target, ["", "-wal", "-shm", ".spark"])
        if engine == .spark {
            full = true
        } else if !full, FileManager.default.fileExists(atPath: path),
                  (try? Warehouse(pipeline: pipeline, logger: logger, path: path, readOnly: true).meta("engine")) == "spark" {
            // stg_* of a Spark run were chosen by the job and its links are in spark_links: an
            // embedded ingest or clean cannot add to them; join, aggregate and report can run.
            if stages == Stage.allCases {
                logger.info("the warehouse was built by the Spark engine: the embedded engine rebuilds it in full")
                full = true
            } else if stages.contains(.ingest) || stages.contains(.clean) {
                throw SiyuError.config(file: path, message: "this warehouse was built by the Spark engine; `siyu \(stages[0].rawValue)` cannot add to it. Run `siyu run` (the embedded engine rebuilds it in full) or `siyu run --engine spark`")
            }
        }
        guard full else {
            return try execute(stages, in: Warehouse(pipeline: pipeline, logger: logger, path: path), command: command, warehouse: path)
        }
        // A full rebuild is built beside the warehouse and takes its place only when it has
        // finished: killed or failed half-way, it leaves the old warehouse as it was.
        let result: (reports: [StageReport], exit: ExitCode, unreported: Int)
        do {
            // The warehouse object lives only inside this call: closed (and checkpointed) when it returns.
            let scratch = try Warehouse(pipeline: pipeline, logger: logger, path: target)
            scratch.scratch = true
            scratch.previousFiles = Warehouse.countingFiles(at: path, pipeline: pipeline, logger: logger)
            result = try execute(stages, in: scratch, command: command,
                                 warehouse: path, previous: FileManager.default.fileExists(atPath: path) ? path : nil)
        } catch {
            remove(target, ["", "-wal", "-shm"])
            throw error
        }
        // The stages of a rebuild write without fsync (a scratch file): its bytes reach the disk
        // before it takes the warehouse's name.
        let fd = open(target, O_RDONLY)
        if fd < 0 || fsync(fd) != 0 {
            if fd >= 0 { close(fd) }
            remove(target, ["", "-wal", "-shm"])
            throw SiyuError.input(file: target, line: nil, column: nil, message: "the rebuilt warehouse could not be written to disk (errno \(errno)); the old warehouse is unchanged; check the disk and run again")
        }
        close(fd)
        remove(real, ["-wal", "-shm"])
        if rename(target, real) != 0 {
            throw SiyuError.input(file: real, line: nil, column: nil, message: "the rebuilt warehouse \(target) could not replace \(real) (errno \(errno)); move it there by hand")
        }
        return result
    }

    /// `path` with symbolic links resolved (itself when it is not a link or does not exist yet).
    static func resolvingLinks(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// The stages on one open warehouse. `previous`: the warehouse a rebuild replaces (its run
    /// history is carried over; a failure is recorded there).
    func execute(_ stages: [Stage], in wh: Warehouse, command: String, warehouse path: String,
                 previous: String? = nil) throws -> (reports: [StageReport], exit: ExitCode, unreported: Int) {
        wh.progress = Progress.forTerminal(quiet: logger.logLevel > .info)
        let runID = Self.newRunID()
        wh.logger[metadataKey: "run"] = "\(runID)"
        let started = Date()
        var reports: [StageReport] = []
        var current: Stage?
        // Rows quarantined by stages that committed in a run that did not finish (killed, or
        // failed later): that run never said exit 2, so this one does, once.
        let unreported = try pendingQuarantine(wh)
        var manifestText: String?
        var sparkClean: StageReport?
        var sparkSummary: [String: Any]?
        func exitCode(_ rs: [StageReport]) -> ExitCode { rs.reduce(unreported) { $0 + $1.quarantined + $1.rejected.count } > 0 ? .quarantined : .success }
        func manifest(_ rs: [StageReport], failure: String? = nil, on: Warehouse = wh) throws -> String {
            try manifestJSON(wh: on, runID: runID, started: started, command: command, reports: rs, exit: failure == nil ? exitCode(rs) : .failure,
                             unreported: unreported, failure: failure, warehouse: path, spark: sparkSummary)
        }
        do {
            for stage in stages {
                current = stage
                wh.logger[metadataKey: "stage"] = "\(stage.rawValue)"
                let r: StageReport
                switch stage {
                case .ingest where engine == .spark:
                    let result = try SparkEngine(wh, settings: pipeline.spark).run(runID: runID)
                    (r, sparkClean, sparkSummary) = (result.ingest, result.clean, result.summary)
                case .clean where sparkClean != nil: r = sparkClean!
                case .ingest: r = try IngestStage(wh).run(runID: runID)
                case .clean: r = try CleanStage(wh).run(runID: runID)
                case .join: r = try JoinStage(wh).run(runID: runID)
                case .aggregate: r = try AggregateStage(wh, asOf: asOf).run(runID: runID)
                case .report:
                    // manifest.json is renamed into place with the report's files, so that it always
                    // describes the report beside it.
                    r = try ReportStage(wh).run(runID: runID) { done in
                        let text = try manifest(reports + [done])
                        manifestText = text
                        return [("manifest.json", text + "\n")]
                    }
                }
                wh.logger.info("stage done", metadata: ["rows.in": "\(r.rowsIn)", "rows.out": "\(r.rowsOut)", "rows.quarantined": "\(r.quarantined)",
                                                       "seconds": "\(String(format: "%.2f", r.seconds))"])
                reports.append(r)
            }
        } catch {
            // A failed run is recorded too (siyu_runs, shown by status); manifest.json beside the
            // reports keeps describing the reports that are there.
            let failure = "\(current?.rawValue ?? "?"): \(ErrorText.describe(error))"
            if let record = try? previous.map({ try Warehouse(pipeline: pipeline, logger: logger, path: $0) }) ?? wh,
               let text = try? manifest(reports, failure: failure, on: record) {
                try? record.db.transaction { try recordRun(record, runID: runID, started: started, command: command, exit: .failure, manifest: text) }
            }
            // The error names its stage: a SQLite error gets it added, a system error is put into words.
            let stageName = current?.rawValue ?? "?"
            switch error {
            case var e as SQLiteError: e.stage = stageName; throw e
            case is SiyuError, is DecodeError, is StageFailure: throw error
            default: throw StageFailure(stage: stageName, underlying: error)
            }
        }
        wh.logger[metadataKey: "stage"] = nil
        let exit = exitCode(reports)
        if let previous {
            let quoted = previous.replacingOccurrences(of: "'", with: "''")
            do {
                try wh.db.execute("ATTACH DATABASE '\(quoted)' AS previous")
                try? wh.db.execute("INSERT OR IGNORE INTO siyu_runs SELECT * FROM previous.siyu_runs")
                try wh.db.execute("DETACH DATABASE previous")
            } catch {
                wh.logger.warning("the run history of the replaced warehouse could not be carried over", metadata: ["error": "\(error)"])
            }
        }
        let text = try manifestText ?? manifest(reports)
        // The run's record and "these quarantined rows have been reported" commit together.
        try wh.db.transaction {
            try wh.setMeta("pending_quarantine", "0")
            try recordRun(wh, runID: runID, started: started, command: command, exit: exit, manifest: text)
        }
        return (reports, exit, unreported)
    }

    func recordRun(_ wh: Warehouse, runID: String, started: Date, command: String, exit: ExitCode, manifest: String) throws {
        try wh.db.prepare("INSERT OR REPLACE INTO siyu_runs VALUES(?,?,?,?,?,?)")
            .run([.text(runID), .text(Warehouse.timestamp(started)), .text(Warehouse.timestamp(Date())), .text(command), .int(Int(exit.rawValue)), .text(manifest)])
    }

    /// Rows quarantined by an earlier run whose end was never recorded (`Warehouse.notePendingQuarantine`).
    func pendingQuarantine(_ wh: Warehouse) throws -> Int {
        let n = Int(try wh.meta("pending_quarantine") ?? "0") ?? 0
        if n > 0 {
            wh.logger.warning("rows quarantined by an earlier run that did not finish", metadata: ["rows.quarantined": "\(n)"])
        }
        return n
    }

    func manifestJSON(wh: Warehouse, runID: String, started: Date, command: String, reports: [StageReport], exit: ExitCode,
                      unreported: Int = 0, failure: String? = nil, warehouse: String? = nil, spark: [String: Any]? = nil) throws -> String {
        // Each stage's own summary line (full or incremental, what it touched), as `siyu status` shows it.
        let detail = try wh.db.prepare("SELECT detail FROM siyu_stages WHERE stage=? AND run_id=?")
        let stages: [[String: Any]] = try reports.map {
            ["stage": $0.stage, "seconds": ($0.seconds * 1000).rounded() / 1000, "rows_in": $0.rowsIn, "rows_out": $0.rowsOut,
             "rows_quarantined": $0.quarantined, "files_ingested": $0.filesIngested, "files_skipped": $0.filesSkipped,
             "files_rejected": $0.rejected, "detail": try detail.rows([.text($0.stage), .text(runID)]) { $0.text(0) }.first ?? ""]
        }
        var manifest: [String: Any] = [
            "run_id": runID, "command": command, "started_at": Warehouse.timestamp(started), "finished_at": Warehouse.timestamp(Date()),
            "pipeline": pipeline.path, "warehouse": warehouse ?? wh.db.path, "as_of": (try wh.meta("as_of")) ?? "", "exit_code": Int(exit.rawValue), "stages": stages,
        ]
        if unreported > 0 { manifest["rows_quarantined_by_an_unfinished_run"] = unreported }
        if let failure { manifest["error"] = failure }
        manifest["engine"] = engine.rawValue
        if engine == .spark {
            var job = spark ?? [:]
            job["master"] = job["master"] ?? pipeline.spark.master
            manifest["spark"] = job
        }
        let data = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// siyu's version (`siyu --version`, manifest.json).
public let version = "0.11.0"
