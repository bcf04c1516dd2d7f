/// A value handed to the worker threads of `concurrentPerform`, which only read it (or write
/// disjoint parts of a buffer it points to).
final class Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
