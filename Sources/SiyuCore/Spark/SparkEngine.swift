import Foundation
import Logging

/// `siyu run --engine spark` (docs/spark.md): ingest, clean and the identity closure of a rebuild
/// run as a Spark job; join, aggregate and report then run here, unchanged, on what the job
/// chose. The job (spark/siyu_job.py) is submitted with spark-submit to `[spark] master`:
///
/// 1. here: the plan (`SparkPlan`: files in ingest order, re-delivered copies, observation ranks,
///    the run's instant) and the missing-source guards, as `siyu ingest` has them;
/// 2. Spark executors: `siyu _clean-file` on every file (siyu's own ingest and clean);
/// 3. Spark: newest observation wins, item lines, order counts, the identity closure;
/// 4. here: the staged rows loaded into the rebuild's warehouse in the order a full clean writes
///    them (file ids, rowids and `seq` as a rebuild gives them), the rule fields checked against
///    every file's header, the closure's links kept in `spark_links` for the join.
///
/// A rebuild's warehouse is built beside the old one (`Runner.run`) and the report published only
/// when every stage has finished: a failed job changes nothing.
public struct SparkEngine {
    let wh: Warehouse
    let settings: SparkSettings

    public struct Result {
        public var ingest: StageReport
        public var clean: StageReport
        /// The job's summary.json (application id, master, phases' seconds, closure rounds).
        public var summary: [String: Any]
    }

    public init(_ wh: Warehouse, settings: SparkSettings) {
        self.wh = wh
        self.settings = settings
    }

    public func run(runID: String, now: Date = Date()) throws -> Result {
        let started = Date()
        let p = wh.pipeline
        let ingestStage = IngestStage(wh)
        try ingestStage.checkMissingSources(IngestStage.walk(p, logger: wh.logger).globs, counting: try ingestStage.countingFiles())
        let plan = try SparkPlan.make(p, now: now, logger: wh.logger)
        let staging = wh.db.path + ".spark"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let planPath = (staging as NSString).appendingPathComponent("plan.tsv")
        try plan.tsv().write(toFile: planPath, atomically: false, encoding: .utf8)
        wh.logger.info("spark: submitting", metadata: ["master": "\(settings.master)", "files": "\(plan.files.count)"])
        try submit(planPath: planPath, staging: staging)
        let jobSeconds = Date().timeIntervalSince(started)
        var summary = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("summary.json"))))) as? [String: Any] ?? [:]

        let loadStarted = Date()
        var loader = try SparkLoad(wh: wh, plan: plan, staging: staging, runID: runID, now: now)
        try wh.bulk { try wh.db.transaction { try loader.load() } }
        let loadSeconds = Date().timeIntervalSince(loadStarted)
        var ingest = loader.ingest, clean = loader.clean
        ingest.seconds = jobSeconds
        clean.seconds = loadSeconds
        summary["job_seconds"] = (jobSeconds * 1000).rounded() / 1000
        summary["load_seconds"] = (loadSeconds * 1000).rounded() / 1000
        wh.logger.info("spark: job done", metadata: ["application": "\(summary["application_id"] ?? "?")", "seconds": "\(String(format: "%.1f", jobSeconds))",
                                                     "load.seconds": "\(String(format: "%.1f", loadSeconds))"])
        return Result(ingest: ingest, clean: clean, summary: summary)
    }

    // MARK: submitting

    /// Runs spark-submit; its output goes to `<staging>/spark.log`, whose last lines are the error
    /// when the job fails.
    func submit(planPath: String, staging: String) throws {
        let job = try Self.jobScript()
        let cwd = FileManager.default.currentDirectoryPath
        let pipeline = wh.pipeline.path.hasPrefix("/") ? wh.pipeline.path : (cwd as NSString).appendingPathComponent(wh.pipeline.path)
        var args = ["--master", settings.master, "--driver-memory", settings.driverMemory, "--name", "siyu \(wh.pipeline.name)",
                    "--conf", "spark.ui.showConsoleProgress=false"]
        for (k, v) in settings.conf.sorted(by: { $0.key < $1.key }) { args += ["--conf", "\(k)=\(v)"] }
        args += [job, "--plan", planPath, "--siyu", Self.executable(), "--pipeline", pipeline, "--cwd", cwd, "--staging", staging,
                 "--partitions", String(settings.partitions)]
        let submit = try Self.sparkSubmit(settings.submit)
        let logPath = (staging as NSString).appendingPathComponent("spark.log")
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: submit)
        process.arguments = args
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw SiyuError.config(file: submit, message: "spark-submit could not be started (\(error.localizedDescription)); install Spark with `make spark-deps` or set [spark] submit")
        }
        process.waitUntilExit()
        try? log.close()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").map(String.init)
            let interesting = lines.filter { $0.contains("Error") || $0.contains("Exception") || $0.contains("siyu") }.suffix(6)
            let tail = (interesting.isEmpty ? Array(lines.suffix(6)) : Array(interesting)).joined(separator: "\n  ")
            throw SiyuError.config(file: "spark", message: "the Spark job failed (spark-submit exit \(process.terminationStatus), master \(settings.master)); nothing was changed and the previous report stays. Its last words:\n  \(tail)")
        }
    }

    /// The running siyu binary (the executors run the same one).
    static func executable() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let a = CommandLine.arguments[0]
        return a.hasPrefix("/") ? a : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(a)
    }

    /// spark/siyu_job.py: `SIYU_SPARK_JOB`, else beside a SwiftPM build of siyu (`.build/<config>/siyu`
    /// → `spark/`), else an installed copy (`<prefix>/share/siyu/spark/`), else `./spark/`.
    static func jobScript() throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let j = env["SIYU_SPARK_JOB"], !j.isEmpty { return j }
        let bin = (executable() as NSString).deletingLastPathComponent
        let candidates = [(bin as NSString).appendingPathComponent("../../spark/siyu_job.py"),
                          (bin as NSString).appendingPathComponent("../../../spark/siyu_job.py"),
                          (bin as NSString).appendingPathComponent("../share/siyu/spark/siyu_job.py"),
                          (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("spark/siyu_job.py")]
        for c in candidates where FileManager.default.fileExists(atPath: c) { return (c as NSString).standardizingPath }
        throw SiyuError.config(file: "spark/siyu_job.py", message: "the Spark job script was not found beside siyu (\(bin)); set SIYU_SPARK_JOB to its path")
    }

    /// `[spark] submit`, else spark-submit on PATH, else the one inside the pyspark package.
    static func sparkSubmit(_ configured: String) throws -> String {
        if !configured.isEmpty { return configured }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let c = (String(dir) as NSString).appendingPathComponent("spark-submit")
            if FileManager.default.isExecutableFile(atPath: c) { return c }
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), 'bin', 'spark-submit'))"]
        let out = Pipe()
        probe.standardOutput = out
        probe.standardError = FileHandle.nullDevice
        if (try? probe.run()) != nil {
            probe.waitUntilExit()
            let path = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if probe.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw SiyuError.config(file: "spark-submit", message: "Spark is not installed: no spark-submit on PATH and no pyspark for python3; run `make spark-deps` (a JDK 17 from Debian and pyspark from PyPI) or set [spark] submit")
    }
}
