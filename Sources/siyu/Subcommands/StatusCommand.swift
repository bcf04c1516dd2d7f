import ArgumentParser
import Foundation
import Logging
import SiyuCore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the warehouse holds: files, row counts per table, each stage's last run, the as-of date, the published report.")

    @Option(name: .long, help: "Pipeline file (TOML), e.g. pipelines/sample.toml.")
    var pipeline: String = "pipelines/sample.toml"

    @Option(name: .long, help: "Warehouse file; overrides the pipeline's `warehouse`.")
    var warehouse: String?

    func run() throws {
        let p: Pipeline
        do { p = try Pipeline.load(path: pipeline) } catch let e as SiyuError {
            FileHandle.standardError.write(Data("siyu: \(e.description)\n".utf8))
            throw ExitCode(SiyuCore.ExitCode.usage.rawValue)
        }
        let path = warehouse ?? p.warehouse
        guard FileManager.default.fileExists(atPath: path) else {
            print("warehouse \(path) does not exist yet; run `siyu run --pipeline \(pipeline)`")
            return
        }
        // Read-only, so that it answers at once while a run holds the warehouse.
        if let holder = RunLock.holder(warehouse: path) { print("a run is in progress (lock \(RunLock.lockPath(warehouse: path))): \(holder)\n") }
        var logger = Logger(label: "siyu") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let runner = Runner(pipeline: p, logger: logger, warehousePath: warehouse)
        do {
            print(try Status.render(runner.openWarehouse(readOnly: true)), terminator: "")
        } catch let e as SiyuError {
            FileHandle.standardError.write(Data("siyu status: \(e.description)\n".utf8))
            throw ExitCode(SiyuCore.ExitCode.failure.rawValue)
        } catch let e as SQLiteError {
            FileHandle.standardError.write(Data("siyu status: \(e.description)\n".utf8))
            throw ExitCode(SiyuCore.ExitCode.failure.rawValue)
        }
    }
}
