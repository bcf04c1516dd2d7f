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
        // A second run publishes a new folder; the previous stays for a page still open, older go
        // once nothing has touched them for ten minutes (another pipeline sharing the output may
        // still be writing a recent one).
        let out = dir.appendingPathComponent("out")
        func versionFolders() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".reports.") }.sorted() }
        XCTAssertEqual(try night().status, 0)
        XCTAssertEqual(try versionFolders().count, 2)
        for v in try versionFolders() {
            var times = [timeval(tv_sec: time(nil) - 3600, tv_usec: 0), timeval(tv_sec: time(nil) - 3600, tv_usec: 0)]
            XCTAssertEqual(utimes(out.appendingPathComponent(v).path, &times), 0)
        }
        let previous = try FileManager.default.destinationOfSymbolicLink(atPath: reports)
        XCTAssertEqual(try night().status, 0)
        let versions = try versionFolders()
        XCTAssertEqual(versions.count, 2, "\(versions)")
        XCTAssertTrue(versions.contains(previous), "\(versions)")
        // As if a run were killed between writing its folder and publishing it: the link still
        // shows the previous version.
        let current = try FileManager.default.destinationOfSymbolicLink(atPath: reports)
        let older = versions.first { $0 != current }!
        try FileManager.default.removeItem(atPath: reports)
        try FileManager.default.createSymbolicLink(atPath: reports, withDestinationPath: older)
        status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml"], cwd: dir).stdout
        XCTAssertTrue(status.contains("report: NOT PUBLISHED"), status)
        // An output folder holding files siyu did not write is never replaced: not notes, not a
        // folder of someone's CSV files, not the input folder itself (found by the review: a
        // folder of *.csv counted as siyu's and the exports were deleted).
        try write("mine/notes.txt", "keep")
        try write("theirs/budget.csv", "keep")
        for (out, what, code) in [("mine", "holds files siyu did not write (notes.txt)", Int32(1)), ("theirs", "holds files siyu did not write (budget.csv)", 1),
                                  ("tmall", "holds an input file", 1), (".", "the working or home folder", 64), ("./", "the working or home folder", 64),
                                  ("", "the output folder is empty", 64)] {
            let r = try night(["--output", out])
            XCTAssertEqual(r.status, code, r.stderr)
            XCTAssertTrue(r.stderr.contains(what), "\(out): \(r.stderr)")
        }
        XCTAssertEqual(try TestSupport.read(dir.appendingPathComponent("mine/notes.txt")), "keep")
        XCTAssertEqual(try TestSupport.read(dir.appendingPathComponent("theirs/budget.csv")), "keep")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tmall").path).count, 2)
        // An operator's link to a web folder stays; the web folder becomes the published link.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("www/siyu"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("served").path, withDestinationPath: "www/siyu")
        XCTAssertNotEqual(try night(["--output", "served"]).status, 1)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir.appendingPathComponent("served").path), "www/siyu")
        XCTAssertTrue(try FileManager.default.destinationOfSymbolicLink(atPath: dir.appendingPathComponent("www/siyu").path).hasPrefix(".siyu."))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("served/index.html").path))
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

    // MARK: Found by the hostile review (each failed before its fix)

    /// A mistyped --warehouse pointing at a file that is no warehouse: refused, untouched (its
    /// mode was set to 0600, a journal created beside it, and `--full` replaced it).
    func testAPathThatIsNoWarehouseIsLeftAlone() throws {
        let notes = dir.appendingPathComponent("notes.toml")
        try "keep = 1\n".write(to: notes, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(notes.path, 0o644), 0)
        for args in [["--warehouse", "notes.toml"], ["--full", "--warehouse", "notes.toml"]] {
            let r = try night(args)
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("notes.toml: error: is not a siyu warehouse"), r.stderr)
        }
        XCTAssertEqual(try TestSupport.read(notes), "keep = 1\n")
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: notes.path)[.posixPermissions] as! NSNumber).intValue & 0o777, 0o644)
        XCTAssertFalse(FileManager.default.fileExists(atPath: notes.path + ".lock"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: notes.path + "-journal"))
        XCTAssertEqual(try night(["--warehouse", ""]).status, 64)
    }

    /// A platform must not leave the report silently: one glob of several with a typo, a counted
    /// file whose link leads nowhere now, a rebuild with a source gone, a run from the wrong folder.
    func testNoSourceLeavesTheReportSilently() throws {
        let toml = try TestSupport.read(dir.appendingPathComponent("tiny.toml"))
        try toml.replacingOccurrences(of: "files = [\"spend/*.csv\"]", with: "files = [\"spend/*.csv\", \"extra/*.csv\"]")
            .write(to: dir.appendingPathComponent("tiny.toml"), atomically: true, encoding: .utf8)
        try write("extra/weibo.csv", "date,channel,spend\n2025-01-05,weibo,10.00\n")
        XCTAssertEqual(try night().status, 2)
        // One glob of the spend source renamed by mistake: the other still matches.
        let typo = try TestSupport.read(dir.appendingPathComponent("tiny.toml")).replacingOccurrences(of: "\"extra/*.csv\"", with: "\"extar/*.csv\"")
        try typo.write(to: dir.appendingPathComponent("typo.toml"), atomically: true, encoding: .utf8)
        var r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "typo.toml", "--warehouse", "out/warehouse.sqlite", "--output", "out/reports"], cwd: dir)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("from the glob extar/*.csv, which matches no file now: its folder extar is not there")
                      || r.stderr.contains("extra/weibo.csv counted until the last run and is still there, but none of the source's globs"), r.stderr)
        // A rebuild notices it too.
        r = try TestSupport.siyu(["run", "--quiet", "--full", "--pipeline", "typo.toml", "--warehouse", "out/warehouse.sqlite", "--output", "out/reports"], cwd: dir)
        XCTAssertEqual(r.status, 1, r.stderr)
        // A counted file that is a link to a share that is gone.
        try FileManager.default.moveItem(at: dir.appendingPathComponent("extra/weibo.csv"), to: dir.appendingPathComponent("share.csv"))
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("extra/weibo.csv").path, withDestinationPath: dir.appendingPathComponent("share.csv").path)
        XCTAssertEqual(try night().status, 0)   // the same bytes at the same path: nothing new
        try FileManager.default.removeItem(at: dir.appendingPathComponent("share.csv"))
        r = try night()
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("extra/weibo.csv: error: this file counted until the last run and is a symbolic link to nothing"), r.stderr)
        // Retired on purpose, it leaves.
        XCTAssertEqual(try night(["--allow-missing", "spend"]).status, 2)
        // From a folder where nothing matches, and no warehouse yet: nothing is published.
        let elsewhere = try TestSupport.tempDir("elsewhere")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        r = try TestSupport.siyu(["run", "--quiet", "--pipeline", dir.appendingPathComponent("tiny.toml").path], cwd: elsewhere)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("no input file matches any glob of the pipeline (relative globs are read from"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("out/reports").path))
    }

    func testSettingsThatWouldDistortEverything() throws {
        let base = try TestSupport.read(dir.appendingPathComponent("tiny.toml"))
        for (args, message) in [(["--as-of", "2099-12-31"], "is after today"), (["--as-of", "1990-01-01"], "is before 2003-01-01")] {
            let r = try night(args)
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
        for (edit, message) in [(base.replacingOccurrences(of: "timezone = \"Asia/Shanghai\"", with: "timezone = \"CST\""), "abbreviations like CST are ambiguous"),
                                (base.replacingOccurrences(of: "salt = \"tiny-salt\"", with: "salt = \"\"\"\n\"\"\""), "salt is empty")] {
            try write("bad.toml", edit)
            let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "bad.toml"], cwd: dir)
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
        // A rule reading a column no export has (推广方式 misspelled).
        try write("tiny.toml", base + "\n[[rule]]\nchannel = \"x\"\non = [\"order\"]\nfields = [\"推广方试\"]\ncontains = [\"x\"]\n")
        let r = try night()
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("reads the column `推广方试`, which no order export in its scope has; did you mean `推广方式`?"), r.stderr)
        // The sample's salt is the sample's only, however the path is spelled.
        func salted(_ glob: String) throws -> String? {
            try Pipeline.parse("[pipeline]\nsalt = \"siyu-sample-salt\"\n[[source]]\nkind = \"tmall\"\nfiles = [\"\(glob)\"]\n", path: "p.toml").saltProblem
        }
        XCTAssertNil(try salted("./sample-data/tmall/*.csv"))
        XCTAssertNotNil(try salted("sample-data/../real/*.csv"))
        XCTAssertNotNil(try salted("/srv/sample-data/*.csv"))
        // Subcommands list only the flags they use.
        let clean = try TestSupport.siyu(["clean", "--help"], cwd: dir).stdout
        XCTAssertFalse(clean.contains("--output") || clean.contains("--as-of") || clean.contains("--allow-missing"), clean)
        XCTAssertTrue(try TestSupport.siyu(["run", "--help"], cwd: dir).stdout.contains("--allow-missing"))
    }

    func testValuesAndEncodingsFoundByTheReview() throws {
        XCTAssertEqual(try night().status, 2)
        // 京准通 total rows are recorded, not a reason for exit 2 every night.
        try write("spend/jzt.csv", "京准通 推广报表\n日期,计划名称,花费,展现数,点击数\n20250105,京东快车,12.00,100,3\n合计,,12.00,100,3\n")
        XCTAssertEqual(try night().status, 0)
        XCTAssertTrue(try csv("data_quality").contains { $0[0] == "jzt.csv" && $0[6] == "summary_row" })
        // A GBK spend file whose first non-ASCII byte is the last byte of the first 1 MiB read.
        var gbk = Data("date,channel,spend\n".utf8)
        let filler = Data("2025-01-05,ascii,0.01\n".utf8)
        while gbk.count + filler.count <= (1 << 20) - 11 { gbk.append(filler) }
        let prefix = Data("2025-01-06,".utf8)
        while gbk.count + prefix.count < (1 << 20) - 1 { gbk.append(Data("\n".utf8)) }
        gbk.append(prefix)
        XCTAssertEqual(gbk.count, (1 << 20) - 1)
        gbk.append(Data([0xD6, 0xB1, 0xB2, 0xA5]) + Data(",1.00\n".utf8))   // 直播 in GBK: its first byte ends the chunk
        try gbk.write(to: dir.appendingPathComponent("spend/gbk_edge.csv"))
        // UTF-16 without a byte order mark, a Chinese header; gzip; a refund that is no amount.
        try write("spend/u16.csv", "日期,channel,spend\n", encoding: .utf16LittleEndian)
        try Data([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0]).write(to: dir.appendingPathComponent("spend/packed.csv"))
        try write("youzan/refund.csv", "订单号,订单状态,推广方式,订单来源,订单创建时间,买家付款时间,订单实付金额,订单已退款金额,买家昵称,买家手机号\nR1,交易成功,,,2025-02-01 10:00:00,2025-02-01 10:00:01,10.00,#VALUE!,rr,\nR2,交易成功,,,2025-02-01 10:00:00,2025-02-01 10:00:01,+10.00,0,rs,\n")
        let r = try night()
        XCTAssertEqual(r.status, 2, r.stderr)
        let dq = try csv("data_quality")
        XCTAssertEqual(dq.first { $0[0] == "gbk_edge.csv" && $0[6].isEmpty }?[2], "spend_plain", r.stderr)
        XCTAssertTrue(r.stderr.contains("spend/u16.csv: error: the file is UTF-16 text"), r.stderr)
        XCTAssertTrue(r.stderr.contains("spend/packed.csv: error: the file is gzip-compressed"), r.stderr)
        let reasons = try quarantine().map(\.reason)
        XCTAssertTrue(reasons.contains("bad_amount: refund is not a money amount (`#VALUE!`)"), "\(reasons)")
        XCTAssertTrue(reasons.contains("bad_amount: paid is not a money amount (`+10.00`)"), "\(reasons)")
    }
}
