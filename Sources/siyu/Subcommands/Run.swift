import ArgumentParser
import SiyuCore

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every stage in order: ingest, clean, join, aggregate, report.",
        discussion: "Prints the path of index.html. Exit codes: 0 success, 2 finished with quarantined rows or rejected files, 1 failure, 64 usage error.")

    @OptionGroup var options: CommonOptions

    @Flag(name: .long, help: "Rebuild from scratch: delete the warehouse first and ingest every file again.")
    var full = false

    func run() throws {
        try runStages(Stage.allCases, options: options, full: full, name: "run")
    }
}
