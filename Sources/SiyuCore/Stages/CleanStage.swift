import Foundation
import Logging

struct OrderCountKey: Hashable { var fileID: Int, platform: String, status: String }

/// One order after folding its item lines (stg_orders).
public struct StagedOrder {
    public var platform: String
    public var orderID: String
    public var source: String
    public var fileID: Int
    public var line: Int
    public var buyer: String?
    public var phones: [String]
    public var statusRaw: String
    public var paidFen: Int
    public var refundFen: Int
    public var createdTs: Int?
    public var payTs: Int?
    /// The promotion fields channel rules read (`PromoText`).
    public var promo: String
    public var isTest: Bool
    public var itemRows: Int

    /// paid / unpaid / closed / refunded / test (see docs/decisions.md).
    public var status: String

    public var netFen: Int { paidFen - refundFen }
}

/// One item line of an order (stg_items): the merchant's product code, the title, quantity and
/// unit price as exported. Tmall item reports, JD per-SKU rows, generic sources that map items.
public struct StagedItem {
    public var orderID: String
    public var line: Int
    public var code: String?
    public var title: String?
    public var quantity: Int
    public var priceFen: Int
}

/// Stage 2: typed, normalized stg_* tables from raw_*: one row per order (newest observation wins),
/// follower records, spend rows with their channel. Bad values are quarantined with their reason.
public struct CleanStage {
    let wh: Warehouse
    /// The last second of the run's own day in the business time zone (local wall seconds): a
    /// later date cannot be a real payment, follow or spend day.
    let latestTs: Int
    public init(_ wh: Warehouse, now: Date = Date()) {
        self.wh = wh
        let local = Int(now.timeIntervalSince1970) + wh.pipeline.timeZone.secondsFromGMT(for: now)
        latestTs = (CivilDate.floorDiv(local, 86400) + 1) * 86400 - 1
    }

    struct Quarantine: Error { var reason: String; var column: Int? }

    struct FileRow {
        var fileID: Int, source: String, kind: SourceKind, name: String, header: HeaderMap, exportKey: String
        var firstRowID: Int, lastRowID: Int
        var path: String
        /// Observation order for "newest observation wins": export time, then delivery order (the
        /// path, as a full rebuild's globs list it), never arrival order, so that a nightly
        /// warehouse and a rebuild pick the same observation.
        var obs: String { Self.observation(exportKey: exportKey, path: path) }

        /// The observation key of a file with this export time (or "") found at `path`.
        static func observation(exportKey: String, path: String) -> String { exportKey + "/" + Pipeline.deliveryKey(path) }
    }

    public static func mapStatus(_ raw: String, paidFen: Int, refundFen: Int, paid: Bool) -> String {
        mapStatus(normalized: Values.normalizedStatus(raw), paidFen: paidFen, refundFen: refundFen, paid: paid)
    }

    /// `mapStatus` of a status text already normalized (`Values.normalizedStatus`).
    static func mapStatus(normalized s: String, paidFen: Int, refundFen: Int, paid: Bool) -> String {
        if paidFen > 0 && refundFen >= paidFen { return "refunded" }
        if !paid {
            if Values.has(s, "关闭") || Values.has(s, "取消") { return "closed" }
            return "unpaid"
        }
        return "paid"
    }

