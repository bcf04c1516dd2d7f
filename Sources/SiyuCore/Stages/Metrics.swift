/// The metric definitions of ../shared/METRICS.md as running sums. Every output is a sum over
/// identity components of what each one contributes (`MetricState.apply`), so a nightly run can
/// take out the contribution of the components the join rebuilt and add their new one, and a full
/// rebuild is the same code adding every component once. Counts that METRICS.md makes cumulative
/// (repeat customers up to an offset) are kept per offset and summed when printed, so that a later
/// as-of date does not change what a component contributed.

/// What the metrics need to know about one identity component, independent of the as-of date:
/// its customer (when it has a qualifying order) and its fans. Stored in agg_facts.
struct ComponentFacts {
    struct Purchase { var day: Int32, platform: UInt8, net: Int }
    struct Customer {
        var key: String, platform: Int, channel: Int, firstDay: Int, firstFollowDay: Int?
        var purchases: [Purchase]   // by day
    }
    struct Fan { var followDay: Int, channel: Int }
    var component: Int
    var customer: Customer?
    var fans: [Fan] = []

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        if let c = customer {
            w.int(1); w.string(c.key); w.int(c.platform); w.int(c.channel); w.int(c.firstDay)
            w.int(c.firstFollowDay == nil ? 0 : 1); w.int(c.firstFollowDay ?? 0)
            w.int(c.purchases.count)
            var prev = 0
            for pu in c.purchases { w.int(Int(pu.day) - prev); prev = Int(pu.day); w.int(Int(pu.platform)); w.int(pu.net) }
        } else {
            w.int(0)
        }
        w.int(fans.count)
        for f in fans { w.int(f.followDay); w.int(f.channel) }
        return w.bytes
    }

    init(component: Int, customer: Customer?, fans: [Fan]) {
        self.component = component
        self.customer = customer
        self.fans = fans
    }

    init(component: Int, bytes: [UInt8]) {
        self.component = component
        var r = ByteReader(bytes: bytes)
        if r.int() == 1 {
            let key = r.string(), platform = r.int(), channel = r.int(), firstDay = r.int()
            let hasFollow = r.int() == 1, follow = r.int()
            var ps: [Purchase] = []
            let n = r.int()
            ps.reserveCapacity(n)
            var prev = 0
            for _ in 0..<n {
                prev += r.int()
                let pl = r.int()
                ps.append(Purchase(day: Int32(prev), platform: UInt8(pl), net: r.int()))
            }
            customer = Customer(key: key, platform: platform, channel: channel, firstDay: firstDay,
                                firstFollowDay: hasFollow ? follow : nil, purchases: ps)
        }
        let nf = r.int()
        for _ in 0..<nf { let d = r.int(); fans.append(Fan(followDay: d, channel: r.int())) }
    }
}

/// Zigzag varints and length-prefixed UTF-8.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func int(_ v: Int) {
        var u = UInt64(bitPattern: Int64((v << 1) ^ (v >> 63)))
        while u >= 0x80 { bytes.append(UInt8(u & 0x7F) | 0x80); u >>= 7 }
        bytes.append(UInt8(u))
    }
    mutating func string(_ s: String) { int(s.utf8.count); bytes.append(contentsOf: s.utf8) }
}

