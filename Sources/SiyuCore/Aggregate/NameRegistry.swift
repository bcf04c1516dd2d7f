/// Names by small integer ids, in the order first seen; saved as the list of names. Facts refer to
/// platforms and channels by these ids.
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