    /// JD statuses that mean the buyer paid, for orders exported without 付款确认时间.
    static func jdStatusImpliesPaid(normalized s: String) -> Bool {
        return ["等待出库", "等待确认收货", "完成", "已完成", "配送中", "已发货", "等待发货"].contains(s)
    }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "clean")
        try wh.requireUpstream("clean", upstream: "ingest")
        // A rebuild's first clean (always full) writes without the WAL; its parsing workers then
        // read the raw rows through immutable connections, which is safe because nothing they
        // read changes while they read: the writer adds stg_* rows, and the only schema change
        // (the key index, dropped for the bulk load) is committed before they start.
        let noWAL = try wh.scratch && wh.meta("clean_fingerprint") == nil
        if noWAL { try wh.db.execute("DROP INDEX IF EXISTS stg_orders_key; DROP INDEX IF EXISTS stg_items_key") }
        try wh.bulk(when: noWAL) { try wh.db.withTempFiles { try wh.db.transaction {
            // Incremental: only files not cleaned yet. A changed pipeline (time zone, sources, rules)
            // or a first run cleans everything again.
            let fingerprint = wh.pipeline.cleanFingerprint
            // Only files the last ingest matched count; one cleaned before that no longer does
            // (deleted, replaced in place, its source gone) takes its rows with it: all again.
            let active = try wh.activeFiles()
            let dropped = try wh.db.scalarInt("SELECT count(*) FROM raw_files WHERE cleaned=1 AND NOT \(active)")
            // A file's place among exports of the same time is its current path (the first of its
            // copies in delivery order); a cleaned file found elsewhere now (moved, renamed, its
            // original deleted) changes places: all again, as a rebuild would order them.
            let paths = try wh.currentPaths()
            var moved = 0
            for (id, path) in try wh.db.prepare("SELECT file_id, COALESCE(clean_path, '') FROM raw_files WHERE cleaned=1 AND \(active)").rows([], { ($0.int(0), $0.text(1)) })
            where paths[id]?.first != path { moved += 1 }
            let full = try wh.meta("clean_fingerprint") != fingerprint || dropped > 0 || moved > 0
            if full {
                try wh.db.execute("DROP INDEX IF EXISTS stg_orders_key; DROP INDEX IF EXISTS stg_items_key; DELETE FROM stg_orders; DELETE FROM stg_items; DELETE FROM stg_order_counts; DELETE FROM stg_follow_records; DELETE FROM stg_spend; DELETE FROM raw_quarantine WHERE stage='clean'; UPDATE raw_files SET cleaned=0;")
            }
            let files = try wh.db.prepare("""
                SELECT file_id, source, kind, name, header, COALESCE(export_key, ''), first_rowid, last_rowid, path FROM raw_files
                WHERE status='landed' AND cleaned=0 AND \(active)
                """).rows { st in
                FileRow(fileID: st.int(0), source: st.text(1), kind: SourceKind(rawValue: st.text(2)) ?? .generic,
                        name: st.text(3), header: HeaderMap(Warehouse.splitCells(st.text(4))), exportKey: st.text(5),
                        firstRowID: st.int(6), lastRowID: st.int(7), path: paths[st.int(0)]?.first ?? st.text(8))
            }.sorted { full ? $0.obs > $1.obs : $0.obs < $1.obs }
            report.filesIngested = files.count
            let quarantine = try wh.db.prepare("INSERT INTO raw_quarantine(file_id, line, stage, reason, column_no, raw_text) VALUES(?,?,'clean',?,?,?)")
            // Every clean run has a sequence number; join picks up the rows of runs it has not seen.
            let seq = (Int(try wh.meta("clean_seq") ?? "0") ?? 0) + 1
            try wh.setMeta("clean_seq", String(seq))
            if full { try wh.setMeta("join_full", "1"); try wh.db.execute("DELETE FROM stg_replaced") }
            let insertFollow = try wh.db.prepare("INSERT INTO stg_follow_records VALUES(?,?,?,?,?,?,?,?,?,?,\(seq))")
            let insertSpend = try wh.db.prepare("INSERT INTO stg_spend VALUES(?,?,?,?,?,?)")
            // Full: files newest first, the first observation of an order wins, plain appends and the
            // key index built once at the end. Incremental: files oldest first, each order checked
            // against the stored observation through the index.
            let insertOrder = try wh.db.prepare("INSERT \(full ? "" : "OR REPLACE ")INTO stg_orders VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,\(seq))")
            let noteReplaced = try wh.db.prepare("INSERT OR IGNORE INTO stg_replaced VALUES(?)")
            // Sized for the raw rows of each platform's files (an upper bound on its orders).
            var expected: [String: Int] = [:]
            if full {
                for f in files where f.kind != .followers && f.kind != .spend {
                    let platform = wh.pipeline.sources.first { $0.name == f.source }?.platform ?? f.kind.platform ?? f.source
                    expected[platform, default: 0] += max(0, f.lastRowID - f.firstRowID + 1)
                }
            }
            var seen = OrderKeySet(expected: expected)
            // Item lines: an order's lines come from the newest export that lists them (its own
            // order file for JD, the item report for Tmall), all of them, never mixed with older ones.
            var itemSeen = OrderKeySet()
            let insertItem = try wh.db.prepare("INSERT INTO stg_items VALUES(?,?,?,?,?,?,?,?,\(seq))")
            let existingItem = try wh.db.prepare("SELECT file_id FROM stg_items WHERE platform=? AND order_id=? LIMIT 1")
            let dropItems = try wh.db.prepare("DELETE FROM stg_items WHERE platform=? AND order_id=?")
            let fileDays = try wh.db.prepare("UPDATE raw_files SET first_day=?, last_day=? WHERE file_id=?")
            let existing = try wh.db.prepare("SELECT file_id, rowid, status FROM stg_orders WHERE platform=? AND order_id=?")
            // The observation of a stored order is its file's (an incremental run only happens while
            // every cleaned file is still at the path it was cleaned from).
            var obsOfFile: [Int: String] = [:]
            if !full {
                for (id, key, path) in try wh.db.prepare("SELECT file_id, COALESCE(export_key, ''), path FROM raw_files").rows([], { ($0.int(0), $0.text(1), $0.text(2)) }) {
                    obsOfFile[id] = FileRow.observation(exportKey: key, path: paths[id]?.first ?? path)
                }
            }
            // Orders per (file, platform, status), kept in step with stg_orders for data_quality and the report.
            var counts: [OrderCountKey: Int] = [:]
            // Files are parsed on worker threads, each with its own read connection (the raw rows
            // were committed by ingest), while this thread writes the results in file order:
            // worker k parses files k, k + lanes, …; this thread takes file i from worker i % lanes.
            let lanes = CleanWorker.lanes(files: files.count)
            // A file's folded orders are held whole (about 190 MB for a month of 10M order lines):
            // the file being written, one parsing per worker and one parsed ahead at most.
            let tickets = FileTickets(ahead: lanes + 2)
            let workers = (0..<lanes).map { k in
                CleanWorker(stage: self, files: files.indices.filter { $0 % lanes == k }.map { ($0, files[$0]) }, dbPath: wh.db.path,
                            immutable: noWAL, tickets: tickets)
            }
            for w in workers { w.start() }
            var next = 0
            while next < files.count {
                let r = try workers[next % lanes].results.pop().get()
                defer { if r.last { next += 1; tickets.written() } }
                let f = r.file
                report.rowsIn += r.rowsIn
                wh.progress.update(stage: "clean", item: f.name, rows: report.rowsIn, since: started)
                for q in r.quarantined {
                    report.quarantined += 1
                    try quarantine.run([.int(f.fileID), .int(q.line), .text(q.reason), .optInt(q.column), .text(q.raw)])
                }
                if r.last { try fileDays.run([.optInt(r.firstDay), .optInt(r.lastDay), .int(f.fileID)]) }
                if !r.items.isEmpty {
                    let platform = r.itemPlatform
                    var wins: [String: Bool] = [:]   // per order of this file: do its lines win?
                    for item in r.items {
                        var win = wins[item.orderID]
                        if win == nil {
                            if full {
                                win = itemSeen.insert(platform: platform, orderID: item.orderID)
                            } else {
                                try existingItem.bind([.text(platform), .text(item.orderID)])
                                let current = try existingItem.step() ? obsOfFile[existingItem.int(0)] ?? "" : nil
                                existingItem.reset()
                                win = current.map { $0 <= f.obs } ?? true
                                if win == true, current != nil { try dropItems.run([.text(platform), .text(item.orderID)]) }
                            }
                            wins[item.orderID] = win
                        }
                        guard win == true else { continue }
                        try insertItem.run([.text(platform), .text(item.orderID), .int(f.fileID), .int(item.line), .optText(item.code),
                                            .optText(item.title), .int(item.quantity), .int(item.priceFen)])
                    }
                }
                for v in r.follows { try insertFollow.run(v) }
                for v in r.spends { try insertSpend.run(v) }
                report.rowsOut += r.follows.count + r.spends.count
                let obs = f.obs
                for o in r.orders {
                    if full {
                        if !seen.insert(platform: o.platform, orderID: o.orderID) { continue }   // a newer file had it
                    } else {
                        // An older export that arrives late never replaces a newer observation.
                        try existing.bind([.text(o.platform), .text(o.orderID)])
                        let found = try existing.step()
                        let current = found ? obsOfFile[existing.int(0)] ?? "" : nil, currentRowID = found ? existing.int(1) : 0
                        defer { existing.reset() }
                        if let current, current > obs { continue }
                        // The replaced observation's identity links must go: join looks at it again.
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
                report.rowsOut += r.orders.count
            }
            if full { try wh.db.execute("CREATE UNIQUE INDEX IF NOT EXISTS stg_orders_key ON stg_orders(platform, order_id); CREATE INDEX IF NOT EXISTS stg_items_key ON stg_items(platform, order_id)") }
            let addCount = try wh.db.prepare("""
                INSERT INTO stg_order_counts VALUES(?,?,?,?) ON CONFLICT(file_id, platform, status) DO UPDATE SET orders = orders + excluded.orders
                """)
            for (k, n) in counts where n != 0 { try addCount.run([.int(k.fileID), .text(k.platform), .text(k.status), .int(n)]) }
            try wh.db.execute("DELETE FROM stg_order_counts WHERE orders = 0")
            let cleanedAt = try wh.db.prepare("UPDATE raw_files SET cleaned=1, clean_path=? WHERE file_id=?")
            for f in files { try cleanedAt.run([.text(f.path), .int(f.fileID)]) }
            try wh.setMeta("clean_fingerprint", fingerprint)
            try wh.notePendingQuarantine(report.quarantined)
            wh.progress.clear()
            try wh.recordStage("clean", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "\(full ? "full" : "incremental") files=\(files.count) quarantined=\(report.quarantined)",
                               changed: full || !files.isEmpty)
            if dropped + moved > 0 {
                wh.logger.info("cleaned again in full: files that counted before no longer do, or are found at another path", metadata: ["gone": "\(dropped)", "moved": "\(moved)"])
            }
        } } }
        JoinStage.releaseFreedMemory()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    func money(_ cols: ResolvedColumns, _ field: String, _ row: RowCells, textIsZero: Bool = false) throws -> Int {
        let raw = cols.value(field, row)
        switch Values.fen(raw) {
        case .empty: return 0
        case .value(let v):
            if v < 0 { throw Quarantine(reason: "bad_amount: \(field) is negative (\(Self.shown(raw)))", column: cols.column(field)) }
            return v
        case .tooLarge:
            throw Quarantine(reason: "bad_amount: \(field) is more than 1,000,000,000.00 yuan (\(Self.shown(raw)))", column: cols.column(field))
        case .invalid:
            // A sentence in place of an amount (`无退款申请`: no refund asked for) means none.
            if textIsZero, !raw.unicodeScalars.contains(where: { $0.properties.numericType != nil }) { return 0 }
            throw Quarantine(reason: "bad_amount: \(field) is not a money amount (\(Self.shown(raw)))", column: cols.column(field))
        }
    }

    /// A cell's text for a quarantine reason: short, control characters made visible.
    static func shown(_ raw: String) -> String {
        let s = Values.clean(raw)
        let t = String(s.unicodeScalars.prefix(40).map { $0.value < 0x20 || $0.value == 0x7F ? "\u{FFFD}" : Character($0) })
        return "`" + t + (s.unicodeScalars.count > 40 ? "…`" : "`")
    }

    /// A local time (wall seconds) checked against the plausible window of `kind`'s exports.
    func plausible(_ t: Int, _ field: String, kind: SourceKind, column: Int?) throws -> Int {
        let day = CivilDate.floorDiv(t, 86400)
        if day < kind.earliestDay {
            throw Quarantine(reason: "implausible_date: \(field) \(CivilDate.iso(day)) is before \(CivilDate.iso(kind.earliestDay)), when such exports began", column: column)
        }
        if t > latestTs {
            throw Quarantine(reason: "implausible_date: \(field) \(CivilDate.iso(day)) is after the day of this run (\(CivilDate.iso(latestTs / 86400)))", column: column)
        }
        return t
    }

    func time(_ cols: ResolvedColumns, _ field: String, _ row: RowCells, kind: SourceKind) throws -> Int? {
        let raw = cols.value(field, row)
        guard Values.text(raw) != nil else { return nil }
        guard let t = Values.businessTime(raw, zone: wh.pipeline.timeZone) else {
            throw Quarantine(reason: "bad_date: \(field) is not a date and time (\(Self.shown(raw)))", column: cols.column(field))
        }
        return try plausible(t, field, kind: kind, column: cols.column(field))
    }

    func orderID(_ cols: ResolvedColumns, _ row: RowCells) throws -> String {
        switch Values.orderID(cols.value("order_id", row)) {
        case .empty: throw Quarantine(reason: "missing_order_id", column: cols.column("order_id"))
        case .scientific: throw Quarantine(reason: "order_id_scientific: Excel turned the order number into 1.23E+18; export again without opening it in Excel", column: cols.column("order_id"))
        case .value(let v): return v
        }
    }

    /// The item line of a row, or nil when the format carries no item fields (or the row none).
    func parseItem(_ row: RowCells, cols: ResolvedColumns, orderID: String, line: Int) throws -> StagedItem? {
        let code = Values.text(cols.value("item_code", row)) ?? Values.text(cols.value("item_code2", row))
        let title = Values.text(cols.value("item_title", row))
        guard code != nil || title != nil else { return nil }
        var quantity = 1
        let q = Values.clean(cols.value("item_quantity", row))
        if !q.isEmpty {
            guard let n = Int(q), n >= 0, n <= 1_000_000 else {
                throw Quarantine(reason: "bad_quantity: item quantity is not a whole number from 0 to 1,000,000 (\(Self.shown(q)))", column: cols.column("item_quantity"))
            }
            quantity = n
        }
        let price = try money(cols, "item_price", row)
        return StagedItem(orderID: orderID, line: line, code: code, title: title, quantity: quantity, priceFen: price)
    }

    /// `statuses`: status texts normalized so far (a file has a handful of distinct ones).
    func parseOrder(_ row: RowCells, cols: ResolvedColumns, source: SourceConfig, fileID: Int, line: Int,
                    statuses: inout [String: String], promo: PromoColumns) throws -> StagedOrder {
        let id = try orderID(cols, row)
        let paid = try money(cols, "paid", row)
        let refund = try money(cols, "refund", row, textIsZero: true)
        if refund > paid {
            throw Quarantine(reason: "refund_above_paid: refund \(Fmt.yuan(refund)) is more than paid \(Fmt.yuan(paid))", column: cols.column("refund"))
        }
        let created = try time(cols, "created_time", row, kind: source.kind)
        var payTs = try time(cols, "pay_time", row, kind: source.kind)
        let statusRaw = Values.clean(cols.value("status", row))
        let normalized: String
        if let known = statuses[statusRaw] { normalized = known } else {
            normalized = Values.normalizedStatus(statusRaw)
            statuses[statusRaw] = normalized
        }
        if source.kind == .jd, payTs == nil, Self.jdStatusImpliesPaid(normalized: normalized) { payTs = created }
        let isTest = Values.has(Values.text(cols.value("order_type", row)) ?? "", "测试")
        let paidFen = payTs == nil ? 0 : paid
        var phones: [String] = []
        for c in cols.values("phone", row) { if let m = Values.mobile(c), !phones.contains(m) { phones.append(m) } }
        return StagedOrder(
            platform: source.platform, orderID: id, source: source.name, fileID: fileID, line: line,
            buyer: Values.text(cols.value("buyer", row)), phones: phones, statusRaw: statusRaw,
            paidFen: paidFen, refundFen: refund, createdTs: created, payTs: payTs,
            promo: promo.text(row), isTest: isTest, itemRows: 1,
            status: isTest ? "test" : Self.mapStatus(normalized: normalized, paidFen: paidFen, refundFen: refund, paid: payTs != nil))
    }

    func parseFollow(_ row: RowCells, cols: ResolvedColumns, fileID: Int, line: Int) throws -> [SQLValue] {
        guard let openid = Values.text(cols.value("openid", row)) else {
            throw Quarantine(reason: "missing_openid", column: cols.column("openid"))
        }
        var followTs: Int?
        let rawTime = Values.clean(cols.value("subscribe_time", row))
        let column = cols.column("subscribe_time")
        if let t = Values.text(rawTime), t != "0" {
            if let local = try followTime(t, column: column) {
                followTs = try plausible(local, "subscribe_time", kind: .followers, column: column)
            }
        }
        let subscribe = Values.text(cols.value("subscribe", row)).flatMap { $0 == "true" ? 1 : $0 == "false" ? 0 : Int($0) }
        return [.int(fileID), .int(line), .text(openid), .optText(Values.text(cols.value("unionid", row))),
                .optText(Values.mobile(cols.value("mobile", row))), .optInt(subscribe), .optInt(followTs),
                .optText(Values.text(cols.value("scene", row))), .optText(Values.text(cols.value("qr_scene", row))),
                .optText(Values.text(cols.value("qr_scene_str", row)))]
    }

    /// A follow time in local wall seconds: Unix seconds (10 digits, as the API gives them), Unix
    /// milliseconds (13 digits), a `YYYYMMDD` day (8 digits), or a date and time text. Other digit
    /// runs are not a time in any unit siyu can tell (`20241201` is not 1970-08-23).
    func followTime(_ t: String, column: Int?) throws -> Int? {
        let zone = wh.pipeline.timeZone
        if t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            func local(_ unix: Int) -> Int { unix + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(unix))) }
            switch t.utf8.count {
            case 10: return local(Int(t)!)
            case 13: return local(Int(t)! / 1000)
            case 8:
                if let day = Values.localTime(t) { return day }
            default: break
            }
            throw Quarantine(reason: "bad_date: subscribe_time \(Self.shown(t)) is neither Unix seconds (10 digits), milliseconds (13) nor a YYYYMMDD day", column: column)
        }
        if t == "true" || t == "false" {
            throw Quarantine(reason: "bad_date: subscribe_time is a true/false value, not a time", column: column)
        }
        guard let local = Values.businessTime(t, zone: zone) else {
            throw Quarantine(reason: "bad_date: subscribe_time is neither Unix seconds nor a date (\(Self.shown(t)))", column: column)
        }
        return local
    }

    func parseSpend(_ row: RowCells, cols: ResolvedColumns, source: String, tool: String?, fields: SpendFields, fileName: String, fileID: Int, line: Int) throws -> [SQLValue] {
        let campaign = Values.text(cols.value("campaign", row))
        let rawDate = Values.clean(cols.value("date", row))
        if Values.has(rawDate, "合计") || Values.has(rawDate, "汇总") || Values.has(rawDate, "总计")
            || (campaign ?? "").hasPrefix("合计") || (campaign ?? "").hasPrefix("汇总") {
            throw Quarantine(reason: "summary_row: a total row, not spend", column: nil)
        }
        var day: Int?
        if cols.single["date"] != nil {
            guard let t = Values.localTime(rawDate) else { throw Quarantine(reason: "bad_date: date is not a date (\(Self.shown(rawDate)))", column: cols.column("date")) }
            day = try plausible(t, "date", kind: .spend, column: cols.column("date")) / 86400
        } else if let key = IngestStage.exportKey(fileName: fileName), let t = Values.localTime(String(key.prefix(8))) {
            day = t / 86400   // no date column (直通车): the last date in the file name
        }
        guard let day else { throw Quarantine(reason: "no_date: the export has no date column and its file name carries no date", column: nil) }
        let spend = try money(cols, "spend", row)
        let channel = wh.pipeline.channel(for: .spend, source: source, platform: nil,
                                          fields: [RuleField(name: "", value: campaign), RuleField(name: "", value: tool)] + fields.fields(row)) ?? "unmapped"
        return [.int(fileID), .int(line), .int(day), .optText(campaign), .text(channel), .int(spend)]
    }
}

