import Foundation
import Logging

/// Writes parsed files into stg_* in file order: orders (newest observation wins), their item
/// lines, follow records, spend and quarantined rows; keeps stg_order_counts in step.
final class CleanWriter {
    let wh: Warehouse
    let plan: CleanPlan
    private let quarantine, insertFollow, insertSpend, insertOrder, noteReplaced, existing: Statement
    private let insertItem, existingItem, dropItems, fileDays: Statement
    /// Full: the orders (and orders with item lines) a newer file had already.
    private var seen: OrderKeySet
    private var itemSeen = OrderKeySet()
    /// The observation of a stored order is its file's (an incremental run only happens while
    /// every cleaned file is still at the path it was cleaned from).
    private var obsOfFile: [Int: String] = [:]
    /// Orders per (file, platform, status), kept in step with stg_orders for data_quality and the report.
    private var counts: [OrderCountKey: Int] = [:]

    init(wh: Warehouse, plan: CleanPlan, seq: Int) throws {
        self.wh = wh
        self.plan = plan
        let db = wh.db
        quarantine = try db.prepare("INSERT INTO raw_quarantine(file_id, line, stage, reason, column_no, raw_text) VALUES(?,?,'clean',?,?,?)")
        insertFollow = try db.prepare("INSERT INTO stg_follow_records VALUES(?,?,?,?,?,?,?,?,?,?,\(seq))")
        insertSpend = try db.prepare("INSERT INTO stg_spend VALUES(?,?,?,?,?,?)")
        // Full: plain appends, the key index built once at the end. Incremental: each order
        // checked against the stored observation through the index.
        insertOrder = try db.prepare("INSERT \(plan.full ? "" : "OR REPLACE ")INTO stg_orders VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,\(seq))")
        noteReplaced = try db.prepare("INSERT OR IGNORE INTO stg_replaced VALUES(?)")
        existing = try db.prepare("SELECT file_id, rowid, status FROM stg_orders WHERE platform=? AND order_id=?")
        insertItem = try db.prepare("INSERT INTO stg_items VALUES(?,?,?,?,?,?,?,?,\(seq))")
        existingItem = try db.prepare("SELECT file_id FROM stg_items WHERE platform=? AND order_id=? LIMIT 1")
        dropItems = try db.prepare("DELETE FROM stg_items WHERE platform=? AND order_id=?")
        fileDays = try db.prepare("UPDATE raw_files SET first_day=?, last_day=? WHERE file_id=?")
        // Sized for the raw rows of each platform's files (an upper bound on its orders).
        var expected: [String: Int] = [:]
        if plan.full {
            for f in plan.files where f.kind != .followers && f.kind != .spend {
                let platform = wh.pipeline.sources.first { $0.name == f.source }?.platform ?? f.kind.platform ?? f.source
                expected[platform, default: 0] += max(0, f.lastRowID - f.firstRowID + 1)
            }
        } else {
            for (id, key, path) in try db.prepare("SELECT file_id, COALESCE(export_key, ''), path FROM raw_files").rows([], { ($0.int(0), $0.text(1), $0.text(2)) }) {
                obsOfFile[id] = CleanStage.FileRow.observation(exportKey: key, path: plan.paths[id]?.first ?? path)
            }
        }
        seen = OrderKeySet(expected: expected)
    }

    /// One piece of a parsed file.
    func write(_ r: CleanedFile, report: inout StageReport) throws {
        let f = r.file
        for q in r.quarantined {
            // Total rows (合计, 汇总) are expected in spend reports: recorded, but no reason for exit 2.
            if !q.reason.hasPrefix("summary_row") { report.quarantined += 1 }
            try quarantine.run([.int(f.fileID), .int(q.line), .text(q.reason), .optInt(q.column), .text(q.raw)])
        }
        if r.last { try fileDays.run([.optInt(r.firstDay), .optInt(r.lastDay), .int(f.fileID)]) }
        if !r.items.isEmpty { try writeItems(r) }
        for v in r.follows { try insertFollow.run(v) }
        for v in r.spends { try insertSpend.run(v) }
        report.rowsOut += r.follows.count + r.spends.count
        try writeOrders(r)
        report.rowsOut += r.orders.count
    }

