import ArgumentParser
import SiyuCore

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a CSV per output and one self-contained index.html.",
        discussion: "Files go to the pipeline file's output directory, each written to a temporary name and renamed.")

    @OptionGroup var options: CommonOptions
    @OptionGroup var output: OutputOption

    func run() throws {
        try runStages([.report], options: options, stage: StageOptions(output: output.output), name: "report")
    }
}