/// The columns of one order file that channel rules read: the format's promotion fields (by
/// default) and the headers rules name, each with its header name.
struct PromoColumns {
    var columns: [(name: String, index: Int, isDefault: Bool)] = []
    let named: Bool

    init(header: HeaderMap, cols: ResolvedColumns, extra: [String], named: Bool) {
        self.named = named
        for i in cols.multi["promo"] ?? [] { columns.append((header.names[i], i, true)) }
        if named {
            for n in extra where !columns.contains(where: { $0.name == n }) {
                if let i = header.index(n) { columns.append((n, i, false)) }
            }
        }
    }

    func text(_ row: RowCells) -> String {
        PromoText.encode(columns.map { RuleField(name: $0.name, value: Values.text(row.cell($0.index)), isDefault: $0.isDefault) }, named: named)
    }
}

/// The headers of a spend file that rules name (read besides the campaign).
struct SpendFields {
    var columns: [(name: String, index: Int)] = []
    init(header: HeaderMap, names: [String]) {
        for n in names { if let i = header.index(n) { columns.append((n, i)) } }
    }
    func fields(_ row: RowCells) -> [RuleField] {
        columns.map { RuleField(name: $0.name, value: Values.text(row.cell($0.index)), isDefault: false) }
    }
}

/// Exact set of (platform, order id): numeric ids up to 19 digits (no leading zero) as integers in
/// one open-addressing table per platform (8 bytes an order), others as strings.
struct OrderKeySet {
    /// Open addressing over non-zero UInt64 (0: empty); sized for `capacity`, grown past 80 % load.
    struct Table {
        var slots: [UInt64]
        var count = 0
        init(capacity: Int) { slots = Array(repeating: 0, count: max(16, capacity + capacity / 4)) }

