import Foundation
import Logging
import XCTest
@testable import SiyuCore

/// `siyu _plan` (docs/spark.md, wire format): the files a Spark rebuild takes, in the order and
/// with the observation ranks siyu's own ingest and clean use.
final class SparkPlanTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = try TestSupport.tempDir("sparkplan")
        for dir in ["pipelines", "sample-data"] {
            try FileManager.default.copyItem(at: TestSupport.packageRoot.appendingPathComponent(dir), to: work.appendingPathComponent(dir))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    func plan(_ extra: [String] = []) throws -> (header: [String: String], rows: [[String: String]]) {
        let r = try TestSupport.siyu(["_plan", "--pipeline", "pipelines/sample.toml"] + extra, cwd: work)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n", omittingEmptySubsequences: false)[1].split(separator: "\t").map(String.init), SparkPlan.columns)
        return SparkPlan.parse(r.stdout)
    }

    func db() throws -> Database { try Database(path: work.appendingPathComponent("w.sqlite").path, readOnly: true) }

    /// jd_orders_20251101.csv exported again on 2025-12-15 without its last order: a newer
    /// re-export (other bytes, a later export time in the name). Returns the dropped order's id.
    func addReExport() throws -> String {
        let jd = work.appendingPathComponent("sample-data/jd")
        var lines = try Data(contentsOf: jd.appendingPathComponent("jd_orders_20251101.csv")).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let id = { (l: Data) in String(decoding: l.prefix { $0 != UInt8(ascii: ",") }, as: UTF8.self) }
        let last = id(lines.last!)
        while id(lines.last!) == last { lines.removeLast() }
        try Data(lines.joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")]).write(to: jd.appendingPathComponent("jd_orders_20251215.csv"))
        return last
    }

    func testPlanListsTheFilesIngestRegistersInOrderAndCleansObservationOrder() throws {
        let dropped = try addReExport()
        let p = try plan(["--now", "2026-12-03T17:00:00Z"])
        // 17:00 UTC is 01:00 the next day in Asia/Shanghai: the business day, not the UTC one.
        XCTAssertEqual(p.header["now"], "2026-12-03T17:00:00Z")
        XCTAssertEqual(p.header["day"], "2026-12-04")
        XCTAssertEqual(p.header["time_zone"], "Asia/Shanghai")
        XCTAssertEqual(p.rows.count, 39)
        XCTAssertEqual(p.rows.map { $0["ingest_order"] }, (1...39).map { String($0) })

        let r = try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "pipelines/sample.toml", "--warehouse", "w.sqlite"], cwd: work)
        XCTAssertEqual(r.status, 0, r.stderr)
        // The files that land, in file_id order, are the plan's rows that are no copies, in order.
        let landed = try db().prepare("SELECT source, kind, path, name, sha256, COALESCE(export_key, '') FROM raw_files ORDER BY file_id").rows { st in
            (0..<6).map { st.text($0) }
        }
        let cols = ["source", "kind", "path", "name", "sha256", "export_key"]
        XCTAssertEqual(p.rows.filter { $0["copy_of"] == "" }.map { row in cols.map { row[$0]! } }, landed)
        // The re-delivered copy: raw_redeliveries, pointing at the file the plan names.
        let copies = try db().prepare("SELECT r.path, f.path FROM raw_redeliveries r JOIN raw_files f ON f.file_id = r.duplicate_of ORDER BY r.path").rows { [$0.text(0), $0.text(1)] }
        let byOrder = Dictionary(uniqueKeysWithValues: p.rows.map { ($0["ingest_order"]!, $0) })
        XCTAssertEqual(p.rows.filter { $0["copy_of"] != "" }.map { [$0["path"]!, byOrder[$0["copy_of"]!]!["path"]!] }, copies)

        // By hand. The copy "X (1).csv" comes after X.csv (file 5), counts as X and has no rank.
        let row = { (path: String) in p.rows.first { $0["path"] == path }! }
        let copy = row("sample-data/tmall/ExportOrderList202503011200 (1).csv")
        XCTAssertEqual([copy["ingest_order"], copy["copy_of"], copy["export_key"], copy["obs"], copy["obs_rank"]], ["6", "5", "20250301120000", "", ""])
        XCTAssertEqual(row("sample-data/tmall/ExportOrderList202503011200.csv")["obs"],
                       "20250301120000/sample-data/tmall/ExportOrderList202503011200\u{1}sample-data/tmall/ExportOrderList202503011200.csv")
        // Newest first: ExportOrderList202601011000 (L > D), ExportOrderDetailList202601011000,
        // jd 20260101, then the 20251231 files (spend/ztc, spend/jingzhuntong, followers), then
        // the re-export (20251215): 7th. Then ztc_20251101_20251130 (20251130), then the original
        // jd_orders_20251101: 9th. Files without an export time ("/…") are the oldest.
        let ranked = p.rows.filter { $0["obs_rank"] != "" }.sorted { Int($0["obs_rank"]!)! < Int($1["obs_rank"]!)! }.map { $0["name"]! }
        XCTAssertEqual(Array(ranked.prefix(9)), ["ExportOrderList202601011000.xlsx", "ExportOrderDetailList202601011000.xlsx", "jd_orders_20260101.csv",
                                                 "ztc_20251201_20251231.csv", "jingzhuntong_20241101_20251231.xlsx", "followers_20251231.csv",
                                                 "jd_orders_20251215.csv", "ztc_20251101_20251130.csv", "jd_orders_20251101.csv"])
        let re = row("sample-data/jd/jd_orders_20251215.csv")
        XCTAssertEqual([re["ingest_order"], re["source_index"], re["kind"], re["export_key"], re["obs"], re["obs_rank"], re["copy_of"]],
                       ["14", "1", "jd", "20251215000000", "20251215000000/sample-data/jd/jd_orders_20251215\u{1}sample-data/jd/jd_orders_20251215.csv", "7", ""])
        XCTAssertEqual(row("sample-data/jd/jd_orders_20251101.csv")["obs_rank"], "9")
        XCTAssertEqual(ranked.count, 38)

        // Clean agrees: every JD order (the order id is a JD row's first cell) is the row of the
        // file with the smallest rank among the files that list it; the dropped order comes from
        // an older export.
        let c = try TestSupport.siyu(["clean", "--quiet", "--pipeline", "pipelines/sample.toml", "--warehouse", "w.sqlite"], cwd: work)
        XCTAssertTrue(c.status == 0 || c.status == 2, c.stderr)
        let rank = Dictionary(uniqueKeysWithValues: p.rows.filter { $0["obs_rank"] != "" }.map { ($0["path"]!, Int($0["obs_rank"]!)!) })
        let fileRank = Dictionary(uniqueKeysWithValues: try db().prepare("SELECT file_id, path FROM raw_files").rows { ($0.int(0), rank[$0.text(1)]!) })
        var newest: [String: Int] = [:]
        for (file, order) in try db().prepare("SELECT DISTINCT file_id, substr(cells, 1, instr(cells, char(31)) - 1) FROM \(Warehouse.rawTables[.jd]!)").rows([], { ($0.int(0), $0.text(1)) }) {
            if newest[order].map({ fileRank[$0]! > fileRank[file]! }) ?? true { newest[order] = file }
        }
        let won = try db().prepare("SELECT order_id, file_id FROM stg_orders WHERE platform='jd'").rows { ($0.text(0), $0.int(1)) }
        XCTAssertGreaterThan(won.count, 100)
        for (order, file) in won { XCTAssertEqual(file, newest[order], order) }
        let reID = try XCTUnwrap(try db().scalarText("SELECT file_id FROM raw_files WHERE name='jd_orders_20251215.csv'"))
        XCTAssertGreaterThan(won.filter { String($0.1) == reID }.count, 10, "the re-export wins the orders it lists")
        XCTAssertNotEqual(try db().scalarText("SELECT file_id FROM stg_orders WHERE platform='jd' AND order_id=?", [.text(dropped)]), reID)
    }

    func testAPathWithATabAndANewlineRoundTrips() throws {
        let weird = "sample-data/spend/ztc\t2025-12\nredo 20251203.csv"
        var lines = try Data(contentsOf: work.appendingPathComponent("sample-data/spend/ztc_20251201_20251231.csv")).split(separator: UInt8(ascii: "\n"))
        lines.removeLast()
        try Data(lines.joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")]).write(to: work.appendingPathComponent(weird))
        let r = try TestSupport.siyu(["_plan", "--pipeline", "pipelines/sample.toml"], cwd: work)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("ztc\\t2025-12\\nredo 20251203.csv\t"), "escaped in the TSV")
        let p = SparkPlan.parse(r.stdout)
        XCTAssertEqual(p.rows.count, 39, "one line per file: the raw tab and newline are escaped")
        let row = try XCTUnwrap(p.rows.first { $0["path"] == weird })
        XCTAssertEqual(row["name"], "ztc\t2025-12\nredo 20251203.csv")
        XCTAssertEqual(row["export_key"], "20251203000000")
        XCTAssertEqual(row["obs"], "20251203000000/sample-data/spend/ztc\t2025-12\nredo 20251203\u{1}" + weird)
        // Ingest registers the same path, byte for byte.
        let i = try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "pipelines/sample.toml", "--warehouse", "w.sqlite"], cwd: work)
        XCTAssertEqual(i.status, 0, i.stderr)
        XCTAssertEqual(try db().scalarInt("SELECT count(*) FROM raw_files WHERE path=?", [.text(weird)]), 1)
        // Backslashes and CR too.
        for s in ["a\\tb", "\\", "x\r\ny\t", "", "无\\n"] {
            XCTAssertEqual(SparkPlan.unescape(Substring(SparkPlan.escape(s))), s)
            XCTAssertFalse(SparkPlan.escape(s).contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }))
        }
    }

    /// The same bytes under another source (a Tmall export dropped into the followers' folder): a
    /// copy of the Tmall file, whose observation takes the first of its paths in delivery order,
    /// as `Warehouse.currentPaths` gives clean (here the copy's path, followers < tmall).
    func testACopyUnderAnotherSourceGivesItsPathToTheObservation() throws {
        let name = "ExportOrderList202510081645.csv"
        try FileManager.default.copyItem(at: work.appendingPathComponent("sample-data/tmall/\(name)"),
                                         to: work.appendingPathComponent("sample-data/followers/\(name)"))
        let p = try plan()
        let original = try XCTUnwrap(p.rows.first { $0["path"] == "sample-data/tmall/\(name)" })
        let copy = try XCTUnwrap(p.rows.first { $0["path"] == "sample-data/followers/\(name)" })
        XCTAssertEqual([copy["source"], copy["copy_of"], copy["obs"], copy["obs_rank"]], ["followers", original["ingest_order"], "", ""])
        XCTAssertEqual(original["obs"], "20251008164500/sample-data/followers/ExportOrderList202510081645\u{1}sample-data/followers/\(name)")
        let i = try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "pipelines/sample.toml", "--warehouse", "w.sqlite"], cwd: work)
        XCTAssertEqual(i.status, 0, i.stderr)
        XCTAssertEqual(try db().scalarText("SELECT f.path FROM raw_redeliveries r JOIN raw_files f ON f.file_id = r.duplicate_of WHERE r.path=?",
                                           [.text("sample-data/followers/\(name)")]), "sample-data/tmall/\(name)")
        // The path clean takes for the file's observation (CleanPlan: currentPaths()[id].first).
        let wh = try Warehouse(pipeline: Pipeline.load(path: work.appendingPathComponent("pipelines/sample.toml").path),
                               logger: Logger(label: "test"), path: work.appendingPathComponent("w.sqlite").path, readOnly: true)
        let id = try XCTUnwrap(try db().scalarText("SELECT file_id FROM raw_files WHERE path=?", [.text("sample-data/tmall/\(name)")]).flatMap { Int($0) })
        XCTAssertEqual(try wh.currentPaths()[id]?.first, "sample-data/followers/\(name)")
    }

    func testUnreadableFilesAreListedWithTheirProblemAndHiddenFromHelp() throws {
        try FileManager.default.createDirectory(at: work.appendingPathComponent("sample-data/jd/folder.csv"), withIntermediateDirectories: true)
        let p = try plan()
        let row = try XCTUnwrap(p.rows.first { $0["path"] == "sample-data/jd/folder.csv" })
        XCTAssertTrue(row["problem"]!.hasPrefix("a directory"), row["problem"]!)
        XCTAssertEqual([row["sha256"], row["obs"], row["obs_rank"]], ["", "", ""])
        let help = try TestSupport.siyu(["--help"], cwd: work)
        XCTAssertFalse(help.stdout.contains("_plan"))
        let bad = try TestSupport.siyu(["_plan", "--pipeline", "pipelines/sample.toml", "--now", "tomorrow"], cwd: work)
        XCTAssertEqual(bad.status, 64)
    }
}
