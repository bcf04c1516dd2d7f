/// cohort_repurchase.csv: one row per (cohort, acquisition platform or `all`, period offset).
///
/// Keeps per (group, cohort) the customers, and per offset those active, those whose second purchase
/// day falls in it, and the net revenue. Repeat customers are cumulative in the table but kept per
/// offset, so that a later as-of date does not change what a component contributed.
struct CohortRepurchase: TableOutput {
    static let name = "cohort_repurchase"
    static let columns = ["cohort", "acquisition_platform", "period_offset", "cohort_customers", "active_customers",
                          "retention_rate", "repeat_customers", "cumulative_repeat_rate", "net_revenue", "partial"]

    struct Cell: Codable {
        var members = 0
        var active: [Int] = [], secondAt: [Int] = [], net: [Int] = []
    }
    /// (group, cohort period): group 0 is `all`, 1 + i is platform i.
    var cells: [Pair: Cell] = [:]

    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) {
        for g in c.acquisitionGroups {
            cells[Pair(g, c.cohort), default: Cell()].add(sign: s, cohort: c.cohort, days: c.days, dayNet: c.dayNet, p: context.period)
        }
    }

    func table(_ context: OutputContext) -> OutputTable {
        var t = OutputTable(name: Self.name, columns: Self.columns)
        guard let first = context.population.firstCohort else { return t }
        let asOfPeriod = context.asOfPeriod
        for (name, g) in context.population.groupsPrinted {
            for cohort in first...asOfPeriod {
                let cell = cells[Pair(g, cohort)] ?? Cell()
                let n = cell.members
                var repeatCum = 0
                for k in 0...(asOfPeriod - cohort) {
                    repeatCum += k < cell.secondAt.count ? cell.secondAt[k] : 0
                    let act = k == 0 ? n : (k < cell.active.count ? cell.active[k] : 0)
                    let net = k < cell.net.count ? cell.net[k] : 0
                    t.rows.append([context.label(cohort), name, String(k), String(n), String(act), Fmt.rate(act, n),
                                   String(repeatCum), Fmt.rate(repeatCum, n), Fmt.yuan(net), context.partial(cohort + k)])
                }
            }
        }
        return t
    }
}

extension CohortRepurchase.Cell {
    mutating func add(sign s: Int, cohort: Int, days: [Int], dayNet: [Int], p: PeriodKind) {
        members += s
        var lastOff = -1
        for k in days.indices {
            let off = p.index(ofDay: days[k]) - cohort
            bump(&net, off, s * dayNet[k])
            if off != lastOff { bump(&active, off, s); lastOff = off }
        }
        if days.count >= 2 { bump(&secondAt, p.index(ofDay: days[1]) - cohort, s) }
    }
}
