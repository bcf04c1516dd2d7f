import Foundation
import XCTest
@testable import SiyuCore

/// Every window and every "on or before / before / within days a–b" rule of METRICS.md, on both
/// sides of its edge (issue 19). Runs the built `siyu` binary on Tests/Fixtures/edges (written by
/// make_fixtures.py; README.md there has the mutation table these tests were checked with).
///
/// Each buyer id is one customer on one edge. Times are business time (Asia/Shanghai); "day n" of
/// a customer counts from their first purchase day (day 0). Amounts in yuan.
///   Tmall   lift179   2024-02-01 50, 2024-07-29 20 (day 179)          lift180  2024-02-01 50, 2024-07-30 20 (day 180)
///           fan_same  2024-03-05 30, 2024-03-20 10:00 40; follows oFS 2024-03-20 21:00 (on the second purchase day)
///           fan_next  2024-03-05 30, 2024-03-20 40;       follows oFN 2024-03-21 09:00 (the day after it)
///           fan_asof  2024-03-06 30;                      follows oFA 2025-03-31 12:00 (the as-of date)
///           fan_after 2024-03-07 30;                      follows oFX 2025-04-01 12:00 (the day after the as-of date)
///           conv_*    one purchase of 10 each; each follows (QR code = fan channel of its name) on 2024-05-01:
///                     conv_prev pays 2024-04-30 23:00, follows 05-01 00:30 (the day before the follow day);
///                     conv_same pays 05-01 09:00, follows 20:00 (the same day, before the follow);
///                     conv_d6/d7/d29/d30/d89/d90 follow 05-01 20:00 and pay at 08:00 on 05-07, 05-08, 05-30,
///                     05-31, 07-29, 07-30: days 6, 7, 29, 30, 89, 90 after the follow day.
///           rep_two   2024-06-09, 06-10 10:00, 06-20 (10 each); follows oR2 2024-06-10 22:00 (QR rep_two)
///           rep_three 2024-06-10 20:00, 06-11, 06-12 (10 each); follows oR3 2024-06-10 08:00 (QR rep_three)
///           wk_prev   2024-12-29 (Sun, 2024-W52) 10; wk 2024-12-30 (Mon) 10 and 2025-01-05 (Sun) 10, both 2025-W01;
///           wk_next   2025-01-06 (Mon, 2025-W02) 10
///           again     2025-03-01 10, 2025-03-31 15;        last 2025-03-31 20:00 10
///   Youzan  win       2024-01-10 1 (推广方式 WIN广告 -> channel win), 02-08 2, 02-09 4, 04-08 8, 04-09 16: days 0, 29, 30, 89, 90
///           acq_m1    pays 2024-07-10 12:00:01; its fan oAM followed at 12:00:00 (one second before)
///           acq_0     pays 12:00:00; oA0 followed 12:00:00 (the same second)
///           acq_p1    pays 12:00:00; oAP followed 12:00:01 (one second after); 10 each, QR code = their name
///           tz_jan    paid 2025-01-31T15:59:59Z = 2025-01-31 23:59:59 in Shanghai; tz_feb 2025-01-31T16:30:00Z = 2025-02-01 00:30
///   Spend   2024-01-15 WIN campaign 10 -> win; weibo 5 on 2025-03-31 and 7 on 2025-04-01 -> unmapped
/// As-of = the latest purchase day = 2025-03-31 (again, last), a month's last day; other as-of dates are
/// given with --as-of. Acquisition channels: win -> win (order rule); conv_d6..d90, rep_three, acq_m1 followed
/// strictly before their first order -> their follow channel; acq_0 and acq_p1 -> wechat_organic (microstore's
/// default: the follow was not strictly before, decisions.md); every other Tmall customer -> tmall.
final class WindowEdgeTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = try TestSupport.fixture("edges")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The outputs of one run, read back.
    struct Outputs {
        let reports: URL
        /// The rows of output `name` whose first cells are `key` (all of them, header included, for no key).
        /// The rows starting with `key`, in METRICS.md's columns (channel_cpa's extra columns after
        /// them are pinned by EndToEndTests, the crosscheck and, at their window's edge, by
        /// testChannelCPARepeatCustomersWindow through `allColumns`).
        func rows(_ name: String, _ key: String...) throws -> [[String]] {
            try allColumns(name, key).map { name == "channel_cpa" ? Array($0.prefix(9)) : $0 }
        }
        /// The rows starting with `key`, every column.
        func allColumns(_ name: String, _ key: [String]) throws -> [[String]] {
            TestSupport.csvRows(try TestSupport.read(reports.appendingPathComponent("\(name).csv"))).filter { $0.starts(with: key) }
        }
        /// fan_conversion's rows of a follow period with at least one fan.
        func fanRows(_ period: String) throws -> [[String]] { try rows("fan_conversion", period).filter { $0[2] != "0" } }
        /// customer_summary by buyer id (customer_key dropped): the key is the salted hash of the
        /// customer's smallest node, `acct:<platform>:<buyer>` here.
        func summary() throws -> [String: [String]] {
            var byKey: [String: String] = [:]
            for (platform, buyers) in WindowEdgeTests.buyers {
                for b in buyers { byKey[JoinStage.customerKey(salt: "edges-salt", smallestNode: "acct:\(platform):\(b)")] = b }
            }
            var out: [String: [String]] = [:]
            for r in try rows("customer_summary").dropFirst() { out[byKey[r[0]] ?? "?\(r[0])"] = Array(r.dropFirst()) }
            return out
        }
    }

    static let buyers = [
        "tmall": ["lift179", "lift180", "fan_same", "fan_next", "fan_asof", "fan_after", "conv_prev", "conv_same", "conv_d6", "conv_d7",
                  "conv_d29", "conv_d30", "conv_d89", "conv_d90", "rep_two", "rep_three", "wk_prev", "wk", "wk_next", "again", "last"],
        "microstore": ["win", "acq_m1", "acq_0", "acq_p1", "tz_jan", "tz_feb"],
    ]

    /// Runs the pipeline (as of `asOf` when given; the data's latest purchase day otherwise) in the
    /// test's folder. Later runs reuse the warehouse: only the aggregate moves with the as-of date.
    @discardableResult
    func runSiyu(_ pipeline: String = "edges.toml", asOf: String? = nil) throws -> Outputs {
        let r = try TestSupport.siyu(["run", "--pipeline", pipeline, "--quiet"] + (asOf.map { ["--as-of", $0] } ?? []), cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = pipeline == "edges.toml" ? "out" : "out-\(pipeline.dropLast(5))"
        return Outputs(reports: dir.appendingPathComponent("\(out)/reports"))
    }

    /// A pipeline file like edges.toml with one line changed, writing under out-<name>/.
    func variant(_ name: String, _ line: String, _ replacement: String) throws -> String {
        let text = try TestSupport.read(dir.appendingPathComponent("edges.toml"))
        XCTAssertTrue(text.contains(line), line)
        try text.replacingOccurrences(of: line, with: replacement).replacingOccurrences(of: "\"out/", with: "\"out-\(name)/")
            .write(to: dir.appendingPathComponent("\(name).toml"), atomically: true, encoding: .utf8)
        return "\(name).toml"
    }

    /// For each as-of date, the rows of `table` starting with `key`, as `expected` lists them.
    func assertAround(_ table: String, _ key: [String], _ expected: [(asOf: String, rows: [[String]])], pipeline: String = "edges.toml",
                      file: StaticString = #filePath, line: UInt = #line) throws {
        for (asOf, rows) in expected {
            let got = try runSiyu(pipeline, asOf: asOf).rows(table).filter { $0.starts(with: key) }
            XCTAssertEqual(got, rows, "\(table) \(key) as of \(asOf)", file: file, line: line)
        }
    }

    // MARK: channel_cpa

    /// revenue_90d = net_paid over days 0–89 (window_days − 1) from the first purchase day.
    func testChannelCPARevenueWindow() throws {
        let o = try runSiyu()
        // win: days 0, 29, 30, 89 in (1 + 2 + 4 + 8 = 15.00), day 90 (16.00) out. Spend 10.00 (2024-01-15, "WIN campaign"):
        // cpa 10.00 / 1; ltv_cac 15 / 10 = 1.5000. 2024-01-31 + 89 = 2024-04-29 <= 2025-03-31: complete.
        XCTAssertEqual(try o.rows("channel_cpa", "2024-01", "win"), [["2024-01", "win", "10.00", "1", "10.00", "1.00", "15.00", "1.5000", "true"]])
        // window_days = 30: days 0 and 29 in (1 + 2 = 3.00), day 30 (4.00) out; 3 / 10 = 0.3000.
        let w30 = try runSiyu(try variant("w30", "window_days = 90", "window_days = 30"))
        XCTAssertEqual(try w30.rows("channel_cpa", "2024-01", "win"), [["2024-01", "win", "10.00", "1", "10.00", "1.00", "3.00", "0.3000", "true"]])
    }

    /// window_complete: the period's last day + window_days − 1 <= as-of date.
    func testChannelCPAWindowCompleteAroundAsOf() throws {
        try runSiyu()
        // 2024-12 (wk_prev, wk: first-day revenue 10 + 10; wk's 2025-01-05 is its day 6, in: 30.00). Its last day
        // 2024-12-31 + 89 = 2025-03-30: incomplete as of 03-29, complete as of 03-30 and 03-31.
        let dec = { (complete: String) in [["2024-12", "blended", "0.00", "2", "0.00", "20.00", "30.00", "", complete]] }
        try assertAround("channel_cpa", ["2024-12", "blended"], [("2025-03-29", dec("false")), ("2025-03-30", dec("true")), ("2025-03-31", dec("true"))])
        // window_days = 30: 2025-02 (tz_feb, 10.00): 2025-02-28 + 29 = 2025-03-29.
        let w30 = try variant("w30", "window_days = 90", "window_days = 30")
        let feb = { (complete: String) in [["2025-02", "blended", "0.00", "1", "0.00", "10.00", "10.00", "", complete]] }
        try assertAround("channel_cpa", ["2025-02", "blended"], [("2025-03-28", feb("false")), ("2025-03-29", feb("true")), ("2025-03-30", feb("true"))],
                         pipeline: w30)
    }

    /// repeat_customers (siyu's column after METRICS.md's): new customers whose second purchase day is
    /// inside the revenue window, day 1 … window_days − 1 from the first (`c.days[1] - firstDay < windowDays`),
    /// and cost_per_repeat_customer = spend / repeat_customers. Only the second purchase day decides.
    func testChannelCPARepeatCustomersWindow() throws {
        let cpa = ["period", "channel", "spend", "new_customers", "cpa", "first_order_revenue", "revenue_90d", "ltv_cac", "window_complete",
                   "repeat_customers", "cost_per_repeat_customer"]
        let w30 = try runSiyu(try variant("w30", "window_days = 90", "window_days = 30"))
        XCTAssertEqual(try w30.allColumns("channel_cpa", []).first, cpa)
        // window_days = 30. win buys on days 0, 29, 30, 89, 90 (2024-01-10, 02-08, 02-09, 04-08, 04-09); its second
        // purchase day is day 29: inside (29 < 30), so a repeat customer. Its day 30 is its third purchase day and
        // decides nothing here. Revenue days 0–29: 1 + 2 = 3.00; spend 10.00: cpa 10.00, 3 / 10 = 0.3000, and
        // 10.00 / 1 repeat customer = 10.00.
        XCTAssertEqual(try w30.allColumns("channel_cpa", ["2024-01", "win"]),
                       [["2024-01", "win", "10.00", "1", "10.00", "1.00", "3.00", "0.3000", "true", "1", "10.00"]])
        // again buys 2025-03-01 and 2025-03-31: its second purchase day is day 30, outside (30 < 30 is false).
        // 2025-03 blended: again and last (one purchase day, 2025-03-31) new; first-day revenue 10 + 10; days 0–29:
        // again 10 (its 15.00 of day 30 is out) + last 10 = 20.00; spend weibo 5.00 (unmapped): cpa 5 / 2 = 2.50,
        // 20 / 5 = 4.0000; 2025-03-31 + 29 > as-of: incomplete. No repeat customer: 0, and an empty cost
        // (`<=` would count again: 1 and 5.00).
        XCTAssertEqual(try w30.allColumns("channel_cpa", ["2025-03", "blended"]),
                       [["2025-03", "blended", "5.00", "2", "2.50", "20.00", "20.00", "4.0000", "false", "0", ""]])
        // window_days = 29 puts win's second purchase day on the edge: day 29 is outside (29 < 29 is false), as is
        // its revenue (1.00 of day 0 only, 1 / 10 = 0.1000). 2024-01-31 + 28 <= as-of: complete.
        let w29 = try runSiyu(try variant("w29", "window_days = 90", "window_days = 29"))
        XCTAssertEqual(try w29.allColumns("channel_cpa", ["2024-01", "win"]),
                       [["2024-01", "win", "10.00", "1", "10.00", "1.00", "1.00", "0.1000", "true", "0", ""]])
        // The default 90 days: again's day 30 is inside. 2025-03 blended: revenue 10 + 15 + 10 = 35.00, 35 / 5 = 7.0000,
        // 1 repeat customer, 5.00 / 1 = 5.00.
        XCTAssertEqual(try runSiyu().allColumns("channel_cpa", ["2025-03", "blended"]),
                       [["2025-03", "blended", "5.00", "2", "2.50", "20.00", "35.00", "7.0000", "false", "1", "5.00"]])
    }

    /// Acquisition channel: the follow's rule applies when the customer followed strictly before the
    /// first order's payment time (decisions.md); at the same second it does not.
    func testAcquisitionChannelFollowAtTheSameSecond() throws {
        let o = try runSiyu()
        // 2024-07 cohort: acq_m1 (followed 1 s before paying) -> acq_m1. acq_0 (same second) and acq_p1 (1 s after)
        // -> wechat_organic, 10.00 each. conv_d89, conv_d90 (first purchases 07-29, 07-30) -> their follow channels.
        XCTAssertEqual(try o.rows("channel_cpa", "2024-07", "acq_m1"), [["2024-07", "acq_m1", "0.00", "1", "0.00", "10.00", "10.00", "", "true"]])
        XCTAssertEqual(try o.rows("channel_cpa", "2024-07", "wechat_organic"),
                       [["2024-07", "wechat_organic", "0.00", "2", "0.00", "20.00", "20.00", "", "true"]])
        // Channels listed: those with spend or a new customer somewhere. acq_0 and acq_p1 acquired nobody.
        let channels = Set(try o.rows("channel_cpa").dropFirst().map { $0[1] })
        XCTAssertEqual(channels, ["acq_m1", "blended", "conv_d29", "conv_d30", "conv_d6", "conv_d7", "conv_d89", "conv_d90", "rep_three",
                                  "tmall", "unmapped", "wechat_organic", "win"])
    }

    /// Spend dated on the as-of date counts; spend dated after it does not (decisions.md).
    func testSpendOnTheAsOfDate() throws {
        // 2025-03: again and last are new (tmall): first-day revenue 10 + 10; 90 days: again 10 + 15, last 10 = 35.00.
        // Spend: weibo 5.00 on 2025-03-31 (unmapped); 7.00 on 04-01 is after the as-of date. cpa 5 / 2 = 2.50; 35 / 5 = 7.0000.
        let o = try runSiyu()
        XCTAssertEqual(try o.rows("channel_cpa", "2025-03", "unmapped"), [["2025-03", "unmapped", "5.00", "0", "", "0.00", "0.00", "", "false"]])
        XCTAssertEqual(try o.rows("channel_cpa", "2025-03", "blended"), [["2025-03", "blended", "5.00", "2", "2.50", "20.00", "35.00", "7.0000", "false"]])
        XCTAssertEqual(try o.rows("channel_cpa", "2025-04"), [])
        // As of 2025-03-30 the 5.00 of 03-31 is after the as-of date, in the same month: no unmapped spend anywhere,
        // so no unmapped row. 2025-03 has again alone (10.00; its 03-31 purchase is cut off too).
        let before = try runSiyu(asOf: "2025-03-30")
        XCTAssertEqual(try before.rows("channel_cpa", "2025-03", "unmapped"), [])
        XCTAssertEqual(try before.rows("channel_cpa", "2025-03", "blended"), [["2025-03", "blended", "0.00", "1", "0.00", "10.00", "10.00", "", "false"]])
        // As of 2025-04-01 the 7.00 counts, in 2025-04.
        XCTAssertEqual(try runSiyu(asOf: "2025-04-01").rows("channel_cpa", "2025-04", "unmapped"),
                       [["2025-04", "unmapped", "7.00", "0", "", "0.00", "0.00", "", "false"]])
    }

    // MARK: fan_lift

    /// The whole table as of 2025-03-31: repeat within days 1–179, fan when the first follow is on or
    /// before the second purchase day (or the as-of date for a single purchase day), window_complete.
    func testFanLift() throws {
        let rows = try runSiyu().rows("fan_lift")
        XCTAssertEqual(Array(rows.dropFirst()), [
            // win: second day 2024-02-08 (day 29); never followed.
            ["2024-01", "fan", "0", "0", "", "true"], ["2024-01", "non_fan", "1", "1", "1.0000", "true"],
            // lift179: second purchase day 179 -> repeat; lift180: day 180 -> not. 1 / 2.
            ["2024-02", "fan", "0", "0", "", "true"], ["2024-02", "non_fan", "2", "1", "0.5000", "true"],
            // fan: fan_same (follow 03-20 = its second purchase day; repeat, day 15), fan_asof (one purchase day,
            // follow 2025-03-31 = the as-of date). non_fan: fan_next (follow 03-21, the day after; repeat),
            // fan_after (follow 2025-04-01, after the as-of date).
            ["2024-03", "fan", "2", "1", "0.5000", "true"], ["2024-03", "non_fan", "2", "1", "0.5000", "true"],
            // conv_prev (follow 05-01, one purchase day).
            ["2024-04", "fan", "1", "0", "0.0000", "true"], ["2024-04", "non_fan", "0", "0", "", "true"],
            // conv_same, conv_d6, d7, d29, d30: one purchase day each, followed before the as-of date.
            ["2024-05", "fan", "5", "0", "0.0000", "true"], ["2024-05", "non_fan", "0", "0", "", "true"],
            // rep_two (follow 06-10 = second purchase day), rep_three (follow 06-10 <= second day 06-11): both repeat.
            ["2024-06", "fan", "2", "2", "1.0000", "true"], ["2024-06", "non_fan", "0", "0", "", "true"],
            // conv_d89, conv_d90, acq_m1, acq_0, acq_p1: one purchase day each, fans.
            ["2024-07", "fan", "5", "0", "0.0000", "true"], ["2024-07", "non_fan", "0", "0", "", "true"],
            ["2024-08", "fan", "0", "0", "", "true"], ["2024-08", "non_fan", "0", "0", "", "true"],
            // 2024-09-30 + 179 = 2025-03-28 <= as-of: complete; 2024-10-31 + 179 = 2025-04-28: not.
            ["2024-09", "fan", "0", "0", "", "true"], ["2024-09", "non_fan", "0", "0", "", "true"],
            ["2024-10", "fan", "0", "0", "", "false"], ["2024-10", "non_fan", "0", "0", "", "false"],
            ["2024-11", "fan", "0", "0", "", "false"], ["2024-11", "non_fan", "0", "0", "", "false"],
            // wk (second day 2025-01-05, day 6), wk_prev.
            ["2024-12", "fan", "0", "0", "", "false"], ["2024-12", "non_fan", "2", "1", "0.5000", "false"],
            // wk_next, tz_jan (2025-01-31 23:59:59 in Shanghai).
            ["2025-01", "fan", "0", "0", "", "false"], ["2025-01", "non_fan", "2", "0", "0.0000", "false"],
            // tz_feb (2025-02-01 00:30 in Shanghai).
            ["2025-02", "fan", "0", "0", "", "false"], ["2025-02", "non_fan", "1", "0", "0.0000", "false"],
            // again (second day 2025-03-31, day 30), last.
            ["2025-03", "fan", "0", "0", "", "false"], ["2025-03", "non_fan", "2", "1", "0.5000", "false"],
        ])
    }

    /// The fan group moves with the as-of date for customers with one purchase day: fan_asof (follow
    /// 2025-03-31) and fan_after (2025-04-01). fan_same and fan_next are decided by their second purchase day.
    func testFanLiftGroupAroundAsOf() throws {
        try runSiyu()
        try assertAround("fan_lift", ["2024-03"], [
            // Before fan_asof's follow: fans fan_same only (repeat); non_fan fan_next (repeat), fan_asof, fan_after.
            ("2025-03-30", [["2024-03", "fan", "1", "1", "1.0000", "true"], ["2024-03", "non_fan", "3", "1", "0.3333", "true"]]),
            ("2025-03-31", [["2024-03", "fan", "2", "1", "0.5000", "true"], ["2024-03", "non_fan", "2", "1", "0.5000", "true"]]),
            // fan_after's follow day is the as-of date now.
            ("2025-04-01", [["2024-03", "fan", "3", "1", "0.3333", "true"], ["2024-03", "non_fan", "1", "1", "1.0000", "true"]]),
        ])
    }

    /// window_complete: the cohort's last day + 179 <= as-of date. 2024-09-30 + 179 = 2025-03-28.
    func testFanLiftWindowCompleteAroundAsOf() throws {
        try runSiyu()
        let sep = { (c: String) in [["2024-09", "fan", "0", "0", "", c], ["2024-09", "non_fan", "0", "0", "", c]] }
        try assertAround("fan_lift", ["2024-09"], [("2025-03-27", sep("false")), ("2025-03-28", sep("true")), ("2025-03-29", sep("true"))])
    }

    // MARK: fan_conversion

    /// already_customers (first purchase day before the follow day), converted within days 0–6, 0–29, 0–89.
    func testFanConversionWindows() throws {
        let o = try runSiyu()
        // prospect: fans 1, already 0, prospects 1; then c7, c30, c90, rate, repeat 0, loyal 0, median = its lag.
        func prospect(_ ch: String, _ c7: String, _ c30: String, _ c90: String, _ lag: String) -> [String] {
            ["2024-05", ch, "1", "0", "1", c7, c30, c90, c30 == "1" ? "1.0000" : "0.0000", "0", "0", lag, "true"]
        }
        XCTAssertEqual(try o.fanRows("2024-05"), [
            // 8 fans; already: conv_prev; prospects 7 with lags 0, 6, 7, 29, 30, 89, 90.
            // c7 = {0, 6} = 2; c30 = {0, 6, 7, 29} = 4; c90 = 6 (not 90); 4 / 7 = 0.5714; median of the 7 lags: 29.
            // repeat_fans: every one has at most one purchase day on or after 05-01. 2024-05-31 + 29 <= as-of.
            ["2024-05", "all", "8", "1", "7", "2", "4", "6", "0.5714", "0", "0", "29", "true"],
            prospect("conv_d29", "0", "1", "1", "29"),
            prospect("conv_d30", "0", "0", "1", "30"),
            prospect("conv_d6", "1", "1", "1", "6"),
            prospect("conv_d7", "0", "1", "1", "7"),
            prospect("conv_d89", "0", "0", "1", "89"),
            prospect("conv_d90", "0", "0", "0", "90"),
            // Paid 04-30 23:00, followed 05-01 00:30: first purchase day before the follow day -> already a customer.
            ["2024-05", "conv_prev", "1", "1", "0", "0", "0", "0", "", "0", "0", "", "true"],
            // Paid 05-01 09:00, followed 20:00: the same day -> a prospect converted on day 0 (its purchase day is on the follow day).
            prospect("conv_same", "1", "1", "1", "0"),
        ])
        // acq_0, acq_m1, acq_p1: each converted on its follow day (lag 0), whatever the second.
        XCTAssertEqual(try o.rows("fan_conversion", "2024-07", "all"), [["2024-07", "all", "3", "0", "3", "3", "3", "3", "1.0000", "0", "0", "0", "true"]])
    }

    /// repeat_fans / loyal_fans count purchase days on or after the follow day (loyal_threshold = 3).
    func testRepeatAndLoyalFans() throws {
        let o = try runSiyu()
        XCTAssertEqual(try o.fanRows("2024-06"), [
            ["2024-06", "all", "2", "1", "1", "1", "1", "1", "1.0000", "2", "1", "0", "true"],
            // rep_three: followed 06-10 08:00, purchase days 06-10 (the follow day: counts), 06-11, 06-12 -> 3: repeat, loyal.
            // A prospect (first purchase day = follow day), lag 0.
            ["2024-06", "rep_three", "1", "0", "1", "1", "1", "1", "1.0000", "1", "1", "0", "true"],
            // rep_two: followed 06-10 22:00, purchase days 06-09 (the day before: not counted), 06-10 (10:00, before
            // the follow but on its day: counted), 06-20 -> 2: repeat, not loyal. Already a customer (06-09 < 06-10).
            ["2024-06", "rep_two", "1", "1", "0", "0", "0", "0", "", "1", "0", "", "true"],
        ])
    }

    /// window_complete_30d: the period's last day + 29 <= as-of date. 2025-02-28 + 29 = 2025-03-29.
    /// Fans are counted when their first follow day is on or before the as-of date.
    func testFanConversionWindowCompleteAndFollowsAroundAsOf() throws {
        try runSiyu()
        let feb = { (c: String) in [["2025-02", "all", "0", "0", "0", "0", "0", "0", "", "0", "0", "", c]] }
        try assertAround("fan_conversion", ["2025-02", "all"], [("2025-03-28", feb("false")), ("2025-03-29", feb("true")), ("2025-03-30", feb("true"))])
        // oFA follows on 2025-03-31: not yet a fan as of 03-30; one (already a customer since 2024-03-06) as of 03-31.
        // oFX follows 2025-04-01: a fan in 2025-04 only as of 04-01 (already a customer, fan_after).
        let mar = { (n: String) in [["2025-03", "all", n, n, "0", "0", "0", "0", "", "0", "0", "", "false"]] }
        try assertAround("fan_conversion", ["2025-03", "all"], [("2025-03-30", mar("0")), ("2025-03-31", mar("1")), ("2025-04-01", mar("1"))])
        XCTAssertEqual(try runSiyu(asOf: "2025-04-01").rows("fan_conversion", "2025-04", "all"),
                       [["2025-04", "all", "1", "1", "0", "0", "0", "0", "", "0", "0", "", "false"]])
        XCTAssertEqual(try runSiyu().rows("fan_conversion", "2025-04"), [])
    }

    // MARK: periods

    /// partial: the period ends after the as-of date. 2025-03 ends on 2025-03-31.
    func testPartialAroundAsOf() throws {
        try runSiyu()
        // Cohort 2025-03 as of 03-30: only again (10.00; last and again's second day are on 03-31).
        try assertAround("cohort_repurchase", ["2025-03", "all"], [
            ("2025-03-30", [["2025-03", "all", "0", "1", "1", "1.0000", "0", "0.0000", "10.00", "true"]]),
            // again (second purchase day 03-31 is in period cohort+0) and last: 10 + 15 + 10.
            ("2025-03-31", [["2025-03", "all", "0", "2", "2", "1.0000", "1", "0.5000", "35.00", "false"]]),
            ("2025-04-01", [["2025-03", "all", "0", "2", "2", "1.0000", "1", "0.5000", "35.00", "false"],
                            ["2025-03", "all", "1", "2", "0", "0.0000", "1", "0.5000", "0.00", "true"]]),
        ])
        try assertAround("repurchase_by_period", ["2025-03", "all"], [
            ("2025-03-30", [["2025-03", "all", "1", "1", "0", "0.0000", "0", "0.0000", "10.00", "true"]]),
            // again has two purchase days in the period: a repeat buyer.
            ("2025-03-31", [["2025-03", "all", "2", "2", "0", "0.0000", "1", "0.5000", "35.00", "false"]]),
            ("2025-04-01", [["2025-03", "all", "2", "2", "0", "0.0000", "1", "0.5000", "35.00", "false"]]),
        ])
        XCTAssertEqual(try runSiyu(asOf: "2025-04-01").rows("repurchase_by_period", "2025-04", "all"),
                       [["2025-04", "all", "0", "0", "0", "", "0", "", "0.00", "true"]])
    }

    /// A month boundary at midnight in Shanghai, for orders stamped in UTC.
    func testMidnightInBusinessTimeZone() throws {
        let o = try runSiyu()
        // Cohort 2025-01: wk_next (01-06, tmall) and tz_jan (15:59:59Z = 23:59:59 on 01-31); 2025-02: tz_feb (16:30Z = 02-01 00:30).
        XCTAssertEqual(try o.rows("cohort_repurchase", "2025-01", "all"), [
            ["2025-01", "all", "0", "2", "2", "1.0000", "0", "0.0000", "20.00", "false"],
            ["2025-01", "all", "1", "2", "0", "0.0000", "0", "0.0000", "0.00", "false"],
            ["2025-01", "all", "2", "2", "0", "0.0000", "0", "0.0000", "0.00", "false"],
        ])
        XCTAssertEqual(try o.rows("cohort_repurchase", "2025-02", "microstore"), [
            ["2025-02", "microstore", "0", "1", "1", "1.0000", "0", "0.0000", "10.00", "false"],
            ["2025-02", "microstore", "1", "1", "0", "0.0000", "0", "0.0000", "0.00", "false"],
        ])
        // 2025-01 buyers: wk (returning: first day 2024-12-30), wk_next, tz_jan. 1 / 3 returning.
        XCTAssertEqual(try o.rows("repurchase_by_period", "2025-01"), [
            ["2025-01", "all", "3", "2", "1", "0.3333", "0", "0.0000", "30.00", "false"],
            ["2025-01", "microstore", "1", "1", "0", "0.0000", "0", "0.0000", "10.00", "false"],
            ["2025-01", "tmall", "2", "1", "1", "0.5000", "0", "0.0000", "20.00", "false"],
        ])
        XCTAssertEqual(try o.rows("repurchase_by_period", "2025-02", "all"), [["2025-02", "all", "1", "1", "0", "0.0000", "0", "0.0000", "10.00", "false"]])
        let s = try o.summary()
        XCTAssertEqual(s["tz_jan"], ["microstore", "2025-01-31", "0", "0", "59", "0.00", "false"])
        XCTAssertEqual(s["tz_feb"], ["microstore", "2025-02-01", "0", "0", "58", "0.00", "false"])
    }

    /// period = "week": ISO weeks, Monday first; 2024-12-30 .. 2025-01-05 is 2025-W01.
    func testISOWeekAcrossTwoYears() throws {
        let o = try runSiyu(try variant("week", "period = \"month\"", "period = \"week\""))
        XCTAssertEqual(try o.rows("repurchase_by_period").filter { ["2024-W52", "2025-W01", "2025-W02"].contains($0[0]) && $0[1] == "all" }, [
            ["2024-W52", "all", "1", "1", "0", "0.0000", "0", "0.0000", "10.00", "false"],   // wk_prev, Sunday 2024-12-29
            // wk: Monday 2024-12-30 and Sunday 2025-01-05, two purchase days in one week: a repeat buyer.
            ["2025-W01", "all", "1", "1", "0", "0.0000", "1", "1.0000", "20.00", "false"],
            ["2025-W02", "all", "1", "1", "0", "0.0000", "0", "0.0000", "10.00", "false"],   // wk_next, Monday 2025-01-06
        ])
        // Cohort 2025-W01 = {wk}; its second purchase day is in the cohort's own week.
        XCTAssertEqual(try o.rows("cohort_repurchase", "2025-W01", "all", "0"), [["2025-W01", "all", "0", "1", "1", "1.0000", "1", "1.0000", "20.00", "false"]])
        // tz_jan (Fri 2025-01-31) and tz_feb (Sat 02-01) share 2025-W05 (01-27 .. 02-02).
        XCTAssertEqual(try o.rows("repurchase_by_period", "2025-W05", "all"), [["2025-W05", "all", "2", "2", "0", "0.0000", "0", "0.0000", "20.00", "false"]])
    }

    /// ISO week labels where the week year is not the calendar year of some of its days: the year is
    /// that of the week's Thursday. (The fixture's weeks would label alike if Wednesday or Friday
    /// decided; these do not.)
    func testISOWeekLabelsAtYearEnds() {
        let w = PeriodKind.week
        for (y, m, d, label) in [(2024, 12, 30, "2025-W01"), (2025, 1, 5, "2025-W01"), (2024, 12, 29, "2024-W52"),
                                 (2025, 12, 29, "2026-W01"),   // Monday; its Thursday is 2026-01-01 (Wednesday: 2025-12-31)
                                 (2021, 1, 3, "2020-W53"),     // Sunday; its Thursday is 2020-12-31 (Friday: 2021-01-01)
                                 (2026, 12, 31, "2026-W53"), (2027, 1, 4, "2027-W01")] {
            XCTAssertEqual(w.label(w.index(ofDay: CivilDate.dayNumber(y, m, d))), label, "\(y)-\(m)-\(d)")
        }
    }

    // MARK: customer_summary

    /// frequency = repeat purchase days, recency = last − first purchase day, T = as-of − first purchase
    /// day, monetary_value = mean of the repeat days' net, is_fan = first follow day on or before the as-of date.
    func testCustomerSummary() throws {
        XCTAssertEqual(try runSiyu().summary(), [
            "win": ["microstore", "2024-01-10", "4", "90", "446", "7.50", "false"],   // (2 + 4 + 8 + 16) / 4
            "lift179": ["tmall", "2024-02-01", "1", "179", "424", "20.00", "false"],
            "lift180": ["tmall", "2024-02-01", "1", "180", "424", "20.00", "false"],
            "fan_same": ["tmall", "2024-03-05", "1", "15", "391", "40.00", "true"],
            "fan_next": ["tmall", "2024-03-05", "1", "15", "391", "40.00", "true"],   // a fan by the as-of date, non_fan in fan_lift
            "fan_asof": ["tmall", "2024-03-06", "0", "0", "390", "0.00", "true"],     // follows on the as-of date
            "fan_after": ["tmall", "2024-03-07", "0", "0", "389", "0.00", "false"],   // follows the day after
            "conv_prev": ["tmall", "2024-04-30", "0", "0", "335", "0.00", "true"],
            "conv_same": ["tmall", "2024-05-01", "0", "0", "334", "0.00", "true"],
            "conv_d6": ["tmall", "2024-05-07", "0", "0", "328", "0.00", "true"],
            "conv_d7": ["tmall", "2024-05-08", "0", "0", "327", "0.00", "true"],
            "conv_d29": ["tmall", "2024-05-30", "0", "0", "305", "0.00", "true"],
            "conv_d30": ["tmall", "2024-05-31", "0", "0", "304", "0.00", "true"],
            "conv_d89": ["tmall", "2024-07-29", "0", "0", "245", "0.00", "true"],
            "conv_d90": ["tmall", "2024-07-30", "0", "0", "244", "0.00", "true"],
            "rep_two": ["tmall", "2024-06-09", "2", "11", "295", "10.00", "true"],
            "rep_three": ["tmall", "2024-06-10", "2", "2", "294", "10.00", "true"],
            "acq_m1": ["microstore", "2024-07-10", "0", "0", "264", "0.00", "true"],
            "acq_0": ["microstore", "2024-07-10", "0", "0", "264", "0.00", "true"],
            "acq_p1": ["microstore", "2024-07-10", "0", "0", "264", "0.00", "true"],
            "wk_prev": ["tmall", "2024-12-29", "0", "0", "92", "0.00", "false"],
            "wk": ["tmall", "2024-12-30", "1", "6", "91", "10.00", "false"],
            "wk_next": ["tmall", "2025-01-06", "0", "0", "84", "0.00", "false"],
            "tz_jan": ["microstore", "2025-01-31", "0", "0", "59", "0.00", "false"],
            "tz_feb": ["microstore", "2025-02-01", "0", "0", "58", "0.00", "false"],
            "again": ["tmall", "2025-03-01", "1", "30", "30", "15.00", "false"],       // its repeat day is the as-of date
            "last": ["tmall", "2025-03-31", "0", "0", "0", "0.00", "false"],           // first purchase on the as-of date: T = 0
        ])
    }

    /// The same customers a day before and after the as-of date 2025-03-31.
    func testCustomerSummaryAroundAsOf() throws {
        try runSiyu()
        let before = try runSiyu(asOf: "2025-03-30").summary()
        XCTAssertNil(before["last"])                                                           // first purchase after the as-of date
        XCTAssertEqual(before["again"], ["tmall", "2025-03-01", "0", "0", "29", "0.00", "false"])  // 03-31 not yet
        XCTAssertEqual(before["fan_asof"], ["tmall", "2024-03-06", "0", "0", "389", "0.00", "false"])
        XCTAssertEqual(before.count, 26)
        let after = try runSiyu(asOf: "2025-04-01").summary()
        XCTAssertEqual(after["last"], ["tmall", "2025-03-31", "0", "0", "1", "0.00", "false"])
        XCTAssertEqual(after["again"], ["tmall", "2025-03-01", "1", "30", "31", "15.00", "false"])
        XCTAssertEqual(after["fan_after"], ["tmall", "2024-03-07", "0", "0", "390", "0.00", "true"])
    }
}
