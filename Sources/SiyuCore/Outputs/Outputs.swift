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
         ModelFitTable.self,
         CustomerPredictions.self,
         PredictionCheck.self,
         DataQuality.self]
    }

    /// The customer models' outputs, left out when `[predictions] enabled = false`.
    static let models: Set<String> = [ModelFitTable.name, CustomerPredictions.name, PredictionCheck.name]

    /// The outputs a pipeline makes.
    static func enabled(_ p: Pipeline) -> [any Output.Type] {
        p.predictions.enabled ? all : all.filter { !models.contains($0.name) }
    }

    static var names: [String] { all.map { $0.name } }
}