struct ByteReader {
    let bytes: [UInt8]
    var i = 0
    mutating func int() -> Int {
        var u: UInt64 = 0, shift: UInt64 = 0
        while i < bytes.count {
            let b = bytes[i]; i += 1
            u |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        let v = Int64(bitPattern: u)
        return Int((v >> 1) ^ -(v & 1))
    }
    mutating func string() -> String {
        let n = int()
        let s = String(decoding: bytes[i..<min(bytes.count, i + n)], as: UTF8.self)
        i += n
        return s
    }
}

/// Names by small integer ids, in the order first seen; saved as the list of names.
struct NameRegistry: Codable {
    private(set) var names: [String] = []
    private var ids: [String: Int] = [:]
    init() {}
    init(from decoder: Decoder) throws {
        names = try decoder.singleValueContainer().decode([String].self)
        for (i, n) in names.enumerated() { ids[n] = i }
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(names)
    }
    subscript(_ id: Int) -> String { names[id] }
    mutating func id(_ name: String) -> Int {
        if let i = ids[name] { return i }
        names.append(name)
        ids[name] = names.count - 1
        return names.count - 1
    }
}

/// A pair of integers as a dictionary key: (group, period), (channel, period), (cohort, group) ….
struct Pair: Hashable, Codable {
    var a: Int, b: Int
    init(_ a: Int, _ b: Int) { self.a = a; self.b = b }
}

/// Adds v at index i, growing the array with zeros.
@inline(__always) func bump(_ a: inout [Int], _ i: Int, _ v: Int) {
    if i >= a.count { a.append(contentsOf: repeatElement(0, count: i - a.count + 1)) }
    a[i] += v
}

/// The running sums behind every output, with the registries that facts refer to. Saved in
/// agg_state between runs.
struct MetricState: Codable {
    static let version = 1
    var version = MetricState.version
    /// Period kind and windows: a change means a full rebuild.
    var fingerprint: String
    /// The join generation the component ids belong to.
    var generation: String
    /// The as-of date the sums were taken at (nil: no purchase at all).
    var asOf: Int?
    /// Every component with a smaller id has been added (agg_facts holds them).
    var nextComponent = 0

    var platforms = NameRegistry()
    var channels = NameRegistry()
    /// Qualifying purchases per day over all facts, whatever the as-of date (its last key is the
    /// default as-of date).
    var dayHist: [Int: Int] = [:]

    struct CohortCell: Codable {
        var members = 0
        var active: [Int] = [], secondAt: [Int] = [], net: [Int] = []
    }
    struct PeriodCell: Codable { var buyers = 0, new = 0, repeaters = 0, net = 0 }
    struct CPACell: Codable { var new = 0, firstRev = 0, rev = 0 }
    struct FanCell: Codable {
        var fans = 0, already = 0, c7 = 0, c30 = 0, c90 = 0, repeatFans = 0, loyal = 0
        var lags: [Int: Int] = [:]   // days from follow to first purchase, of converted prospects
    }
    struct LiftCell: Codable { var n = 0, r = 0 }

    /// Group 0 is `all`, 1 + i is platforms[i].
    var cohorts: [Pair: CohortCell] = [:]          // (group, cohort period)
    var periods: [Pair: PeriodCell] = [:]          // (group, period)
    var acquired: [Int: Int] = [:]                 // group
    var migration: [Pair: Int] = [:]               // (group, 0 = any | 1 + platform)
    var cpa: [Pair: CPACell] = [:]                 // (channel, cohort period)
    var fanCells: [Pair: FanCell] = [:]            // (channel, or -1 for all; follow period)
    var lift: [Pair: LiftCell] = [:]               // (cohort period, 0 = fan | 1 = non_fan)
    var purchasesOn: [Int: Int] = [:]              // platform -> qualifying purchases up to as-of

    init(fingerprint: String, generation: String) {
        self.fingerprint = fingerprint
        self.generation = generation
    }

    enum CodingKeys: String, CodingKey {
        case version, fingerprint, generation, asOf, nextComponent, platforms, channels, dayHist
        case cohorts, periods, acquired, migration, cpa, fanCells, lift, purchasesOn
    }

    mutating func platform(_ name: String) -> Int { platforms.id(name) }
    mutating func channel(_ name: String) -> Int { channels.id(name) }

    var maxDay: Int? { dayHist.keys.max() }

    mutating func count(_ f: ComponentFacts, sign s: Int) {
        for pu in f.customer?.purchases ?? [] {
            let d = Int(pu.day)
            let v = dayHist[d, default: 0] + s
            if v == 0 { dayHist[d] = nil } else { dayHist[d] = v }
        }
    }

