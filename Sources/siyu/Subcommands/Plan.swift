import ArgumentParser
import Foundation
import Logging
import SiyuCore

/// Hidden (`siyu _plan`): the plan of a Spark rebuild, for spark/siyu_job.py; see docs/spark.md.
struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_plan",
        abstract: "For the Spark engine: the files of a rebuild in ingest order, their re-deliveries and observation ranks, and the run's day, as TSV on stdout.",
        shouldDisplay: false)

    @Option(name: .long, help: "Pipeline file (TOML), e.g. pipelines/sample.toml.")
    var pipeline: String = "pipelines/sample.toml"

    @Option(name: .long, help: "The run's instant (ISO 8601, e.g. 2026-01-05T10:00:00Z); default: now.")
    var now: String?

    func run() throws {
        func fail(_ message: String, _ code: SiyuCore.ExitCode) -> ArgumentParser.ExitCode {
            FileHandle.standardError.write(Data("siyu _plan: \(message)\n".utf8))
            return ArgumentParser.ExitCode(code.rawValue)
        }
        let p: Pipeline
        do { p = try Pipeline.load(path: pipeline) } catch let e as SiyuError { throw fail(e.description, .usage) }
        var instant = Date()
        if let now {
            guard let d = Warehouse.instant(now) else { throw fail("--now must be an instant like 2026-01-05T10:00:00Z, not `\(now)`", .usage) }
            instant = d
        }
        var logger = Logger(label: "siyu") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        do {
            FileHandle.standardOutput.write(Data(try SparkPlan.make(p, now: instant, logger: logger).tsv().utf8))
        } catch {
            throw fail(ErrorText.describe(error), .failure)
        }
    }
}
