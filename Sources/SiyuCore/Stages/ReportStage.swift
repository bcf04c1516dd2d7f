import Foundation
import Logging

/// Stage 5: a CSV file per output and one self-contained index.html, written atomically.
public struct ReportStage {
    let wh: Warehouse
    public init(_ wh: Warehouse) { self.wh = wh }

    public static let outputs = ["cohort_repurchase", "repurchase_by_period", "platform_migration", "channel_cpa",
                                 "fan_conversion", "fan_lift", "customer_summary", "data_quality"]

    public var outputDirectory: String { wh.pipeline.output }

    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "report")
        try wh.requireUpstream("report", upstream: "aggregate")
        let dir = outputDirectory
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Temporary files a killed run left behind (never renamed into place).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: "\(dir)/\(name)")
        }
        var tables: [String: OutputTable] = [:]
        for name in Self.outputs {
            guard let t = try AggregateStage.load(name, from: wh.db) else {
                throw SiyuError.stageOrder(stage: "report", message: "the warehouse has no out_\(name) table; run `siyu aggregate` first")
            }
            tables[name] = t
            try CSVWriter.writeAtomically(CSVWriter.render(t), to: "\(dir)/\(name).csv")
            report.rowsIn += t.rows.count
            report.rowsOut += t.rows.count
        }
        let statusCounts = try wh.db.prepare("SELECT platform, status, sum(orders) FROM stg_order_counts GROUP BY platform, status ORDER BY platform, status")
            .rows { ($0.text(0), $0.text(1), $0.int(2)) }
        let html = HTMLReport.render(tables: tables, pipelineName: wh.pipeline.name, asOf: try wh.meta("as_of") ?? "",
                                     period: wh.pipeline.period.rawValue, statusCounts: statusCounts)
        try CSVWriter.writeAtomically(html, to: "\(dir)/index.html")
        try wh.recordStage("report", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut, detail: dir)
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
