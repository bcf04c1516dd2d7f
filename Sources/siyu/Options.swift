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

    @Option(name: .long, help: "Output directory for the CSV files and index.html; overrides the pipeline's `output`.")
    var output: String?

    @Option(name: .long, help: "As-of date (YYYY-MM-DD): the last day covered. Default: the pipeline's as_of, else the latest purchase day.")
    var asOf: String?

    @Flag(name: .long, help: "Only warnings and errors on stderr (for cron).")
    var quiet = false

    @Flag(name: .long, help: "Debug logging.")
    var verbose = false

    func makeLogger() -> Logger {
        var logger = Logger(label: "siyu") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = quiet ? .warning : (verbose ? .debug : .info)
        return logger
    }

    func runner() throws -> Runner {
        let p: Pipeline
        do { p = try Pipeline.load(path: pipeline) } catch let e as SiyuError {
            FileHandle.standardError.write(Data("siyu: \(e.description)\n".utf8))
            throw ExitCode(SiyuCore.ExitCode.usage.rawValue)
        }
        if !p.saltGiven {
            makeLogger().warning("the pipeline file sets no salt: customer keys use the default salt and are easier to reverse; set [pipeline] salt = \"…\" and keep it secret", metadata: ["pipeline": "\(pipeline)"])
        }
        var pl = p
        if let output { pl.output = output }
        var day: Int?
        if let a = asOf {
            guard let d = CivilDate.parseDay(a) else { throw ValidationError("--as-of must be a date like 2025-12-31, not `\(a)`") }
            day = d
        }
        return Runner(pipeline: pl, logger: makeLogger(), asOf: day, warehousePath: warehouse)
    }
}


/// Runs stages and maps the outcome to an exit code; errors go to stderr as one clear line.
func runStages(_ stages: [Stage], options: CommonOptions, full: Bool = false, name: String) throws {
    let runner = try options.runner()
    if options.asOf != nil, !stages.contains(.aggregate) {
        runner.logger.warning("--as-of only changes the aggregate stage (and `run`); it is ignored here")
    }
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
    } catch let e as SiyuError {
        FileHandle.standardError.write(Data("siyu \(name): \(e.description)\n".utf8))
        throw ExitCode(SiyuCore.ExitCode.failure.rawValue)
    } catch let e as SQLiteError {
        FileHandle.standardError.write(Data("siyu \(name): \(e.description)\n".utf8))
        throw ExitCode(SiyuCore.ExitCode.failure.rawValue)
    } catch let e as DecodeError {
        FileHandle.standardError.write(Data("siyu \(name): \(e.description)\n".utf8))
        throw ExitCode(SiyuCore.ExitCode.failure.rawValue)
    }
}
