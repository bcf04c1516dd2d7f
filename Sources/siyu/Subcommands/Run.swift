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

    @Option(name: .long, help: ArgumentHelp("embedded (SQLite on this machine, the default) or spark: ingest, clean and the identity closure as an Apache Spark job, always a rebuild (docs/spark.md). Overrides [pipeline] engine.", valueName: "engine"))
    var engine: String?

    @Option(name: .long, help: ArgumentHelp("Spark master for --engine spark: local[2], spark://host:7077, yarn, k8s://…; overrides [spark] master (and implies --engine spark).", valueName: "url"))
    var master: String?

    @Flag(name: .long, help: "Rebuild from scratch: ingest every file again into a new warehouse beside the old one, which it replaces when every stage has finished.")
    var full = false

    func run() throws {
        try runStages(Stage.allCases, options: options, stage: StageOptions(output: output.output, asOf: asOf.asOf, allowMissing: missing.allowMissing, engine: engine, master: master), full: full, name: "run")
    }
}
