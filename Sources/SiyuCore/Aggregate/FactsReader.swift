/// The facts of every component with id >= `from`, in id order: a merge of int_customers,
/// int_purchases (both in customer_id order) and int_fans (by component), with the extras of the
/// outputs' fact collectors. Platform and channel names are registered in the population as they come.
struct FactsReader {
    private let cs: Statement, ps: Statement, fs: Statement
    private var collectors: [any FactCollector]
    private var hasC: Bool, hasP: Bool, hasF: Bool
    private var lastPlatform = "", lastPlatformIndex = 0
    private var purchases: [ComponentFacts.Purchase] = []

    init(_ db: Database, from: Int, outputs: [any Output.Type]) throws {
        cs = try db.prepare("""
            SELECT customer_id, customer_key, first_day, acquisition_platform, acquisition_channel, first_follow_ts
            FROM int_customers WHERE customer_id >= ? ORDER BY customer_id
            """)
        ps = try db.prepare("SELECT customer_id, platform, pay_day, net_fen FROM int_purchases WHERE customer_id >= ? ORDER BY customer_id")
        fs = try db.prepare("SELECT component, first_follow_day, fan_channel FROM int_fans WHERE component >= ? ORDER BY component")
        try cs.bind([.int(from)]); try ps.bind([.int(from)]); try fs.bind([.int(from)])
        hasC = try cs.step(); hasP = try ps.step(); hasF = try fs.step()
        collectors = try Self.collectors(for: outputs, db, from: from)
    }

    /// One of each collector the outputs ask for (two outputs may share one), ready from `from` on.
    private static func collectors(for outputs: [any Output.Type], _ db: Database, from: Int) throws -> [any FactCollector] {
        var seen = Set<String>(), collectors: [any FactCollector] = []
        for type in outputs.flatMap({ $0.collectors }) where seen.insert(type.key).inserted {
            collectors.append(try type.init(db, from: from))
        }
        return collectors
    }

    /// Calls body with each component's facts, then resets the queries.
    static func each(_ db: Database, from: Int, outputs: [any Output.Type], state: inout AggregateState,
                     _ body: (ComponentFacts, inout AggregateState) throws -> Void) throws {
        var reader = try FactsReader(db, from: from, outputs: outputs)
        defer { reader.cs.reset(); reader.ps.reset(); reader.fs.reset() }
        while let f = try reader.next(&state.population) { try body(f, &state) }
    }

    mutating func next(_ population: inout Population) throws -> ComponentFacts? {
        guard hasC || hasF else { return nil }
        let component = min(hasC ? cs.int(0) : Int.max, hasF ? fs.int(0) : Int.max)
        var customer: ComponentFacts.Customer?
        if hasC, cs.int(0) == component {
            customer = try nextCustomer(component, &population)
        }
        var fans: [ComponentFacts.Fan] = []
        while hasF, fs.int(0) == component {
            fans.append(.init(followDay: fs.int(1), channel: population.channels.id(fs.text(2))))
            hasF = try fs.step()
        }
        var facts = ComponentFacts(component: component, customer: customer, fans: fans)
        for i in collectors.indices {
            if let bytes = try collectors[i].collectBytes(facts) { facts.extras[type(of: collectors[i]).key] = bytes }
        }
        return facts
    }

    /// The customer at the current int_customers row, with its purchases by day.
    private mutating func nextCustomer(_ component: Int, _ population: inout Population) throws -> ComponentFacts.Customer {
        purchases.removeAll(keepingCapacity: true)
        while hasP, ps.int(0) < component { hasP = try ps.step() }
        while hasP, ps.int(0) == component {
            let name = ps.text(1)
            if name != lastPlatform { lastPlatform = name; lastPlatformIndex = population.platforms.id(name) }
            purchases.append(.init(day: Int32(ps.int(2)), platform: UInt8(lastPlatformIndex), net: ps.int(3)))
            hasP = try ps.step()
        }
        purchases.sort { $0.day < $1.day }
        let c = ComponentFacts.Customer(key: cs.text(1), platform: population.platforms.id(cs.text(3)), channel: population.channels.id(cs.text(4)),
                                        firstDay: cs.int(2), firstFollowDay: cs.intOrNil(5).map { $0 / 86400 }, purchases: purchases)
        hasC = try cs.step()
        return c
    }
}
