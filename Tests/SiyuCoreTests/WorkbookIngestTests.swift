import Foundation
import XCTest
@testable import SiyuCore

/// Today's downloads (issue 13): .xlsx workbooks in both shapes, the Tmall item report, bad
/// workbooks, and channel rules scoped to where they look. The tiny fixture is the reference: the
/// same orders in workbooks must give the same numbers.
final class WorkbookIngestTests: XCTestCase {
    var dirs: [URL] = []
    override func tearDownWithError() throws { for d in dirs { try? FileManager.default.removeItem(at: d) } }

    /// The tiny fixture, its Tmall globs reading workbooks too; `workbooks`: its Tmall order CSVs
    /// replaced by the same orders as .xlsx; `items`: the item reports added.
    func fixture(workbooks: Bool, items: Bool = false) throws -> URL {
        let dir = try TestSupport.fixture("tiny")
        dirs.append(dir)
        let toml = try TestSupport.read(dir.appendingPathComponent("tiny.toml"))
            .replacingOccurrences(of: "files = [\"tmall/*.csv\"]", with: "files = [\"tmall/*.csv\", \"tmall/*.xlsx\"]")
        try toml.write(to: dir.appendingPathComponent("tiny.toml"), atomically: true, encoding: .utf8)
        let src = TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/tiny-xlsx/tmall")
        for name in try FileManager.default.contentsOfDirectory(atPath: src.path).sorted() {
            let isItems = name.hasPrefix("ExportOrderDetailList")
            guard isItems ? items : workbooks else { continue }
            if !isItems { try FileManager.default.removeItem(at: dir.appendingPathComponent("tmall/\((name as NSString).deletingPathExtension).csv")) }
            try FileManager.default.copyItem(at: src.appendingPathComponent(name), to: dir.appendingPathComponent("tmall/\(name)"))
        }
        return dir
    }

