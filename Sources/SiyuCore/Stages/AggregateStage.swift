import Foundation
import Logging

/// Stage 4: every output table of METRICS.md, computed in memory from int_* with integer fen,
/// written to out_* tables for the report stage.
public struct AggregateStage {
    let wh: Warehouse
    let asOfOverride: Int?
    public init(_ wh: Warehouse, asOf: Int? = nil) {
        self.wh = wh
        self.asOfOverride = asOf
    }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "aggregate")
        try wh.requireUpstream("aggregate", upstream: "join")
        let data = try AggregateData.load(wh.db)
        report.rowsIn = data.purchaseCount
        let asOf = asOfOverride ?? wh.pipeline.asOf ?? data.maxPurchaseDay
        var tables: [OutputTable] = []
        if let asOf {
            let m = Metrics(data: data, pipeline: wh.pipeline, asOf: asOf)
            tables = [m.cohortRepurchase(), m.repurchaseByPeriod(), m.platformMigration(), m.channelCPA(),
                      m.fanConversion(), m.fanLift(), m.customerSummary()]
        } else {
            wh.logger.warning("no qualifying purchase in the data: the metric outputs are empty")
            tables = Metrics.emptyTables()
        }
        tables.append(try DataQuality.table(wh.db))
        try wh.db.transaction {
            for t in tables { try Self.store(t, in: wh.db) }
            try wh.setMeta("as_of", asOf.map(CivilDate.iso) ?? "")
            try wh.setMeta("outputs", tables.map(\.name).joined(separator: ","))
            report.rowsOut = tables.reduce(0) { $0 + $1.rows.count }
            try wh.recordStage("aggregate", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "as_of=\(asOf.map(CivilDate.iso) ?? "none")")
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    static func store(_ t: OutputTable, in db: Database) throws {
        let cols = t.columns.map { "\"\($0)\" TEXT" }.joined(separator: ", ")
        try db.execute("DROP TABLE IF EXISTS out_\(t.name); CREATE TABLE out_\(t.name)(\(cols));")
        let st = try db.prepare("INSERT INTO out_\(t.name) VALUES(\(Array(repeating: "?", count: t.columns.count).joined(separator: ",")))")
        for r in t.rows { try st.run(r.map { .text($0) }) }
    }

    /// Reads an out_* table back, rows in the order they were written.
    public static func load(_ name: String, from db: Database) throws -> OutputTable? {
        guard try db.tableExists("out_\(name)") else { return nil }
        let cols = try db.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid").rows([.text("out_\(name)")]) { $0.text(0) }
        let st = try db.prepare("SELECT * FROM out_\(name) ORDER BY rowid")
        let n = Int32(cols.count)
        let rows = try st.rows { s in (0..<n).map { s.text($0) } }
        return OutputTable(name: name, columns: cols, rows: rows)
    }
}

/// The joined data, loaded once, in compact arrays: customers, their qualifying purchases, fans, spend.
struct AggregateData {
    struct Customer {
        var key: String, firstDay: Int, platform: Int, channel: String
        var firstFollowDay: Int?
    }
    struct Purchase { var customer: Int32, platform: UInt8, day: Int32, net: Int }
    struct Fan {
        var customer: Int?
        var followDay: Int, channel: String
    }
    struct Spend { var day: Int, channel: String, fen: Int }

    /// Platform names, sorted; purchases and customers refer to them by index.
    var platforms: [String] = []
    var customers: [Customer] = []
    var purchases: [Purchase] = []
    var fans: [Fan] = []
    var spend: [Spend] = []
    var purchaseCount: Int { purchases.count }
    var maxPurchaseDay: Int? { purchases.lazy.map { Int($0.day) }.max() }

    static func load(_ db: Database) throws -> AggregateData {
        var d = AggregateData()
        d.platforms = try db.prepare("SELECT DISTINCT platform FROM int_purchases UNION SELECT DISTINCT acquisition_platform FROM int_customers ORDER BY 1").rows { $0.text(0) }
        var pindex: [String: Int] = [:]
        for (i, p) in d.platforms.enumerated() { pindex[p] = i }
        // Customers in customer_key order; int_* rows refer to them by customer_id.
        var index: [Int: Int32] = [:]
        d.customers = try db.prepare("SELECT customer_key, first_day, acquisition_platform, acquisition_channel, first_follow_ts, customer_id FROM int_customers ORDER BY customer_key").rows { st in
            index[st.int(5)] = Int32(index.count)
            return Customer(key: st.text(0), firstDay: st.int(1), platform: pindex[st.text(2)]!, channel: st.text(3), firstFollowDay: st.intOrNil(4).map { $0 / 86400 })
        }
        d.purchases.reserveCapacity(try db.scalarInt("SELECT count(*) FROM int_purchases"))
        let st = try db.prepare("SELECT customer_id, platform, pay_day, net_fen FROM int_purchases")
        var last = "", lastIndex = 0
        while try st.step() {
            let raw = st.text(1)
            if raw != last { last = raw; lastIndex = pindex[raw]! }
            d.purchases.append(Purchase(customer: index[st.int(0)]!, platform: UInt8(lastIndex), day: Int32(st.int(2)), net: st.int(3)))
        }
        d.fans = try db.prepare("SELECT customer_id, first_follow_day, fan_channel FROM int_fans").rows { st in
            Fan(customer: st.intOrNil(0).flatMap { index[$0] }.map(Int.init), followDay: st.int(1), channel: st.text(2))
        }
        d.spend = try db.prepare("SELECT day, channel, spend_fen FROM stg_spend").rows { st in
            Spend(day: st.int(0), channel: st.text(1), fen: st.int(2))
        }
        return d
    }
}
