import Foundation
import XCTest
@testable import SiyuCore

/// A nightly job nobody has to babysit (issue 12): no wedge, no silent wrong number, no crash,
/// no hang, private files, messages in words. Each test fails without the fix it names.
final class OperatorSafetyTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try TestSupport.fixture("tiny") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func night(_ args: [String] = []) throws -> TestSupport.Result {
        try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml"] + args, cwd: dir)
    }
    func write(_ rel: String, _ text: String, encoding: String.Encoding = .utf8) throws {
        let u = dir.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.data(using: encoding)!.write(to: u)
    }
    func csv(_ name: String) throws -> [[String]] {
        TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/\(name).csv")))
    }
    func quarantine() throws -> [(line: Int, reason: String)] {
        let db = try Database(path: dir.appendingPathComponent("out/warehouse.sqlite").path, readOnly: true)
        return try db.prepare("SELECT line, reason FROM raw_quarantine ORDER BY file_id, line").rows { ($0.int(0), $0.text(1)) }
    }

    // MARK: 1. No wedge

    /// Found: an empty export made ingest "changed" and clean, finding nothing new, kept its
    /// older place: every later night failed with "`clean` is older than `ingest`".
    func testARejectedFileDoesNotWedgeTheWarehouse() throws {
        XCTAssertEqual(try night().status, 2)   // the tiny fixture quarantines one row
        let before = try TestSupport.read(dir.appendingPathComponent("out/reports/cohort_repurchase.csv"))
        try write("tmall/empty.csv", "")
        for k in 1...3 {
            let r = try night()
            XCTAssertEqual(r.status, 2, "night \(k): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("empty.csv: error: the file is empty"), r.stderr)
            XCTAssertFalse(r.stderr.contains("older than"), r.stderr)
            XCTAssertEqual(try TestSupport.read(dir.appendingPathComponent("out/reports/cohort_repurchase.csv")), before)
            XCTAssertTrue(try csv("data_quality").contains { $0[0] == "empty.csv" && $0[2].hasPrefix("rejected") })
        }
        // A stage by hand after such a night runs too.
        XCTAssertNotEqual(try TestSupport.siyu(["report", "--quiet", "--pipeline", "tiny.toml"], cwd: dir).status, 1)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tmall/empty.csv"))
        let clean = try night()
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertFalse(clean.stderr.contains("first=?"), clean.stderr)
    }

    // MARK: 2. Settings

    func testUnknownKeysAreErrorsWithTheNearestKnownKey() throws {
        let base = try TestSupport.read(dir.appendingPathComponent("tiny.toml"))
        let cases: [(String, String, String)] = [
            (base.replacingOccurrences(of: "default_channel = \"jd\"", with: "defualt_channel = \"jd\""), "unknown key `defualt_channel` in [[source]] #2 (jd)", "did you mean `default_channel`?"),
            (base.replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\nwindw_days = 30\n"), "unknown key `windw_days` in [pipeline]", "did you mean `window_days`?"),
            (base.replacingOccurrences(of: "timezone = ", with: "timezome = "), "unknown key `timezome` in [pipeline]", "did you mean `timezone`?"),
            (base.replacingOccurrences(of: "[pipeline]\n", with: "[pipline]\n"), "unknown section or key `pipline` at the top level", "did you mean `[pipeline]`?"),
            (base + "\n[[rule]]\nchannel = \"x\"\nonn = [\"order\"]\ncontains = [\"x\"]\n", "unknown key `onn` in [[rule]] #", "did you mean `on`?"),
            (base.replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\nwindow_days = 9223372036854775807\n"), "`window_days` must be from 1 to 3650 days", ""),
            (base.replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\nloyal_threshold = 0\n"), "`loyal_threshold` must be from 1 to 1000", ""),
        ]
        for (toml, message, hint) in cases {
            try write("bad.toml", toml)
            let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "bad.toml"], cwd: dir)
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains("bad.toml: error: \(message)") && (hint.isEmpty || r.stderr.contains(hint)), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("build/reports").path))
    }

    func testSaltsThatAreNoSecretAreRefused() throws {
        let base = try TestSupport.read(dir.appendingPathComponent("tiny.toml"))
        for (salt, message) in [("", "sets no salt"), ("salt = \"\"\n", "salt is empty"), ("salt = \"siyu\"\n", "documented default"),
                                ("salt = \"siyu-sample-salt\"\n", "the bundled sample's published salt")] {
            try write("s.toml", base.replacingOccurrences(of: "salt = \"tiny-salt\"\n", with: salt))
            let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "s.toml"], cwd: dir)
            XCTAssertEqual(r.status, 64, "\(salt): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
        // The bundled sample keeps its published salt.
        let sample = try Pipeline.load(path: TestSupport.packageRoot.appendingPathComponent("pipelines/sample.toml").path)
        XCTAssertNil(sample.saltProblem)
    }

    // MARK: 3-4. Values that would silently distort every number

    /// A Youzan order paid in 2030 moved the as-of date to 2030; one in 1990 stretched every
    /// cohort back 35 years. Both are quarantined and the as-of date stays 2025-03-10.
    func testImplausibleDatesAndMoneyAreQuarantined() throws {
        let header = "订单号,订单状态,推广方式,订单来源,订单创建时间,买家付款时间,订单实付金额,订单已退款金额,买家昵称,买家手机号,分销员,分销员,分销员手机号,订单类型"
        let cols = header.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        func row(_ id: String, paid: String, payTime: String, refund: String = "0.00") -> String {
            cols.map { c -> String in
                switch c.trimmingCharacters(in: CharacterSet(charactersIn: "\u{FEFF} ")) {
                case "订单号": return id
                case "订单状态": return "交易成功"
                case "买家付款时间", "订单创建时间": return payTime
                case "订单实付金额": return paid
                case "订单已退款金额": return refund
                case "买家昵称": return "nick\(id)"
                default: return ""
                }
            }.joined(separator: ",")
        }
        let rows = [
            row("Z1", paid: "10.00", payTime: "2030-01-01 10:00:00"),     // after today: implausible
            row("Z2", paid: "10.00", payTime: "1990-01-01 10:00:00"),     // before Youzan existed
            row("Z3", paid: "100.00", payTime: "2025-02-01 10:00:00", refund: "-50.00"),    // negative refund
            row("Z4", paid: "100.00", payTime: "2025-02-01 10:00:00", refund: "150.00"),    // refund above paid
            row("Z5", paid: "\"1 234.50\"", payTime: "2025-02-01 10:00:00"),
            row("Z6", paid: "12.34.56", payTime: "2025-02-01 10:00:00"),
            row("Z7", paid: "12abc", payTime: "2025-02-01 10:00:00"),
            row("Z8", paid: "0x1F", payTime: "2025-02-01 10:00:00"),
            row("Z9", paid: "5000000000000.00", payTime: "2025-02-01 10:00:00"),
        ]
        try write("youzan/youzan_bad.csv", header + "\n" + rows.joined(separator: "\n") + "\n")
        XCTAssertEqual(try night().status, 2)
        let reasons = try quarantine().map(\.reason)
        // (created_time is checked first: it holds the same bad date)
        for expected in ["implausible_date: created_time 2030-01-01 is after the day of this run",
                         "implausible_date: created_time 1990-01-01 is before 2012-01-01",
                         "bad_amount: refund is negative (`-50.00`)",
                         "refund_above_paid: refund 150.00 is more than paid 100.00",
                         "bad_amount: paid is not a money amount (`1 234.50`)",
                         "bad_amount: paid is not a money amount (`12.34.56`)",
                         "bad_amount: paid is not a money amount (`12abc`)",
                         "bad_amount: paid is not a money amount (`0x1F`)",
                         "bad_amount: paid is more than 1,000,000,000.00 yuan"] {
            XCTAssertTrue(reasons.contains { $0.hasPrefix(expected) }, "\(expected) in \(reasons)")
        }
        let status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: dir).stdout
        XCTAssertTrue(status.contains("as-of date: 2025-03-10"), status)
        // rows_read = rows_landed + rows_quarantined still holds for the file.
        let dq = try csv("data_quality").first { $0[0] == "youzan_bad.csv" && $0[6].isEmpty }!
        XCTAssertEqual(dq[3], "9")
        XCTAssertEqual(Int(dq[4])! + Int(dq[5])!, 9)
    }

    func testMoneySpellings() {
        XCTAssertEqual(Values.fen("1,234.50"), .value(123450))
        XCTAssertEqual(Values.fen("￥1,234,567.5"), .value(123456750))
        XCTAssertEqual(Values.fen("１２"), .invalid)   // full-width digits are not an export spelling
        XCTAssertEqual(Values.fen("-12.00"), .value(-1200))
        XCTAssertEqual(Values.fen("(12.00)"), .value(-1200))
        XCTAssertEqual(Values.fen("499.00(仅供参考)"), .value(49900))
        for bad in ["1 234.50", "12.34.56", "12abc", "0x1F", "1\u{0}2.00", "1,23.00", "12,3456.00", "1.", ".5", "(12.00", "12.00)", "12元x", "499.00（系统计算中，2）"] {
            XCTAssertEqual(Values.fen(bad), .invalid, bad)
        }
        XCTAssertEqual(Values.fen("1000000000.00"), .value(Values.maxFen))
        XCTAssertEqual(Values.fen("1000000000.01"), .tooLarge)
        XCTAssertEqual(Values.fen("99999999999999999999999"), .tooLarge)
        // Rates of the largest sums cannot overflow: (2^62) / 3 in 128 bits.
        XCTAssertEqual(Fmt.rate(1 << 62, 3), "1537228672809129301.3333")
        XCTAssertEqual(Fmt.yuanPer(Int.max, 1), Fmt.yuan(Int.max))
    }

    /// `20241201` in subscribe_time was read as Unix seconds (a fan in 1970); `true` as second 1.
    func testFollowerTimesAreCheckedForTheirUnit() throws {
        try write("followers/more.csv", """
            subscribe,openid,unionid,subscribe_time,subscribe_scene,qr_scene,qr_scene_str,mobile
            1,oD1,,20250201,ADD_SCENE_SEARCH,,,
            1,oD2,,1738382400000,ADD_SCENE_SEARCH,,,
            1,oD3,,true,ADD_SCENE_SEARCH,,,
            1,oD4,,12345,ADD_SCENE_SEARCH,,,
            1,oD5,,1000000000,ADD_SCENE_SEARCH,,,

            """)
        try write("followers/more_json.csv", #"{"subscribe": 1, "openid": "oD6", "subscribe_time": true}"# + "\n")
        XCTAssertEqual(try night().status, 2)
        let db = try Database(path: dir.appendingPathComponent("out/warehouse.sqlite").path, readOnly: true)
        // 20250201 is a day; 1738382400000 ms is 2025-02-01 04:00 UTC, 12:00 in Shanghai.
        XCTAssertEqual(try db.scalarInt("SELECT follow_ts FROM stg_follow_records WHERE openid='oD1'"), CivilDate.dayNumber(2025, 2, 1) * 86400)
        XCTAssertEqual(try db.scalarInt("SELECT follow_ts FROM stg_follow_records WHERE openid='oD2'"), CivilDate.dayNumber(2025, 2, 1) * 86400 + 12 * 3600)
        let reasons = try quarantine().map(\.reason)
        XCTAssertEqual(reasons.filter { $0.contains("subscribe_time is a true/false value") }.count, 2, "\(reasons)")
        XCTAssertTrue(reasons.contains { $0.contains("subscribe_time `12345` is neither Unix seconds") }, "\(reasons)")
        // 1000000000 is 2001-09-09: before WeChat official accounts existed.
        XCTAssertTrue(reasons.contains { $0.hasPrefix("implausible_date: subscribe_time 2001-09-09") }, "\(reasons)")
    }

    // MARK: 5-6. Paths that are not files

    func testPathsThatAreNotFilesAreRejectedOneByOne() throws {
        XCTAssertEqual(try night().status, 2)
        let cohorts = try csv("cohort_repurchase")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("tmall/folder.csv"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tmall/link-to-dir.csv").path, withDestinationPath: "folder.csv")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tmall/dangling.csv").path, withDestinationPath: "gone.csv")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tmall/loop.csv").path, withDestinationPath: "loop.csv")
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("tmall/f.csv").path, 0o644), 0)
        let r = try night()   // a FIFO opened for reading would block here for ever
        XCTAssertEqual(r.status, 2, r.stderr)
        for (name, what) in [("folder.csv", "a directory, not a file"), ("link-to-dir.csv", "a directory, not a file"),
                             ("dangling.csv", "a symbolic link to nothing"), ("loop.csv", "a symbolic link loop"),
                             ("f.csv", "a named pipe (FIFO)")] {
            XCTAssertTrue(r.stderr.contains("tmall/\(name): error: \(what)"), "\(name): \(r.stderr)")
        }
        // The good files landed: the report is the tiny fixture's.
        XCTAssertEqual(try csv("cohort_repurchase"), cohorts)
        // With on_bad_file = "stop" the first of them stops the run.
        let stop = try TestSupport.read(dir.appendingPathComponent("tiny.toml")).replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\non_bad_file = \"stop\"\n")
        try write("tiny.toml", stop)
        XCTAssertEqual(try night().status, 1)
    }

    // MARK: 8. The report is published whole

    func testTheReportFolderIsPublishedWhole() throws {
        // A report folder from an older siyu (plain files) is replaced by the published link.
        try write("out/reports/index.html", "old")
        XCTAssertEqual(try night().status, 2)
        let reports = dir.appendingPathComponent("out/reports").path
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: reports)
        XCTAssertTrue(target.hasPrefix(".reports."), target)
        XCTAssertNotEqual(try TestSupport.read(dir.appendingPathComponent("out/reports/index.html")), "old")
        var status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: dir).stdout
        XCTAssertTrue(status.contains("report: out/reports/index.html (run ") && status.contains("published"), status)
        // A second run publishes a new folder; the previous stays for a page still open, older go.
        XCTAssertEqual(try night().status, 0)
        XCTAssertEqual(try night().status, 0)
        let versions = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path).filter { $0.hasPrefix(".reports.") }
        XCTAssertEqual(versions.count, 2, "\(versions)")
        // As if a run were killed between writing its folder and publishing it.
        let db = try Database(path: dir.appendingPathComponent("out/warehouse.sqlite").path)
        try db.execute("UPDATE siyu_meta SET value='killed' WHERE key='report_published'")
        status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: dir).stdout
        XCTAssertTrue(status.contains("report: NOT PUBLISHED"), status)
        // An output folder holding files siyu did not write is never replaced.
        try write("mine/notes.txt", "keep")
        let r = try night(["--output", "mine"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("holds files siyu did not write (notes.txt)"), r.stderr)
        XCTAssertEqual(try TestSupport.read(dir.appendingPathComponent("mine/notes.txt")), "keep")
    }

    // MARK: 9. Private files

    func testWarehouseAndLockArePrivate() throws {
        XCTAssertEqual(try night().status, 2)
        func mode(_ rel: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(rel).path)[.posixPermissions] as! NSNumber).intValue & 0o777
        }
        XCTAssertEqual(try mode("out/warehouse.sqlite"), 0o600)
        XCTAssertEqual(try mode("out/warehouse.sqlite.lock"), 0o600)
        XCTAssertEqual(try mode("out"), 0o700)
        for rel in ["out/warehouse.sqlite-wal", "out/warehouse.sqlite-shm"] where FileManager.default.fileExists(atPath: dir.appendingPathComponent(rel).path) {
            XCTAssertEqual(try mode(rel), 0o600, rel)
        }
    }

    // MARK: 10. Messages

    func testMessagesNameThePathAndWhatToDo() throws {
        // A CR-only file: the bad row is on line 3, not line 1.
        let header = "订单编号,买家会员名,买家实际支付金额,订单状态,联系手机,订单创建时间,订单付款时间 ,退款金额,宝贝标题 "
        let good = "CR1,crnick,10.00,交易成功,,2025-01-05 10:00:00,2025-01-05 10:05:00,0,裙"
        try write("tmall/cr.csv", [header, good, "only,two"].joined(separator: "\r") + "\r", encoding: .utf8)
        // UTF-16 with a BOM.
        try write("spend/utf16.csv", "date,channel,spend\n2025-01-05,weibo,10.00\n", encoding: .utf16LittleEndian)
        var bom = Data([0xFF, 0xFE]); bom.append(try Data(contentsOf: dir.appendingPathComponent("spend/utf16.csv")))
        try bom.write(to: dir.appendingPathComponent("spend/utf16.csv"))
        // A GBK spend file whose first MiB is ASCII: GBK is decided at its first non-ASCII byte.
        var gbk = Data("date,channel,spend\n".utf8)
        while gbk.count < (1 << 20) + 1000 { gbk.append(Data("2025-01-05,ascii,0.01\n".utf8)) }
        gbk.append(Data("2025-01-06,".utf8) + Data([0xD6, 0xB1, 0xB2, 0xA5, 0xBB, 0xEE, 0xB6, 0xAF]) + Data(",1.00\n".utf8))   // 直播活动 in GBK
        try gbk.write(to: dir.appendingPathComponent("spend/gbk_late.csv"))
        // A 京准通 sheet saved as CSV.
        try write("spend/jzt.csv", "京准通 推广报表\n日期,计划名称,花费,展现数,点击数\n20250105,京东快车,12.00,100,3\n合计,,12.00,100,3\n")
        let r = try night()
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("spend/utf16.csv: error: the file is UTF-16 text"), r.stderr)
        let q = try quarantine()
        XCTAssertTrue(q.contains { $0.line == 3 && $0.reason.hasPrefix("column_count") }, "\(q)")
        let dq = try csv("data_quality")
        XCTAssertEqual(dq.first { $0[0] == "gbk_late.csv" && $0[6].isEmpty }?[2], "spend_plain")
        XCTAssertEqual(dq.first { $0[0] == "jzt.csv" && $0[6].isEmpty }?[2], "jd_jingzhuntong")
        XCTAssertTrue(dq.contains { $0[0] == "jzt.csv" && $0[6] == "summary_row" })
        // --pipeline naming a folder; --version; status --help lists only what status uses.
        let d = try TestSupport.siyu(["run", "--pipeline", "."], cwd: dir)
        XCTAssertEqual(d.status, 64)
        XCTAssertTrue(d.stderr.contains("this is a directory; pass the pipeline file itself"), d.stderr)
        XCTAssertEqual(try TestSupport.siyu(["--version"], cwd: dir).stdout.trimmingCharacters(in: .whitespacesAndNewlines), SiyuCore.version)
        let help = try TestSupport.siyu(["status", "--help"], cwd: dir).stdout
        XCTAssertTrue(help.contains("--pipeline") && !help.contains("--as-of") && !help.contains("--quiet"), help)
        // A full disk, in words, with the path.
        let full = SQLiteError(code: 13, message: "database or disk is full", sql: "COMMIT", path: "/srv/w.sqlite", stage: "clean")
        XCTAssertTrue(full.description.hasPrefix("stage clean: /srv/w.sqlite: the disk (or the temporary folder) is full; free space and run again"), full.description)
    }

    /// Two runs through different paths of one warehouse (a symbolic link) share one lock: the
    /// second is told who holds it at once, instead of waiting on SQLite's busy timeout.
    func testASymlinkedWarehouseSharesTheLock() throws {
        XCTAssertEqual(try night().status, 2)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("alias.sqlite").path, withDestinationPath: "out/warehouse.sqlite")
        let lock = try RunLock(warehouse: dir.appendingPathComponent("out/warehouse.sqlite").path, command: "siyu run (test)")
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        let r = try night(["--warehouse", "alias.sqlite"])
        XCTAssertEqual(r.status, 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
        XCTAssertTrue(r.stderr.contains("another siyu run holds the warehouse lock") && r.stderr.contains("siyu run (test)"), r.stderr)
    }
}
