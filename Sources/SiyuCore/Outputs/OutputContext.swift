/// What an output may read besides a component's facts, when adding and when printing: the as-of
/// date, the pipeline's period kind and windows, what all outputs share, and the warehouse.
struct OutputContext {
    let wh: Warehouse
    let asOf: Int
    let period: PeriodKind
    let windowDays: Int
    let loyalThreshold: Int
    let population: Population
    /// What the outputs of one publish share (the customer models, fitted once for three outputs).
    let shared = PublishShared()

    init(_ wh: Warehouse, asOf: Int, population: Population) {
        self.wh = wh
        self.asOf = asOf
        let p = wh.pipeline
        period = p.period
        windowDays = p.windowDays
        loyalThreshold = p.loyalThreshold
        self.population = population
    }

    // MARK: periods, as every table prints them

    var asOfPeriod: Int { period.index(ofDay: asOf) }
    func label(_ index: Int) -> String { period.label(index) }
    /// `partial`: the period ends after the as-of date.
    func partial(_ index: Int) -> String { Fmt.bool(period.lastDay(index) > asOf) }
    /// `window_complete`: a window of `days` days from the period's last day ends on or before the as-of date.
    func windowComplete(_ index: Int, days: Int) -> String { Fmt.bool(period.lastDay(index) + days - 1 <= asOf) }
}

/// Work one output of a publish does for others (`OutputContext.shared`).
final class PublishShared {
    var models: CustomerModels?
}
