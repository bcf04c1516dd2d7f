import Foundation
import Logging

/// Stage 5: a CSV file per output and one self-contained index.html, written atomically.
public struct ReportStage {
    let wh: Warehouse
    public init(_ wh: Warehouse) { self.wh = wh }

    /// Every output's name, in the report's order (`Outputs.all`).
    public static var outputs: [String] { Outputs.names }

    public var outputDirectory: String { wh.pipeline.output }

    /// Where the published report lives: `output` is a link to the current version folder.
    public var folder: ReportFolder { ReportFolder(output: outputDirectory) }

    /// `alongside`: more files for the report folder (the run's manifest), given this stage's
    /// report when its files are ready; they are renamed into place with the others.
    public func run(runID: String, alongside: ((StageReport) throws -> [(name: String, text: String)])? = nil) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "report")
        try wh.requireUpstream("report", upstream: "aggregate")
        // Every file goes into a new version folder; the folder is published whole at the end.
        let folder = self.folder
        let inputs = wh.pipeline.sources.flatMap { $0.files.flatMap(Pipeline.matches) }
        let dir = try folder.prepare(runID: runID, inputs: inputs)
        var tables: [String: OutputTable] = [:]
        var customers = (total: 0, repeaters: 0)
        // Every file is written to a temporary name first and all are renamed at the end, so that
        // a run killed while writing leaves the previous run's files, not a mix.
        var finished: [(tmp: String, path: String)] = []
        defer { for (tmp, _) in finished { unlink(tmp) } }   // after a failure; renamed ones are gone already
        for name in Self.outputs {
            let path = "\(dir)/\(name).csv"
            if name == CustomerSummary.name {
                // Streamed: one row per customer can be millions; the page shows the first 200.
                var shown: [[String]] = []
                guard let cols = try AggregateStage.columns(name, in: wh.db) else {
                    throw SiyuError.stageOrder(stage: "report", message: "the warehouse has no out_\(name) view; run `siyu aggregate` first")
                }
                let writer = try CSVWriter.Stream(path: path, header: cols)
                let st = try wh.db.prepare("SELECT * FROM out_\(name)")
                let n = Int32(cols.count)
                let frequency = Int32(cols.firstIndex(of: "frequency") ?? 3)
                while try st.step() {
                    writer.row(st, columns: n)
                    customers.total += 1
                    if st.int(frequency) > 0 { customers.repeaters += 1 }
                    if shown.count < 200 { shown.append((0..<n).map { st.text($0) }) }
                }
                st.reset()
                finished.append((try writer.finish(rename: false), path))
                tables[name] = OutputTable(name: name, columns: cols, rows: shown)
                report.rowsIn += customers.total
                report.rowsOut += customers.total
                continue
            }
            guard let t = try AggregateStage.load(name, from: wh.db) else {
                throw SiyuError.stageOrder(stage: "report", message: "the warehouse has no out_\(name) table; run `siyu aggregate` first")
            }
            tables[name] = t
            finished.append((try CSVWriter.writeTemporary(CSVWriter.render(t), for: path), path))
            report.rowsIn += t.rows.count
            report.rowsOut += t.rows.count
        }
        let statusCounts = try wh.db.prepare("SELECT platform, status, sum(orders) FROM stg_order_counts GROUP BY platform, status ORDER BY platform, status")
            .rows { ($0.text(0), $0.text(1), $0.int(2)) }
        let html = HTMLReport.render(tables: tables, pipelineName: wh.pipeline.name, asOf: try wh.meta("as_of") ?? "",
                                     period: wh.pipeline.period.rawValue, statusCounts: statusCounts,
                                     customers: customers)
        finished.append((try CSVWriter.writeTemporary(html, for: "\(dir)/index.html"), "\(dir)/index.html"))
        try wh.recordStage("report", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut, detail: outputDirectory)
        report.seconds = Date().timeIntervalSince(started)
        for (name, text) in try alongside?(report) ?? [] {
            finished.append((try CSVWriter.writeTemporary(text, for: "\(dir)/\(name)"), "\(dir)/\(name)"))
        }
        try CSVWriter.moveIntoPlace(finished)
        finished = []
        try folder.publish(dir)
        return report
    }
}