    /// Adds (sign +1) or takes out (sign -1) what component f contributes to every output at asOf.
    mutating func apply(_ f: ComponentFacts, sign s: Int, asOf: Int, p: PeriodKind, windowDays: Int, loyalThreshold: Int) {
        var days: [Int] = [], dayNet: [Int] = []
        var included = false
        var firstDay = 0
        if let c = f.customer, c.firstDay <= asOf {
            included = true
            firstDay = c.firstDay
            var n = 0
            for pu in c.purchases where Int(pu.day) <= asOf {
                n += 1
                purchasesOn[Int(pu.platform), default: 0] += s
                if let last = days.last, last == Int(pu.day) { dayNet[dayNet.count - 1] += pu.net } else { days.append(Int(pu.day)); dayNet.append(pu.net) }
            }
            let ps = c.purchases[0..<n]
            let cohort = p.index(ofDay: c.firstDay)
            let groups = [0, 1 + c.platform]
            // cohort_repurchase
            for g in groups {
                cohorts[Pair(g, cohort), default: CohortCell()].add(sign: s, cohort: cohort, days: days, dayNet: dayNet, p: p)
            }
            // repurchase_by_period: one period of purchases at a time (they are sorted by day).
            var i = ps.startIndex
            var periodDays = Array(repeating: 0, count: platforms.names.count + 1), periodNet = periodDays
            var lastDay = Array(repeating: Int.min, count: platforms.names.count + 1)
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
                    periods[Pair(g, period), default: PeriodCell()].add(sign: s, isNew: period == cohort, repeated: periodDays[g] >= 2, net: periodNet[g])
                }
            }
            // platform_migration
            var on = Set<Int>()
            for pu in ps where Int(pu.day) > c.firstDay { on.insert(Int(pu.platform)) }
            for g in groups {
                acquired[g, default: 0] += s
                if days.count >= 2 { migration[Pair(g, 0), default: 0] += s }
                for pl in on { migration[Pair(g, 1 + pl), default: 0] += s }
            }
            // channel_cpa
            var windowNet = 0
            for k in days.indices where days[k] - c.firstDay < windowDays { windowNet += dayNet[k] }
            cpa[Pair(c.channel, cohort), default: CPACell()].add(sign: s, firstRev: dayNet[0], rev: windowNet)
            // fan_lift: a fan when the first follow is on or before the second purchase day (or the as-of date).
            let isFan = c.firstFollowDay.map { $0 <= (days.count >= 2 ? days[1] : asOf) } ?? false
            lift[Pair(cohort, isFan ? 0 : 1), default: LiftCell()].add(sign: s, repeated: days.count >= 2 && days[1] - days[0] <= 179)
        }
        // fan_conversion
        for fan in f.fans where fan.followDay <= asOf {
            let k = p.index(ofDay: fan.followDay)
            var after = 0
            if included { for d in days.reversed() { if d >= fan.followDay { after += 1 } else { break } } }
            for ch in [-1, fan.channel] {
                fanCells[Pair(ch, k), default: FanCell()].add(sign: s, customerFirstDay: included ? firstDay : nil, followDay: fan.followDay,
                                                             daysAfter: after, loyalThreshold: loyalThreshold)
            }
        }
    }

    // MARK: printing

    var firstCohort: Int? { cohorts.filter { $0.key.a == 0 && $0.value.members > 0 }.map(\.key.b).min() }

    /// Names of the platforms with a qualifying order up to the as-of date, in name order, with their group.
    var usedPlatforms: [(name: String, group: Int)] {
        purchasesOn.filter { $0.value > 0 }.map { (platforms[$0.key], 1 + $0.key) }.sorted { $0.name < $1.name }
    }
    var groupsPrinted: [(name: String, group: Int)] { [("all", 0)] + usedPlatforms }

    func tables(asOf: Int, p: PeriodKind, windowDays: Int, spend: [(day: Int, channel: String, fen: Int)]) -> [OutputTable] {
        let asOfPeriod = p.index(ofDay: asOf)
        func partial(_ period: Int) -> String { Fmt.bool(p.lastDay(period) > asOf) }
        var out: [OutputTable] = []

        // cohort_repurchase
        var t = OutputTable(name: "cohort_repurchase", columns: Metrics.cohortColumns)
        let first = firstCohort
        if let first {
            for (name, g) in groupsPrinted {
                for cohort in first...asOfPeriod {
                    let cell = cohorts[Pair(g, cohort)] ?? CohortCell()
                    let n = cell.members
                    var repeatCum = 0
                    for k in 0...(asOfPeriod - cohort) {
                        repeatCum += k < cell.secondAt.count ? cell.secondAt[k] : 0
                        let act = k == 0 ? n : (k < cell.active.count ? cell.active[k] : 0)
                        let net = k < cell.net.count ? cell.net[k] : 0
                        t.rows.append([p.label(cohort), name, String(k), String(n), String(act), Fmt.rate(act, n),
                                       String(repeatCum), Fmt.rate(repeatCum, n), Fmt.yuan(net), partial(cohort + k)])
                    }
                }
            }
        }
        out.append(t)

        // repurchase_by_period
        t = OutputTable(name: "repurchase_by_period", columns: Metrics.periodColumns)
        if let first {
            for period in first...asOfPeriod {
                for (name, g) in groupsPrinted {
                    let c = periods[Pair(g, period)] ?? PeriodCell()
                    let returning = c.buyers - c.new
                    t.rows.append([p.label(period), name, String(c.buyers), String(c.new), String(returning),
                                   Fmt.rate(returning, c.buyers), String(c.repeaters), Fmt.rate(c.repeaters, c.buyers),
                                   Fmt.yuan(c.net), partial(period)])
                }
            }
        }
        out.append(t)

        // platform_migration
        t = OutputTable(name: "platform_migration", columns: Metrics.migrationColumns)
        for (name, g) in groupsPrinted {
            for (rname, r) in [("any", 0)] + usedPlatforms {
                let n = migration[Pair(g, r)] ?? 0, a = acquired[g] ?? 0
                t.rows.append([name, rname, String(a), String(n), Fmt.rate(n, a)])
            }
        }
        out.append(t)

        // channel_cpa
        t = OutputTable(name: "channel_cpa", columns: Metrics.cpaColumns)
        let spendStarts = spend.map { p.index(ofDay: $0.day) }
        if let firstCPA = ([first].compactMap { $0 } + spendStarts).min() {
            var newByChannel: [Int: Int] = [:]
            for (k, c) in cpa { newByChannel[k.a, default: 0] += c.new }
            var spendCells: [String: [Int: Int]] = [:]
            for s in spend { spendCells[s.channel, default: [:]][p.index(ofDay: s.day), default: 0] += s.fen }
            let customerChannels = newByChannel.filter { $0.value > 0 }.map { channels[$0.key] }
            let names = Set(customerChannels).union(spendCells.keys).sorted()
            var idx: [String: Int] = [:]
            for (i, c) in channels.names.enumerated() { idx[c] = i }
            func row(_ period: Int, _ name: String, _ spend: Int, _ c: CPACell) -> [String] {
                [p.label(period), name, Fmt.yuan(spend), String(c.new), Fmt.yuanPer(spend, c.new), Fmt.yuan(c.firstRev),
                 Fmt.yuan(c.rev), c.new == 0 || spend == 0 ? "" : Fmt.rate(c.rev, spend),
                 Fmt.bool(p.lastDay(period) + windowDays - 1 <= asOf)]
            }
            for period in firstCPA...asOfPeriod {
                var blended = CPACell(), blendedSpend = 0
                for name in names {
                    let c = idx[name].flatMap { cpa[Pair($0, period)] } ?? CPACell()
                    let sp = spendCells[name]?[period] ?? 0
                    blended.new += c.new; blended.firstRev += c.firstRev; blended.rev += c.rev; blendedSpend += sp
                    t.rows.append(row(period, name, sp, c))
                }
                t.rows.append(row(period, "blended", blendedSpend, blended))
            }
        }
        out.append(t)

        // fan_conversion
        t = OutputTable(name: "fan_conversion", columns: Metrics.fanColumns)
        if let firstFan = fanCells.filter({ $0.key.a == -1 && $0.value.fans > 0 }).map(\.key.b).min() {
            var fansByChannel: [Int: Int] = [:]
            for (k, c) in fanCells where k.a >= 0 { fansByChannel[k.a, default: 0] += c.fans }
            let named = fansByChannel.filter { $0.value > 0 }.map { (channels[$0.key], $0.key) }.sorted { $0.0 < $1.0 }
            for period in firstFan...asOfPeriod {
                for (name, ch) in [("all", -1)] + named {
                    let c = fanCells[Pair(ch, period)] ?? FanCell()
                    let prospects = c.fans - c.already
                    var lags: [Int] = []
                    for (lag, n) in c.lags where n > 0 { lags.append(contentsOf: repeatElement(lag, count: n)) }
                    t.rows.append([p.label(period), name, String(c.fans), String(c.already), String(prospects), String(c.c7), String(c.c30),
                                   String(c.c90), Fmt.rate(c.c30, prospects), String(c.repeatFans), String(c.loyal), Fmt.median(lags),
                                   Fmt.bool(p.lastDay(period) + 29 <= asOf)])
                }
            }
        }
        out.append(t)

        // fan_lift
        t = OutputTable(name: "fan_lift", columns: Metrics.liftColumns)
        if let first {
            for cohort in first...asOfPeriod {
                for (g, group) in ["fan", "non_fan"].enumerated() {
                    let c = lift[Pair(cohort, g)] ?? LiftCell()
                    t.rows.append([p.label(cohort), group, String(c.n), String(c.r), Fmt.rate(c.r, c.n),
                                   Fmt.bool(p.lastDay(cohort) + 179 <= asOf)])
                }
            }
        }
        out.append(t)
        return out
    }
}

