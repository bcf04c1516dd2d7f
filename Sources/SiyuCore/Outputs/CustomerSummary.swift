/// customer_summary.csv: one row per customer (no personal data), with the conventions of the
/// `lifetimes` library at daily grain.
///
/// Keeps a row per customer in agg_summary rather than in its state (there can be millions): what
/// depends on the purchases (frequency, recency, monetary value, and for the customer models the
/// acquisition channel and every purchase day, `RepeatDays`) is stored when the component is added
/// and deleted when it is taken out; T and is_fan follow the as-of date, so out_customer_summary
/// is a view that works them out.
struct CustomerSummary: Output {
    static let name = "customer_summary"
    static let perCustomer = true
    static let columns = ["customer_key", "acquisition_platform", "first_purchase_day", "frequency", "recency", "T", "monetary_value", "is_fan"]

    /// Prepared on first use; not part of the saved state.
    private var rows: Rows?
    private enum CodingKeys: CodingKey {}

    init() {}

    static func reset(_ db: Database) throws { try db.execute("DELETE FROM agg_summary") }

    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) throws {
        if rows == nil { rows = try Rows(context.wh.db) }
        guard let rows else { return }
        if s < 0 {
            if let key = c.facts.customer?.key { try rows.delete.run([.text(key)]) }
            return
        }
        guard let customer = c.customer else { return }
        let s = Self.stored(c, firstDay: customer.firstDay)
        try rows.insert.run([.text(customer.key), .text(context.population.platforms[customer.platform]), .text(CivilDate.iso(customer.firstDay)),
                             .int(customer.firstDay), .int(s.frequency), .int(s.recency), .text(s.monetary), .optInt(customer.firstFollowDay),
                             .text(context.population.channels[customer.channel]), .text(RepeatDays.encode(c.days))])
    }

    /// The stored part: frequency, recency and monetary value from the purchase days up to the as-of date.
    static func stored(_ c: ComponentView, firstDay: Int) -> (frequency: Int, recency: Int, monetary: String) {
        let days = c.days.count, lastDay = c.days.last ?? firstDay
        let repeatNet = c.dayNet.dropFirst().reduce(0, +)
        return (days - 1, lastDay - firstDay, days == 1 ? "0.00" : Fmt.yuanPer(repeatNet, days - 1))
    }

    func publish(_ wh: Warehouse, context: OutputContext?) throws -> Int {
        let asOf = context?.asOf ?? Int.min
        try wh.db.execute("""
            DROP VIEW IF EXISTS out_customer_summary;
            CREATE VIEW out_customer_summary AS SELECT customer_key, acquisition_platform, first_purchase_day, frequency, recency,
                \(context?.asOf ?? 0) - first_day AS "T", monetary_value,
                CASE WHEN first_follow_day <= \(asOf) THEN 'true' ELSE 'false' END AS is_fan
            FROM agg_summary WHERE first_day <= \(asOf) ORDER BY customer_key;
            """)
        return context?.population.customers ?? 0   // every customer up to the as-of date, as the view lists them
    }

    final class Rows {
        let insert: Statement, delete: Statement
        init(_ db: Database) throws {
            insert = try db.prepare("INSERT OR REPLACE INTO agg_summary VALUES(?,?,?,?,?,?,?,?,?,?)")
            delete = try db.prepare("DELETE FROM agg_summary WHERE customer_key=?")
        }
    }
}
