import Foundation
import Logging

/// Stage 4: every output table of METRICS.md, from int_* with integer fen, into out_* for the report.
///
/// The sums behind the outputs (`MetricState`) are kept in agg_state, and each component's facts in
/// agg_facts. A nightly run takes out the components the join retired (int_retired), adds the new
/// ones (ids from the last run's watermark up), and re-adds the few whose contribution moves with
/// the as-of date (a first follow between the old and the new as-of date). It falls back to adding
/// every component when that would not give the same numbers: a first run, a full join, another
/// period kind or window, or an as-of date that cuts off purchases (`--as-of` in the past).
public struct AggregateStage {
    let wh: Warehouse
    let asOfOverride: Int?
    public init(_ wh: Warehouse, asOf: Int? = nil) {
        self.wh = wh
        self.asOfOverride = asOf
    }

    var fingerprint: String {
        let p = wh.pipeline
        return "agg-v\(MetricState.version)|\(p.period.rawValue)|\(p.windowDays)|\(p.loyalThreshold)"
    }

    /// Order sources that end on different days: with the as-of date at the latest, a source whose
    /// export stops earlier shows its last days as if its customers had stopped buying.
    func warnUnevenSources(asOf: Int?) throws {
        guard let asOf else { return }
        let orderSources = Set(wh.pipeline.sources.filter(\.kind.isOrders).map(\.name))
        let spans = try wh.sourceSpans().filter { orderSources.contains($0.source) }
        guard let latest = spans.map(\.last).max(), spans.contains(where: { $0.last < latest }) else { return }
        wh.logger.warning("order sources end on different days: the as-of date \(CivilDate.iso(asOf)) is after the last day of some; their last days look like customers who stopped buying. Set --as-of to the earliest last day, or add the missing exports",
                          metadata: ["last_days": "\(spans.map { "\($0.source)=\(CivilDate.iso($0.last))" }.joined(separator: " "))"])
    }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "aggregate")
        try wh.requireUpstream("aggregate", upstream: "join")
        let db = wh.db
        let p = wh.pipeline
        try wh.bulk { try db.transaction {
            let generation = try wh.meta("join_generation") ?? "0"
            let watermark = Int(try wh.meta("next_component") ?? "0") ?? 0
            var mode = "full"
            var state: MetricState
            var changed = 0
            if let old = try Self.loadState(db), old.fingerprint == fingerprint, old.generation == generation,
               let next = try incremental(old, watermark: watermark) {
                state = next.state
                changed = next.components
                mode = "incremental"
            } else {
                (state, changed) = try full(generation: generation, watermark: watermark)
            }
            try db.execute("DELETE FROM int_retired")
            try Self.saveState(state, db)
            report.rowsIn = changed

            var tables: [OutputTable]
            if let asOf = state.asOf {
                let spend = try db.prepare("SELECT day, channel, spend_fen FROM stg_spend WHERE day <= ?").rows([.int(asOf)]) {
                    (day: $0.int(0), channel: $0.text(1), fen: $0.int(2))
                }
                tables = state.tables(asOf: asOf, p: p.period, windowDays: p.windowDays, spend: spend)
            } else {
                wh.logger.warning("no qualifying purchase in the data: the metric outputs are empty")
                tables = Metrics.emptyTables()
            }
            tables.append(try DataQuality.table(wh))
            for t in tables { try Self.store(t, in: db) }
            // customer_summary is a view: T and is_fan follow the as-of date, the rest is stored per customer.
            let asOf = state.asOf ?? Int.min
            try db.execute("""
                DROP VIEW IF EXISTS out_customer_summary;
                CREATE VIEW out_customer_summary AS SELECT customer_key, acquisition_platform, first_purchase_day, frequency, recency,
                    \(state.asOf ?? 0) - first_day AS "T", monetary_value,
                    CASE WHEN first_follow_day <= \(asOf) THEN 'true' ELSE 'false' END AS is_fan
                FROM agg_summary WHERE first_day <= \(asOf) ORDER BY customer_key;
                """)
            try warnUnevenSources(asOf: state.asOf)
            let customers = state.acquired[0] ?? 0   // every customer up to the as-of date, as the view lists them
            try wh.setMeta("as_of", state.asOf.map(CivilDate.iso) ?? "")
            try wh.setMeta("outputs", (tables.map(\.name) + ["customer_summary"]).joined(separator: ","))
            report.rowsOut = tables.reduce(customers) { $0 + $1.rows.count }
            try wh.recordStage("aggregate", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "\(mode) components=\(changed) as_of=\(state.asOf.map(CivilDate.iso) ?? "none")")
            wh.logger.info("aggregated", metadata: ["mode": "\(mode)", "components": "\(changed)", "customers": "\(customers)"])
        } }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Every component added from scratch.
    func full(generation: String, watermark: Int) throws -> (MetricState, Int) {
        let db = wh.db, p = wh.pipeline
        try db.execute("DELETE FROM agg_facts; DELETE FROM agg_summary;")
        var state = MetricState(fingerprint: fingerprint, generation: generation)
        let dataMax = try db.scalarInt("SELECT COALESCE(max(pay_day), -2147483648) FROM int_purchases")
        let asOf = asOfOverride ?? p.asOf ?? (dataMax == -2147483648 ? nil : dataMax)
        state.asOf = asOf
        var n = 0
        let writer = try FactsWriter(db)
        try Self.streamFacts(db, from: 0, state: &state) { f, state in
            state.count(f, sign: 1)
            if let asOf { state.apply(f, sign: 1, asOf: asOf, p: p.period, windowDays: p.windowDays, loyalThreshold: p.loyalThreshold) }
            try writer.add(f, state: state, asOf: asOf)
            n += 1
        }
        state.nextComponent = watermark
        return (state, n)
    }

    /// The night's changes applied to the saved sums; nil when only a full rebuild gives the same numbers.
    func incremental(_ old: MetricState, watermark: Int) throws -> (state: MetricState, components: Int)? {
        let db = wh.db, p = wh.pipeline
        guard let oldAsOf = old.asOf else { return nil }
        var state = old
        // Components the join retired (their facts as last added), and the new ones.
        let retired = try db.prepare("SELECT component, facts FROM agg_facts WHERE component IN (SELECT component FROM int_retired) ORDER BY component")
            .rows { ComponentFacts(component: $0.int(0), bytes: $0.blob(1)) }
        var added: [ComponentFacts] = []
        try Self.streamFacts(db, from: old.nextComponent, state: &state) { f, _ in added.append(f) }
        let oldMax = old.maxDay
        for f in retired { state.count(f, sign: -1) }
        for f in added { state.count(f, sign: 1) }
        guard let asOf = asOfOverride ?? p.asOf ?? state.maxDay else { return nil }
        // Unchanged components must contribute the same at both dates: none of their purchases may
        // lie after either date (then only their follows can move, handled below).
        if let m = oldMax, m > oldAsOf || m > asOf { return nil }
        let lo = min(oldAsOf, asOf), hi = max(oldAsOf, asOf)
        let moved = lo == hi ? [] : try db.prepare("""
            SELECT component, facts FROM agg_facts WHERE component IN
              (SELECT component FROM int_fans WHERE first_follow_day > ? AND first_follow_day <= ? AND component < ?)
            ORDER BY component
            """).rows([.int(lo), .int(hi), .int(old.nextComponent)]) { ComponentFacts(component: $0.int(0), bytes: $0.blob(1)) }
        func apply(_ fs: [ComponentFacts], _ sign: Int, _ day: Int) {
            for f in fs { state.apply(f, sign: sign, asOf: day, p: p.period, windowDays: p.windowDays, loyalThreshold: p.loyalThreshold) }
        }
        apply(retired, -1, oldAsOf)
        apply(moved, -1, oldAsOf)
        apply(moved, 1, asOf)
        apply(added, 1, asOf)
        state.asOf = asOf
        state.nextComponent = max(watermark, old.nextComponent)
        let dropFacts = try db.prepare("DELETE FROM agg_facts WHERE component=?")
        let dropSummary = try db.prepare("DELETE FROM agg_summary WHERE customer_key=?")
        for f in retired {
            try dropFacts.run([.int(f.component)])
            if let c = f.customer { try dropSummary.run([.text(c.key)]) }
        }
        let writer = try FactsWriter(db)
        for f in added { try writer.add(f, state: state, asOf: asOf) }
        return (state, retired.count + added.count + moved.count)
    }

    /// Writes each component's facts (agg_facts) and its customer's stored summary (agg_summary).
    struct FactsWriter {
        let facts: Statement, summary: Statement
        init(_ db: Database) throws {
            facts = try db.prepare("INSERT OR REPLACE INTO agg_facts VALUES(?,?)")
            summary = try db.prepare("INSERT OR REPLACE INTO agg_summary VALUES(?,?,?,?,?,?,?,?)")
        }
        func add(_ f: ComponentFacts, state: MetricState, asOf: Int?) throws {
            facts.bindInt(f.component, at: 1)
            facts.bindBlob(f.encoded(), at: 2)
            _ = try facts.step()
            facts.reset()
            guard let c = f.customer, let asOf, c.firstDay <= asOf else { return }
            let s = Metrics.summary(c, asOf: asOf)
            try summary.run([.text(c.key), .text(state.platforms[c.platform]), .text(CivilDate.iso(c.firstDay)), .int(c.firstDay),
                             .int(s.frequency), .int(s.recency), .text(s.monetary), .optInt(c.firstFollowDay)])
        }
    }

    /// The facts of every component with id >= `from`, in id order: a merge of int_customers,
    /// int_purchases (both in customer_id order) and int_fans (by component).
    static func streamFacts(_ db: Database, from: Int, state: inout MetricState,
                            _ body: (ComponentFacts, inout MetricState) throws -> Void) throws {
        let cs = try db.prepare("""
            SELECT customer_id, customer_key, first_day, acquisition_platform, acquisition_channel, first_follow_ts
            FROM int_customers WHERE customer_id >= ? ORDER BY customer_id
            """)
        let ps = try db.prepare("SELECT customer_id, platform, pay_day, net_fen FROM int_purchases WHERE customer_id >= ? ORDER BY customer_id")
        let fs = try db.prepare("SELECT component, first_follow_day, fan_channel FROM int_fans WHERE component >= ? ORDER BY component")
        try cs.bind([.int(from)]); try ps.bind([.int(from)]); try fs.bind([.int(from)])
        defer { cs.reset(); ps.reset(); fs.reset() }
        var hasC = try cs.step(), hasP = try ps.step(), hasF = try fs.step()
        var lastPlatform = "", lastPlatformIndex = 0
        var purchases: [ComponentFacts.Purchase] = []
        while hasC || hasF {
            let component = min(hasC ? cs.int(0) : Int.max, hasF ? fs.int(0) : Int.max)
            var customer: ComponentFacts.Customer?
            if hasC, cs.int(0) == component {
                purchases.removeAll(keepingCapacity: true)
                while hasP, ps.int(0) < component { hasP = try ps.step() }
                while hasP, ps.int(0) == component {
                    let name = ps.text(1)
                    if name != lastPlatform { lastPlatform = name; lastPlatformIndex = state.platform(name) }
                    purchases.append(.init(day: Int32(ps.int(2)), platform: UInt8(lastPlatformIndex), net: ps.int(3)))
                    hasP = try ps.step()
                }
                purchases.sort { $0.day < $1.day }
                customer = .init(key: cs.text(1), platform: state.platform(cs.text(3)), channel: state.channel(cs.text(4)),
                                 firstDay: cs.int(2), firstFollowDay: cs.intOrNil(5).map { $0 / 86400 }, purchases: purchases)
                hasC = try cs.step()
            }
            var fans: [ComponentFacts.Fan] = []
            while hasF, fs.int(0) == component {
                fans.append(.init(followDay: fs.int(1), channel: state.channel(fs.text(2))))
                hasF = try fs.step()
            }
            try body(ComponentFacts(component: component, customer: customer, fans: fans), &state)
        }
    }

    static func loadState(_ db: Database) throws -> MetricState? {
        let st = try db.prepare("SELECT state FROM agg_state WHERE id=1")
        defer { st.reset() }
        guard try st.step() else { return nil }
        let s = try? JSONDecoder().decode(MetricState.self, from: Data(st.blob(0)))
        return s?.version == MetricState.version ? s : nil
    }

    static func saveState(_ s: MetricState, _ db: Database) throws {
        let st = try db.prepare("INSERT OR REPLACE INTO agg_state VALUES(1, ?)")
        st.bindBlob(Array(try JSONEncoder().encode(s)), at: 1)
        _ = try st.step()
        st.reset()
    }

    static func store(_ t: OutputTable, in db: Database) throws {
        let cols = t.columns.map { "\"\($0)\" TEXT" }.joined(separator: ", ")
        try db.execute("DROP TABLE IF EXISTS out_\(t.name); CREATE TABLE out_\(t.name)(\(cols));")
        let st = try db.prepare("INSERT INTO out_\(t.name) VALUES(\(Array(repeating: "?", count: t.columns.count).joined(separator: ",")))")
        for r in t.rows { try st.run(r.map { .text($0) }) }
    }

    /// The columns of an out_* table or view.
    public static func columns(_ name: String, in db: Database) throws -> [String]? {
        let cols = try db.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid").rows([.text("out_\(name)")]) { $0.text(0) }
        return cols.isEmpty ? nil : cols
    }

    /// Streams an out_* table (rows in the order written) or view (its own order) to `row`.
    public static func each(_ name: String, in db: Database, _ row: ([String]) throws -> Void) throws -> [String]? {
        guard let cols = try columns(name, in: db) else { return nil }
        let isView = try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type='view' AND name=?", [.text("out_\(name)")]) > 0
        let st = try db.prepare("SELECT * FROM out_\(name)\(isView ? "" : " ORDER BY rowid")")
        let n = Int32(cols.count)
        while try st.step() { try row((0..<n).map { st.text($0) }) }
        st.reset()
        return cols
    }

    /// Reads an out_* table or view back whole.
    public static func load(_ name: String, from db: Database) throws -> OutputTable? {
        var rows: [[String]] = []
        guard let cols = try each(name, in: db, { rows.append($0) }) else { return nil }
        return OutputTable(name: name, columns: cols, rows: rows)
    }
}