    /// Orders: the newest observation wins; an older export that arrives late never replaces a
    /// newer one, and a replaced observation's identity links are noted for join.
    private func writeOrders(_ r: CleanedFile) throws {
        let obs = r.file.obs
        for o in r.orders {
            if plan.full {
                if !seen.insert(platform: o.platform, orderID: o.orderID) { continue }   // a newer file had it
            } else {
                try existing.bind([.text(o.platform), .text(o.orderID)])
                let found = try existing.step()
                let current = found ? obsOfFile[existing.int(0)] ?? "" : nil, currentRowID = found ? existing.int(1) : 0
                defer { existing.reset() }
                if let current, current > obs { continue }
                if current != nil {
                    try noteReplaced.run([.int(currentRowID)])
                    counts[OrderCountKey(fileID: existing.int(0), platform: o.platform, status: existing.text(2)), default: 0] -= 1
                }
            }
            try insertOrder.run([
                .text(o.platform), .text(o.orderID), .text(o.source), .int(o.fileID), .int(o.line), .optText(o.buyer),
                .text(o.phones.joined(separator: ",")), .text(o.statusRaw), .text(o.status), .int(o.paidFen), .int(o.refundFen),
                .int(o.netFen), .optInt(o.createdTs), .optInt(o.payTs), .optInt(o.payTs.map { $0 / 86400 }),
                .text(o.promo), .int(o.isTest ? 1 : 0), .int(o.itemRows),
            ])
            counts[OrderCountKey(fileID: o.fileID, platform: o.platform, status: o.status), default: 0] += 1
        }
    }

    /// Item lines: an order's lines come from the newest export that lists them (its own order
    /// file for JD, the item report for Tmall), all of them, never mixed with older ones.
    private func writeItems(_ r: CleanedFile) throws {
        let platform = r.itemPlatform, obs = r.file.obs
        var wins: [String: Bool] = [:]   // per order of this file: do its lines win?
        for item in r.items {
            var win = wins[item.orderID]
            if win == nil {
                if plan.full {
                    win = itemSeen.insert(platform: platform, orderID: item.orderID)
                } else {
                    try existingItem.bind([.text(platform), .text(item.orderID)])
                    let current = try existingItem.step() ? obsOfFile[existingItem.int(0)] ?? "" : nil
                    existingItem.reset()
                    win = current.map { $0 <= obs } ?? true
                    if win == true, current != nil { try dropItems.run([.text(platform), .text(item.orderID)]) }
                }
                wins[item.orderID] = win
            }
            guard win == true else { continue }
            try insertItem.run([.text(platform), .text(item.orderID), .int(r.file.fileID), .int(item.line), .optText(item.code),
                                .optText(item.title), .int(item.quantity), .int(item.priceFen)])
        }
    }

    /// The key indexes after a full load, the order counts, and the files marked cleaned.
    func finish() throws {
        let db = wh.db
        if plan.full { try db.execute("CREATE UNIQUE INDEX IF NOT EXISTS stg_orders_key ON stg_orders(platform, order_id); CREATE INDEX IF NOT EXISTS stg_items_key ON stg_items(platform, order_id)") }
        let addCount = try db.prepare("""
            INSERT INTO stg_order_counts VALUES(?,?,?,?) ON CONFLICT(file_id, platform, status) DO UPDATE SET orders = orders + excluded.orders
            """)
        for (k, n) in counts where n != 0 { try addCount.run([.int(k.fileID), .text(k.platform), .text(k.status), .int(n)]) }
        try db.execute("DELETE FROM stg_order_counts WHERE orders = 0")
        let cleanedAt = try db.prepare("UPDATE raw_files SET cleaned=1, clean_path=? WHERE file_id=?")
        for f in plan.files { try cleanedAt.run([.text(f.path), .int(f.fileID)]) }
    }
}
