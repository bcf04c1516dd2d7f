/// The metric definitions of ../shared/METRICS.md, one function per output. Pure: data in, printed
/// rows out. Per customer, purchase days are kept in flat arrays (CSR style), not dictionaries.
struct Metrics {
    let p: PeriodKind
    let asOf: Int
    let asOfPeriod: Int
    let windowDays: Int
    let loyalThreshold: Int
    let platforms: [String]
    let customers: [AggregateData.Customer]      // first purchase day <= as-of
    let fans: [AggregateData.Fan]                // first follow day <= as-of, customer re-indexed
    let spend: [AggregateData.Spend]             // spend day <= as-of
    /// Purchases of customer c (day <= as-of) are purchases[start[c]..<start[c + 1]], by day.
    let purchases: [AggregateData.Purchase]
    let start: [Int]
    /// Distinct purchase days of customer c are days[dayStart[c]..<dayStart[c + 1]], with their net.
    let days: [Int32]
    let dayNet: [Int]
    let dayStart: [Int]

    static let cohortColumns = ["cohort", "acquisition_platform", "period_offset", "cohort_customers", "active_customers",
                                "retention_rate", "repeat_customers", "cumulative_repeat_rate", "net_revenue", "partial"]
    static let periodColumns = ["period", "platform", "buyers", "new_buyers", "returning_buyers", "returning_share",
                                "repeat_buyers", "period_repurchase_rate", "net_revenue", "partial"]
    static let migrationColumns = ["acquisition_platform", "repurchase_platform", "acquired_customers", "customers_repurchasing_on", "share"]
    static let cpaColumns = ["period", "channel", "spend", "new_customers", "cpa", "first_order_revenue", "revenue_90d", "ltv_cac", "window_complete"]
    static let fanColumns = ["follow_period", "fan_channel", "fans", "already_customers", "prospects", "converted_7d", "converted_30d",
                             "converted_90d", "conversion_rate_30d", "repeat_fans", "loyal_fans", "median_days_to_first_order", "window_complete_30d"]
    static let liftColumns = ["cohort", "group", "customers", "repeat_customers_180d", "repeat_rate_180d", "window_complete"]
    static let summaryColumns = ["customer_key", "acquisition_platform", "first_purchase_day", "frequency", "recency", "T", "monetary_value", "is_fan"]

    static func emptyTables() -> [OutputTable] {
        [OutputTable(name: "cohort_repurchase", columns: cohortColumns), OutputTable(name: "repurchase_by_period", columns: periodColumns),
         OutputTable(name: "platform_migration", columns: migrationColumns), OutputTable(name: "channel_cpa", columns: cpaColumns),
         OutputTable(name: "fan_conversion", columns: fanColumns), OutputTable(name: "fan_lift", columns: liftColumns),
         OutputTable(name: "customer_summary", columns: summaryColumns)]
    }

    init(data: AggregateData, pipeline: Pipeline, asOf: Int) {
        p = pipeline.period
        self.asOf = asOf
        asOfPeriod = p.index(ofDay: asOf)
        windowDays = pipeline.windowDays
        loyalThreshold = pipeline.loyalThreshold
        // Customers whose first purchase day is on or before the as-of date, re-indexed densely.
        var newIndex = Array(repeating: -1, count: data.customers.count)
        var cs: [AggregateData.Customer] = []
        for (i, c) in data.customers.enumerated() where c.firstDay <= asOf {
            newIndex[i] = cs.count
            cs.append(c)
        }
        customers = cs
        // Counting sort of purchases by customer, then by day within a customer.
        var counts = Array(repeating: 0, count: cs.count + 1)
        var kept: [AggregateData.Purchase] = []
        kept.reserveCapacity(data.purchases.count)
        var used = Array(repeating: false, count: data.platforms.count)
        for var pu in data.purchases where Int(pu.day) <= asOf {
            let c = newIndex[Int(pu.customer)]
            guard c >= 0 else { continue }
            pu.customer = Int32(c)
            kept.append(pu)
            counts[c + 1] += 1
            used[Int(pu.platform)] = true
        }
        for i in 0..<cs.count { counts[i + 1] += counts[i] }
        start = counts
        var cursor = counts
        var sorted = kept
        for pu in kept {
            sorted[cursor[Int(pu.customer)]] = pu
            cursor[Int(pu.customer)] += 1
        }
        var ds: [Int32] = [], dn: [Int] = [], dStart = [0]
        ds.reserveCapacity(kept.count)
        dn.reserveCapacity(kept.count)
        for c in 0..<cs.count {
            sorted[counts[c]..<counts[c + 1]].sort { $0.day < $1.day }
            for pu in sorted[counts[c]..<counts[c + 1]] {
                if ds.count > dStart[c], ds[ds.count - 1] == pu.day { dn[dn.count - 1] += pu.net } else { ds.append(pu.day); dn.append(pu.net) }
            }
            dStart.append(ds.count)
        }
        purchases = sorted
        days = ds
        dayNet = dn
        dayStart = dStart
        // Platforms listed: those with a qualifying order up to the as-of date (indexes keep data's order).
        platforms = data.platforms
        self.usedPlatforms = used.enumerated().filter { $0.element }.map { $0.offset }
        fans = data.fans.filter { $0.followDay <= asOf }.map { f in
            var g = f
            g.customer = f.customer.flatMap { newIndex[$0] >= 0 ? newIndex[$0] : nil }
            return g
        }
        spend = data.spend.filter { $0.day <= asOf }
    }

