import Foundation

/// data_quality.csv: one row per input file, then one per (file, reason). Always
/// rows_read = rows_landed + rows_quarantined, where quarantine counts both ingest and clean.
///
/// Not a sum over components: read from the warehouse's file tables whenever the aggregate runs,
/// whether or not there is a purchase.
struct DataQuality: Output {
    static let name = "data_quality"
    /// The columns of METRICS.md, then the orders each file contributed (its observations that
    /// won "newest observation wins") by status: only paid orders with net_paid > 0 are purchases.
    static let statuses = ["paid", "unpaid", "closed", "refunded", "test"]
    static let columns = ["file", "sha256", "format", "rows_read", "rows_landed", "rows_quarantined", "reason", "count", "orders"]
        + statuses.map { "orders_\($0)" } + ["first_day", "last_day"]

    init() {}

    func publish(_ wh: Warehouse, context: OutputContext?) throws -> Int {
        let t = try Self.table(wh)
        try t.store(in: wh.db)
        return t.rows.count
    }

    static func table(_ wh: Warehouse) throws -> OutputTable {
        let db = wh.db
        let active = try wh.activeFiles()
        var t = OutputTable(name: name, columns: columns)
        let blank = Array(repeating: "", count: 3 + statuses.count)
        struct F { var id: Int, name: String, sha: String, format: String, read: Int, status: String, kind: String, first: Int?, last: Int? }
        var rows: [(name: String, sha: String, order: Int, cells: [String])] = []
        // The files that count (see Warehouse.activeFiles), each under the first of the paths its
        // bytes were found at in the last ingest, in delivery order (as a rebuild would see them);
        // the other paths are listed as its re-deliveries.
        let copies = try wh.currentPaths()
        func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }
        let files = try db.prepare("SELECT file_id, path, sha256, COALESCE(format,''), rows_read, status, kind, first_day, last_day FROM raw_files WHERE \(active)").rows { st in
            let paths = copies[st.int(0)] ?? [st.text(1)]
            return (F(id: st.int(0), name: fileName(paths[0]), sha: st.text(2), format: st.text(3), read: st.int(4), status: st.text(5), kind: st.text(6),
                      first: st.isNull(7) ? nil : st.int(7), last: st.isNull(8) ? nil : st.int(8)),
                    paths.dropFirst().map(fileName))
        }
        let reasons = try db.prepare("""
            SELECT file_id, CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS r, count(*)
            FROM raw_quarantine GROUP BY file_id, r ORDER BY file_id, r
            """).rows { ($0.int(0), $0.text(1), $0.int(2)) }
        var byFile: [Int: [(String, Int)]] = [:]
        for (f, r, n) in reasons { byFile[f, default: []].append((r, n)) }
        var orders: [Int: [String: Int]] = [:]
        for (f, st, n) in try db.prepare("SELECT file_id, status, sum(orders) FROM stg_order_counts GROUP BY file_id, status").rows([], { ($0.int(0), $0.text(1), $0.int(2)) }) {
            orders[f, default: [:]][st] = n
        }
        for (f, duplicates) in files {
            for name in duplicates {
                rows.append((name, f.sha, 0, [name, f.sha, "duplicate_of:\(f.name)", "0", "0", "0", "", ""] + blank))
            }
            let q = (byFile[f.id] ?? []).reduce(0) { $0 + $1.1 }
            let format = f.status == "rejected" ? "rejected:\(f.format)" : f.format
            var orderCells = Array(repeating: "", count: 1 + statuses.count)
            if SourceKind(rawValue: f.kind)?.isOrders == true, f.status != "rejected", !f.format.hasPrefix("tmall_items") {
                let o = orders[f.id] ?? [:]
                orderCells = [String(o.values.reduce(0, +))] + statuses.map { String(o[$0] ?? 0) }
            }
            orderCells += [f.first.map(CivilDate.iso) ?? "", f.last.map(CivilDate.iso) ?? ""]
            rows.append((f.name, f.sha, 0, [f.name, f.sha, format, String(f.read), String(f.read - q), String(q), "", ""] + orderCells))
            if f.status == "rejected" {
                rows.append((f.name, f.sha, 1, [f.name, f.sha, format, "", "", "", "file_rejected", "1"] + blank))
            }
            for (r, n) in byFile[f.id] ?? [] {
                rows.append((f.name, f.sha, 2, [f.name, f.sha, f.format, "", "", "", r, String(n)] + blank))
            }
        }
        // Files by name (re-deliveries among them), each file's reason rows below it.
        rows.sort { ($0.name, $0.sha, $0.order, $0.cells[6]) < ($1.name, $1.sha, $1.order, $1.cells[6]) }
        t.rows = rows.map(\.cells)
        return t
    }
}