extension MetricState.CohortCell {
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

extension MetricState.PeriodCell {
    mutating func add(sign s: Int, isNew: Bool, repeated: Bool, net n: Int) {
        buyers += s
        if isNew { new += s }
        if repeated { repeaters += s }
        net += s * n
    }
}

extension MetricState.CPACell {
    mutating func add(sign s: Int, firstRev f: Int, rev r: Int) {
        new += s
        firstRev += s * f
        rev += s * r
    }
}

extension MetricState.LiftCell {
    mutating func add(sign s: Int, repeated: Bool) {
        n += s
        if repeated { r += s }
    }
}

extension MetricState.FanCell {
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

/// Column names of every output (METRICS.md order, extra columns after).
enum Metrics {
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
         OutputTable(name: "fan_conversion", columns: fanColumns), OutputTable(name: "fan_lift", columns: liftColumns)]
    }

    /// customer_summary's stored part (all but T and is_fan, which depend on the as-of date only
    /// through the first follow day): frequency, recency, monetary value from purchase days up to asOf.
    static func summary(_ c: ComponentFacts.Customer, asOf: Int) -> (frequency: Int, recency: Int, monetary: String) {
        var days = 0, lastDay = Int.min, firstDayNet = 0, total = 0
        for pu in c.purchases where Int(pu.day) <= asOf {
            if Int(pu.day) != lastDay { days += 1; lastDay = Int(pu.day) }
            if days == 1 { firstDayNet += pu.net }
            total += pu.net
        }
        let repeatNet = total - firstDayNet
        return (days - 1, lastDay - c.firstDay, days == 1 ? "0.00" : Fmt.yuanPer(repeatNet, days - 1))
    }
}
