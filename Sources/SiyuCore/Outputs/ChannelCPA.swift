/// channel_cpa.csv: one row per (period, acquisition channel), plus `blended` per period.
///
/// Keeps per (channel, cohort period) the new customers, their first-day revenue and their revenue
/// over the window (`window_days`, days 0–89 by default), and how many of them came back within
/// that window (a second purchase day on days 1–89): `repeat_customers` and
/// `cost_per_repeat_customer` = spend / repeat_customers, after the METRICS.md columns (which
/// channel's customers are cheapest per repeat buyer). Spend is not summed per component: it is
/// read from stg_spend when the table is printed.
struct ChannelCPA: TableOutput {
    static let name = "channel_cpa"
    static let columns = ["period", "channel", "spend", "new_customers", "cpa", "first_order_revenue", "revenue_90d", "ltv_cac", "window_complete",
                          "repeat_customers", "cost_per_repeat_customer"]

    struct Cell: Codable { var new = 0, firstRev = 0, rev = 0, repeaters = 0 }
    /// (channel, cohort period)
    var cells: [Pair: Cell] = [:]

    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) {
        guard let customer = c.customer else { return }
        var windowNet = 0
        for k in c.days.indices where c.days[k] - customer.firstDay < context.windowDays { windowNet += c.dayNet[k] }
        let repeated = c.days.count > 1 && c.days[1] - customer.firstDay < context.windowDays
        cells[Pair(customer.channel, c.cohort), default: Cell()].add(sign: s, firstRev: c.dayNet[0], rev: windowNet, repeated: repeated)
    }

    func table(_ context: OutputContext) throws -> OutputTable {
        var t = OutputTable(name: Self.name, columns: Self.columns)
        let p = context.period
        let spend = try context.wh.db.prepare("SELECT day, channel, spend_fen FROM stg_spend WHERE day <= ?").rows([.int(context.asOf)]) {
            (day: $0.int(0), channel: $0.text(1), fen: $0.int(2))
        }
        let spendStarts = spend.map { p.index(ofDay: $0.day) }
        guard let firstCPA = ([context.population.firstCohort].compactMap { $0 } + spendStarts).min() else { return t }
        var spendCells: [String: [Int: Int]] = [:]
        for s in spend { spendCells[s.channel, default: [:]][p.index(ofDay: s.day), default: 0] += s.fen }
        let channels = context.population.channels
        var idx: [String: Int] = [:]
        for (i, c) in channels.names.enumerated() { idx[c] = i }
        let names = printed(spendChannels: spendCells.keys, channels)
        for period in firstCPA...context.asOfPeriod {
            var blended = Cell(), blendedSpend = 0
            for name in names {
                let c = idx[name].flatMap { cells[Pair($0, period)] } ?? Cell()
                let sp = spendCells[name]?[period] ?? 0
                blended.new += c.new; blended.firstRev += c.firstRev; blended.rev += c.rev; blended.repeaters += c.repeaters; blendedSpend += sp
                t.rows.append(row(period, name, sp, c, context))
            }
            t.rows.append(row(period, "blended", blendedSpend, blended, context))
        }
        return t
    }

    /// The channels printed: those with new customers and those with spend, by name.
    func printed(spendChannels: Dictionary<String, [Int: Int]>.Keys, _ channels: NameRegistry) -> [String] {
        var newByChannel: [Int: Int] = [:]
        for (k, c) in cells { newByChannel[k.a, default: 0] += c.new }
        let customerChannels = newByChannel.filter { $0.value > 0 }.map { channels[$0.key] }
        return Set(customerChannels).union(spendChannels).sorted()
    }

    func row(_ period: Int, _ name: String, _ spend: Int, _ c: Cell, _ context: OutputContext) -> [String] {
        [context.label(period), name, Fmt.yuan(spend), String(c.new), Fmt.yuanPer(spend, c.new), Fmt.yuan(c.firstRev),
         Fmt.yuan(c.rev), c.new == 0 || spend == 0 ? "" : Fmt.rate(c.rev, spend),
         context.windowComplete(period, days: context.windowDays), String(c.repeaters), Fmt.yuanPer(spend, c.repeaters)]
    }
}

extension ChannelCPA.Cell {
    mutating func add(sign s: Int, firstRev f: Int, rev r: Int, repeated: Bool) {
        new += s
        firstRev += s * f
        rev += s * r
        if repeated { repeaters += s }
    }
}