        @inline(__always) static func slot(_ v: UInt64, _ n: Int) -> Int {
            Int(IdentityGraph.mix(v).multipliedFullWidth(by: UInt64(n)).high)
        }

        /// True when `v` (non-zero) was not in the table.
        mutating func insert(_ v: UInt64) -> Bool {
            if (count + 1) * 5 > slots.count * 4 { grow() }
            let n = slots.count
            var s = Self.slot(v, n)
            while true {
                let x = slots[s]
                if x == v { return false }
                if x == 0 { slots[s] = v; count += 1; return true }
                s = s + 1 == n ? 0 : s + 1
            }
        }

        private mutating func grow() {
            let old = slots
            slots = Array(repeating: 0, count: old.count * 2)
            count = 0
            for v in old where v != 0 { _ = insert(v) }
        }
    }

    private let expected: [String: Int]
    private var platforms: [String] = []
    private var numeric: [Table] = []
    private var other = Set<String>()

    /// `expected`: how many orders to expect per platform (a table grows past it).
    init(expected: [String: Int] = [:]) { self.expected = expected }

    /// True when the key was not in the set.
    mutating func insert(platform: String, orderID: String) -> Bool {
        let u = orderID.utf8
        if u.count <= 19, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), u.first != 0x30, let v = UInt64(orderID) {
            let p: Int
            if let i = platforms.firstIndex(of: platform) { p = i } else {
                platforms.append(platform)
                numeric.append(Table(capacity: expected[platform] ?? 0))
                p = platforms.count - 1
            }
            return numeric[p].insert(v)
        }
        return other.insert(platform + "\u{1f}" + orderID).inserted
    }
}

