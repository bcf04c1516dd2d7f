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
        var customers = CustomerStats()
        let pipeline = wh.pipeline
        let asOf = try wh.meta("as_of") ?? ""
        // report.xlsx: a sheet per output, beside the CSVs (written while they are).
        let book = pipeline.workbook ? try ReportWorkbook(path: "\(dir)/report.xlsx", asOf: asOf, title: "siyu: \(pipeline.name)", language: pipeline.language) : nil
        // Every file is written to a temporary name first and all are renamed at the end, so that
        // a run killed while writing leaves the previous run's files, not a mix.
        var finished: [(tmp: String, path: String)] = []
        defer { for (tmp, _) in finished { unlink(tmp) } }   // after a failure; renamed ones are gone already
        var sheets: [(name: String, columns: [String])] = []
        for output in Outputs.enabled(pipeline) {
            let name = output.name, path = "\(dir)/\(name).csv"
            if output.perCustomer {
                // Streamed: one row per customer can be millions; the page shows what they add up to.
                guard let cols = try AggregateStage.columns(name, in: wh.db) else {
                    throw SiyuError.stageOrder(stage: "report", message: "the warehouse has no out_\(name) view; run `siyu aggregate` first")
                }
                let writer = try CSVWriter.Stream(path: path, header: cols, bom: pipeline.csvBOM)
                let sheet = try book?.sheet(for: name, columns: cols)
                let st = try wh.db.prepare("SELECT * FROM out_\(name)")
                let n = Int32(cols.count)
                let frequency = Int32(cols.firstIndex(of: "frequency") ?? 3)
                let platform = cols.firstIndex(of: "acquisition_platform").map(Int32.init), fan = cols.firstIndex(of: "is_fan").map(Int32.init)
                let summary = name == CustomerSummary.name
                var written = 0
                while try st.step() {
                    writer.row(st, columns: n)
                    sheet?.row(st, columns: n)
                    if summary { customers.add(platform: platform.map { st.text($0) } ?? "", frequency: st.int(frequency), isFan: fan.map { st.text($0) == "true" } ?? false) }
                    written += 1
                }
                st.reset()
                try sheet?.finish()
                sheets.append((name, cols))
                finished.append((try writer.finish(rename: false), path))
                report.rowsIn += written
                report.rowsOut += written
                continue
            }
            guard let t = try AggregateStage.load(name, from: wh.db) else {
                throw SiyuError.stageOrder(stage: "report", message: "the warehouse has no out_\(name) table; run `siyu aggregate` first")
            }
            tables[name] = t
            finished.append((try CSVWriter.writeTemporary(CSVWriter.render(t, bom: pipeline.csvBOM), for: path), path))
            if let sheet = try book?.sheet(for: name, columns: t.columns) {
                for r in t.rows { sheet.row(r) }
                try sheet.finish()
                sheets.append((name, t.columns))
            }
            report.rowsIn += t.rows.count
            report.rowsOut += t.rows.count
        }
        if let book {
            try book.addDictionary(sheets)
            finished.append((try book.finish(), "\(dir)/report.xlsx"))
        }
        let statusCounts = try wh.db.prepare("SELECT platform, status, sum(orders) FROM stg_order_counts GROUP BY platform, status ORDER BY platform, status")
            .rows { ($0.text(0), $0.text(1), $0.int(2)) }
        // The customer models: what customer_predictions adds up to, and how the fits went.
        let predictions = pipeline.predictions.enabled
            ? try PredictionFacts.load(wh.db, settings: pipeline.predictions, statusJSON: try wh.meta("model_status")) : nil
        let html = HTMLReport.render(tables: tables, context: ReportContext(pipeline: pipeline, asOf: asOf, statusCounts: statusCounts,
                                                                            customers: customers, predictions: predictions))
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
