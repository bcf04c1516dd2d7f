import Foundation

/// Everything the aggregate keeps between runs in agg_state: which join generation and settings the
/// sums belong to, the as-of date they were taken at, what the outputs share (`Population`), and
/// each output's own sums, encoded under its name.
struct AggregateState: Codable {
    /// Bumped when the saved shape changes: an older state is not read, the aggregate is rebuilt.
    /// 3: channel_cpa keeps repeat customers per cell.
    static let version = 3
    var version = AggregateState.version
    /// Period kind and windows: a change means a full rebuild.
    var fingerprint: String
    /// The join generation the component ids belong to.
    var generation: String
    /// The as-of date the sums were taken at (nil: no purchase at all).
    var asOf: Int?
    /// Every component with a smaller id has been added (agg_facts holds them).
    var nextComponent = 0
    var population = Population()
    /// One of each of `Outputs.all`, in its order.
    var outputs: [any Output]

    init(fingerprint: String, generation: String, outputs: [any Output.Type]) {
        self.fingerprint = fingerprint
        self.generation = generation
        self.outputs = outputs.map { $0.init() }
    }

    var maxDay: Int? { population.maxDay }

    /// Counts (sign +1) or uncounts (sign -1) f's purchases per day, whatever the as-of date.
    mutating func count(_ f: ComponentFacts, sign: Int) { population.count(f, sign: sign) }

    /// Adds (sign +1) or takes out (sign -1) what component f contributes to every output at asOf.
    mutating func apply(_ f: ComponentFacts, sign: Int, asOf: Int, wh: Warehouse) throws {
        let view = ComponentView(f, asOf: asOf, period: wh.pipeline.period)
        population.add(view, sign: sign)
        let context = OutputContext(wh, asOf: asOf, population: population)
        for i in outputs.indices { try outputs[i].add(view, sign: sign, context: context) }
    }

    // MARK: saved as JSON, each output under its name

    enum CodingKeys: String, CodingKey { case version, fingerprint, generation, asOf, nextComponent, population, outputs }

    struct OutputKey: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// The outputs a state is read with (`decoding`), when not `Outputs.all`.
    struct OutputList: @unchecked Sendable { let types: [any Output.Type] }
    static let outputsKey = CodingUserInfoKey(rawValue: "siyu.outputs")!

    /// Reads a saved state with `outputs`' sums: an output missing from it fails, and the caller rebuilds.
    static func decoding(_ data: Data, outputs: [any Output.Type]) throws -> AggregateState {
        let decoder = JSONDecoder()
        decoder.userInfo[outputsKey] = OutputList(types: outputs)
        return try decoder.decode(AggregateState.self, from: data)
    }

    init(from decoder: Decoder) throws {
        let outputs = (decoder.userInfo[Self.outputsKey] as? OutputList)?.types ?? Outputs.all
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        fingerprint = try c.decode(String.self, forKey: .fingerprint)
        generation = try c.decode(String.self, forKey: .generation)
        asOf = try c.decodeIfPresent(Int.self, forKey: .asOf)
        nextComponent = try c.decode(Int.self, forKey: .nextComponent)
        population = try c.decode(Population.self, forKey: .population)
        let o = try c.nestedContainer(keyedBy: OutputKey.self, forKey: .outputs)
        self.outputs = try outputs.map { try o.decode($0, forKey: OutputKey(stringValue: $0.name)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(generation, forKey: .generation)
        try c.encodeIfPresent(asOf, forKey: .asOf)
        try c.encode(nextComponent, forKey: .nextComponent)
        try c.encode(population, forKey: .population)
        var o = c.nestedContainer(keyedBy: OutputKey.self, forKey: .outputs)
        for output in outputs { try o.encode(output, forKey: OutputKey(stringValue: type(of: output).name)) }
    }
}
