import Foundation
import XCTest
@testable import SiyuCore

/// Bad files and bad rows: one clear error per file, every row accounted for, hostile values inert.
final class RobustnessTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TestSupport.tempDir("robust") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ rel: String, _ text: String) throws { try TestSupport.write(dir, rel, text) }

    func writeBytes(_ rel: String, _ bytes: [UInt8]) throws {
        let u = dir.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: u)
    }

    static let pipeline = """
        [pipeline]
        salt = "test-salt-0123"
        name = "robust"
        warehouse = "out/w.sqlite"
        output = "out/reports"
        [[source]]
        name = "tmall"
        kind = "tmall"
        files = ["tmall/*.csv"]
        [[source]]
        name = "douyin"
        kind = "generic"
        files = ["douyin/*.csv"]
        default_channel = "douyin"
        [source.columns]
        order_id = "订单编号"
        buyer = "达人昵称"
        phone = "收货电话"
        paid = "实付"
        pay_time = "支付时间"
        promo = "流量来源"
        [[source]]
        name = "spend"
        kind = "spend"
        files = ["spend/*.csv"]
        [[rule]]
        channel = "douyin_live"
        contains = ["直播"]
        """

    static let tmallHeader = "订单编号,买家会员名,买家实际支付金额,订单状态,联系手机,订单付款时间 ,退款金额,宝贝标题 ,未知新列\n"

    func testBadRowsAndFilesAreAccountedForAndReported() throws {
        try write("p.toml", Self.pipeline)
        try write("tmall/ExportOrderList202501011200.csv", Self.tmallHeader + [
            "=\"\"\"1\"\"\",<img src=x onerror=alert(1)>,10.00,交易成功,'13900000001,2024-12-01 10:00:00,0,\"标题, \"\"引号\"\"\n第二行\",x",
            "1.23456789012346E+18,bob,10.00,交易成功,,2024-12-02 10:00:00,0,t,x",
            "3,carol,abc,交易成功,,2024-12-03 10:00:00,0,t,x",
            "4,dan,10.00,交易成功,,2024-13-45 10:00:00,0,t,x",
            "5,erin,10.00,交易成功",
        ].joined(separator: "\n") + "\n")
        try write("tmall/ExportOrderList202501021200.csv", "")                                   // empty file
        try write("tmall/ExportOrderList202501031200.csv", "foo,bar\n1,2\n")                      // unknown format
        try writeBytes("tmall/ExportOrderList202501041200.csv", Array(Self.tmallHeader.utf8) + [0x31, 0x2C, 0xFF, 0xFE, 0x0A])  // UTF-8 then junk
        try write("douyin/orders.csv", "订单编号,达人昵称,收货电话,实付,支付时间,流量来源,备注\nD1,小红,13900000002,88.50,2024-12-05 08:00:00,直播间,\nD2,小蓝,,12.00,2024-12-06 08:00:00,——,\n")
        try writeBytes("tmall/ExportOrderList202501051200.xlsx.csv", [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00])  // a workbook (cut short) renamed
        try write("spend/jzt.csv", "京准通 推广报表\n时间范围: 2024-12-01 ~ 2024-12-31\ndate,channel,spend\n2024-12-02,京准通,5.00\n")   // preamble lines
        try write("spend/plain.csv", "date,channel,spend\n2024-12-01,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",10.00\n2024-12-01,合计,10.00\n")

        let r = try TestSupport.siyu(["run", "--pipeline", "p.toml"], cwd: dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        // One clear error per bad file, naming it.
        XCTAssertTrue(r.stderr.contains("ExportOrderList202501021200.csv: error: the file is empty"), r.stderr)
        XCTAssertTrue(r.stderr.contains("ExportOrderList202501031200.csv:1: error: unknown format"), r.stderr)
        XCTAssertTrue(r.stderr.contains("Nearest: tmall_orders, missing headers: 订单编号"), r.stderr)
        XCTAssertTrue(r.stderr.contains("ExportOrderList202501041200.csv: bytes at offset"), r.stderr)
        XCTAssertTrue(r.stderr.contains("ExportOrderList202501051200.xlsx.csv: error: cannot read this .xlsx workbook: the .xlsx file is damaged"), r.stderr)

        let dq = TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/data_quality.csv")))
        for f in dq.dropFirst() where !f[3].isEmpty {
            XCTAssertEqual(Int(f[3])!, Int(f[4])! + Int(f[5])!, "rows_read = landed + quarantined for \(f[0])")
        }
        let main = dq.first { $0[0] == "ExportOrderList202501011200.csv" && !$0[3].isEmpty }!
        XCTAssertEqual(Array(main[3...5]), ["5", "1", "4"])
        let reasons = Set(dq.filter { $0[0] == "ExportOrderList202501011200.csv" && !$0[6].isEmpty }.map { "\($0[6])=\($0[7])" })
        XCTAssertEqual(reasons, ["order_id_scientific=1", "bad_amount=1", "bad_date=1", "column_count=1"])
        XCTAssertTrue(dq.contains { $0[0] == "plain.csv" && $0[6] == "summary_row" && $0[7] == "1" }, "\(dq)")
        XCTAssertTrue(dq.contains { $0[0] == "jzt.csv" && $0[2] == "spend_plain" && $0[3...5] == ["1", "1", "0"] }, "\(dq)")
        XCTAssertTrue(dq.contains { $0[0] == "ExportOrderList202501031200.csv" && $0[6] == "file_rejected" })

        // The generic source landed its orders with its own platform and rules.
        let cpa = try TestSupport.read(dir.appendingPathComponent("out/reports/channel_cpa.csv"))
        XCTAssertTrue(cpa.contains("2024-12,douyin_live,0.00,1,0.00,88.50,88.50,,"), cpa)
        XCTAssertTrue(cpa.contains("2024-12,douyin,0.00,1,0.00,12.00,12.00,,"), cpa)
        let mig = try TestSupport.read(dir.appendingPathComponent("out/reports/platform_migration.csv"))
        XCTAssertTrue(mig.contains("douyin,any,2,0,0.0000"), mig)

        // Quarantined rows stay in the warehouse with file, line, raw text and reason.
        let db = try Database(path: dir.appendingPathComponent("out/w.sqlite").path)
        let q = try db.prepare("SELECT line, reason, raw_text FROM raw_quarantine q JOIN raw_files f USING(file_id) WHERE f.name='ExportOrderList202501011200.csv' ORDER BY line").rows { ($0.int(0), $0.text(1), $0.text(2)) }
        XCTAssertEqual(q.map(\.0), [4, 5, 6, 7])   // the first data row spans lines 2-3
        XCTAssertTrue(q[0].2.hasPrefix("1.23456789012346E+18,bob"))
        // A title with quotes, commas and a newline round-trips into raw_*.
        let cells = try db.scalarText("SELECT cells FROM raw_tmall_orders WHERE line = 2")!
        XCTAssertEqual(Warehouse.splitCells(cells)[7], "标题, \"引号\"\n第二行")
        XCTAssertEqual(Warehouse.splitCells(cells)[8], "x")   // the unknown extra column is kept

        // Hostile values: inert in HTML and CSV.
        let html = try TestSupport.read(dir.appendingPathComponent("out/reports/index.html"))
        XCTAssertFalse(html.contains("<img"))
        for ref in ["src=\"http", "href=\"http", "url(http", "@import", "<script src", "<link"] {
            XCTAssertFalse(html.contains(ref), "the page makes no network requests: \(ref)")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out/reports").path) {
            let text = try TestSupport.outputText(dir.appendingPathComponent("out/reports/\(name)"))
            XCTAssertFalse(text.contains("13900000001") || text.contains("13900000002"), "phone in \(name)")
        }
    }

    func testFollowersAsJSONLines() throws {
        try write("p.toml", """
            [pipeline]
            salt = "test-salt-0123"
            warehouse = "out/w.sqlite"
            output = "out/reports"
            [[source]]
            kind = "tmall"
            files = ["tmall/*.csv"]
            [[source]]
            kind = "followers"
            files = ["followers/*.jsonl"]
            default_channel = "other"
            [[rule]]
            channel = "store_qr"
            on = ["follow"]
            contains = ["store_qr"]
            """)
        try write("tmall/ExportOrderList202412311200.csv", Self.tmallHeader + "1,ann,90.00,交易成功,'13900000001,2024-12-10 10:00:00,0,t,x\n")
        // 1733018400 = 2024-12-01 10:00 in Asia/Shanghai (02:00 UTC).
        try write("followers/users.jsonl", """
            {"subscribe":1,"openid":"o1","unionid":"u1","subscribe_time":1733018400,"subscribe_scene":"ADD_SCENE_QR_CODE","qr_scene":0,"qr_scene_str":"store_qr_x","mobile":"13900000001","tagid_list":[1,2]}
            {"subscribe":0,"openid":"o2"}
            {not json
            """)
        let r = try TestSupport.siyu(["run", "--pipeline", "p.toml"], cwd: dir)
        XCTAssertEqual(r.status, 2, r.stderr)   // the broken line is quarantined
        let fans = try TestSupport.read(dir.appendingPathComponent("out/reports/fan_conversion.csv"))
        // o1 follows on Dec 1 and is linked by mobile to ann, who first buys on Dec 10 (9 days later).
        XCTAssertTrue(fans.contains("2024-12,all,1,0,1,0,1,1,1.0000,0,0,9,"), fans)
        XCTAssertTrue(fans.contains("2024-12,store_qr,1,0,1,0,1,1,1.0000,0,0,9,"), fans)
        let dq = TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/data_quality.csv")))
        XCTAssertTrue(dq.contains { $0[0] == "users.jsonl" && $0[2] == "wechat_followers_jsonl" && $0[3...5] == ["3", "2", "1"] }, "\(dq)")
        XCTAssertTrue(dq.contains { $0[0] == "users.jsonl" && $0[6] == "bad_json" && $0[7] == "1" }, "\(dq)")
    }

    func testARejectedFileIsTriedAgainAfterThePipelineIsFixed() throws {
        // A JD export under a Tmall source is rejected; once the source kind is fixed it lands.
        let jd = "订单号,商品ID,下单时间,应付金额,订单状态,下单帐号,付款确认时间\n9001,1,2024-12-05 08:00:00,30.00,完成,x,2024-12-05 08:00:00\n"
        try write("orders/jd_20241231.csv", jd)
        let base = "[pipeline]\nsalt = \"test-salt-0123\"\nwarehouse = \"out/w.sqlite\"\noutput = \"out/reports\"\n[[source]]\nname = \"shop\"\nfiles = [\"orders/*.csv\"]\n"
        try write("p.toml", base + "kind = \"tmall\"\n")
        let first = try TestSupport.siyu(["run", "--pipeline", "p.toml"], cwd: dir)
        XCTAssertEqual(first.status, 2, first.stderr)
        XCTAssertTrue(first.stderr.contains("unknown format"), first.stderr)
        try write("p.toml", base + "kind = \"jd\"\n")
        let second = try TestSupport.siyu(["run", "--pipeline", "p.toml"], cwd: dir)
        XCTAssertEqual(second.status, 0, second.stderr)
        let dq = TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/data_quality.csv")))
        XCTAssertEqual(dq.dropFirst().map { Array($0[2...5]) }, [["jd_orders_30", "1", "1", "0"]])
        let cohort = try TestSupport.read(dir.appendingPathComponent("out/reports/cohort_repurchase.csv"))
        XCTAssertTrue(cohort.contains("2024-12,all,0,1,1,1.0000,0,0.0000,30.00,true"), cohort)
    }

    func testStopOnBadFile() throws {
        try write("p.toml", Self.pipeline.replacingOccurrences(of: "output = \"out/reports\"", with: "output = \"out/reports\"\non_bad_file = \"stop\""))
        try write("tmall/ExportOrderList202501031200.csv", "foo,bar\n1,2\n")
        try write("douyin/orders.csv", "订单编号,达人昵称,收货电话,实付,支付时间,流量来源\nD1,a,,1.00,2024-12-05 08:00:00,x\n")
        try write("spend/plain.csv", "date,channel,spend\n")
        let r = try TestSupport.siyu(["ingest", "--pipeline", "p.toml"], cwd: dir)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("on_bad_file = \"stop\""), r.stderr)
        // The stage committed nothing.
        let db = try Database(path: dir.appendingPathComponent("out/w.sqlite").path)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM raw_files"), 0)
    }

    func testLockNamesItsHolderAndStaleLocksAreTakenOver() throws {
        try write("p.toml", Self.pipeline)
        try write("douyin/orders.csv", "订单编号,达人昵称,收货电话,实付,支付时间,流量来源\nD1,a,,1.00,2024-12-05 08:00:00,x\n")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("out"), withIntermediateDirectories: true)
        let lockPath = dir.appendingPathComponent("out/w.sqlite").path
        do {
            let held = try RunLock(warehouse: lockPath, command: "test holder")
            let r = try TestSupport.siyu(["run", "--pipeline", "p.toml"], cwd: dir)
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains("pid \(getpid())"), r.stderr)
            XCTAssertTrue(r.stderr.contains("test holder"), r.stderr)
            withExtendedLifetime(held) {}
        }
        // A killed run leaves its text in the lock file but no flock: the next run takes over.
        try write("out/w.sqlite.lock", "pid 999999, started 2025-01-01T00:00:00Z, command: siyu run\n")
        let r = try TestSupport.siyu(["run", "--pipeline", "p.toml"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("stale"), r.stderr)
    }
}
