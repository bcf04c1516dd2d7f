import ArgumentParser
import Foundation
import SiyuCore

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the warehouse holds: files, row counts per table, each stage's last run, the as-of date.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let runner = try options.runner()
        let path = options.warehouse ?? runner.pipeline.warehouse
        guard FileManager.default.fileExists(atPath: path) else {
            print("warehouse \(path) does not exist yet; run `siyu run --pipeline \(options.pipeline)`")
            return
        }
        // Read-only, so that it answers at once while a run holds the warehouse.
        if let holder = RunLock.holder(warehouse: path) { print("a run is in progress (lock \(path).lock): \(holder)\n") }
        print(try Status.render(runner.openWarehouse(readOnly: true)), terminator: "")
    }
}
