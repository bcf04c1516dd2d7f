import ArgumentParser
import SiyuCore

struct Join: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Link customers across platforms and fans.",
        discussion: "Builds the identity graph (platform account, full mobile number, unionid, openid), gives each customer a salted opaque customer_key, and finds the first purchase, acquisition platform and channel, and each fan's first follow.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        try runStages([.join], options: options, name: "join")
    }
}
