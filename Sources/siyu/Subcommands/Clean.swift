import ArgumentParser
import SiyuCore

struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Type and normalize raw rows into stg_* tables.",
        discussion: "One row per order (item lines folded, order-level amounts once), money in integer fen, times in the business time zone, status mapped to paid/unpaid/closed/refunded, refunds subtracted, phones normalized, newest observation wins. Followers and spend rows (with their channel) too. Bad values are quarantined with file, line, raw text and reason.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        try runStages([.clean], options: options, name: "clean")
    }
}