    /// Indexes of the platforms listed in outputs, in name order.
    let usedPlatforms: [Int]

    func partial(_ period: Int) -> String { Fmt.bool(p.lastDay(period) > asOf) }
    var firstCohort: Int? { customers.map { p.index(ofDay: $0.firstDay) }.min() }
    func dayCount(_ c: Int) -> Int { dayStart[c + 1] - dayStart[c] }
    func day(_ c: Int, _ k: Int) -> Int { Int(days[dayStart[c] + k]) }

    // MARK: cohort_repurchase

    func cohortRepurchase() -> OutputTable {
        var t = OutputTable(name: "cohort_repurchase", columns: Self.cohortColumns)
        guard let first = firstCohort else { return t }
        let nCohorts = asOfPeriod - first + 1
        // Group 0 is `all`, group 1 + i is platform i. Per (group, cohort, offset).
        let groups = platforms.count + 1
        var members = Array(repeating: 0, count: groups * nCohorts)
        var active = Array(repeating: 0, count: groups * nCohorts * nCohorts)
        var net = Array(repeating: 0, count: groups * nCohorts * nCohorts)
        var secondAt = Array(repeating: 0, count: groups * nCohorts * nCohorts)
        for c in customers.indices {
            let cohort = p.index(ofDay: customers[c].firstDay) - first
            for g in [0, 1 + customers[c].platform] {
                members[g * nCohorts + cohort] += 1
                let base = (g * nCohorts + cohort) * nCohorts
                var lastK = -1
                for k in dayStart[c]..<dayStart[c + 1] {
                    let off = p.index(ofDay: Int(days[k])) - first - cohort
                    net[base + off] += dayNet[k]
                    if off != lastK { active[base + off] += 1; lastK = off }
                }
                if dayCount(c) >= 2 { secondAt[base + p.index(ofDay: day(c, 1)) - first - cohort] += 1 }
            }
        }
        for g in [0] + usedPlatforms.map({ $0 + 1 }) {
            let name = g == 0 ? "all" : platforms[g - 1]
            for cohort in 0..<nCohorts {
                let n = members[g * nCohorts + cohort]
                let base = (g * nCohorts + cohort) * nCohorts
                var repeatCum = 0
                for k in 0..<(nCohorts - cohort) {
                    repeatCum += secondAt[base + k]
                    let act = k == 0 ? n : active[base + k]
                    t.rows.append([p.label(first + cohort), name, String(k), String(n), String(act), Fmt.rate(act, n),
                                   String(repeatCum), Fmt.rate(repeatCum, n), Fmt.yuan(net[base + k]), partial(first + cohort + k)])
                }
            }
        }
        return t
    }

    // MARK: repurchase_by_period

    func repurchaseByPeriod() -> OutputTable {
        var t = OutputTable(name: "repurchase_by_period", columns: Self.periodColumns)
        guard let first = firstCohort else { return t }
        let nPeriods = asOfPeriod - first + 1
        let groups = platforms.count + 1
        var buyers = Array(repeating: 0, count: groups * nPeriods), new = buyers, repeaters = buyers, net = buyers
        var periodDays = Array(repeating: 0, count: groups), periodNet = periodDays, lastDay = periodDays
        for c in customers.indices {
            let firstPeriod = p.index(ofDay: customers[c].firstDay) - first
            var i = start[c]
            while i < start[c + 1] {
                // One period of this customer's purchases at a time (they are sorted by day).
                let period = p.index(ofDay: Int(purchases[i].day)) - first
                for g in 0..<groups { periodDays[g] = 0; periodNet[g] = 0; lastDay[g] = Int.min }
                while i < start[c + 1], p.index(ofDay: Int(purchases[i].day)) - first == period {
                    let pu = purchases[i]
                    for g in [0, 1 + Int(pu.platform)] {
                        if lastDay[g] != Int(pu.day) { periodDays[g] += 1; lastDay[g] = Int(pu.day) }
                        periodNet[g] += pu.net
                    }
                    i += 1
                }
                for g in 0..<groups where periodDays[g] > 0 {
                    let cell = g * nPeriods + period
                    buyers[cell] += 1
                    if period == firstPeriod { new[cell] += 1 }
                    if periodDays[g] >= 2 { repeaters[cell] += 1 }
                    net[cell] += periodNet[g]
                }
            }
        }
        for period in 0..<nPeriods {
            for g in [0] + usedPlatforms.map({ $0 + 1 }) {
                let cell = g * nPeriods + period
                let returning = buyers[cell] - new[cell]
                t.rows.append([p.label(first + period), g == 0 ? "all" : platforms[g - 1], String(buyers[cell]), String(new[cell]), String(returning),
                               Fmt.rate(returning, buyers[cell]), String(repeaters[cell]), Fmt.rate(repeaters[cell], buyers[cell]),
                               Fmt.yuan(net[cell]), partial(first + period)])
            }
        }
        return t
    }

