import Foundation
import Logging

/// What one clean does: everything again or only the new files, and which files, in the order
/// they are written.
struct CleanPlan {
    var full: Bool
    /// Full: newest observation first (the first observation of an order wins); incremental:
    /// oldest first (each order checked against the stored one).
    var files: [CleanStage.FileRow]
    /// The files' current paths (their place among exports of the same time).
    var paths: [Int: [String]]
    var fingerprint: String
    /// Cleaned files that no longer count, and cleaned files found at another path now.
    var dropped = 0, moved = 0
}

extension CleanStage {
    /// Incremental: only files not cleaned yet. A changed pipeline (time zone, sources, rules), a
    /// first run, a cleaned file that no longer counts (deleted, replaced in place, its source
    /// gone) or one found at another path now (moved, renamed: it changes places among exports of
    /// the same time, as a rebuild would order them) cleans everything again.
    func plan() throws -> CleanPlan {
        let db = wh.db
        let fingerprint = wh.pipeline.cleanFingerprint
        let active = try wh.activeFiles()
        let dropped = try db.scalarInt("SELECT count(*) FROM raw_files WHERE cleaned=1 AND NOT \(active)")
        let paths = try wh.currentPaths()
        var moved = 0
        for (id, path) in try db.prepare("SELECT file_id, COALESCE(clean_path, '') FROM raw_files WHERE cleaned=1 AND \(active)").rows([], { ($0.int(0), $0.text(1)) })
        where paths[id]?.first != path { moved += 1 }
        let full = try wh.meta("clean_fingerprint") != fingerprint || dropped > 0 || moved > 0
        if full {
            try db.execute("DROP INDEX IF EXISTS stg_orders_key; DROP INDEX IF EXISTS stg_items_key; DELETE FROM stg_orders; DELETE FROM stg_items; DELETE FROM stg_order_counts; DELETE FROM stg_follow_records; DELETE FROM stg_spend; DELETE FROM raw_quarantine WHERE stage='clean'; UPDATE raw_files SET cleaned=0;")
        }
        let files = try db.prepare("""
            SELECT file_id, source, kind, name, header, COALESCE(export_key, ''), first_rowid, last_rowid, path FROM raw_files
            WHERE status='landed' AND cleaned=0 AND \(active)
            """).rows { st in
            FileRow(fileID: st.int(0), source: st.text(1), kind: SourceKind(rawValue: st.text(2)) ?? .generic,
                    name: st.text(3), header: HeaderMap(Warehouse.splitCells(st.text(4))), exportKey: st.text(5),
                    firstRowID: st.int(6), lastRowID: st.int(7), path: paths[st.int(0)]?.first ?? st.text(8))
        }.sorted { full ? FileRow.isNewer($0.obs, than: $1.obs) : FileRow.isNewer($1.obs, than: $0.obs) }
        return CleanPlan(full: full, files: files, paths: paths, fingerprint: fingerprint, dropped: dropped, moved: moved)
    }

    /// A rule that reads a column by name (`fields`) must name a column some export in its scope
    /// has: a misspelled header would silently match nothing and move customers and spend to
    /// other channels.
    func checkRuleFields() throws {
        let files = try wh.db.prepare("SELECT source, kind, header FROM raw_files WHERE status='landed' AND \(try wh.activeFiles())")
            .rows { (source: $0.text(0), kind: SourceKind(rawValue: $0.text(1)), header: Set(HeaderMap(Warehouse.splitCells($0.text(2))).names)) }
        for (n, rule) in wh.pipeline.rules.enumerated() where !rule.fields.isEmpty {
            for target in [RuleTarget.order, .spend] where rule.on.contains(target) {
                let inScope = files.filter { f in
                    guard let kind = f.kind, target == .order ? kind.isOrders : kind == .spend else { return false }
                    let platform = wh.pipeline.sources.first { $0.name == f.source }?.platform
                    return (rule.sources.isEmpty || rule.sources.contains(f.source)) && (rule.platforms.isEmpty || platform.map(rule.platforms.contains) == true)
                }
                guard !inScope.isEmpty else { continue }
                for field in rule.fields where !inScope.contains(where: { $0.header.contains(field) }) {
                    let seen = Set(inScope.flatMap(\.header)).sorted()
                    let near = Pipeline.nearest(field, in: seen).map { "; did you mean `\($0)`?" } ?? ""
                    throw SiyuError.config(file: wh.pipeline.path, message: "[[rule]] #\(n + 1) (\(rule.channel)) reads the column `\(field)`, which no \(target == .order ? "order" : "spend") export in its scope has\(near) Fix `fields` in the pipeline file; nothing was changed")
                }
            }
        }
    }
}
