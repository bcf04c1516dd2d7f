/// data_quality.csv: one row per input file, then one per (file, reason). Always
/// rows_read = rows_landed + rows_quarantined, where quarantine counts both ingest and clean.
enum DataQuality {
    static let columns = ["file", "sha256", "format", "rows_read", "rows_landed", "rows_quarantined", "reason", "count"]

    static func table(_ db: Database) throws -> OutputTable {
        var t = OutputTable(name: "data_quality", columns: columns)
        struct F { var id: Int, name: String, sha: String, format: String, read: Int, status: String, error: String }
        let files = try db.prepare("SELECT file_id, name, sha256, COALESCE(format,''), rows_read, status, COALESCE(error,'') FROM raw_files ORDER BY name, sha256").rows { st in
            F(id: st.int(0), name: st.text(1), sha: st.text(2), format: st.text(3), read: st.int(4), status: st.text(5), error: st.text(6))
        }
        let reasons = try db.prepare("""
            SELECT file_id, CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS r, count(*)
            FROM raw_quarantine GROUP BY file_id, r ORDER BY file_id, r
            """).rows { ($0.int(0), $0.text(1), $0.int(2)) }
        var byFile: [Int: [(String, Int)]] = [:]
        for (f, r, n) in reasons { byFile[f, default: []].append((r, n)) }
        for f in files {
            let q = (byFile[f.id] ?? []).reduce(0) { $0 + $1.1 }
            t.rows.append([f.name, f.sha, f.status == "rejected" ? "rejected:\(f.format)" : f.format, String(f.read), String(f.read - q), String(q), "", ""])
            if f.status == "rejected" {
                t.rows.append([f.name, f.sha, "rejected:\(f.format)", "", "", "", "file_rejected", "1"])
            }
            for (r, n) in byFile[f.id] ?? [] {
                t.rows.append([f.name, f.sha, f.format, "", "", "", r, String(n)])
            }
        }
        let dups = try db.prepare("SELECT d.path, d.sha256, f.name FROM raw_redeliveries d JOIN raw_files f ON f.file_id = d.duplicate_of ORDER BY d.path").rows {
            ($0.text(0), $0.text(1), $0.text(2))
        }
        for (path, sha, of) in dups {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            t.rows.append([name, sha, "duplicate_of:\(of)", "0", "0", "0", "", ""])
        }
        return t
    }
}
