/// One output of ../shared/METRICS.md: a CSV file, a section of the report, and the out_<name>
/// table or view the report stage reads. Each lives in its own file and says what it keeps, how one
/// identity component's contribution is added and taken out, and how it is printed.
///
/// The aggregate is incremental: every output that counts customers or fans is a sum over identity
/// components, so a nightly run takes out (sign -1) the contribution of the components the join
/// retired and adds (sign +1) the new ones, and a full rebuild adds every component once. The output
/// value itself is its state, saved in agg_state (JSON, under its name) between runs: keep there
/// only what `add` sums, and counts that do not depend on the as-of date beyond what the component
/// contributed at it. Registered in `Outputs.all`.
protocol Output: Codable {
    /// The file name without `.csv`, and the out_ table's.
    static var name: String { get }
    /// The columns, in METRICS.md's order, extra columns after.
    static var columns: [String] { get }
    /// The facts it needs beyond the customer, purchases and fans of a component (default none).
    static var collectors: [any FactCollector.Type] { get }
    /// One row per customer (millions): the report streams it to the CSV and the workbook and
    /// never holds it or puts it on the page (default false).
    static var perCustomer: Bool { get }
    /// Before a full rebuild: removes what it keeps in the warehouse outside its state (default nothing).
    static func reset(_ db: Database) throws
    /// Nothing added yet.
    init()
    /// Adds (sign +1) or takes out (sign -1) what one component contributes at `context.asOf`.
    /// Taking out a component added at the same as-of date must restore the sums exactly.
    mutating func add(_ component: ComponentView, sign: Int, context: OutputContext) throws
    /// Writes out_<name>, at `context`'s as-of date (nil: there is no purchase at all), and says how
    /// many rows it has.
    func publish(_ wh: Warehouse, context: OutputContext?) throws -> Int
}

extension Output {
    static var collectors: [any FactCollector.Type] { [] }
    static var perCustomer: Bool { false }
    static func reset(_ db: Database) throws {}
    mutating func add(_ component: ComponentView, sign: Int, context: OutputContext) throws {}
}

/// An output printed as one table from its sums (empty when there is no purchase).
protocol TableOutput: Output {
    func table(_ context: OutputContext) throws -> OutputTable
}

extension TableOutput {
    func publish(_ wh: Warehouse, context: OutputContext?) throws -> Int {
        let t = try context.map(table) ?? OutputTable(name: Self.name, columns: Self.columns)
        try t.store(in: wh.db)
        return t.rows.count
    }
}