/// One raw file parsed by the clean worker, or a piece of it: folded orders (in first-seen order),
/// follower and spend rows, quarantined rows. Follower and spend rows come in pieces of
/// `CleanedFile.pieceRows` so that a large file is never held whole; orders (folded over the whole
/// file) come with the last piece.
final class CleanedFile: @unchecked Sendable {
    static let pieceRows = 32_768
    let file: CleanStage.FileRow
    /// The file's last piece.
    var last = false
    var orders: [StagedOrder] = []
    var follows: [[SQLValue]] = []
    var spends: [[SQLValue]] = []
    var quarantined: [(line: Int, reason: String, column: Int?, raw: String)] = []
    /// Item lines (with the last piece, like orders) and the platform they belong to.
    var items: [StagedItem] = []
    var itemPlatform = ""
    /// The file's first and last day (purchase, follow or spend day), set on the last piece.
    var firstDay: Int?
    var lastDay: Int?
    var rowsIn = 0
    init(file: CleanStage.FileRow) { self.file = file }
}

/// Reads and parses raw files on its own thread and read-only connection, in the given order.
final class CleanWorker: @unchecked Sendable {
    let stage: CleanStage
    /// The files this worker parses, with their places in the writing order.
    let files: [(Int, CleanStage.FileRow)]
    let dbPath: String
    let tickets: FileTickets
    /// One piece waiting per worker: a piece holds up to a file's folded orders.
    let results = BlockingQueue<Result<CleanedFile, Error>>(capacity: 1)

