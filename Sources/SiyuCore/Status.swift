import Foundation

/// What the warehouse holds: files, row counts per table, each stage's last run, the as-of date.
public enum Status {
    public static func render(_ wh: Warehouse) throws -> String {
        let db = wh.db
        var out = "warehouse: \(db.path)\n"
        out += "as-of date: \(try wh.meta("as_of").flatMap { $0.isEmpty ? nil : $0 } ?? "(not aggregated yet)")\n"
        if try wh.meta("engine") == "spark" {
            out += "engine: spark (built by `siyu run --engine spark`; an embedded `siyu run` rebuilds it in full)\n"
        }
        out += "\n"
        out += "stages (last run):\n"
        var previous: Int? = 0
        var firstStale: Stage?
        for stage in Stage.allCases {
            let row = try db.prepare("SELECT finished_at, seconds, rows_in, rows_out, detail, seq FROM siyu_stages WHERE stage=?")
                .rows([.text(stage.rawValue)]) { ($0.text(0), $0.text(1), $0.int(2), $0.int(3), $0.text(4), $0.int(5)) }.first
            let name = stage.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            if let (fin, secs, rin, rout, detail, seq) = row {
                // Stale: never ran after its upstream's last commit.
                let stale = previous.map { $0 > seq } ?? true
                if stale && firstStale == nil { firstStale = stage }
                let fix = firstStale == stage ? "run `siyu \(stage.rawValue)`" : "run `siyu \(firstStale?.rawValue ?? stage.rawValue)` and the stages after it"
                out += "  \(name) \(fin)  \(secs)s  in=\(rin) out=\(rout)  \(detail)\(stale ? "  STALE: its upstream changed since; \(fix) (or `siyu run`)" : "")\n"
                previous = stale ? nil : seq
            } else {
                out += "  \(name) never run\n"
                if firstStale == nil { firstStale = stage }
                previous = nil
            }
        }
        let spans = try wh.sourceSpans()
        if !spans.isEmpty {
            out += "\nsources (first and last day of the files that count):\n"
            let latest = spans.map(\.last).max() ?? 0
            for s in spans {
                out += "  \(s.source.padding(toLength: 14, withPad: " ", startingAt: 0)) \(CivilDate.iso(s.first)) .. \(CivilDate.iso(s.last))\(s.last < latest ? "  (ends before the others)" : "")\n"
            }
        }
        // The report folder: published whole, or not (a run killed between writing and publishing).
        if let (ran, dir) = try db.prepare("SELECT run_id, detail FROM siyu_stages WHERE stage='report'").rows([], { ($0.text(0), $0.text(1)) }).first {
            let output = ReportFolder(output: dir.isEmpty ? wh.pipeline.output : dir)
            // Published when the link points at that run's folder (the link is the truth: a run
            // killed right after swapping it has not recorded it anywhere else yet).
            let current = output.published
            if current == (output.version(runID: ran) as NSString).lastPathComponent {
                out += "\nreport: \(output.output)/index.html (run \(ran), published)\n"
            } else {
                out += "\nreport: NOT PUBLISHED: the last report (run \(ran)) was written but \(output.output) \(current.map { "still shows \($0)" } ?? "does not point at it"); run `siyu report` (or `siyu run`)\n"
            }
        }
        if let json = try wh.meta("model_status"), let status = try? JSONDecoder().decode(ModelStatus.self, from: Data(json.utf8)) {
            out += "\ncustomer models (last aggregate, horizon \(status.horizon) days):\n"
            for f in status.fits {
                let state = f.customers == 0 ? "no customers" : f.converged ? "converged" : "NOT CONVERGED: \(f.note)"
                let empty = f.unidentified.isEmpty ? "" : "; not estimated: \(f.unidentified.joined(separator: ", "))"
                out += "  \(f.model.padding(toLength: 12, withPad: " ", startingAt: 0)) \(f.segment.padding(toLength: 22, withPad: " ", startingAt: 0)) customers=\(f.customers)  \(state)\(empty)\n"
            }
        }
        out += "\nfiles:\n"
        let paths = try wh.currentPaths()
        let files = try db.prepare("""
            SELECT file_id, name, source, COALESCE(format,'') || COALESCE(', sheet ' || sheet, ''), status, rows_read,
                rows_read - (SELECT count(*) FROM raw_quarantine q WHERE q.file_id = raw_files.file_id),
                (SELECT count(*) FROM raw_quarantine q WHERE q.file_id = raw_files.file_id), \(try wh.activeFiles()) FROM raw_files ORDER BY file_id
            """).rows {
            let name = paths[$0.int(0)].map { ($0[0] as NSString).lastPathComponent } ?? $0.text(1)
            let counts = $0.int(8) != 0 ? "" : "  (no longer counts: not found at a matched path by the last ingest)"
            return "  \(name)  [\($0.text(2)), \($0.text(3))] \($0.text(4)) read=\($0.int(5)) landed=\($0.int(6)) quarantined=\($0.int(7))\(counts)"
        }
        out += files.isEmpty ? "  (none)\n" : files.joined(separator: "\n") + "\n"
        let redeliveries = try db.scalarInt("SELECT count(*) FROM raw_redeliveries")
        if redeliveries > 0 { out += "  \(redeliveries) re-delivered file(s) skipped (same sha256)\n" }
        out += "\ntables:\n"
        let tables = try db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND (name LIKE 'raw\\_%' ESCAPE '\\' OR name LIKE 'stg\\_%' ESCAPE '\\' OR name LIKE 'int\\_%' ESCAPE '\\' OR name LIKE 'out\\_%' ESCAPE '\\') ORDER BY name").rows { $0.text(0) }
        for t in tables { out += "  \(t.padding(toLength: 26, withPad: " ", startingAt: 0)) \(try db.scalarInt("SELECT count(*) FROM \(t)"))\n" }
        if let (last, manifest) = try db.prepare("SELECT run_id, command, finished_at, exit_code, manifest FROM siyu_runs ORDER BY started_at DESC, rowid DESC LIMIT 1")
            .rows([], { ("\($0.text(0)) `\($0.text(1))` finished \($0.text(2)) exit \($0.int(3))", $0.text(4)) }).first {
            out += "\nlast run: \(last)\n"
            if let m = try? JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any], let error = m["error"] as? String {
                out += "  failed in \(error)\n"
            }
        }
        return out
    }
}
