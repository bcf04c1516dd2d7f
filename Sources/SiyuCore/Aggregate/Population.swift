/// What every output shares, kept beside their own sums in agg_state: the names facts refer to,
/// qualifying purchases per day (whatever the as-of date: its last day is the default as-of date)
/// and per platform up to the as-of date (the platforms printed), and customers per cohort (the
/// first cohort printed, and the customer count).
struct Population: Codable {
    var platforms = NameRegistry()
    var channels = NameRegistry()
    var dayHist: [Int: Int] = [:]
    var purchasesOn: [Int: Int] = [:]       // platform -> qualifying purchases up to as-of
    var cohortCustomers: [Int: Int] = [:]   // cohort period -> customers

    var maxDay: Int? { dayHist.keys.max() }

    /// Counts (sign +1) or uncounts (sign -1) f's purchases per day, whatever the as-of date.
    mutating func count(_ f: ComponentFacts, sign s: Int) {
        for pu in f.customer?.purchases ?? [] {
            let d = Int(pu.day)
            let v = dayHist[d, default: 0] + s
            if v == 0 { dayHist[d] = nil } else { dayHist[d] = v }
        }
    }

    /// Adds (sign +1) or takes out (sign -1) the component's customer at the view's as-of date.
    mutating func add(_ c: ComponentView, sign s: Int) {
        guard c.customer != nil else { return }
        for pu in c.purchases { purchasesOn[Int(pu.platform), default: 0] += s }
        cohortCustomers[c.cohort, default: 0] += s
    }

    /// Every customer acquired up to the as-of date.
    var customers: Int { cohortCustomers.values.reduce(0, +) }

    var firstCohort: Int? { cohortCustomers.filter { $0.value > 0 }.keys.min() }

    /// Names of the platforms with a qualifying order up to the as-of date, in name order, with their
    /// group (1 + id; group 0 is `all`).
    var usedPlatforms: [(name: String, group: Int)] {
        purchasesOn.filter { $0.value > 0 }.map { (platforms[$0.key], 1 + $0.key) }.sorted { $0.name < $1.name }
    }
    var groupsPrinted: [(name: String, group: Int)] { [("all", 0)] + usedPlatforms }
}
