/// Every output, in the order of METRICS.md (the report's order). Adding an output is adding its
/// file and a line here.
enum Outputs {
    static var all: [any Output.Type] {
        [CohortRepurchase.self,
         RepurchaseByPeriod.self,
         PlatformMigration.self,
         ChannelCPA.self,
         FanConversion.self,
         FanLift.self,
         CustomerSummary.self,
         ProductRepurchase.self,
         DataQuality.self]
    }

    static var names: [String] { all.map { $0.name } }
}
