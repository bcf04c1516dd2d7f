/// A customer pattern that no model can use: a bug upstream (customer_summary never produces one),
/// reported with the pattern's position rather than fitted into nonsense.
public struct ModelInputError: Error, CustomStringConvertible, Equatable {
    public var model: String
    /// Index of the offending pattern in the caller's array.
    public var index: Int
    public var reason: String

    public var description: String { "\(model): pattern \(index): \(reason)" }
}
