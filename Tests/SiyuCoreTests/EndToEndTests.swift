import Foundation
import XCTest
@testable import SiyuCore

/// Runs the built `siyu` binary on Tests/Fixtures/tiny (written by make_fixtures.py) and checks every
/// output against numbers worked out by hand.
///
/// The data, in business time (Asia/Shanghai):
///   Tmall  1001 alice  2025-01-05 paid 100.00; a later export (202503151200) shows a 20.00 refund -> net 80.00
///          1002 bob    2025-01-20 paid 50.00
///          1003 alice  2025-02-10 paid 80.00, refunded 30.00 -> net 50.00 (Excel date style 2025/2/10 12:00)
///          1004 carol  unpaid (等待买家付款) -> not a purchase
///          1005 dave   paid 60.00, refunded 60.00 -> refunded, not a purchase
///          1006 eve    payment time "not a date" -> quarantined (bad_date)
///   JD     2001 jd_bob 2025-02-10, two SKU rows, 应付金额 200.00 on each -> one order, 200.00
///          2002 jd_erin (删除)完成 2025-03-03 120.00（系统计算中…）, 订单来源 直播
///          2003 too few cells -> quarantined (column_count)
///   Youzan E1 小A phone 13800000001 (= alice) 2025-03-05 40.00, 推广方式 朋友圈广告
///          E2 小F +86 138-0000-0006 2025-02-10 30.00
///          E3 测试订单 -> not a purchase
///          E4 小G 2025-03-10 25.00, 推广方式 分销, 分销员手机号 13800000002 (bob's!) links nothing
///          The same file again under "(1)": skipped by sha256.
///   Followers oF (mobile …06 = frank) 2025-02-01 QR store_qr_01; oA (mobile …01 = alice) 2025-02-15 SEARCH;
///          oZ 2025-03-01 SEARCH, never buys; oX subscribe=0, no time, mobile …05 (erin): links, no fan.
///   Spend  2025-01-10 万相台 300.00 -> tmall; 2025-02-15 朋友圈广告投放 100.00 -> wechat_ads; 2025-03-01 weibo 50.00 -> unmapped
///
/// Customers (transitive links): A = alice (tmall 1001, 1003; microstore E1 via phone; fan oA),
/// B = bob (tmall 1002; jd 2001 via phone …02), E = erin (jd 2002), F = frank (microstore E2; fan oF),
/// G = gina (microstore E4). As-of = latest purchase day = 2025-03-10.
/// Purchase days: A Jan 5 (80), Feb 10 (50), Mar 5 (40); B Jan 20 (50), Feb 10 (200); E Mar 3 (120);
/// F Feb 10 (30); G Mar 10 (25). Cohorts: 2025-01 {A, B} tmall; 2025-02 {F} microstore; 2025-03 {E jd, G microstore}.
final class EndToEndTests: XCTestCase {
    var dir: URL!
    var reports: URL { dir.appendingPathComponent("out/reports") }

