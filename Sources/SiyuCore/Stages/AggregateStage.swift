import Foundation
import Logging

/// Stage 4: every output of METRICS.md (`Outputs.all`), from int_* with integer fen, into out_* for
/// the report.
///
/// The stage walks the identity components and hands each output a component's facts
/// (`ComponentView`); the outputs' sums are kept in agg_state (`AggregateState`), and each
/// component's facts in agg_facts. A nightly run takes out the components the join retired
/// (int_retired), adds the new ones (ids from the last run's watermark up), and re-adds the few whose
/// contribution moves with the as-of date (a first follow between the old and the new as-of date).
/// It falls back to adding every component when that would not give the same numbers: a first run,
/// a full join, another period kind or window, or an as-of date that cuts off purchases (`--as-of`
/// in the past).
public struct AggregateStage {
    let wh: Warehouse
    let asOfOverride: Int?
    let outputs: [any Output.Type]
    public init(_ wh: Warehouse, asOf: Int? = nil) {
        self.init(wh, asOf: asOf, outputs: Outputs.enabled(wh.pipeline))
    }
    init(_ wh: Warehouse, asOf: Int? = nil, outputs: [any Output.Type]) {
        self.wh = wh
        self.asOfOverride = asOf
        self.outputs = outputs
    }

    /// What the saved sums and facts were made with: a change means a full rebuild (so an output or a
    /// fact collector added to the registry is filled from every component on its first run).
    var fingerprint: String {
        let p = wh.pipeline
        let outputs = outputs.map { o in ([o.name] + o.collectors.map { $0.key }).joined(separator: "+") }
        return "agg-v\(AggregateState.version)|\(p.period.rawValue)|\(p.windowDays)|\(p.loyalThreshold)|\(outputs.joined(separator: ","))"
    }

