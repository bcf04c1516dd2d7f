import ArgumentParser
import Foundation
import Logging
import SiyuCore

/// Flags every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Pipeline file (TOML), e.g. pipelines/sample.toml.")
    var pipeline: String = "pipelines/sample.toml"

    @Option(name: .long, help: "Warehouse file; overrides the pipeline's `warehouse`.")
    var warehouse: String?

    @Flag(name: .long, help: "Only warnings and errors on stderr (for cron).")
    var quiet = false

    @Flag(name: .long, help: "Debug logging.")
    var verbose = false

    func makeLogger() -> Logger {
        var logger = Logger(label: "siyu") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = quiet ? .warning : (verbose ? .debug : .info)
        return logger
    }

    /// The runner for the pipeline file. `forRun`: a stage will write (a salt that is no secret is
    /// refused then). The stage options are those the subcommand has.
    func runner(_ stage: StageOptions = StageOptions(), forRun: Bool = true) throws -> Runner {
        func usage(_ message: String) -> ArgumentParser.ExitCode {
            FileHandle.standardError.write(Data("siyu: \(message)\n".utf8))
            return ArgumentParser.ExitCode(SiyuCore.ExitCode.usage.rawValue)
        }
        var p: Pipeline
        do { p = try Pipeline.load(path: pipeline) } catch let e as SiyuError { throw usage(e.description) }
        if forRun, let problem = p.saltProblem { throw usage(SiyuError.config(file: pipeline, message: problem).description) }
        for name in stage.allowMissing {
            guard let i = p.sources.firstIndex(where: { $0.name == name }) else {
                throw usage("--allow-missing \(name): the pipeline has no source named `\(name)`; its sources are \(p.sources.map(\.name).joined(separator: ", "))")
            }
            p.sources[i].allowMissing = true
        }
        if let output = stage.output { p.output = output }
        if let warehouse, warehouse.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw usage("--warehouse is empty; give the warehouse file") }
        if let problem = ReportFolder.problem(p.output) { throw usage("\(stage.output != nil ? "--output" : pipeline): \(problem)") }
        var day: Int?
        if let a = stage.asOf {
            guard let d = CivilDate.parseDay(a) else { throw usage("--as-of must be a date like 2025-12-31, not `\(a)`") }
            day = d
        }
        if let d = day ?? p.asOf, let problem = Pipeline.asOfProblem(d, zone: p.timeZone) {
            throw usage("\(day != nil ? "--as-of" : "\(pipeline): as_of") \(CivilDate.iso(d)): \(problem)")
        }
        if let e = stage.engine {
            guard let kind = EngineKind(rawValue: e) else { throw usage("--engine must be embedded or spark, not `\(e)`") }
            p.engine = kind
        }
        if let m = stage.master {
            if m.trimmingCharacters(in: .whitespaces).isEmpty { throw usage("--master is empty; give local[2], spark://host:7077, yarn or k8s://…") }
            p.spark.master = m
            if stage.engine == nil { p.engine = .spark }
        }
        return Runner(pipeline: p, logger: makeLogger(), asOf: day, warehousePath: warehouse)
    }
}

/// Flags only some stages use: each subcommand declares those it has.
struct StageOptions {
    var output: String?
    var asOf: String?
    var allowMissing: [String] = []
    var engine: String?
    var master: String?
}

/// `--output` (report, run).
struct OutputOption: ParsableArguments {
    @Option(name: .long, help: "Output directory for the CSV files and index.html; overrides the pipeline's `output`.")
    var output: String?
}

/// `--as-of` (aggregate, run).
struct AsOfOption: ParsableArguments {
    @Option(name: .long, help: "As-of date (YYYY-MM-DD): the last day covered, not after today. Default: the pipeline's as_of, else the latest purchase day.")
    var asOf: String?
}

/// `--allow-missing` (ingest, run).
struct AllowMissingOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Let this source's globs match no file although its files counted before (a source being retired: its rows leave the report). Repeat for several.", valueName: "source"))
    var allowMissing: [String] = []
}

/// Runs stages and maps the outcome to an exit code; errors go to stderr as one clear line.
func runStages(_ stages: [Stage], options: CommonOptions, stage: StageOptions = StageOptions(), full: Bool = false, name: String) throws {
    let runner = try options.runner(stage)
    do {
        let result = try runner.run(stages, full: full, command: ([ "siyu" ] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        let quarantined = result.reports.reduce(0) { $0 + $1.quarantined }
        let rejected = result.reports.reduce(0) { $0 + $1.rejected.count }
        if stages.contains(.report), !options.quiet {
            print("report: \(runner.pipeline.output)/index.html")
        }
        if quarantined + rejected + result.unreported > 0 {
            let earlier = result.unreported > 0 ? ", \(result.unreported) more landed by an earlier run that did not finish," : ""
            FileHandle.standardError.write(Data("siyu \(name): finished with \(quarantined) quarantined row(s)\(earlier) and \(rejected) rejected file(s); see data_quality.csv\n".utf8))
            throw ExitCode(result.exit.rawValue)
        }
    } catch let e as ArgumentParser.ExitCode {
        throw e
    } catch {
        // Every failure in words: the stage, the path and what to do (SiyuError, SQLiteError,
        // DecodeError, StageFailure describe themselves; Foundation errors are put into words).
        FileHandle.standardError.write(Data("siyu \(name): \(ErrorText.describe(error))\n".utf8))
        throw ExitCode(SiyuCore.ExitCode.failure.rawValue)
    }
}