    override func setUpWithError() throws {
        dir = try TestSupport.fixture("tiny")
        let r = try TestSupport.siyu(["run", "--pipeline", "tiny.toml", "--quiet"], cwd: dir)
        // Two rows were quarantined: the run finishes with exit code 2.
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("2 quarantined row(s)"), r.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func output(_ name: String) throws -> [[String]] {
        TestSupport.csvRows(try TestSupport.read(reports.appendingPathComponent("\(name).csv")))
    }

    func testCohortRepurchase() throws {
        let rows = try output("cohort_repurchase")
        XCTAssertEqual(rows[0], ["cohort", "acquisition_platform", "period_offset", "cohort_customers", "active_customers", "retention_rate",
                                 "repeat_customers", "cumulative_repeat_rate", "net_revenue", "partial"])
        let all = rows.filter { $0[1] == "all" }
        XCTAssertEqual(all, [
            // Jan cohort {A,B}: k0 net 80+50; k1 both active (A 1003, B 2001), both 2nd days Feb 10; net 50+200;
            // k2 only A (E1 40.00), March is partial (ends after 2025-03-10).
            ["2025-01", "all", "0", "2", "2", "1.0000", "0", "0.0000", "130.00", "false"],
            ["2025-01", "all", "1", "2", "2", "1.0000", "2", "1.0000", "250.00", "false"],
            ["2025-01", "all", "2", "2", "1", "0.5000", "2", "1.0000", "40.00", "true"],
            ["2025-02", "all", "0", "1", "1", "1.0000", "0", "0.0000", "30.00", "false"],
            ["2025-02", "all", "1", "1", "0", "0.0000", "0", "0.0000", "0.00", "true"],
            ["2025-03", "all", "0", "2", "2", "1.0000", "0", "0.0000", "145.00", "true"],
        ])
        // A platform that acquired nobody in a cohort: counts 0, rates empty (0 denominator).
        XCTAssertTrue(rows.contains(["2025-01", "jd", "0", "0", "0", "", "0", "", "0.00", "false"]))
        XCTAssertTrue(rows.contains(["2025-03", "jd", "0", "1", "1", "1.0000", "0", "0.0000", "120.00", "true"]))
        XCTAssertTrue(rows.contains(["2025-02", "microstore", "1", "1", "0", "0.0000", "0", "0.0000", "0.00", "true"]))
        XCTAssertEqual(rows.filter { $0[1] == "tmall" }.prefix(3).map { $0[8] }, ["130.00", "250.00", "40.00"])
        XCTAssertEqual(rows.count, 1 + 6 * 4)   // 6 (cohort, offset) pairs × {all, jd, microstore, tmall}
    }

    func testRepurchaseByPeriod() throws {
        let rows = try output("repurchase_by_period")
        XCTAssertEqual(Array(rows.dropFirst()), [
            ["2025-01", "all", "2", "2", "0", "0.0000", "0", "0.0000", "130.00", "false"],
            ["2025-01", "jd", "0", "0", "0", "", "0", "", "0.00", "false"],
            ["2025-01", "microstore", "0", "0", "0", "", "0", "", "0.00", "false"],
            ["2025-01", "tmall", "2", "2", "0", "0.0000", "0", "0.0000", "130.00", "false"],
            // Feb: A (tmall 1003), B (jd 2001), F (new, microstore); 50 + 200 + 30.
            ["2025-02", "all", "3", "1", "2", "0.6667", "0", "0.0000", "280.00", "false"],
            ["2025-02", "jd", "1", "0", "1", "1.0000", "0", "0.0000", "200.00", "false"],
            ["2025-02", "microstore", "1", "1", "0", "0.0000", "0", "0.0000", "30.00", "false"],
            ["2025-02", "tmall", "1", "0", "1", "1.0000", "0", "0.0000", "50.00", "false"],
            // Mar: A (microstore E1, returning), E (new, jd), G (new, microstore); 1/3 = 0.3333.
            ["2025-03", "all", "3", "2", "1", "0.3333", "0", "0.0000", "185.00", "true"],
            ["2025-03", "jd", "1", "1", "0", "0.0000", "0", "0.0000", "120.00", "true"],
            ["2025-03", "microstore", "2", "1", "1", "0.5000", "0", "0.0000", "65.00", "true"],
            ["2025-03", "tmall", "0", "0", "0", "", "0", "", "0.00", "true"],
        ])
    }

    func testPlatformMigration() throws {
        let rows = try output("platform_migration")
        XCTAssertEqual(Array(rows.dropFirst()), [
            // Repeat days: A Feb 10 (tmall), Mar 5 (microstore); B Feb 10 (jd).
            ["all", "any", "5", "2", "0.4000"], ["all", "jd", "5", "1", "0.2000"],
            ["all", "microstore", "5", "1", "0.2000"], ["all", "tmall", "5", "1", "0.2000"],
            ["jd", "any", "1", "0", "0.0000"], ["jd", "jd", "1", "0", "0.0000"],
            ["jd", "microstore", "1", "0", "0.0000"], ["jd", "tmall", "1", "0", "0.0000"],
            ["microstore", "any", "2", "0", "0.0000"], ["microstore", "jd", "2", "0", "0.0000"],
            ["microstore", "microstore", "2", "0", "0.0000"], ["microstore", "tmall", "2", "0", "0.0000"],
            ["tmall", "any", "2", "2", "1.0000"], ["tmall", "jd", "2", "1", "0.5000"],
            ["tmall", "microstore", "2", "1", "0.5000"], ["tmall", "tmall", "2", "1", "0.5000"],
        ])
    }

    func testChannelCPA() throws {
        let rows = try output("channel_cpa")
        func row(_ p: String, _ c: String) -> [String]? { rows.first { $0[0] == p && $0[1] == c } }
        // Channels: A, B tmall (platform default; A followed only after her first order); E livestream (订单来源 直播);
        // F store_qr (no order rule; followed by QR store_qr_01 before paying); G distributor (推广方式 分销).
        // Jan tmall: 300.00 / 2 = 150.00; first-day revenue 80 + 50; 90 days: A 80+50+40, B 50+200 = 420; 420/300 = 1.4000.
        // Both came back within 90 days (A on 2025-02-10, B on JD 2025-02-10): repeat_customers 2,
        // cost per repeat customer 300.00 / 2 = 150.00. Nobody acquired in February or March has a
        // second purchase day yet: 0, and an empty cost.
        XCTAssertEqual(row("2025-01", "tmall"), ["2025-01", "tmall", "300.00", "2", "150.00", "130.00", "420.00", "1.4000", "false", "2", "150.00"])
        XCTAssertEqual(row("2025-01", "blended"), ["2025-01", "blended", "300.00", "2", "150.00", "130.00", "420.00", "1.4000", "false", "2", "150.00"])
        // New customers without spend: cpa 0.00, ltv_cac empty (spend 0).
        XCTAssertEqual(row("2025-02", "store_qr"), ["2025-02", "store_qr", "0.00", "1", "0.00", "30.00", "30.00", "", "false", "0", ""])
        // Spend without new customers: cpa and ltv_cac empty.
        XCTAssertEqual(row("2025-02", "wechat_ads"), ["2025-02", "wechat_ads", "100.00", "0", "", "0.00", "0.00", "", "false", "0", ""])
        XCTAssertEqual(row("2025-02", "blended"), ["2025-02", "blended", "100.00", "1", "100.00", "30.00", "30.00", "0.3000", "false", "0", ""])
        XCTAssertEqual(row("2025-03", "unmapped"), ["2025-03", "unmapped", "50.00", "0", "", "0.00", "0.00", "", "false", "0", ""])
        XCTAssertEqual(row("2025-03", "livestream"), ["2025-03", "livestream", "0.00", "1", "0.00", "120.00", "120.00", "", "false", "0", ""])
        XCTAssertEqual(row("2025-03", "distributor"), ["2025-03", "distributor", "0.00", "1", "0.00", "25.00", "25.00", "", "false", "0", ""])
        // 50.00 / 2 = 25.00; (120 + 25) / 50 = 2.9000.
        XCTAssertEqual(row("2025-03", "blended"), ["2025-03", "blended", "50.00", "2", "25.00", "145.00", "145.00", "2.9000", "false", "0", ""])
        XCTAssertEqual(rows.count, 1 + 3 * 7)   // 3 periods × (6 channels + blended)
    }

    func testFanConversion() throws {
        let rows = try output("fan_conversion")
        XCTAssertEqual(Array(rows.dropFirst()), [
            // Feb fans: oF (prospect; F's first purchase 9 days later) and oA (already a customer since Jan 5).
            ["2025-02", "all", "2", "1", "1", "0", "1", "1", "1.0000", "0", "0", "9", "false"],
            ["2025-02", "store_qr", "1", "0", "1", "0", "1", "1", "1.0000", "0", "0", "9", "false"],
            ["2025-02", "wechat_follow_other", "1", "1", "0", "0", "0", "0", "", "0", "0", "", "false"],
            // Mar: oZ never buys. oX (subscribe=0, no time) is no fan.
            ["2025-03", "all", "1", "0", "1", "0", "0", "0", "0.0000", "0", "0", "", "false"],
            ["2025-03", "store_qr", "0", "0", "0", "0", "0", "0", "", "0", "0", "", "false"],
            ["2025-03", "wechat_follow_other", "1", "0", "1", "0", "0", "0", "0.0000", "0", "0", "", "false"],
        ])
    }

    func testFanLift() throws {
        let rows = try output("fan_lift")
        XCTAssertEqual(Array(rows.dropFirst()), [
            // A followed Feb 15, after her second purchase day (Feb 10): non_fan. A: 36 days, B: 21 days to the 2nd day.
            ["2025-01", "fan", "0", "0", "", "false"], ["2025-01", "non_fan", "2", "2", "1.0000", "false"],
            ["2025-02", "fan", "1", "0", "0.0000", "false"], ["2025-02", "non_fan", "0", "0", "", "false"],
            ["2025-03", "fan", "0", "0", "", "false"], ["2025-03", "non_fan", "2", "0", "0.0000", "false"],
        ])
    }

    func testCustomerSummary() throws {
        let rows = try output("customer_summary")
        XCTAssertEqual(rows[0], ["customer_key", "acquisition_platform", "first_purchase_day", "frequency", "recency", "T", "monetary_value", "is_fan"])
        let body = rows.dropFirst().map { Array($0.dropFirst()) }.sorted { $0[1] < $1[1] }
        XCTAssertEqual(body, [
            // A: repeat days Feb 10 (50.00) and Mar 5 (40.00): mean 45.00; recency 59; T = Jan 5 -> Mar 10 = 64.
            ["tmall", "2025-01-05", "2", "59", "64", "45.00", "true"],
            ["tmall", "2025-01-20", "1", "21", "49", "200.00", "false"],
            ["microstore", "2025-02-10", "0", "0", "28", "0.00", "true"],
            ["jd", "2025-03-03", "0", "0", "7", "0.00", "false"],
            ["microstore", "2025-03-10", "0", "0", "0", "0.00", "false"],
        ])
        let keys = rows.dropFirst().map { $0[0] }
        XCTAssertEqual(Set(keys).count, 5)
        for k in keys { XCTAssertTrue(k.count == 16 && k.allSatisfy { $0.isHexDigit }, k) }
    }

    func testDataQualityAccountsForEveryRow() throws {
        let rows = try output("data_quality")
        let files = rows.dropFirst().filter { !$0[3].isEmpty }
        for f in files { XCTAssertEqual(Int(f[3])!, Int(f[4])! + Int(f[5])!, "rows_read = landed + quarantined for \(f[0])") }
        XCTAssertTrue(rows.contains { $0[0] == "ExportOrderList202502011200.csv" && $0[3...5] == ["6", "5", "1"] })
        XCTAssertTrue(rows.contains { $0[0] == "ExportOrderList202502011200.csv" && $0[6] == "bad_date" && $0[7] == "1" })
        XCTAssertTrue(rows.contains { $0[0] == "jd_orders_20250331.csv" && $0[6] == "column_count" && $0[7] == "1" })
        XCTAssertEqual(rows.filter { $0[2].hasPrefix("duplicate_of:") }.count, 1)
    }

    func testRunManifest() throws {
        let data = try Data(contentsOf: reports.appendingPathComponent("manifest.json"))
        let m = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        XCTAssertEqual(m["as_of"] as? String, "2025-03-10")
        XCTAssertEqual(m["exit_code"] as? Int, 2)
        let stages = m["stages"] as! [[String: Any]]
        XCTAssertEqual(stages.map { $0["stage"] as? String }, ["ingest", "clean", "join", "aggregate", "report"])
        let ingest = stages[0]
        // 22 data rows read in the 6 distinct files; the "(1)" copy skipped; 1 row quarantined at ingest.
        XCTAssertEqual(ingest["rows_in"] as? Int, 22)
        XCTAssertEqual(ingest["files_ingested"] as? Int, 6)
        XCTAssertEqual(ingest["files_skipped"] as? Int, 1)
        XCTAssertEqual(ingest["rows_quarantined"] as? Int, 1)
        XCTAssertEqual(stages[1]["rows_quarantined"] as? Int, 1)   // the bad payment time, at clean
        // A first run does everything in full, and says so per stage.
        XCTAssertEqual((stages[3]["detail"] as? String)?.hasPrefix("full components="), true, "\(stages[3])")
        XCTAssertEqual((stages[2]["detail"] as? String)?.hasPrefix("full customers="), true, "\(stages[2])")
    }

    func testNoPersonalDataInOutputs() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: reports.path) {
            let text = try TestSupport.outputText(reports.appendingPathComponent(name))
            for secret in ["13800000001", "13800000002", "13800000006", "alice", "jd_bob", "小A", "oF", "张三"] {
                XCTAssertFalse(text.contains(secret), "\(secret) leaked into \(name)")
            }
        }
    }

    func testSecondRunSkipsEverythingAndKeepsOutputs() throws {
        let before = try TestSupport.read(reports.appendingPathComponent("cohort_repurchase.csv"))
        let r = try TestSupport.siyu(["run", "--pipeline", "tiny.toml", "--quiet"], cwd: dir)
        // Nothing new was ingested and nothing new quarantined: this run's exit code is 0.
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try TestSupport.read(reports.appendingPathComponent("cohort_repurchase.csv")), before)
        let status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: dir)
        XCTAssertEqual(status.status, 0)
        XCTAssertTrue(status.stdout.contains("as-of date: 2025-03-10"), status.stdout)
        XCTAssertTrue(status.stdout.contains("stg_orders"), status.stdout)
    }

    func testStageAloneNeedsItsUpstream() throws {
        let fresh = try TestSupport.fixture("tiny")
        defer { try? FileManager.default.removeItem(at: fresh) }
        let r = try TestSupport.siyu(["aggregate", "--pipeline", "tiny.toml"], cwd: fresh)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("run `siyu ingest` first"), r.stderr)
        // A stage whose input is older than its upstream names the stage to run first.
        XCTAssertEqual(try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 2)
        // A clean that finds nothing new changes nothing downstream.
        XCTAssertEqual(try TestSupport.siyu(["clean", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 0)
        XCTAssertEqual(try TestSupport.siyu(["aggregate", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 0)
        // A new file through ingest and clean makes join stale.
        try "date,channel,spend\n2025-03-02,weibo,1.00\n".write(to: fresh.appendingPathComponent("spend/more.csv"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 0)
        XCTAssertEqual(try TestSupport.siyu(["clean", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 0)
        let stale = try TestSupport.siyu(["aggregate", "--pipeline", "tiny.toml"], cwd: fresh)
        XCTAssertEqual(stale.status, 1)
        XCTAssertTrue(stale.stderr.contains("`join` is older than `clean`") && stale.stderr.contains("run `siyu join` first"), stale.stderr)
        let status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: fresh)
        XCTAssertTrue(status.stdout.contains("STALE: its upstream changed since; run `siyu join`"), status.stdout)
        XCTAssertFalse(status.stdout.contains("STALE: its upstream changed since; run `siyu clean`"), status.stdout)
        // Two stages back: a file ingested but not cleaned. report refuses and names clean, and so
        // does status for every stage after it.
        try "date,channel,spend\n2025-03-03,weibo,2.00\n".write(to: fresh.appendingPathComponent("spend/more2.csv"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 0)
        let report = try TestSupport.siyu(["report", "--pipeline", "tiny.toml"], cwd: fresh)
        XCTAssertEqual(report.status, 1)
        XCTAssertTrue(report.stderr.contains("`clean` is older than `ingest`") && report.stderr.contains("run `siyu clean` first"), report.stderr)
        let status2 = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: fresh).stdout
        XCTAssertTrue(status2.contains("STALE: its upstream changed since; run `siyu clean` (or `siyu run`)"), status2)
        XCTAssertTrue(status2.contains("STALE: its upstream changed since; run `siyu clean` and the stages after it"), status2)
    }

    /// status answers at once while a run holds the warehouse, naming the holder.
    func testStatusWhileARunHoldsTheLock() throws {
        let fresh = try TestSupport.fixture("tiny")
        defer { try? FileManager.default.removeItem(at: fresh) }
        XCTAssertEqual(try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 2)
        let wh = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: fresh).stdout
            .split(separator: "\n").first { $0.hasPrefix("warehouse: ") }.map { String($0.dropFirst(11)) } ?? ""
        let lockPath = (wh.hasPrefix("/") ? wh : fresh.appendingPathComponent(wh).path) + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        _ = "pid 4242, started 2026-01-01T02:30:00Z, command: siyu run\n".withCString { pwrite(fd, $0, strlen($0), 0) }
        // A write transaction held open, as a run's stage would.
        let db = try Database(path: wh.hasPrefix("/") ? wh : fresh.appendingPathComponent(wh).path)
        try db.execute("BEGIN IMMEDIATE; DELETE FROM siyu_meta WHERE key='nothing';")
        let started = Date()
        let r = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: fresh)
        try db.execute("ROLLBACK")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "status waited on the run")
        XCTAssertTrue(r.stdout.contains("a run is in progress") && r.stdout.contains("pid 4242"), r.stdout)
        XCTAssertTrue(r.stdout.contains("as-of date: 2025-03-10"), r.stdout)
    }

    /// Rows quarantined by an ingest whose run was killed before it ended are reported (exit 2) by
    /// the next run, once; a failed run is recorded in siyu_runs with its error, and status shows it.
    func testInterruptedAndFailedRunsAreReported() throws {
        let fresh = try TestSupport.fixture("tiny")
        defer { try? FileManager.default.removeItem(at: fresh) }
        XCTAssertEqual(try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 2)
        // As if that run had been killed after ingest committed: nothing was reported.
        let db = try Database(path: fresh.appendingPathComponent("out/warehouse.sqlite").path)
        try db.execute("INSERT OR REPLACE INTO siyu_meta VALUES('pending_quarantine', '1')")
        let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("1 more landed by an earlier run that did not finish"), r.stderr)
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: fresh.appendingPathComponent("out/reports/manifest.json"))) as! [String: Any]
        XCTAssertEqual(m["rows_quarantined_by_an_unfinished_run"] as? Int, 1)
        XCTAssertEqual(m["exit_code"] as? Int, 2)
        XCTAssertEqual(try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh).status, 0)
        // A failing run: an Excel workbook in a glob with on_bad_file = "stop".
        let toml = try TestSupport.read(fresh.appendingPathComponent("tiny.toml")).replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\non_bad_file = \"stop\"\n")
        try toml.write(to: fresh.appendingPathComponent("tiny.toml"), atomically: true, encoding: .utf8)
        try Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00]).write(to: fresh.appendingPathComponent("spend/book.csv"))
        let failed = try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml"], cwd: fresh)
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertEqual(try db.scalarInt("SELECT exit_code FROM siyu_runs ORDER BY started_at DESC, rowid DESC LIMIT 1"), 1)
        XCTAssertTrue(try db.scalarText("SELECT manifest FROM siyu_runs WHERE exit_code=1")?.contains("\"error\" : \"ingest: ") ?? false)
        let status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: fresh).stdout
        XCTAssertTrue(status.contains("exit 1") && status.contains("failed in ingest: "), status)
        // manifest.json still describes the reports beside it.
        let kept = try JSONSerialization.jsonObject(with: Data(contentsOf: fresh.appendingPathComponent("out/reports/manifest.json"))) as! [String: Any]
        XCTAssertEqual(kept["exit_code"] as? Int, 0)
    }

    /// A first run killed while it created the schema left tables but no schema version: the next
    /// run carries on instead of calling the warehouse another version's.
    func testHalfCreatedSchemaIsCompleted() throws {
        let fresh = try TestSupport.fixture("tiny")
        defer { try? FileManager.default.removeItem(at: fresh) }
        let path = fresh.appendingPathComponent("half.sqlite").path
        let db = try Database(path: path)
        try db.execute("CREATE TABLE siyu_meta(key TEXT PRIMARY KEY, value TEXT); CREATE TABLE siyu_stages(stage TEXT PRIMARY KEY, run_id TEXT, started_at TEXT, finished_at TEXT, seconds REAL, rows_in INTEGER, rows_out INTEGER, detail TEXT, seq INTEGER NOT NULL);")
        let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml", "--warehouse", path], cwd: fresh)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(try db.scalarText("SELECT value FROM siyu_meta WHERE key='schema_version'"), Warehouse.schemaVersion)
    }
}
