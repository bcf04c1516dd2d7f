/// The metric definitions of ../shared/METRICS.md, one function per output. Pure: data in, printed rows out.
struct Metrics {
    let p: PeriodKind
    let asOf: Int
    let asOfPeriod: Int
    let windowDays: Int
    let loyalThreshold: Int
    let customers: [AggregateData.Customer]      // first purchase day <= as-of
    let fans: [AggregateData.Fan]                // first follow day <= as-of
    let spend: [AggregateData.Spend]             // spend day <= as-of
    /// Per customer: distinct purchase days ascending, net per day, and per platform the same.
    let days: [[Int]]
    let dayNet: [[Int: Int]]
    let platformDays: [[String: [Int: Int]]]    // platform -> day -> net
    let platforms: [String]
    let customerIndex: [Int: Int]                // index in AggregateData -> index here

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
        var idx: [Int: Int] = [:]
        var cs: [AggregateData.Customer] = []
        for (i, c) in data.customers.enumerated() where c.firstDay <= asOf {
            idx[i] = cs.count
            cs.append(c)
        }
        customers = cs
        customerIndex = idx
        var dn = Array(repeating: [Int: Int](), count: cs.count)
        var pd = Array(repeating: [String: [Int: Int]](), count: cs.count)
        var plats = Set<String>()
        for pu in data.purchases where pu.day <= asOf {
            guard let c = idx[pu.customer] else { continue }
            dn[c][pu.day, default: 0] += pu.net
            pd[c][pu.platform, default: [:]][pu.day, default: 0] += pu.net
            plats.insert(pu.platform)
        }
        dayNet = dn
        platformDays = pd
        days = dn.map { $0.keys.sorted() }
        platforms = plats.sorted()
        fans = data.fans.filter { $0.followDay <= asOf }
        spend = data.spend.filter { $0.day <= asOf }
    }

    func partial(_ period: Int) -> String { Fmt.bool(p.lastDay(period) > asOf) }
    var firstCohort: Int? { customers.map { p.index(ofDay: $0.firstDay) }.min() }

    // MARK: cohort_repurchase

    func cohortRepurchase() -> OutputTable {
        var t = OutputTable(name: "cohort_repurchase", columns: Self.cohortColumns)
        guard let first = firstCohort else { return t }
        for platform in ["all"] + platforms {
            for cohort in first...asOfPeriod {
                let members = customers.indices.filter {
                    p.index(ofDay: customers[$0].firstDay) == cohort && (platform == "all" || customers[$0].platform == platform)
                }
                let span = asOfPeriod - cohort
                var active = Array(repeating: 0, count: span + 1)
                var net = Array(repeating: 0, count: span + 1)
                var secondAt = Array(repeating: 0, count: span + 1)
                for c in members {
                    var seen = Set<Int>()
                    for d in days[c] {
                        let k = p.index(ofDay: d) - cohort
                        net[k] += dayNet[c][d]!
                        if seen.insert(k).inserted { active[k] += 1 }
                    }
                    if days[c].count >= 2 { secondAt[p.index(ofDay: days[c][1]) - cohort] += 1 }
                }
                var repeatCum = 0
                for k in 0...span {
                    repeatCum += secondAt[k]
                    let n = members.count
                    let act = k == 0 ? n : active[k]
                    t.rows.append([p.label(cohort), platform, String(k), String(n), String(act), Fmt.rate(act, n),
                                   String(repeatCum), Fmt.rate(repeatCum, n), Fmt.yuan(net[k]), partial(cohort + k)])
                }
            }
        }
        return t
    }

    // MARK: repurchase_by_period

    func repurchaseByPeriod() -> OutputTable {
        var t = OutputTable(name: "repurchase_by_period", columns: Self.periodColumns)
        guard let first = firstCohort else { return t }
        struct Cell { var buyers = 0, new = 0, repeatBuyers = 0, net = 0 }
        var cells: [String: [Int: Cell]] = [:]
        for c in customers.indices {
            let firstPeriod = p.index(ofDay: customers[c].firstDay)
            var groups: [(String, [Int: Int])] = [("all", dayNet[c])]
            for (pl, dn) in platformDays[c] { groups.append((pl, dn)) }
            for (pl, dn) in groups {
                var byPeriod: [Int: (days: Int, net: Int)] = [:]
                for (d, v) in dn {
                    let k = p.index(ofDay: d)
                    byPeriod[k, default: (0, 0)].days += 1
                    byPeriod[k, default: (0, 0)].net += v
                }
                for (k, v) in byPeriod {
                    var cell = cells[pl, default: [:]][k, default: Cell()]
                    cell.buyers += 1
                    if k == firstPeriod { cell.new += 1 }
                    if v.days >= 2 { cell.repeatBuyers += 1 }
                    cell.net += v.net
                    cells[pl, default: [:]][k] = cell
                }
            }
        }
        for period in first...asOfPeriod {
            for pl in ["all"] + platforms {
                let c = cells[pl]?[period] ?? Cell()
                let returning = c.buyers - c.new
                t.rows.append([p.label(period), pl, String(c.buyers), String(c.new), String(returning), Fmt.rate(returning, c.buyers),
                               String(c.repeatBuyers), Fmt.rate(c.repeatBuyers, c.buyers), Fmt.yuan(c.net), partial(period)])
            }
        }
        return t
    }

    // MARK: platform_migration

    func platformMigration() -> OutputTable {
        var t = OutputTable(name: "platform_migration", columns: Self.migrationColumns)
        for acq in ["all"] + platforms {
            let members = customers.indices.filter { acq == "all" || customers[$0].platform == acq }
            for rep in ["any"] + platforms {
                var n = 0
                for c in members {
                    let firstDay = customers[c].firstDay
                    if rep == "any" {
                        if days[c].count >= 2 { n += 1 }
                    } else if let dn = platformDays[c][rep], dn.keys.contains(where: { $0 > firstDay }) {
                        n += 1
                    }
                }
                t.rows.append([acq, rep, String(members.count), String(n), Fmt.rate(n, members.count)])
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
        struct Cell { var spend = 0, new = 0, firstRev = 0, rev = 0 }
        var cells: [String: [Int: Cell]] = [:]
        for s in spend { cells[s.channel, default: [:]][p.index(ofDay: s.day), default: Cell()].spend += s.fen }
        for c in customers.indices {
            let cu = customers[c]
            let k = p.index(ofDay: cu.firstDay)
            var cell = cells[cu.channel, default: [:]][k, default: Cell()]
            cell.new += 1
            cell.firstRev += dayNet[c][cu.firstDay] ?? 0
            for d in days[c] where d - cu.firstDay < windowDays { cell.rev += dayNet[c][d]! }
            cells[cu.channel, default: [:]][k] = cell
        }
        func row(_ period: Int, _ name: String, _ c: Cell) -> [String] {
            [p.label(period), name, Fmt.yuan(c.spend), String(c.new), Fmt.yuanPer(c.spend, c.new), Fmt.yuan(c.firstRev),
             Fmt.yuan(c.rev), c.new == 0 || c.spend == 0 ? "" : Fmt.rate(c.rev, c.spend),
             Fmt.bool(p.lastDay(period) + windowDays - 1 <= asOf)]
        }
        for period in first...asOfPeriod {
            var blended = Cell()
            for ch in channels {
                let c = cells[ch]?[period] ?? Cell()
                blended.spend += c.spend; blended.new += c.new; blended.firstRev += c.firstRev; blended.rev += c.rev
                t.rows.append(row(period, ch, c))
            }
            t.rows.append(row(period, "blended", blended))
        }
        return t
    }

    // MARK: fan_conversion

    func fanConversion() -> OutputTable {
        var t = OutputTable(name: "fan_conversion", columns: Self.fanColumns)
        guard let first = fans.map({ p.index(ofDay: $0.followDay) }).min() else { return t }
        let channels = ["all"] + Set(fans.map(\.channel)).sorted()
        struct Cell { var fans = 0, already = 0, c7 = 0, c30 = 0, c90 = 0, repeatFans = 0, loyal = 0; var toFirst: [Int] = [] }
        var cells: [String: [Int: Cell]] = [:]
        for f in fans {
            let k = p.index(ofDay: f.followDay)
            let c = f.customer.flatMap { customerIndex[$0] }
            for ch in ["all", f.channel] {
                var cell = cells[ch, default: [:]][k, default: Cell()]
                cell.fans += 1
                if let c {
                    let fd = customers[c].firstDay
                    if fd < f.followDay {
                        cell.already += 1
                    } else {
                        let lag = fd - f.followDay
                        if lag < 7 { cell.c7 += 1 }
                        if lag < 30 { cell.c30 += 1 }
                        if lag < 90 { cell.c90 += 1 }
                        cell.toFirst.append(lag)
                    }
                    let after = days[c].filter { $0 >= f.followDay }.count
                    if after >= 2 { cell.repeatFans += 1 }
                    if after >= loyalThreshold { cell.loyal += 1 }
                }
                cells[ch, default: [:]][k] = cell
            }
        }
        for period in first...asOfPeriod {
            for ch in channels {
                let c = cells[ch]?[period] ?? Cell()
                let prospects = c.fans - c.already
                t.rows.append([p.label(period), ch, String(c.fans), String(c.already), String(prospects), String(c.c7), String(c.c30),
                               String(c.c90), Fmt.rate(c.c30, prospects), String(c.repeatFans), String(c.loyal), Fmt.median(c.toFirst),
                               Fmt.bool(p.lastDay(period) + 29 <= asOf)])
            }
        }
        return t
    }

    // MARK: fan_lift

    func isFanForLift(_ c: Int) -> Bool {
        guard let f = customers[c].firstFollowDay else { return false }
        return f <= (days[c].count >= 2 ? days[c][1] : asOf)
    }

    func fanLift() -> OutputTable {
        var t = OutputTable(name: "fan_lift", columns: Self.liftColumns)
        guard let first = firstCohort else { return t }
        var counts: [Int: [Bool: (n: Int, r: Int)]] = [:]
        for c in customers.indices {
            let k = p.index(ofDay: customers[c].firstDay)
            let fan = isFanForLift(c)
            var v = counts[k, default: [:]][fan, default: (0, 0)]
            v.n += 1
            if days[c].count >= 2 && days[c][1] - days[c][0] <= 179 { v.r += 1 }
            counts[k, default: [:]][fan] = v
        }
        for cohort in first...asOfPeriod {
            for (group, fan) in [("fan", true), ("non_fan", false)] {
                let v = counts[cohort]?[fan] ?? (0, 0)
                t.rows.append([p.label(cohort), group, String(v.n), String(v.r), Fmt.rate(v.r, v.n),
                               Fmt.bool(p.lastDay(cohort) + 179 <= asOf)])
            }
        }
        return t
    }

    // MARK: customer_summary

    func customerSummary() -> OutputTable {
        var t = OutputTable(name: "customer_summary", columns: Self.summaryColumns)
        for c in customers.indices {
            let d = days[c]
            let repeatDays = d.dropFirst()
            let repeatNet = repeatDays.reduce(0) { $0 + dayNet[c][$1]! }
            let isFan = (customers[c].firstFollowDay ?? Int.max) <= asOf
            t.rows.append([customers[c].key, customers[c].platform, CivilDate.iso(d[0]), String(repeatDays.count), String(d.last! - d[0]),
                           String(asOf - d[0]), repeatDays.isEmpty ? "0.00" : Fmt.yuanPer(repeatNet, repeatDays.count), Fmt.bool(isFan)])
        }
        return t
    }
}
