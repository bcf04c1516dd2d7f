import ArgumentParser
import Foundation
import SiyuCore

@main
struct Siyu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "siyu",
        abstract: "私域 analytics: cohort repurchase, channel CPA and fan conversion across Tmall, JD and the WeChat micro-store.",
        discussion: "Stages run in order, each reading what the previous one left in the warehouse. `siyu run` runs them all.",
        version: SiyuCore.version,
        subcommands: [Run.self, Ingest.self, Clean.self, Join.self, Aggregate.self, Report.self, StatusCommand.self, Plan.self, CleanFile.self])
}
