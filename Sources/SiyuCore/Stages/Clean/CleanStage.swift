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
    /// A rule's `fields` must be a header of some export in its scope; the Spark engine's
    /// executors see one file each and leave the check to the client (`SparkEngine`).
    var checksRuleFields = true
    public init(_ wh: Warehouse, now: Date = Date()) {
        self.wh = wh
        latestTs = (Self.runDay(now: now, timeZone: wh.pipeline.timeZone) + 1) * 86400 - 1
    }

    /// The run's own day in the business time zone (days since 1970-01-01): a date after it is
    /// implausible. `siyu _plan` prints it so that every Spark executor uses the same day.
    public static func runDay(now: Date, timeZone: TimeZone) -> Int {
        CivilDate.floorDiv(Int(now.timeIntervalSince1970) + timeZone.secondsFromGMT(for: now), 86400)
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

        /// True when observation `a` is newer than `b` (a full clean writes newest first and the
        /// first observation of an order wins). Swift `String` order: the Spark driver takes
        /// ranks from `siyu _plan` instead of comparing keys itself.
        static func isNewer(_ a: String, than b: String) -> Bool { a > b }
    }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "clean")
        try wh.requireUpstream("clean", upstream: "ingest")
        // A rebuild's first clean (always full) writes without the WAL; its parsing workers then
        // read the raw rows through immutable connections, which is safe because nothing they
        // read changes while they read: the writer adds stg_* rows, and the only schema change
        // (the key indexes, dropped for the bulk load) is committed before they start.
        let noWAL = try wh.scratch && wh.meta("clean_fingerprint") == nil
        if noWAL { try wh.db.execute("DROP INDEX IF EXISTS stg_orders_key; DROP INDEX IF EXISTS stg_items_key") }
        try wh.bulk(when: noWAL) { try wh.db.withTempFiles { try wh.db.transaction {
            if checksRuleFields { try checkRuleFields() }
            let plan = try self.plan()
            report.filesIngested = plan.files.count
            // Every clean run has a sequence number; join picks up the rows of runs it has not seen.
            let seq = (Int(try wh.meta("clean_seq") ?? "0") ?? 0) + 1
            try wh.setMeta("clean_seq", String(seq))
            if plan.full { try wh.setMeta("join_full", "1"); try wh.db.execute("DELETE FROM stg_replaced") }
            let writer = try CleanWriter(wh: wh, plan: plan, seq: seq)
            try parseAndWrite(plan.files, immutable: noWAL, into: writer, report: &report, started: started)
            try writer.finish()
            try wh.setMeta("clean_fingerprint", plan.fingerprint)
            try wh.notePendingQuarantine(report.quarantined)
            wh.progress.clear()
            try wh.recordStage("clean", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                               detail: "\(plan.full ? "full" : "incremental") files=\(plan.files.count) quarantined=\(report.quarantined)",
                               changed: plan.full || !plan.files.isEmpty)
            if plan.dropped + plan.moved > 0 {
                wh.logger.info("cleaned again in full: files that counted before no longer do, or are found at another path", metadata: ["gone": "\(plan.dropped)", "moved": "\(plan.moved)"])
            }
        } } }
        JoinStage.releaseFreedMemory()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Parses `files` on worker threads, each with its own read connection (the raw rows were
    /// committed by ingest), while this thread writes the results in file order: worker k parses
    /// files k, k + lanes, …; this thread takes file i from worker i % lanes.
    func parseAndWrite(_ files: [FileRow], immutable: Bool, into writer: CleanWriter, report: inout StageReport, started: Date) throws {
        let lanes = CleanWorker.lanes(files: files.count)
        // A file's folded orders are held whole (about 190 MB for a month of 10M order lines):
        // the file being written, one parsing per worker and one parsed ahead at most.
        let tickets = FileTickets(ahead: lanes + 2)
        let workers = (0..<lanes).map { k in
            CleanWorker(stage: self, files: files.indices.filter { $0 % lanes == k }.map { ($0, files[$0]) }, dbPath: wh.db.path,
                        immutable: immutable, tickets: tickets)
        }
        for w in workers { w.start() }
        var next = 0
        while next < files.count {
            let r = try workers[next % lanes].results.pop().get()
            defer { if r.last { next += 1; tickets.written() } }
            report.rowsIn += r.rowsIn
            wh.progress.update(stage: "clean", item: r.file.name, rows: report.rowsIn, since: started)
            try writer.write(r, report: &report)
        }
    }
}
