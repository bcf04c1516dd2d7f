/// repurchase_by_period.csv: one row per (period, platform or `all`).
///
/// Keeps per (group, period) the buyers, the new ones among them, those with two or more purchase
/// days in the period, and the net revenue. A component adds to each period it bought in.
struct RepurchaseByPeriod: TableOutput {
    static let name = "repurchase_by_period"
    static let columns = ["period", "platform", "buyers", "new_buyers", "returning_buyers", "returning_share",
                          "repeat_buyers", "period_repurchase_rate", "net_revenue", "partial"]

    struct Cell: Codable { var buyers = 0, new = 0, repeaters = 0, net = 0 }
    /// (group, period): group 0 is `all`, 1 + i is platform i (the platform of the purchase).
    var cells: [Pair: Cell] = [:]

    /// One period of purchases at a time (they are sorted by day).
    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) {
        guard c.customer != nil else { return }
        let ps = c.purchases, p = context.period
        var i = ps.startIndex
        let groups = context.population.platforms.names.count + 1
        var periodDays = Array(repeating: 0, count: groups), periodNet = periodDays
        var lastDay = Array(repeating: Int.min, count: groups)
        while i < ps.endIndex {
            let period = p.index(ofDay: Int(ps[i].day))
            for g in periodDays.indices { periodDays[g] = 0; periodNet[g] = 0; lastDay[g] = Int.min }
            while i < ps.endIndex, p.index(ofDay: Int(ps[i].day)) == period {
                let pu = ps[i]
                for g in [0, 1 + Int(pu.platform)] {
                    if lastDay[g] != Int(pu.day) { periodDays[g] += 1; lastDay[g] = Int(pu.day) }
                    periodNet[g] += pu.net
                }
                i += 1
            }
            for g in periodDays.indices where periodDays[g] > 0 {
                cells[Pair(g, period), default: Cell()].add(sign: s, isNew: period == c.cohort, repeated: periodDays[g] >= 2, net: periodNet[g])
            }
        }
    }

    func table(_ context: OutputContext) -> OutputTable {
        var t = OutputTable(name: Self.name, columns: Self.columns)
        guard let first = context.population.firstCohort else { return t }
        for period in first...context.asOfPeriod {
            for (name, g) in context.population.groupsPrinted {
                let c = cells[Pair(g, period)] ?? Cell()
                let returning = c.buyers - c.new
                t.rows.append([context.label(period), name, String(c.buyers), String(c.new), String(returning),
                               Fmt.rate(returning, c.buyers), String(c.repeaters), Fmt.rate(c.repeaters, c.buyers),
                               Fmt.yuan(c.net), context.partial(period)])
            }
        }
        return t
    }
}

extension RepurchaseByPeriod.Cell {
    mutating func add(sign s: Int, isNew: Bool, repeated: Bool, net n: Int) {
        buyers += s
        if isNew { new += s }
        if repeated { repeaters += s }
        net += s * n
    }
}
