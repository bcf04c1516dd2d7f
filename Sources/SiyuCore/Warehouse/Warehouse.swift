import Foundation
import Logging

/// The warehouse: one SQLite file with layers raw_* (as exported), stg_* (typed), int_* (joined),
/// out_* (what reports print), plus bookkeeping (siyu_runs, siyu_stages, raw_files, quarantine).
public final class Warehouse {
    public let db: Database
    public let pipeline: Pipeline
    public var logger: Logger
    /// Rows and rate on a terminal; off in cron and CI.
    public var progress = Progress(enabled: false)
    /// A rebuild's file beside the warehouse, deleted if the run does not finish: bulk loads may
    /// skip the WAL (`Database.withoutWAL`).
    public var scratch = false
    /// In a rebuild, the files that counted in the warehouse it replaces (source, path): a source
    /// that vanished is noticed by a rebuild as by a night.
    public var previousFiles: [(source: String, path: String)] = []

    public static let rawTables: [SourceKind: String] = [
        .tmall: "raw_tmall_orders", .jd: "raw_jd_orders", .youzan: "raw_youzan_orders",
        .followers: "raw_followers", .spend: "raw_spend", .generic: "raw_generic_orders",
    ]

    /// `readOnly` (for `siyu status`) opens without creating anything, so it never waits on a run.
    public init(pipeline: Pipeline, logger: Logger, path: String? = nil, readOnly: Bool = false) throws {
        self.pipeline = pipeline
        self.logger = logger
        let file = path ?? pipeline.warehouse
        if readOnly {
            db = try Database(path: file, readOnly: true)
            try checkVersion()
            return
        }
        let dir = (file as NSString).deletingLastPathComponent
        if !dir.isEmpty { try Self.createPrivateDirectory(dir) }
        db = try Database(path: file)
        try createSchema()
    }

    /// Creates the warehouse's folder (and any missing parents) 0700: only the user running siyu
    /// reads the warehouse, which holds personal data as exported. An existing folder is left as it is.
    /// The landed files that count (source, path), read from another warehouse file (the one a
    /// rebuild replaces); empty when there is none or it cannot be read.
    public static func countingFiles(at path: String, pipeline: Pipeline, logger: Logger) -> [(source: String, path: String)] {
        guard FileManager.default.fileExists(atPath: path), let old = try? Warehouse(pipeline: pipeline, logger: logger, path: path, readOnly: true),
              let active = try? old.activeFiles() else { return [] }
        return (try? old.db.prepare("SELECT source, path FROM raw_files WHERE status='landed' AND \(active)").rows { ($0.text(0), $0.text(1)) }) ?? []
    }