    /// Order sources that end on different days: with the as-of date at the latest, a source whose
    /// export stops earlier shows its last days as if its customers had stopped buying.
    func warnUnevenSources(asOf: Int?) throws {
        guard let asOf else { return }
        let orderSources = Set(wh.pipeline.sources.filter(\.kind.isOrders).map(\.name))
        let spans = try wh.sourceSpans().filter { orderSources.contains($0.source) }
        // Only when the as-of date lies after a source's last day (an analyst's earlier --as-of hides nothing).
        guard spans.contains(where: { $0.last < asOf }) else { return }
        wh.logger.warning("order sources end on different days: the as-of date \(CivilDate.iso(asOf)) is after the last day of some; their last days look like customers who stopped buying. Set --as-of to the earliest last day, or add the missing exports",
                          metadata: ["last_days": "\(spans.map { "\($0.source)=\(CivilDate.iso($0.last))" }.joined(separator: " "))"])
    }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "aggregate")
        try wh.requireUpstream("aggregate", upstream: "join")
        let db = wh.db
        try wh.bulk { try db.transaction {
            let generation = try wh.meta("join_generation") ?? "0"
            let watermark = Int(try wh.meta("next_component") ?? "0") ?? 0
            var mode = "full"
            var state: AggregateState
            var changed = 0
            if let old = try loadState(), old.fingerprint == fingerprint, old.generation == generation,
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
            report.rowsOut = try publish(state)
            let customers = state.population.customers
            try wh.recordStage("aggregate", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "\(mode) components=\(changed) as_of=\(state.asOf.map(CivilDate.iso) ?? "none")")
            wh.logger.info("aggregated", metadata: ["mode": "\(mode)", "components": "\(changed)", "customers": "\(customers)"])
        } }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Every output's out_ table or view at the state's as-of date; the rows of all of them.
    func publish(_ state: AggregateState) throws -> Int {
        let context = state.asOf.map { OutputContext(wh, asOf: $0, population: state.population) }
        if context == nil { wh.logger.warning("no qualifying purchase in the data: the metric outputs are empty") }
        var rows = 0
        for output in state.outputs { rows += try output.publish(wh, context: context) }
        // Outputs turned off leave nothing behind that a later `siyu report` could publish as this run's.
        let off = Outputs.models.sorted().filter { name in !outputs.contains { $0.name == name } }
        for name in off { try wh.db.execute("DROP TABLE IF EXISTS out_\(name)") }
        if off.contains(CustomerPredictions.name) {
            try wh.db.execute("DELETE FROM agg_prediction_rollup; DELETE FROM agg_model_cache; DELETE FROM siyu_meta WHERE key='model_status'")
        }
        try warnUnevenSources(asOf: state.asOf)
        try wh.setMeta("as_of", state.asOf.map(CivilDate.iso) ?? "")
        try wh.setMeta("outputs", outputs.map { $0.name }.joined(separator: ","))
        return rows
    }

    /// Every component added from scratch.
    func full(generation: String, watermark: Int) throws -> (AggregateState, Int) {
        let db = wh.db, p = wh.pipeline
        try db.execute("DELETE FROM agg_facts")
        for o in outputs { try o.reset(db) }
        var state = AggregateState(fingerprint: fingerprint, generation: generation, outputs: outputs)
        let dataMax = try db.scalarInt("SELECT COALESCE(max(pay_day), -2147483648) FROM int_purchases")
        let asOf = asOfOverride ?? p.asOf ?? (dataMax == -2147483648 ? nil : dataMax)
        state.asOf = asOf
        var n = 0
        let writer = try FactsWriter(db)
        try FactsReader.each(db, from: 0, outputs: outputs, state: &state) { f, state in
            state.count(f, sign: 1)
            if let asOf { try state.apply(f, sign: 1, asOf: asOf, wh: wh) }
            try writer.add(f)
            n += 1
        }
        state.nextComponent = watermark
        return (state, n)
    }

    /// The night's changes applied to the saved sums; nil when only a full rebuild gives the same numbers.
    func incremental(_ old: AggregateState, watermark: Int) throws -> (state: AggregateState, components: Int)? {
        let db = wh.db, p = wh.pipeline
        guard let oldAsOf = old.asOf else { return nil }
        var state = old
        // Components the join retired (their facts as last added), and the new ones.
        let retired = try FactsWriter.load(db, "SELECT component FROM int_retired")
        var added: [ComponentFacts] = []
        try FactsReader.each(db, from: old.nextComponent, outputs: outputs, state: &state) { f, _ in added.append(f) }
        let oldMax = old.maxDay
        for f in retired { state.count(f, sign: -1) }
        for f in added { state.count(f, sign: 1) }
        guard let asOf = asOfOverride ?? p.asOf ?? state.maxDay else { return nil }
        // Unchanged components must contribute the same at both dates: none of their purchases may
        // lie after either date (then only their follows can move, handled below).
        if let m = oldMax, m > oldAsOf || m > asOf { return nil }
        let lo = min(oldAsOf, asOf), hi = max(oldAsOf, asOf)
        let moved = lo == hi ? [] : try FactsWriter.load(db, """
            SELECT component FROM int_fans WHERE first_follow_day > ? AND first_follow_day <= ? AND component < ?
            """, [.int(lo), .int(hi), .int(old.nextComponent)])
        func apply(_ fs: [ComponentFacts], _ sign: Int, _ day: Int) throws {
            for f in fs { try state.apply(f, sign: sign, asOf: day, wh: wh) }
        }
        try apply(retired, -1, oldAsOf)
        try apply(moved, -1, oldAsOf)
        try apply(moved, 1, asOf)
        try apply(added, 1, asOf)
        state.asOf = asOf
        state.nextComponent = max(watermark, old.nextComponent)
        let writer = try FactsWriter(db)
        for f in retired { try writer.remove(f.component) }
        for f in added { try writer.add(f) }
        return (state, retired.count + added.count + moved.count)
    }

    func loadState() throws -> AggregateState? {
        let st = try wh.db.prepare("SELECT state FROM agg_state WHERE id=1")
        defer { st.reset() }
        guard try st.step() else { return nil }
        let s = try? AggregateState.decoding(Data(st.blob(0)), outputs: outputs)
        return s?.version == AggregateState.version ? s : nil
    }

    static func saveState(_ s: AggregateState, _ db: Database) throws {
        let st = try db.prepare("INSERT OR REPLACE INTO agg_state VALUES(1, ?)")
        st.bindBlob(Array(try JSONEncoder().encode(s)), at: 1)
        _ = try st.step()
        st.reset()
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
