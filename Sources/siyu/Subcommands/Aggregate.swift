import ArgumentParser
import SiyuCore

struct Aggregate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute every output table of METRICS.md into out_* tables.",
        discussion: "cohort_repurchase, repurchase_by_period, platform_migration, channel_cpa, fan_conversion, fan_lift, customer_summary, product_repurchase and data_quality, as of --as-of (default: the latest purchase day).")

    @OptionGroup var options: CommonOptions
    @OptionGroup var asOf: AsOfOption

    func run() throws {
        try runStages([.aggregate], options: options, stage: StageOptions(asOf: asOf.asOf), name: "aggregate")
    }
}