    // MARK: platform_migration

    func platformMigration() -> OutputTable {
        var t = OutputTable(name: "platform_migration", columns: Self.migrationColumns)
        let groups = platforms.count + 1
        // [acquisition group][repurchase column]: column 0 is `any`, 1 + i is platform i.
        var acquired = Array(repeating: 0, count: groups)
        var counts = Array(repeating: 0, count: groups * groups)
        var on = Array(repeating: false, count: platforms.count)
        for c in customers.indices {
            let firstDay = customers[c].firstDay
            for i in on.indices { on[i] = false }
            for i in start[c]..<start[c + 1] where Int(purchases[i].day) > firstDay { on[Int(purchases[i].platform)] = true }
            for g in [0, 1 + customers[c].platform] {
                acquired[g] += 1
                if dayCount(c) >= 2 { counts[g * groups] += 1 }
                for pl in on.indices where on[pl] { counts[g * groups + 1 + pl] += 1 }
            }
        }
        for g in [0] + usedPlatforms.map({ $0 + 1 }) {
            for r in [0] + usedPlatforms.map({ $0 + 1 }) {
                let n = counts[g * groups + r]
                t.rows.append([g == 0 ? "all" : platforms[g - 1], r == 0 ? "any" : platforms[r - 1], String(acquired[g]), String(n), Fmt.rate(n, acquired[g])])
            }
        }
        return t
    }

    // MARK: channel_cpa

    func channelCPA() -> OutputTable {
        var t = OutputTable(name: "channel_cpa", columns: Self.cpaColumns)
        let starts = customers.map { p.index(ofDay: $0.firstDay) } + spend.map { p.index(ofDay: $0.day) }
        guard let first = starts.min() else { return t }
        let channels = Set(customers.map(\.channel)).union(spend.map(\.channel)).sorted()
        var channelIndex: [String: Int] = [:]
        for (i, c) in channels.enumerated() { channelIndex[c] = i }
        let nPeriods = asOfPeriod - first + 1
        struct Cell { var spend = 0, new = 0, firstRev = 0, rev = 0 }
        var cells = Array(repeating: Cell(), count: channels.count * nPeriods)
        for s in spend { cells[channelIndex[s.channel]! * nPeriods + p.index(ofDay: s.day) - first].spend += s.fen }
        for c in customers.indices {
            let cu = customers[c]
            let cell = channelIndex[cu.channel]! * nPeriods + p.index(ofDay: cu.firstDay) - first
            cells[cell].new += 1
            cells[cell].firstRev += dayNet[dayStart[c]]
            for k in dayStart[c]..<dayStart[c + 1] where Int(days[k]) - cu.firstDay < windowDays { cells[cell].rev += dayNet[k] }
        }
        func row(_ period: Int, _ name: String, _ c: Cell) -> [String] {
            [p.label(period), name, Fmt.yuan(c.spend), String(c.new), Fmt.yuanPer(c.spend, c.new), Fmt.yuan(c.firstRev),
             Fmt.yuan(c.rev), c.new == 0 || c.spend == 0 ? "" : Fmt.rate(c.rev, c.spend),
             Fmt.bool(p.lastDay(period) + windowDays - 1 <= asOf)]
        }
        for period in 0..<nPeriods {
            var blended = Cell()
            for (ci, ch) in channels.enumerated() {
                let c = cells[ci * nPeriods + period]
                blended.spend += c.spend; blended.new += c.new; blended.firstRev += c.firstRev; blended.rev += c.rev
                t.rows.append(row(first + period, ch, c))
            }
            t.rows.append(row(first + period, "blended", blended))
        }
        return t
    }

