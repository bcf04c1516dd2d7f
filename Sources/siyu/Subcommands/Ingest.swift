import ArgumentParser
import SiyuCore

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Land every input file as exported, row by row, in raw_* tables.",
        discussion: "Reads the files the pipeline's [[source]] globs match, recognises each format by its header signature, decodes GBK/GB18030 or UTF-8 (with or without BOM), parses with libcsv and lands each row with its file, sha256 and line number. A file already ingested (same sha256) is skipped. Rows with the wrong number of cells are quarantined with their reason.")

    @OptionGroup var options: CommonOptions
    @OptionGroup var missing: AllowMissingOption

    func run() throws {
        try runStages([.ingest], options: options, stage: StageOptions(allowMissing: missing.allowMissing), name: "ingest")
    }
}
