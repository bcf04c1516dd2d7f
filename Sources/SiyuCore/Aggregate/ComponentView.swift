/// One component as the outputs see it at an as-of date: its facts and, when its customer's first
/// purchase day is on or before that date, the customer's purchases and purchase days up to it.
/// Worked out once per component and handed to every output.
struct ComponentView {
    let facts: ComponentFacts
    /// The customer, when acquired on or before the as-of date (nil otherwise: the component then
    /// contributes only its fans).
    let customer: ComponentFacts.Customer?
    /// The customer's purchases up to the as-of date, by day.
    let purchases: ArraySlice<ComponentFacts.Purchase>
    /// The customer's purchase days up to the as-of date, and the net_paid of each day in fen.
    let days: [Int], dayNet: [Int]
    /// The period index of the first purchase day (0 without a customer).
    let cohort: Int

    init(_ f: ComponentFacts, asOf: Int, period p: PeriodKind) {
        facts = f
        var days: [Int] = [], dayNet: [Int] = []
        guard let c = f.customer, c.firstDay <= asOf else {
            customer = nil; purchases = []; self.days = days; self.dayNet = dayNet; cohort = 0
            return
        }
        var n = 0
        for pu in c.purchases where Int(pu.day) <= asOf {
            n += 1
            if let last = days.last, last == Int(pu.day) { dayNet[dayNet.count - 1] += pu.net } else { days.append(Int(pu.day)); dayNet.append(pu.net) }
        }
        customer = c
        purchases = c.purchases[0..<n]
        self.days = days
        self.dayNet = dayNet
        cohort = p.index(ofDay: c.firstDay)
    }

    /// The groups the customer counts in where outputs split by acquisition platform: 0 (`all`)
    /// and 1 + the acquisition platform's id.
    var acquisitionGroups: [Int] { customer.map { [0, 1 + $0.platform] } ?? [] }
    var fans: [ComponentFacts.Fan] { facts.fans }
}
