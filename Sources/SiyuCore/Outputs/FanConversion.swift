/// fan_conversion.csv: one row per (follow period, fan channel or `all`).
///
/// Keeps per (channel, follow period) the fans, those already customers, the prospects converted
/// within 7, 30 and 90 days, the repeat and loyal fans, and the days to the first order of each
/// converted prospect (as counts per number of days, for the median). A component adds each of its
/// fans that followed on or before the as-of date.
struct FanConversion: TableOutput {
    static let name = "fan_conversion"
    static let columns = ["follow_period", "fan_channel", "fans", "already_customers", "prospects", "converted_7d", "converted_30d",
                          "converted_90d", "conversion_rate_30d", "repeat_fans", "loyal_fans", "median_days_to_first_order", "window_complete_30d"]

    struct Cell: Codable {
        var fans = 0, already = 0, c7 = 0, c30 = 0, c90 = 0, repeatFans = 0, loyal = 0
        var lags: [Int: Int] = [:]   // days from follow to first purchase, of converted prospects
    }
    /// (fan channel, or -1 for `all`; follow period)
    var cells: [Pair: Cell] = [:]

    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) {
        for fan in c.fans where fan.followDay <= context.asOf {
            let k = context.period.index(ofDay: fan.followDay)
            var after = 0
            for d in c.days.reversed() { if d >= fan.followDay { after += 1 } else { break } }
            for ch in [-1, fan.channel] {
                cells[Pair(ch, k), default: Cell()].add(sign: s, customerFirstDay: c.customer?.firstDay, followDay: fan.followDay,
                                                        daysAfter: after, loyalThreshold: context.loyalThreshold)
            }
        }
    }

    func table(_ context: OutputContext) -> OutputTable {
        var t = OutputTable(name: Self.name, columns: Self.columns)
        guard let firstFan = cells.filter({ $0.key.a == -1 && $0.value.fans > 0 }).map(\.key.b).min() else { return t }
        var fansByChannel: [Int: Int] = [:]
        for (k, c) in cells where k.a >= 0 { fansByChannel[k.a, default: 0] += c.fans }
        let channels = context.population.channels
        let named = fansByChannel.filter { $0.value > 0 }.map { (channels[$0.key], $0.key) }.sorted { $0.0 < $1.0 }
        for period in firstFan...context.asOfPeriod {
            for (name, ch) in [("all", -1)] + named {
                let c = cells[Pair(ch, period)] ?? Cell()
                let prospects = c.fans - c.already
                var lags: [Int] = []
                for (lag, n) in c.lags where n > 0 { lags.append(contentsOf: repeatElement(lag, count: n)) }
                t.rows.append([context.label(period), name, String(c.fans), String(c.already), String(prospects), String(c.c7), String(c.c30),
                               String(c.c90), Fmt.rate(c.c30, prospects), String(c.repeatFans), String(c.loyal), Fmt.median(lags),
                               context.windowComplete(period, days: 30)])
            }
        }
        return t
    }
}

extension FanConversion.Cell {
    mutating func add(sign s: Int, customerFirstDay: Int?, followDay: Int, daysAfter: Int, loyalThreshold: Int) {
        fans += s
        guard let fd = customerFirstDay else { return }
        if fd < followDay {
            already += s
        } else {
            let lag = fd - followDay
            if lag < 7 { c7 += s }
            if lag < 30 { c30 += s }
            if lag < 90 { c90 += s }
            let v = lags[lag, default: 0] + s
            if v == 0 { lags[lag] = nil } else { lags[lag] = v }
        }
        if daysAfter >= 2 { repeatFans += s }
        if daysAfter >= loyalThreshold { loyal += s }
    }
}