    /// Parsing workers for `files` files: two (parsing costs about twice what writing does), one
    /// on a single core. More would hold more files' orders in memory at once.
    static func lanes(files: Int) -> Int {
        max(1, min(files, 2, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Opens the file immutable (no locks): a scratch file whose writer does not use the WAL.
    let immutable: Bool

    init(stage: CleanStage, files: [(Int, CleanStage.FileRow)], dbPath: String, immutable: Bool, tickets: FileTickets) {
        self.immutable = immutable
        self.tickets = tickets
        self.stage = stage
        self.files = files
        self.dbPath = dbPath
    }

    func start() {
        guard !files.isEmpty else { return }
        let t = Thread { [self] in
            do {
                let db = try Database(path: dbPath, readOnly: true, immutable: immutable)
                for (place, f) in files {
                    tickets.wait(for: place)
                    try stage.parseFile(f, db: db) { results.push(.success($0)) }
                }
            } catch {
                results.push(.failure(error))
            }
        }
        t.stackSize = 8 << 20
        t.start()
    }
}

/// Files parsed ahead of the writer, at most `ahead` of them counting the one being written:
/// file i may be parsed once the writer has written files up to i - ahead. Granted in file order
/// (a worker waits for its next file only), so the file the writer needs is always granted.
final class FileTickets: @unchecked Sendable {
    private let ahead: Int
    private var done = 0
    private let cond = NSCondition()
    init(ahead: Int) { self.ahead = ahead }

    func wait(for place: Int) {
        cond.lock()
        while place >= done + ahead { cond.wait() }
        cond.unlock()
    }

    func written() {
        cond.lock()
        done += 1
        cond.broadcast()
        cond.unlock()
    }
}

extension CleanStage {
    func parseFile(_ f: FileRow, db: Database, emit: (CleanedFile) -> Void) throws {
        var out = CleanedFile(file: f)
        var firstDay = Int.max, lastDay = Int.min
        func day(_ d: Int) { if d < firstDay { firstDay = d }; if d > lastDay { lastDay = d } }
        var items: [StagedItem] = []
        // The last piece only on success: after an error the worker sends the failure instead.
        func finish() {
            out.last = true
            out.items = items
            out.itemPlatform = wh.pipeline.sources.first { $0.name == f.source }?.platform ?? f.kind.platform ?? f.source
            if firstDay <= lastDay { out.firstDay = firstDay; out.lastDay = lastDay }
            emit(out)
        }
        let source = wh.pipeline.sources.first { $0.name == f.source }
            ?? SourceConfig(name: f.source, kind: f.kind, files: [], defaultChannel: f.source, platform: f.kind.platform ?? f.source, columns: [:])
        guard case let .found(spec, _) = Formats.detect(header: f.header, source: source) else { return finish() }
        let cols = Formats.resolve(spec, f.header)
        let promo = PromoColumns(header: f.header, cols: cols, extra: wh.pipeline.ruleFieldNames(.order),
                                 named: wh.pipeline.rulesNameFields(.order))
        let spendFields = SpendFields(header: f.header, names: wh.pipeline.ruleFieldNames(.spend))
        let rows = try db.prepare("SELECT line, cells FROM \(Warehouse.rawTables[f.kind]!) WHERE rowid BETWEEN ? AND ? ORDER BY rowid")
        try rows.bind([.int(f.firstRowID), .int(f.lastRowID)])
        // Rows of one order in one file are its item lines: order-level amounts count once.
        var index: [String: Int] = [:]
        var statuses: [String: String] = [:]
        index.reserveCapacity(f.lastRowID - f.firstRowID + 1)
        let row = RowCells()
        while try rows.step() {
            let line = rows.int(0)
            row.load(rows.bytes(1))
            out.rowsIn += 1
            do {
                if spec.itemsOnly {
                    if let item = try parseItem(row, cols: cols, orderID: try orderID(cols, row), line: line) { items.append(item) }
                    continue
                }
                switch f.kind {
                case .tmall, .jd, .youzan, .generic:
                    let o = try parseOrder(row, cols: cols, source: source, fileID: f.fileID, line: line, statuses: &statuses, promo: promo)
                    if let item = try parseItem(row, cols: cols, orderID: o.orderID, line: line) { items.append(item) }
                    if let t = o.payTs { day(CivilDate.floorDiv(t, 86400)) }
                    if let i = index[o.orderID] {
                        out.orders[i].itemRows += 1
                        for p in o.phones where !out.orders[i].phones.contains(p) { out.orders[i].phones.append(p) }
                    } else {
                        index[o.orderID] = out.orders.count
                        out.orders.append(o)
                    }
                case .followers:
                    let v = try parseFollow(row, cols: cols, fileID: f.fileID, line: line)
                    if case let .int(t) = v[6] { day(CivilDate.floorDiv(t, 86400)) }
                    out.follows.append(v)
                case .spend:
                    let v = try parseSpend(row, cols: cols, source: f.source, tool: spec.tool, fields: spendFields, fileName: f.name, fileID: f.fileID, line: line)
                    if case let .int(d) = v[2] { day(d) }
                    out.spends.append(v)
                }
            } catch let q as Quarantine {
                out.quarantined.append((line, q.reason, q.column, IngestStage.rawText(row.all)))
            }
            if out.follows.count + out.spends.count >= CleanedFile.pieceRows {
                emit(out)
                out = CleanedFile(file: f)
            }
        }
        rows.reset()
        finish()
    }
}
