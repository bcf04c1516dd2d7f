import ArgumentParser
import Foundation
import Logging
import SiyuCore

/// Hidden (`siyu _clean-file`): the Spark engine's executor command (docs/spark.md). Reads task
/// lines (`task<TAB>source_index<TAB>path`) on stdin, as `RDD.pipe` feeds them, and prints for
/// each file what siyu's own ingest and clean make of it (`SparkRows`).
struct CleanFile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_clean-file",
        abstract: "For the Spark engine: ingest and clean each file named on stdin alone; its rows as typed TSV on stdout.",
        shouldDisplay: false)

    @Option(name: .long, help: "Pipeline file (TOML), as the client read it.")
    var pipeline: String

    @Option(name: .long, help: "The run's instant (ISO 8601), the same for every file (the plan's `now`).")
    var now: String

    @Option(name: .long, help: "Folder the pipeline's relative paths start from (the client's working directory).")
    var cwd: String?

    @Option(name: .long, help: "Folder for the one-file scratch warehouses (default: the temporary folder).")
    var scratch: String?

    func run() throws {
        func fail(_ message: String) -> ArgumentParser.ExitCode {
            FileHandle.standardError.write(Data("siyu _clean-file: \(message)\n".utf8))
            return ArgumentParser.ExitCode(SiyuCore.ExitCode.usage.rawValue)
        }
        if let cwd, !FileManager.default.changeCurrentDirectoryPath(cwd) { throw fail("cannot enter --cwd \(cwd)") }
        guard let instant = Warehouse.instant(now) else { throw fail("--now must be an instant like 2026-01-05T10:00:00Z, not `\(now)`") }
        let p: Pipeline
        do { p = try Pipeline.load(path: pipeline) } catch let e as SiyuError { throw fail(e.description) }
        var logger = Logger(label: "siyu") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .error
        let scratchDir = scratch ?? NSTemporaryDirectory()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 17)
        func flush() { FileHandle.standardOutput.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
        while let line = readLine(strippingNewline: true) {
            if line.isEmpty { continue }
            guard let task = SparkExecutor.parseTask(line[...]) else { throw fail("not a task line (task, source index, path): \(line.prefix(200))") }
            SparkExecutor.run(task, pipeline: p, now: instant, scratch: scratchDir, logger: logger) { out in
                buffer.append(contentsOf: out.utf8)
                buffer.append(0x0A)
                if buffer.count >= 1 << 16 { flush() }
            }
        }
        flush()
    }
}
