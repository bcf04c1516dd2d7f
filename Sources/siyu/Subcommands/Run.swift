import ArgumentParser
import SiyuCore

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every stage in order: ingest, clean, join, aggregate, report.",
        discussion: "Prints the path of index.html. Exit codes: 0 success, 2 finished with quarantined rows or rejected files, 1 failure, 64 usage error.")

    @OptionGroup var options: CommonOptions
    @OptionGroup var output: OutputOption
    @OptionGroup var asOf: AsOfOption
    @OptionGroup var missing: AllowMissingOption

    @Flag(name: .long, help: "Rebuild from scratch: ingest every file again into a new warehouse beside the old one, which it replaces when every stage has finished.")
    var full = false

    func run() throws {
        try runStages(Stage.allCases, options: options, stage: StageOptions(output: output.output, asOf: asOf.asOf, allowMissing: missing.allowMissing), full: full, name: "run")
    }
}