    public static func createPrivateDirectory(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SiyuError.config(file: dir, message: "exists but is not a folder; the warehouse needs a folder here: rename that file or choose another warehouse path") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            _ = chmod(dir, 0o700)
        } catch {
            throw SiyuError.config(file: dir, message: "cannot create the warehouse folder (\(ErrorText.describe(error))); check the permissions of the folders above it")
        }
    }

    func checkVersion() throws {
        guard try db.tableExists("siyu_meta") else { return }
        // No version yet: a first run killed before it finished creating the schema (which is one
        // transaction now); the tables are created if missing.
        guard let v = try db.scalarText("SELECT value FROM siyu_meta WHERE key='schema_version'") else { return }
        if v != Self.schemaVersion {
            throw SiyuError.stageOrder(stage: "warehouse", message: "\(db.path) was built by another version of siyu (schema \(v), this one needs \(Self.schemaVersion)); rebuild it with `siyu run --full`")
        }
    }

    /// Bumped whenever a table changes shape; an older warehouse must be rebuilt with `siyu run --full`.
    public static let schemaVersion = "13"

    public func createSchema() throws {
        try checkVersion()
        var sql = """
        CREATE TABLE IF NOT EXISTS siyu_meta(key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE IF NOT EXISTS siyu_stages(stage TEXT PRIMARY KEY, run_id TEXT, started_at TEXT, finished_at TEXT,
            seconds REAL, rows_in INTEGER, rows_out INTEGER, detail TEXT, seq INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS siyu_runs(run_id TEXT PRIMARY KEY, started_at TEXT, finished_at TEXT, command TEXT,
            exit_code INTEGER, manifest TEXT);
        CREATE TABLE IF NOT EXISTS raw_files(file_id INTEGER PRIMARY KEY, source TEXT NOT NULL, kind TEXT NOT NULL,
            path TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, size INTEGER, mtime_ns INTEGER, format TEXT, encoding TEXT,
            header TEXT, export_key TEXT, status TEXT NOT NULL, error TEXT, rows_read INTEGER NOT NULL DEFAULT 0,
            rows_landed INTEGER NOT NULL DEFAULT 0, rows_quarantined INTEGER NOT NULL DEFAULT 0, ingested_at TEXT, run_id TEXT,
            cleaned INTEGER NOT NULL DEFAULT 0, first_rowid INTEGER NOT NULL DEFAULT 0, last_rowid INTEGER NOT NULL DEFAULT -1,
            seen INTEGER NOT NULL DEFAULT 0, clean_path TEXT, first_day INTEGER, last_day INTEGER, sheet TEXT);
        CREATE TABLE IF NOT EXISTS raw_redeliveries(path TEXT NOT NULL, sha256 TEXT NOT NULL, duplicate_of INTEGER NOT NULL,
            seen_at TEXT, size INTEGER, mtime_ns INTEGER, seen INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(path, sha256));
        CREATE INDEX IF NOT EXISTS raw_files_path ON raw_files(path);
        CREATE TABLE IF NOT EXISTS raw_quarantine(file_id INTEGER NOT NULL, line INTEGER NOT NULL, stage TEXT NOT NULL,
            reason TEXT NOT NULL, column_no INTEGER, raw_text TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS raw_quarantine_file ON raw_quarantine(file_id, stage);
        CREATE TABLE IF NOT EXISTS stg_orders(platform TEXT NOT NULL, order_id TEXT NOT NULL, source TEXT NOT NULL,
            file_id INTEGER NOT NULL, line INTEGER NOT NULL, buyer TEXT, phones TEXT, status_raw TEXT, status TEXT NOT NULL,
            paid_fen INTEGER NOT NULL, refund_fen INTEGER NOT NULL, net_fen INTEGER NOT NULL, created_ts INTEGER,
            pay_ts INTEGER, pay_day INTEGER, promo TEXT, is_test INTEGER NOT NULL DEFAULT 0, item_rows INTEGER NOT NULL,
            seq INTEGER NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS stg_orders_key ON stg_orders(platform, order_id);
        CREATE INDEX IF NOT EXISTS stg_orders_seq ON stg_orders(seq);
        CREATE TABLE IF NOT EXISTS stg_replaced(rowid_replaced INTEGER PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS stg_order_counts(file_id INTEGER NOT NULL, platform TEXT NOT NULL, status TEXT NOT NULL,
            orders INTEGER NOT NULL, PRIMARY KEY(file_id, platform, status)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS stg_items(platform TEXT NOT NULL, order_id TEXT NOT NULL, file_id INTEGER NOT NULL,
            line INTEGER NOT NULL, code TEXT, title TEXT, quantity INTEGER NOT NULL, price_fen INTEGER NOT NULL, seq INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS stg_items_key ON stg_items(platform, order_id);
        CREATE INDEX IF NOT EXISTS stg_items_seq ON stg_items(seq);
        CREATE TABLE IF NOT EXISTS stg_follow_records(file_id INTEGER NOT NULL, line INTEGER NOT NULL, openid TEXT NOT NULL,
            unionid TEXT, mobile TEXT, subscribe INTEGER, follow_ts INTEGER, scene TEXT, qr_scene TEXT, qr_scene_str TEXT,
            seq INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS stg_follow_records_seq ON stg_follow_records(seq);
        CREATE TABLE IF NOT EXISTS stg_spend(file_id INTEGER NOT NULL, line INTEGER NOT NULL, day INTEGER NOT NULL,
            campaign TEXT, channel TEXT NOT NULL, spend_fen INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS int_customers(customer_id INTEGER PRIMARY KEY, customer_key TEXT NOT NULL UNIQUE,
            first_ts INTEGER NOT NULL, first_day INTEGER NOT NULL, acquisition_platform TEXT NOT NULL, first_order_id TEXT NOT NULL,
            acquisition_channel TEXT NOT NULL, first_follow_ts INTEGER);
        CREATE TABLE IF NOT EXISTS int_purchases(customer_id INTEGER NOT NULL, platform TEXT NOT NULL, stg_order_rowid INTEGER NOT NULL,
            pay_ts INTEGER NOT NULL, pay_day INTEGER NOT NULL, net_fen INTEGER NOT NULL,
            PRIMARY KEY(customer_id, stg_order_rowid)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS int_nodes(node TEXT PRIMARY KEY, grp INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS int_order_group(ref INTEGER PRIMARY KEY, grp INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS int_order_group_g ON int_order_group(grp);
        CREATE TABLE IF NOT EXISTS int_follow_group(ref INTEGER PRIMARY KEY, grp INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS int_follow_group_g ON int_follow_group(grp);
        CREATE TABLE IF NOT EXISTS int_groups(grp INTEGER PRIMARY KEY, component INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS int_groups_c ON int_groups(component);
        CREATE TABLE IF NOT EXISTS int_fans(openid_hash TEXT PRIMARY KEY, customer_id INTEGER, component INTEGER NOT NULL, first_follow_ts INTEGER NOT NULL,
            first_follow_day INTEGER NOT NULL, scene TEXT, qr_scene TEXT, qr_scene_str TEXT, fan_channel TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS int_fans_component ON int_fans(component);
        CREATE INDEX IF NOT EXISTS int_fans_day ON int_fans(first_follow_day);
        CREATE TABLE IF NOT EXISTS int_retired(component INTEGER PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS agg_state(id INTEGER PRIMARY KEY, state BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS agg_facts(component INTEGER PRIMARY KEY, facts BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS agg_summary(customer_key TEXT PRIMARY KEY, acquisition_platform TEXT NOT NULL,
            first_purchase_day TEXT NOT NULL, first_day INTEGER NOT NULL, frequency INTEGER NOT NULL, recency INTEGER NOT NULL,
            monetary_value TEXT NOT NULL, first_follow_day INTEGER, acquisition_channel TEXT NOT NULL, repeat_days TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS agg_model_cache(key TEXT PRIMARY KEY, fit BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS agg_prediction_rollup(dimension TEXT NOT NULL, ord INTEGER NOT NULL, label TEXT NOT NULL,
            customers INTEGER NOT NULL, p_alive_sum REAL NOT NULL, expected_sum REAL NOT NULL, value_customers INTEGER NOT NULL,
            value_sum REAL NOT NULL, PRIMARY KEY(dimension, ord)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS agg_product_names(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        """
        for t in Set(Self.rawTables.values) {
            sql += "\nCREATE TABLE IF NOT EXISTS \(t)(file_id INTEGER NOT NULL, line INTEGER NOT NULL, cells TEXT NOT NULL);"
        }
        sql += "\nINSERT OR IGNORE INTO siyu_meta VALUES('schema_version', '\(Self.schemaVersion)');"
        // All or nothing, so that a run killed while creating it leaves no half-made warehouse.
        if db.inTransaction { try db.execute(sql) } else { try db.transaction { try db.execute(sql) } }
    }

    /// A stage's bulk load: on a scratch file straight into the database (`Database.withoutWAL`),
    /// otherwise through the WAL as always. `when`: false keeps the WAL (a stage that needs it).
    public func bulk<T>(when: Bool = true, _ body: () throws -> T) throws -> T {
        scratch && when ? try db.withoutWAL(body) : try body()
    }

    // MARK: stage bookkeeping

    /// Records a stage's run. `changed: false` (it found nothing new) keeps its place in the commit
    /// order, so the stages after it do not become stale; but it is never older than the stages
    /// before it, which it has just read (else one rejected file, which changes ingest and nothing
    /// after it, would leave clean "older than ingest" for ever).
    public func recordStage(_ stage: String, runID: String, started: Date, rowsIn: Int, rowsOut: Int, detail: String = "", changed: Bool = true) throws {
        let upstream = Stage.allCases.prefix { $0.rawValue != stage }.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let seq = changed ? "(SELECT COALESCE(max(seq), 0) + 1 FROM siyu_stages)"
            : "max(COALESCE((SELECT seq FROM siyu_stages WHERE stage='\(stage)'), (SELECT COALESCE(max(seq), 0) + 1 FROM siyu_stages)), (SELECT COALESCE(max(seq), 0) FROM siyu_stages WHERE stage IN (\(upstream.isEmpty ? "''" : upstream))))"
        let st = try db.prepare("INSERT OR REPLACE INTO siyu_stages VALUES(?,?,?,?,?,?,?,?,\(seq))")
        let end = Date()
        try st.run([.text(stage), .text(runID), .text(Self.timestamp(started)), .text(Self.timestamp(end)),
                    .text(String(format: "%.3f", end.timeIntervalSince(started))), .int(rowsIn), .int(rowsOut), .text(detail)])
    }

    /// The order in which stages last committed (a counter, not a clock).
    public func stageSeq(_ stage: Stage) throws -> Int? {
        let v = try db.scalarInt("SELECT COALESCE(max(seq), -1) FROM siyu_stages WHERE stage=?", [.text(stage.rawValue)])
        return v < 0 ? nil : v
    }

    /// Refuses to run `stage` when a stage before it has not run, or is stale (its own upstream
    /// committed after it), all the way up the chain: the message names the stage to run first.
    public func requireUpstream(_ stage: String, upstream: String) throws {
        guard let up = Stage(rawValue: upstream), let last = Stage.allCases.firstIndex(of: up) else { return }
        var previous: (stage: Stage, seq: Int)?
        for s in Stage.allCases[...last] {
            guard let seq = try stageSeq(s) else {
                throw SiyuError.stageOrder(stage: stage, message: "the warehouse has no `\(s.rawValue)` output yet; run `siyu \(s.rawValue)` first (or `siyu run`)")
            }
            if let p = previous, p.seq > seq {
                throw SiyuError.stageOrder(stage: stage, message: "`\(s.rawValue)` is older than `\(p.stage.rawValue)`, which ran after it; run `siyu \(s.rawValue)` first (or `siyu run`)")
            }
            previous = (s, seq)
        }
    }

    /// SQL condition on raw_files: the file's bytes were at a path the last ingest matched (its
    /// own path or a re-delivered copy's). Only these files count: a file deleted, replaced in
    /// place, or no longer matched by the pipeline's sources and globs drops out, as it would from
    /// a rebuild.
    public func activeFiles() throws -> String {
        let seq = Int(try meta("ingest_seq") ?? "0") ?? 0
        return "(raw_files.seen = \(seq) OR raw_files.file_id IN (SELECT duplicate_of FROM raw_redeliveries WHERE seen = \(seq)))"
    }

    /// For every file that counts, the paths its bytes were found at by the last ingest, in
    /// delivery order: the first is the file's name in the outputs and its place in "newest
    /// observation wins" (as in a rebuild from the files where they are now), the others are its
    /// re-delivered copies.
    public func currentPaths() throws -> [Int: [String]] {
        let seq = Int(try meta("ingest_seq") ?? "0") ?? 0
        var copies: [Int: [String]] = [:]
        for (id, path) in try db.prepare("SELECT file_id, path FROM raw_files WHERE seen = ?1 UNION ALL SELECT duplicate_of, path FROM raw_redeliveries WHERE seen = ?1")
            .rows([.int(seq)], { ($0.int(0), $0.text(1)) }) {
            copies[id, default: []].append(path)
        }
        return copies.mapValues { Pipeline.inDeliveryOrder($0) }
    }

    /// Counts rows a stage quarantined, in the stage's own transaction, until the run that
    /// quarantined them records its end (and its exit 2); a run killed in between leaves them to
    /// the next run to report.
    public func notePendingQuarantine(_ rows: Int) throws {
        guard rows > 0 else { return }
        try setMeta("pending_quarantine", String((Int(try meta("pending_quarantine") ?? "0") ?? 0) + rows))
    }

    /// Each source's first and last day over the files that count (purchase days for orders,
    /// follow days, spend days), in pipeline order; sources without dated rows are left out.
    public func sourceSpans() throws -> [(source: String, first: Int, last: Int)] {
        let spans = try db.prepare("""
            SELECT source, min(first_day), max(last_day) FROM raw_files
            WHERE status='landed' AND first_day IS NOT NULL AND \(try activeFiles()) GROUP BY source
            """).rows { ($0.text(0), $0.int(1), $0.int(2)) }
        return pipeline.sources.compactMap { s in spans.first { $0.0 == s.name }.map { (s.name, $0.1, $0.2) } }
    }

    public func setMeta(_ key: String, _ value: String) throws {
        try db.prepare("INSERT OR REPLACE INTO siyu_meta VALUES(?,?)").run([.text(key), .text(value)])
    }

    public func meta(_ key: String) throws -> String? {
        try db.scalarText("SELECT value FROM siyu_meta WHERE key=?", [.text(key)])
    }

    public static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    /// The inverse of `timestamp` (an instant like 2026-01-05T10:00:00Z), nil when `text` is none.
    public static func instant(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }

    /// Cells of a raw row are stored joined by U+001F (unit separator).
    public static let cellSeparator: Character = "\u{1F}"
    public static func joinCells(_ cells: [String]) -> String {
        cells.map { $0.contains(cellSeparator) ? $0.replacingOccurrences(of: "\u{1F}", with: " ") : $0 }.joined(separator: "\u{1F}")
    }
    public static func splitCells(_ s: String) -> [String] {
        s.split(separator: cellSeparator, omittingEmptySubsequences: false).map(String.init)
    }
}
