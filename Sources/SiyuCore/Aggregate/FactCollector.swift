/// A fact about a component beyond its customer, purchases and fans, needed by some output: for
/// example its customer's first products, from item lines. An output names the collectors it needs
/// (`Output.collectors`); the aggregate stage runs each once per component while it streams the
/// facts, and keeps what it found with the component's facts in agg_facts, so that a component the
/// join retires is taken out with exactly the facts it was added with. The output reads it back with
/// `ComponentFacts.extra(_:)`.
protocol FactCollector {
    associatedtype Fact: ByteCodable
    /// The name the fact is stored under among a component's extras; unique among collectors.
    static var key: String { get }
    /// Ready for the components with id >= `from` (typically a query in component order).
    init(_ db: Database, from: Int) throws
    /// This component's fact (nil: none). Called once per component, in increasing id order.
    mutating func collect(_ facts: ComponentFacts) throws -> Fact?
}

/// A value stored in a component's facts.
protocol ByteCodable {
    init(from r: inout ByteReader)
    func write(to w: inout ByteWriter)
}

extension FactCollector {
    /// `collect` as stored bytes, for a caller that holds collectors of many kinds.
    mutating func collectBytes(_ facts: ComponentFacts) throws -> [UInt8]? {
        guard let fact = try collect(facts) else { return nil }
        var w = ByteWriter()
        fact.write(to: &w)
        return w.bytes
    }
}