    func outputs(_ dir: URL) throws -> [String: String] {
        let reports = dir.appendingPathComponent("out/reports")
        var out: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: reports.path) where name.hasSuffix(".csv") {
            out[name] = try TestSupport.read(reports.appendingPathComponent(name))
        }
        return out
    }

    func run(_ dir: URL, _ args: [String] = []) throws -> TestSupport.Result {
        try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml"] + args, cwd: dir)
    }

    /// The same orders delivered as CSV and as .xlsx (千牛's inline strings; Excel's shared
    /// strings, date cells and numbers) give identical outputs; only data_quality names other files.
    func testSameOrdersAsCSVAndWorkbooksGiveIdenticalOutputs() throws {
        let csvRun = try fixture(workbooks: false), xlsxRun = try fixture(workbooks: true)
        XCTAssertEqual(try run(csvRun).status, 2)
        let r = try run(xlsxRun)
        XCTAssertEqual(r.status, 2, r.stderr)
        let a = try outputs(csvRun), b = try outputs(xlsxRun)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, text) in a where name != "data_quality.csv" { XCTAssertEqual(b[name], text, name) }
        let dq = TestSupport.csvRows(b["data_quality.csv"]!)
        // 6 rows, one quarantined (pay time `not a date`, sheet row 7), as in the CSV.
        let first = dq.first { $0[0] == "ExportOrderList202502011200.xlsx" && $0[6].isEmpty }!
        XCTAssertEqual(Array(first[2...5]), ["tmall_orders_2020", "6", "5", "1"])
        // The Excel-saved export: order 1001 again, and an id Excel made a 19-digit number.
        let second = dq.first { $0[0] == "ExportOrderList202503151200.xlsx" && $0[6].isEmpty }!
        XCTAssertEqual(Array(second[2...5]), ["tmall_orders_2020", "2", "1", "1"])
        XCTAssertTrue(dq.contains { $0[0] == "ExportOrderList202503151200.xlsx" && $0[6] == "order_id_scientific" && $0[7] == "1" }, "\(dq)")
        let db = try Database(path: xlsxRun.appendingPathComponent("out/warehouse.sqlite").path, readOnly: true)
        XCTAssertEqual(try db.scalarInt("SELECT line FROM raw_quarantine WHERE reason LIKE 'bad_date%'"), 7)
        // The first sheet (说明) is no export: the order sheet is read and recorded.
        XCTAssertEqual(try db.scalarText("SELECT sheet FROM raw_files WHERE name='ExportOrderList202503151200.xlsx'"), "订单报表")
    }

    /// Item lines land in stg_items from the item report (CSV and 2020 sheet) and JD's SKU rows;
    /// an order's lines come from the newest export listing them, whatever arrives first.
    func testItemLinesJoinTheirOrders() throws {
        let dir = try fixture(workbooks: false, items: true)
        let plain = try fixture(workbooks: false)
        // Night 1: only the newer item sheet; night 2: the older item report arrives late.
        let older = dir.appendingPathComponent("tmall/ExportOrderDetailList202502011200.csv")
        let aside = dir.appendingPathComponent("older.csv")
        try FileManager.default.moveItem(at: older, to: aside)
        XCTAssertEqual(try run(dir).status, 2)
        try FileManager.default.moveItem(at: aside, to: older)
        XCTAssertEqual(try run(dir).status, 2)   // the bad quantity of 1003 is quarantined
        XCTAssertEqual(try run(dir, ["--full", "--warehouse", "out/full.sqlite", "--output", "out/full"]).status, 2)
        func items(_ file: String) throws -> [String] {
            let db = try Database(path: dir.appendingPathComponent(file).path, readOnly: true)
            return try db.prepare("SELECT platform, order_id, COALESCE(code, '-'), COALESCE(title, '-'), quantity, price_fen FROM stg_items ORDER BY platform, order_id, line")
                .rows { "\($0.text(0)) \($0.text(1)) \($0.text(2)) \($0.text(3)) \($0.int(4)) \($0.int(5))" }
        }
        let expected = [
            // JD: one row per SKU (the tiny export has no 货号 and no 京东价: title only, price 0).
            "jd 2001 - 商品A 1 0", "jd 2001 - 商品B 2 0", "jd 2002 - 商品C\t礼盒 1 0",   // the title as exported, its tab kept
            // 1001: the 2025-03-15 item sheet replaces the 2025-02-01 report's two lines; code trimmed.
            "tmall 1001 SY-DRESS 连衣裙 新款 1 10000",
            "tmall 1002 SY-TEE T恤 1 5000",
        ]
        XCTAssertEqual(try items("out/warehouse.sqlite"), expected)
        XCTAssertEqual(try items("out/full.sqlite"), expected)
        let dq = TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/data_quality.csv")))
        let report = dq.first { $0[0] == "ExportOrderDetailList202502011200.csv" && $0[6].isEmpty }!
        XCTAssertEqual(Array(report[2...8]), ["tmall_items", "4", "3", "1", "", "", ""])   // no orders column for items
        XCTAssertTrue(dq.contains { $0[0] == "ExportOrderDetailList202502011200.csv" && $0[6] == "bad_quantity" })
        XCTAssertEqual(dq.first { $0[0] == "ExportOrderDetailList202503151200.xlsx" && $0[6].isEmpty }?[2], "tmall_items_2020")
        // Item reports are not orders: every metric is the tiny fixture's, but for the products they name.
        XCTAssertEqual(try run(plain).status, 2)
        let a = try outputs(plain), b = try outputs(dir)
        for (name, text) in a where name != "data_quality.csv" && name != "product_repurchase.csv" { XCTAssertEqual(b[name], text, name) }
        // First products (all): without the item files only JD's lines are known; with them alice's 1001
        // (SY-DRESS, its newer title) and bob's 1002 (SY-TEE; back on Feb 10 with JD 2001's 商品A and 商品B: a tie).
        func firstProducts(_ text: String?) -> [[String]] {
            TestSupport.csvRows(text ?? "").dropFirst().filter { $0[2] == "all" }.map { [$0[0], $0[1], $0[3], $0[10]] }
        }
        XCTAssertEqual(firstProducts(a["product_repurchase.csv"]), [["商品C\t礼盒", "商品C\t礼盒", "1", ""], ["(unknown)", "", "4", "商品A"]])
        XCTAssertEqual(firstProducts(b["product_repurchase.csv"]), [["SY-DRESS", "连衣裙 新款", "1", ""], ["SY-TEE", "T恤", "1", "商品A"],
                                                                   ["商品C\t礼盒", "商品C\t礼盒", "1", ""], ["(unknown)", "", "2", ""]])
    }

    /// Workbooks siyu cannot read are rejected one by one, each with what to do; the run goes on.
    func testBadWorkbooksAreRejectedWithWhatToDo() throws {
        let dir = try fixture(workbooks: false)
        let src = TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/workbooks")
        let cases = [("legacy.xls", "Excel 97-2003 workbook (.xls)"), ("encrypted.xlsx", "protected with a password"),
                     ("damaged-crc.xlsx", "cannot read this .xlsx workbook"), ("truncated.xlsx", "cannot read this .xlsx workbook"),
                     ("bomb.xlsx", "cannot read this .xlsx workbook"), ("other.doc", "Office compound file")]
        for (name, _) in cases {
            try FileManager.default.copyItem(at: src.appendingPathComponent(name), to: dir.appendingPathComponent("spend/\(name).csv"))
        }
        let r = try run(dir)
        XCTAssertEqual(r.status, 2, r.stderr)
        for (name, message) in cases { XCTAssertTrue(r.stderr.contains("spend/\(name).csv: error: ") && r.stderr.contains(message), "\(name): \(r.stderr)") }
        let dq = TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/data_quality.csv")))
        XCTAssertEqual(dq.filter { $0[6] == "file_rejected" }.count, cases.count)
    }

    /// A rule scoped to JD orders and the field 订单来源 does not fire on a Youzan order whose
    /// 订单来源 reads the same; an unscoped rule would. Existing rules keep working unchanged.
    func testChannelRulesSayWhereTheyLook() throws {
        let dir = try fixture(workbooks: false)
        // Two new customers on 2025-03-06: a JD order and a Youzan order, both from 微信.
        try "订单号,商品ID,商品名称,订购数量,下单时间,应付金额,订单状态,下单帐号,联系电话,付款确认时间,订单来源\n2101,601,面霜,1,2025-03-06 09:00:00,99.00,完成,jd_wx,,2025-03-06 09:00:05,微信\n"
            .write(to: dir.appendingPathComponent("jd/jd_orders_20250307.csv"), atomically: true, encoding: .utf8)
        try "订单号,订单状态,推广方式,订单来源,订单创建时间,买家付款时间,订单实付金额,订单已退款金额,买家昵称,买家手机号\nE901,交易成功,——,微信,2025-03-06 10:00:00,2025-03-06 10:00:05,88.00,0.00,小微,\n"
            .write(to: dir.appendingPathComponent("youzan/youzan_wx.csv"), atomically: true, encoding: .utf8)
        let toml = try TestSupport.read(dir.appendingPathComponent("tiny.toml"))
        try (toml + "\n[[rule]]\nchannel = \"jd_wechat\"\non = [\"order\"]\nplatforms = [\"jd\"]\nfields = [\"订单来源\"]\nequals = [\"微信\"]\n")
            .write(to: dir.appendingPathComponent("tiny.toml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(dir).status, 2)
        func newCustomers(_ channel: String) throws -> String? {
            TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/channel_cpa.csv")))
                .first { $0[0] == "2025-03" && $0[1] == channel }?[3]
        }
        XCTAssertEqual(try newCustomers("jd_wechat"), "1")        // the JD order only
        // Unscoped, the same rule takes the Youzan order too.
        try (toml + "\n[[rule]]\nchannel = \"jd_wechat\"\non = [\"order\"]\nequals = [\"微信\"]\n")
            .write(to: dir.appendingPathComponent("tiny.toml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(dir).status, 2)   // new rules: cleaned again, the tiny quarantine again
        XCTAssertEqual(try newCustomers("jd_wechat"), "2")
        // The matching itself: prefix, sources, spend fields.
        let p = try Pipeline.parse(toml + """

            [[rule]]
            channel = "jd_ads"
            on = ["spend"]
            sources = ["spend"]
            prefix = ["京东快车"]
            """, path: "p.toml")
        XCTAssertEqual(p.channel(for: .spend, source: "spend", platform: nil, fields: [RuleField(name: "", value: "京东快车-面霜")]), "jd_ads")
        XCTAssertNil(p.channel(for: .spend, source: "other", platform: nil, fields: [RuleField(name: "", value: "京东快车-面霜")]))
        XCTAssertNil(p.channel(for: .spend, source: "spend", platform: nil, fields: [RuleField(name: "", value: "买京东快车")]))
        XCTAssertThrowsError(try Pipeline.parse(toml + "\n[[rule]]\nchannel = \"x\"\nplatforms = [\"taobao\"]\nequals = [\"x\"]\n", path: "p.toml")) { e in
            XCTAssertTrue("\(e)".contains("`platforms` names `taobao`"), "\(e)")
        }
    }
}