    // MARK: fan_conversion

    /// Purchase days of customer c on or after `day`.
    func daysOnOrAfter(_ c: Int, _ day: Int) -> Int {
        var lo = dayStart[c], hi = dayStart[c + 1]
        while lo < hi { let mid = (lo + hi) / 2; if Int(days[mid]) < day { lo = mid + 1 } else { hi = mid } }
        return dayStart[c + 1] - lo
    }

    func fanConversion() -> OutputTable {
        var t = OutputTable(name: "fan_conversion", columns: Self.fanColumns)
        guard let first = fans.map({ p.index(ofDay: $0.followDay) }).min() else { return t }
        let channels = ["all"] + Set(fans.map(\.channel)).sorted()
        var channelIndex: [String: Int] = [:]
        for (i, c) in channels.enumerated() { channelIndex[c] = i }
        let nPeriods = asOfPeriod - first + 1
        struct Cell { var fans = 0, already = 0, c7 = 0, c30 = 0, c90 = 0, repeatFans = 0, loyal = 0; var toFirst: [Int] = [] }
        var cells = Array(repeating: Cell(), count: channels.count * nPeriods)
        for f in fans {
            let k = p.index(ofDay: f.followDay) - first
            for ci in [0, channelIndex[f.channel]!] {
                let i = ci * nPeriods + k
                cells[i].fans += 1
                guard let c = f.customer else { continue }
                let fd = customers[c].firstDay
                if fd < f.followDay {
                    cells[i].already += 1
                } else {
                    let lag = fd - f.followDay
                    if lag < 7 { cells[i].c7 += 1 }
                    if lag < 30 { cells[i].c30 += 1 }
                    if lag < 90 { cells[i].c90 += 1 }
                    cells[i].toFirst.append(lag)
                }
                let after = daysOnOrAfter(c, f.followDay)
                if after >= 2 { cells[i].repeatFans += 1 }
                if after >= loyalThreshold { cells[i].loyal += 1 }
            }
        }
        for period in 0..<nPeriods {
            for (ci, ch) in channels.enumerated() {
                let c = cells[ci * nPeriods + period]
                let prospects = c.fans - c.already
                t.rows.append([p.label(first + period), ch, String(c.fans), String(c.already), String(prospects), String(c.c7), String(c.c30),
                               String(c.c90), Fmt.rate(c.c30, prospects), String(c.repeatFans), String(c.loyal), Fmt.median(c.toFirst),
                               Fmt.bool(p.lastDay(first + period) + 29 <= asOf)])
            }
        }
        return t
    }

    // MARK: fan_lift

    func isFanForLift(_ c: Int) -> Bool {
        guard let f = customers[c].firstFollowDay else { return false }
        return f <= (dayCount(c) >= 2 ? day(c, 1) : asOf)
    }

    func fanLift() -> OutputTable {
        var t = OutputTable(name: "fan_lift", columns: Self.liftColumns)
        guard let first = firstCohort else { return t }
        let nCohorts = asOfPeriod - first + 1
        var n = Array(repeating: 0, count: nCohorts * 2), r = n   // index cohort * 2 + (fan ? 0 : 1)
        for c in customers.indices {
            let i = (p.index(ofDay: customers[c].firstDay) - first) * 2 + (isFanForLift(c) ? 0 : 1)
            n[i] += 1
            if dayCount(c) >= 2 && day(c, 1) - day(c, 0) <= 179 { r[i] += 1 }
        }
        for cohort in 0..<nCohorts {
            for (g, group) in ["fan", "non_fan"].enumerated() {
                let i = cohort * 2 + g
                t.rows.append([p.label(first + cohort), group, String(n[i]), String(r[i]), Fmt.rate(r[i], n[i]),
                               Fmt.bool(p.lastDay(first + cohort) + 179 <= asOf)])
            }
        }
        return t
    }

    // MARK: customer_summary

    func customerSummary() -> OutputTable {
        var t = OutputTable(name: "customer_summary", columns: Self.summaryColumns)
        t.rows.reserveCapacity(customers.count)
        for c in customers.indices {
            let n = dayCount(c)
            var repeatNet = 0
            for k in (dayStart[c] + 1)..<dayStart[c + 1] { repeatNet += dayNet[k] }
            let isFan = (customers[c].firstFollowDay ?? Int.max) <= asOf
            t.rows.append([customers[c].key, platforms[customers[c].platform], CivilDate.iso(day(c, 0)), String(n - 1), String(day(c, n - 1) - day(c, 0)),
                           String(asOf - day(c, 0)), n == 1 ? "0.00" : Fmt.yuanPer(repeatNet, n - 1), Fmt.bool(isFan)])
        }
        return t
    }
}
