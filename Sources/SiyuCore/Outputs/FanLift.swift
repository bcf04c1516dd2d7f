/// fan_lift.csv: one row per (cohort, group `fan` | `non_fan`).
///
/// Keeps per (cohort, group) the customers and those with a second purchase day within days 1–179
/// of the first. A customer is a fan when the first follow is on or before their second purchase
/// day, or on or before the as-of date for those with none.
struct FanLift: TableOutput {
    static let name = "fan_lift"
    static let columns = ["cohort", "group", "customers", "repeat_customers_180d", "repeat_rate_180d", "window_complete"]

    struct Cell: Codable { var n = 0, r = 0 }
    /// (cohort period, 0 = fan | 1 = non_fan)
    var cells: [Pair: Cell] = [:]

    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) {
        guard let customer = c.customer else { return }
        let days = c.days
        let isFan = customer.firstFollowDay.map { $0 <= (days.count >= 2 ? days[1] : context.asOf) } ?? false
        cells[Pair(c.cohort, isFan ? 0 : 1), default: Cell()].add(sign: s, repeated: days.count >= 2 && days[1] - days[0] <= 179)
    }

    func table(_ context: OutputContext) -> OutputTable {
        var t = OutputTable(name: Self.name, columns: Self.columns)
        guard let first = context.population.firstCohort else { return t }
        for cohort in first...context.asOfPeriod {
            for (g, group) in ["fan", "non_fan"].enumerated() {
                let c = cells[Pair(cohort, g)] ?? Cell()
                t.rows.append([context.label(cohort), group, String(c.n), String(c.r), Fmt.rate(c.r, c.n),
                               context.windowComplete(cohort, days: 180)])
            }
        }
        return t
    }
}

extension FanLift.Cell {
    mutating func add(sign s: Int, repeated: Bool) {
        n += s
        if repeated { r += s }
    }
}
