import Foundation
import XCTest
import ZIPFoundation
@testable import SiyuCore

/// The report: numbers as people read them, the report settings, each section's answer on
/// hand-made tables (the numbers worked out in the comments), escaping, the CSVs' BOM, the
/// workbook's cells, and the data dictionary. Tests/browser/test_report.py opens the pages.
final class ReportTests: XCTestCase {
    // MARK: numbers and labels

    func testNumbersAsPeopleReadThem() {
        XCTAssertEqual(Show.pct("0.5953"), "59.5%")
        XCTAssertEqual(Show.pct("0.5955"), "59.6%")            // half up
        XCTAssertEqual(Show.pct("1.0000"), "100.0%")
        XCTAssertEqual(Show.pct(""), "—")                     // denominator 0
        XCTAssertEqual(Show.pct(47, 85), "55.3%")             // 55.294… → 55.3
        XCTAssertEqual(Show.pct(351, 592), "59.3%")           // 59.290… → 59.3
        XCTAssertEqual(Show.pct(1, 6066), "<0.1%")            // not 0.0 % when something is there
        XCTAssertEqual(Show.pct(0, 5), "0.0%")
        XCTAssertEqual(Show.pct(1, 0), "—")
        XCTAssertEqual(Show.yuan(fen: 41_133_900), "¥411,339")
        XCTAssertEqual(Show.yuan(fen: 41_133_950), "¥411,340")  // whole yuan, half up
        XCTAssertEqual(Show.yuan("138.40", cents: true), "¥138.40")
        XCTAssertEqual(Show.yuan("1234.05", cents: true), "¥1,234.05")
        XCTAssertEqual(Show.yuan(""), "—")
        XCTAssertEqual(Show.count(1_234_567), "1,234,567")
        XCTAssertEqual(Show.count(999), "999")
        XCTAssertEqual(Show.decimal("1234.5"), "1,234.5")
        XCTAssertEqual(Show.tenThousandths("0.12345"), 1235)
    }

    func testWeekLabelsCarryTheirDates() {
        XCTAssertEqual(Show.period("2025-W09", .week), "2025-W09 (2/24–3/2)")
        XCTAssertEqual(Show.period("2025-W01", .week), "2025-W01 (12/30–1/5)")   // ISO week 1 starts in December
        XCTAssertEqual(Show.period("2020-W53", .week), "2020-W53 (12/28–1/3)")
        XCTAssertEqual(Show.period("2025-03", .month), "2025-03")
        XCTAssertEqual(Show.period("2025-03", .week), "2025-03")                   // not a week label: as written
    }

    // MARK: settings

    func pipeline(_ extra: String, pipelineKeys: String = "", source: String = "") throws -> Pipeline {
        try Pipeline.parse("""
            [pipeline]
            salt = "test-salt-0123"
            \(pipelineKeys)
            [[source]]
            name = "tmall"
            kind = "tmall"
            files = ["t/*.csv"]
            \(source)
            [[source]]
            name = "shop"
            kind = "youzan"
            files = ["y/*.csv"]
            \(extra)
            """, path: "p.toml")
    }

    func assertConfigError(_ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error; expected one saying \(parts)", file: file, line: line)
        } catch {
            let m = "\(error)"
            for p in parts { XCTAssertTrue(m.contains(p), "“\(m)” lacks “\(p)”", file: file, line: line) }
        }
    }

    func testReportSettings() throws {
        let d = try pipeline("")
        XCTAssertEqual(d.language, .zh)
        XCTAssertTrue(d.csvBOM)
        XCTAssertTrue(d.workbook)
        XCTAssertEqual(DisplayNames(pipeline: d).platform("tmall"), "天猫")
        XCTAssertEqual(DisplayNames(pipeline: d).platform("microstore"), "微商城")

        let p = try pipeline("""
            [channels]
            wechat_organic = "公众号自然流量"
            tmall = "天猫（万相台）"
            """, pipelineKeys: "language = \"en\"\ncsv_bom = false\nworkbook = false", source: "display_name = \"天猫旗舰店\"")
        XCTAssertEqual(p.language, .en)
        XCTAssertFalse(p.csvBOM)
        XCTAssertFalse(p.workbook)
        let names = DisplayNames(pipeline: p)
        XCTAssertEqual(names.platform("tmall"), "天猫旗舰店")
        XCTAssertEqual(names.platform("microstore"), "Micro-store")
        XCTAssertEqual(names.channel("wechat_organic"), "公众号自然流量")
        XCTAssertEqual(names.channel("tmall"), "天猫（万相台）")
        XCTAssertEqual(names.channel("jd"), "JD")                 // a platform's default channel: the platform's name
        XCTAssertEqual(names.channel("livestream"), "livestream") // not named: as written
        XCTAssertEqual(names.channel("unmapped"), "Unmapped spend")

        assertConfigError(["language", "\"zh\"", "\"en\"", "fr"]) { _ = try pipeline("", pipelineKeys: "language = \"fr\"") }
        assertConfigError(["csv_bom", "true or false"]) { _ = try pipeline("", pipelineKeys: "csv_bom = \"no\"") }
        assertConfigError(["unknown key `langauge`", "did you mean `language`"]) { _ = try pipeline("", pipelineKeys: "langauge = \"en\"") }
        assertConfigError(["unknown key `displayname`", "display_name"]) { _ = try pipeline("", source: "displayname = \"x\"") }
        assertConfigError(["display_name", "empty"]) { _ = try pipeline("", source: "display_name = \" \"") }
        assertConfigError(["[channels]", "livestream", "string"]) { _ = try pipeline("[channels]\nlivestream = 3") }
        assertConfigError(["`channel`", "did you mean `[channels]`"]) { _ = try pipeline("[channel]\nx = \"y\"") }
    }

    // MARK: the page

    func context(_ lang: ReportLanguage = .zh, period: PeriodKind = .month, sources: [SourceConfig] = [], channels: [String: String] = [:],
                 customers: CustomerStats? = nil) -> ReportContext {
        ReportContext(pipelineName: "t", asOf: "2025-03-10", period: period, names: DisplayNames(language: lang, sources: sources, channels: channels),
                      customers: customers)
    }

    static let cpaColumns = ["period", "channel", "spend", "new_customers", "cpa", "first_order_revenue", "revenue_90d", "ltv_cac", "window_complete"]

    /// The answer sentences of a section as text (tags removed, variants of other filter values left out).
    func answer(_ html: String, section id: String, variant: String? = nil) -> String {
        guard let s = html.range(of: "<section id=\"\(id)\""), let e = html.range(of: "</section>", range: s.upperBound..<html.endIndex) else { return "" }
        var sec = String(html[s.lowerBound..<e.upperBound])
        if let a = sec.range(of: "<div class=\"answer\">") { sec = String(sec[a.upperBound...]) }
        if let v = variant, let a = sec.range(of: "<div data-v=\"\(v)\"") {
            sec = String(sec[a.lowerBound...])
            if let end = sec.range(of: "</div>") { sec = String(sec[..<end.upperBound]) }
        }
        return sec.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
    }

    func testChannelsRankByCostPerRepeatBuyerAndSayNoSpend() {
        // Spend 300.00 for 3 new customers, 1 of whom came back: 300.00 per repeat buyer; 100.00 CPA.
        // ads: 200.00, 4 new, 2 repeat: 100.00 per repeat buyer (cheapest), 50.00 CPA.
        // organic: no spend, 5 new, 3 repeat: "无投放".
        var rows = [["2025-01", "tmall", "300.00", "3", "100.00", "90.00", "150.00", "0.5000", "true", "1", "300.00"],
                    ["2025-01", "ads", "200.00", "4", "50.00", "80.00", "120.00", "0.6000", "true", "2", "100.00"],
                    ["2025-01", "organic", "0.00", "5", "0.00", "60.00", "70.00", "", "true", "3", "0.00"],
                    ["2025-01", "blended", "500.00", "12", "41.67", "230.00", "340.00", "0.6800", "true", "6", "83.33"]]
        let with = OutputTable(name: "channel_cpa", columns: Self.cpaColumns + ["repeat_customers", "cost_per_repeat_customer"], rows: rows)
        let html = HTMLReport.render(tables: ["channel_cpa": with], context: context(channels: ["ads": "朋友圈广告", "organic": "公众号自然流量"]))
        let a = answer(html, section: "channel", variant: "*")
        XCTAssertTrue(a.contains("每位复购客成本最低的是 朋友圈广告：¥100"), a)
        XCTAssertTrue(a.contains("最高的是 天猫：¥300"), a)
        XCTAssertTrue(a.contains("公众号自然流量 5 位新客（3 位复购）"), a)
        XCTAssertFalse(a.contains("还没有 repeat_customers"), a)
        // The bars: cheapest first, the channel without spend last and "无投放", never 0.00.
        let section = html[html.range(of: "<section id=\"channel\"")!.lowerBound...]
        let ads = section.range(of: "朋友圈广告</span>")!, tmall = section.range(of: "天猫</span>")!, organic = section.range(of: "公众号自然流量</span>")!
        XCTAssertTrue(ads.lowerBound < tmall.lowerBound && tmall.lowerBound < organic.lowerBound)
        XCTAssertTrue(section.contains("<span class=\"bar-val\">无投放</span>"))
        XCTAssertFalse(section.contains(">0.00<") || section.contains(">¥0<") || section.contains(">¥0.00<"), "no zero spend shown as money")
        XCTAssertEqual(section.components(separatedBy: "<td>无投放</td>").count - 1, 4, "organic's spend, cpa, ltv_cac and cost per repeat buyer read 无投放")

        // Without the repeat columns (before the lead's change): ranked by CPA, and the page says why.
        rows = rows.map { Array($0.prefix(9)) }
        let without = OutputTable(name: "channel_cpa", columns: Self.cpaColumns, rows: rows)
        let b = answer(HTMLReport.render(tables: ["channel_cpa": without], context: context()), section: "channel", variant: "*")
        XCTAssertTrue(b.contains("获客成本（CPA）最低的是 ads：¥50"), b)
        XCTAssertTrue(b.contains("还没有 repeat_customers 和 cost_per_repeat_customer 列"), b)
    }

    func testFansAgainstNonFansOverallWithSampleSizes() {
        // Two complete cohorts: fans 3+2 of 10+8 repeat (27.8 %), non-fans 20+15 of 40+30 (50.0 %);
        // one cohort still within its 180 days, left out of the default figure.
        let t = OutputTable(name: "fan_lift", columns: ["cohort", "group", "customers", "repeat_customers_180d", "repeat_rate_180d", "window_complete"], rows: [
            ["2025-01", "fan", "10", "3", "0.3000", "true"], ["2025-01", "non_fan", "40", "20", "0.5000", "true"],
            ["2025-02", "fan", "8", "2", "0.2500", "true"], ["2025-02", "non_fan", "30", "15", "0.5000", "true"],
            ["2025-03", "fan", "50", "5", "0.1000", "false"], ["2025-03", "non_fan", "50", "5", "0.1000", "false"]])
        let html = HTMLReport.render(tables: ["fan_lift": t], context: context())
        let a = answer(html, section: "fanlift", variant: "complete")
        XCTAssertTrue(a.contains("粉丝 180 天复购率 27.8%（18 人中 5 人）"), a)
        XCTAssertTrue(a.contains("非粉丝 50.0%（70 人中 35 人）"), a)
        XCTAssertTrue(a.contains("粉丝复购更少"), a)
        XCTAssertTrue(a.contains("粉丝只有 18 人（少于 30）：样本太小，不能比较"), a)
        // All cohorts: fans 10 of 68 (14.7 %), non-fans 40 of 120 (33.3 %); both groups ≥ 30: a test, no warning.
        let b = answer(html, section: "fanlift", variant: "*")
        XCTAssertTrue(b.contains("粉丝 180 天复购率 14.7%（68 人中 10 人）"), b)
        XCTAssertTrue(b.contains("非粉丝 33.3%（120 人中 40 人）"), b)
        XCTAssertFalse(b.contains("样本太小"), b)
        XCTAssertTrue(b.contains("|z|"), b)
    }

    func testMigrationHeadlineCountsOnlyCustomersOtherPlatformsAcquired() {
        // Tmall acquired 100, 15 repurchased in the store; JD 50, 5; the store's own 40 of 60 do not count:
        // 20 of 150 (13.3 %).
        let cols = ["acquisition_platform", "repurchase_platform", "acquired_customers", "customers_repurchasing_on", "share"]
        let t = OutputTable(name: "platform_migration", columns: cols, rows: [
            ["all", "any", "210", "90", "0.4286"], ["all", "microstore", "210", "60", "0.2857"],
            ["jd", "any", "50", "20", "0.4000"], ["jd", "microstore", "50", "5", "0.1000"],
            ["microstore", "any", "60", "45", "0.7500"], ["microstore", "microstore", "60", "40", "0.6667"],
            ["tmall", "any", "100", "25", "0.2500"], ["tmall", "microstore", "100", "15", "0.1500"]])
        let html = HTMLReport.render(tables: ["platform_migration": t], context: context())
        let a = answer(html, section: "migration")
        XCTAssertTrue(a.contains("其他平台获得的客户中，有 20 位后来在微商城复购（占他们 150 位的 13.3%）：天猫 15（15.0%）、京东 5（10.0%）"), a)
        XCTAssertTrue(a.contains("微商城自己获得的 60 位客户中 40 位"), a)
        XCTAssertTrue(html.contains("<b>20 (13.3%)</b>"), "the headline card counts the same customers")
        XCTAssertFalse(html.contains("<b>60 (28.6%)</b>"), "not the store's own customers")
    }

    func cohortTable() -> OutputTable {
        // One cohort of 40 customers (2025-01): +1 ended, +2 (March) in progress on 2025-03-10.
        OutputTable(name: "cohort_repurchase", columns: ["cohort", "acquisition_platform", "period_offset", "cohort_customers", "active_customers",
                                                          "retention_rate", "repeat_customers", "cumulative_repeat_rate", "net_revenue", "partial"], rows: [
            ["2025-01", "all", "0", "40", "40", "1.0000", "4", "0.1000", "4000.00", "false"],
            ["2025-01", "all", "1", "40", "10", "0.2500", "12", "0.3000", "1500.00", "false"],
            ["2025-01", "all", "2", "40", "2", "0.0500", "13", "0.3250", "300.00", "true"],
            ["2025-02", "all", "0", "40", "40", "1.0000", "8", "0.2000", "3900.00", "false"],
            ["2025-02", "all", "1", "40", "4", "0.1000", "9", "0.2250", "500.00", "true"],
            ["2025-03", "all", "0", "30", "30", "1.0000", "3", "0.1000", "3000.00", "true"],
            ["2025-01", "tmall", "0", "40", "40", "1.0000", "4", "0.1000", "4000.00", "false"],
            ["2025-01", "tmall", "1", "40", "10", "0.2500", "12", "0.3000", "1500.00", "false"],
            ["2025-01", "tmall", "2", "40", "2", "0.0500", "13", "0.3250", "300.00", "true"]])
    }

    func testCohortsComparedAtTheSameHorizonAndPeriodsInProgressHatched() {
        let html = HTMLReport.render(tables: ["cohort_repurchase": cohortTable()], context: context())
        // +1 is the longest offset some cohort has finished: 2025-01 at +1 is 30.0 % (12 of 40); 2025-02's +1 is in progress.
        let a = answer(html, section: "cohort", variant: "all")
        XCTAssertTrue(a.contains("到首购后第 1 个月末，复购比例最高的是 2025-01 的新客：30.0%（40 人中 12 人已复购）；同期平均 30.0%"), a)
        // The cells of periods in progress are hatched (class inc) and keep their colour; none is faded.
        let cells = html.components(separatedBy: "<td data-x=").dropFirst()
        XCTAssertEqual(cells.filter { $0.hasPrefix("\"2 13 30000\" class=\"h2 inc\"") }.count, 2, "2025-01 +2 (all and tmall): 2 of 40 active, 5 % of the 10 % maximum")
        // In progress: 2025-01 +2, 2025-02 +1, 2025-03 +0 (all), 2025-01 +2 (tmall).
        XCTAssertEqual(cells.filter { $0.contains(" inc\"") }.count, 4)
        XCTAssertFalse(html.contains("opacity=\""), "no faded cells")
        // The curves run dashed into the period in progress.
        XCTAssertTrue(html.contains("<polyline class=\"dash\""))
        // A platform filter with the platforms of the table, the other platforms' parts hidden.
        XCTAssertTrue(html.contains("data-val=\"tmall\" aria-pressed=\"false\">天猫</button>"))
        XCTAssertTrue(html.contains("<div data-v=\"tmall\" hidden>"))
        // Every row in the table (no "first 200").
        XCTAssertEqual(html.components(separatedBy: "<tr data-f=").count - 1, 9)
    }

    /// Names come from pipeline files and exports: a platform, a channel, a display name, a status
    /// or a file holding markup shows as text in every section, in sentences, bars, tips and tables.
    func testHostileNamesAreEscapedEverywhere() {
        let evil = "<img src=x onerror=alert(1)>"
        let platform = "dy\"><script>alert(2)</script>"
        var source = SourceConfig(name: "dy", kind: .generic, files: [], defaultChannel: "dy", platform: platform, columns: [:])
        source.displayName = "抖音<b>店</b>"
        let names = DisplayNames(language: .zh, sources: [source], channels: [evil: "直播<i>间</i>", "x": "'\"&"])
        func swap(_ t: OutputTable, _ from: String, _ to: String) -> OutputTable {
            OutputTable(name: t.name, columns: t.columns, rows: t.rows.map { $0.map { $0 == from ? to : $0 } })
        }
        let cohorts = swap(cohortTable(), "tmall", platform)
        let period = OutputTable(name: "repurchase_by_period", columns: ["period", "platform", "buyers", "new_buyers", "returning_buyers", "returning_share", "repeat_buyers", "period_repurchase_rate", "net_revenue", "partial"], rows: [
            ["2025-01", "all", "2", "2", "0", "0.0000", "0", "0.0000", "10.00", "false"],
            ["2025-01", platform, "2", "2", "0", "0.0000", "0", "0.0000", "10.00", "false"]])
        let migration = OutputTable(name: "platform_migration", columns: ["acquisition_platform", "repurchase_platform", "acquired_customers", "customers_repurchasing_on", "share"], rows: [
            ["all", "any", "3", "1", "0.3333"], ["all", "microstore", "3", "1", "0.3333"], [platform, "microstore", "3", "1", "0.3333"], [platform, "any", "3", "1", "0.3333"]])
        let cpa = OutputTable(name: "channel_cpa", columns: Self.cpaColumns, rows: [["2025-01", evil, "1.00", "1", "1.00", "1.00", "1.00", "1.0000", "true"],
                                                                                    ["2025-01", "x", "0.00", "1", "0.00", "1.00", "1.00", "", "true"]])
        let fans = OutputTable(name: "fan_conversion", columns: ["follow_period", "fan_channel", "fans", "already_customers", "prospects", "converted_7d", "converted_30d", "converted_90d",
                                                                 "conversion_rate_30d", "repeat_fans", "loyal_fans", "median_days_to_first_order", "window_complete_30d"], rows: [
            ["2025-01", "all", "40", "0", "40", "1", "2", "3", "0.0500", "1", "0", "3", "true"], ["2025-01", evil, "40", "0", "40", "1", "2", "3", "0.0500", "1", "0", "3", "true"]])
        let quality = OutputTable(name: "data_quality", columns: ["file", "sha256", "format", "rows_read", "rows_landed", "rows_quarantined", "reason", "count"], rows: [
            [evil + ".csv", "ab", "tmall_orders_2018", "2", "1", "1", "", ""], [evil + ".csv", "", "", "", "", "", evil, "1"]])
        let other = OutputTable(name: "some_new_output", columns: ["platform", evil], rows: [[platform, evil]])
        var stats = CustomerStats()
        stats.add(platform: platform, frequency: 1, isFan: true)
        let html = HTMLReport.render(tables: ["cohort_repurchase": cohorts, "repurchase_by_period": period, "platform_migration": migration, "channel_cpa": cpa,
                                              "fan_conversion": fans, "data_quality": quality, "some_new_output": other],
                                     context: ReportContext(pipelineName: "</title><script>x()</script>", asOf: "2025-03-10", period: .month, names: names,
                                                            statusCounts: [(platform, evil, 1)], customers: stats))
        for section in ["cohort", "period", "migration", "channel", "fans", "customers", "quality", "out-some_new_output"] {
            XCTAssertTrue(html.contains("<section id=\"\(section)\""), "section \(section) rendered")
        }
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("<b>店") || html.contains("<i>间"))
        XCTAssertFalse(html.contains("<script>alert") || html.contains("<script>x()"))
        XCTAssertTrue(html.contains("抖音&lt;b&gt;店&lt;/b&gt;"))
        XCTAssertTrue(html.contains("直播&lt;i&gt;间&lt;/i&gt;"))
        XCTAssertTrue(html.contains("data-f=\"dy&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;\""))
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2, "the page's own two scripts only")
        for ref in ["src=\"http", "href=\"http", "url(http", "@import", "<script src", "<link", "<iframe", "fetch(", "XMLHttpRequest"] {
            XCTAssertFalse(html.contains(ref), "the page makes no request: \(ref)")
        }
    }

    func testEnglishPage() {
        let html = HTMLReport.render(tables: ["cohort_repurchase": cohortTable()], context: context(.en))
        XCTAssertTrue(html.contains("<html lang=\"en\">"))
        XCTAssertTrue(answer(html, section: "cohort", variant: "all").contains("By the end of month 1 after the first purchase, the cohort that came back most is 2025-01: 30.0% (12 of 40); the average is 30.0%."))
        XCTAssertTrue(html.contains(">Tmall</button>"))
        XCTAssertFalse(html.contains("新客复购"))
    }

    func testPerCustomerRowsStayOffThePage() {
        var stats = CustomerStats()
        stats.add(platform: "tmall", frequency: 0, isFan: false)
        stats.add(platform: "tmall", frequency: 2, isFan: true)
        stats.add(platform: "jd", frequency: 7, isFan: false)
        let predictions = OutputTable(name: "customer_predictions", columns: ["customer_key", "p_alive"], rows: [["k1", "0.5000"], ["k2", "1.0000"]])
        let html = HTMLReport.render(tables: ["customer_predictions": predictions], context: context(customers: stats))
        let a = answer(html, section: "customers", variant: "all")
        XCTAssertTrue(a.contains("3 位客户中 2 位（66.7%）至少复购过一次，复购客户平均有 4.5 个复购日；其中粉丝 1 位"), a)
        XCTAssertFalse(html.contains(">k1<"), "no customer row on the page")
        XCTAssertTrue(html.contains("<a href=\"customer_predictions.csv\" download>"))
        XCTAssertEqual(stats.platforms["jd"]?.byFrequency, [0, 0, 0, 0, 0, 1])
    }

    // MARK: files

    func testCSVStartsWithABOMUnlessTurnedOff() throws {
        let t = OutputTable(name: "x", columns: ["channel"], rows: [["抖音"]])
        XCTAssertEqual(Array(CSVWriter.render(t, bom: true).utf8.prefix(3)), [0xEF, 0xBB, 0xBF])
        XCTAssertEqual(CSVWriter.render(t, bom: false), "channel\r\n抖音\r\n")
        let dir = try TestSupport.tempDir("bom")
        defer { try? FileManager.default.removeItem(at: dir) }
        for bom in [true, false] {
            let path = dir.appendingPathComponent("s\(bom).csv").path
            let s = try CSVWriter.Stream(path: path, header: ["channel"], bom: bom)
            s.row(["抖音"])
            try s.finish()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual(Array(bytes.prefix(3)) == CSVWriter.bom, bom)
        }
    }

    func sheetXML(_ path: String, _ entry: String) throws -> String {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        guard let e = archive[entry] else { XCTFail("no \(entry) in the workbook"); return "" }
        var data = Data()
        _ = try archive.extract(e) { data.append($0) }
        return String(decoding: data, as: UTF8.self)
    }

    func writeWorkbook(_ path: String, rowsPerSheet: UInt32? = nil) throws {
        let book = try ReportWorkbook(path: path, asOf: "2025-03-10", title: "t", language: .zh)
        if let rowsPerSheet { book.rowsPerSheet = rowsPerSheet }
        let t = cohortTable()
        let s = try book.sheet(for: t.name, columns: t.columns)
        for r in t.rows { s.row(r) }
        try s.finish()
        let c = try book.sheet(for: "customer_summary", columns: ["customer_key", "acquisition_platform", "first_purchase_day", "frequency", "recency", "T", "monetary_value", "is_fan"])
        c.row(["k1", "tmall", "2025-01-05", "2", "64", "64", "45.00", "true"])
        c.row(["=cmd", "jd", "2025-02-10", "0", "0", "28", "0.00", "false"])
        try c.finish()
        try book.addDictionary([(t.name, t.columns)])
        let tmp = try book.finish()
        try CSVWriter.moveIntoPlace([(tmp, path)])
    }

    func testWorkbookNumbersDatesFlagsFrozenHeaderSameBytes() throws {
        let dir = try TestSupport.tempDir("xlsx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.xlsx").path, b = dir.appendingPathComponent("b.xlsx").path
        try writeWorkbook(a)
        let wb = try sheetXML(a, "xl/workbook.xml")
        XCTAssertTrue(wb.contains("name=\"cohort_repurchase\"") && wb.contains("name=\"customer_summary\"") && wb.contains("name=\"字段说明\""), wb)
        let cohort = try sheetXML(a, "xl/worksheets/sheet1.xml")
        XCTAssertTrue(cohort.contains("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"), "header row frozen")
        XCTAssertTrue(cohort.contains("<autoFilter ref=\"A1:J10\"/>"))
        // D2 (cohort_customers 40) and F2 (retention 1.0000) are numbers, A2 (the cohort label) text, J2 a boolean.
        XCTAssertTrue(cohort.range(of: "<c r=\"D2\" s=\"\\d+\"><v>40</v></c>", options: .regularExpression) != nil, cohort)
        XCTAssertTrue(cohort.range(of: "<c r=\"F2\" s=\"\\d+\"><v>1</v></c>", options: .regularExpression) != nil, cohort)
        XCTAssertTrue(cohort.range(of: "<c r=\"I3\" s=\"\\d+\"><v>1500</v></c>", options: .regularExpression) != nil, cohort)
        XCTAssertTrue(cohort.contains("<c r=\"A2\" t=\"inlineStr\"><is><t>2025-01</t></is></c>"), cohort)
        XCTAssertTrue(cohort.contains("<c r=\"J2\" t=\"b\"><v>0</v></c>") && cohort.contains("<c r=\"J4\" t=\"b\"><v>1</v></c>"), cohort)
        let customers = try sheetXML(a, "xl/worksheets/sheet2.xml")
        // 2025-01-05 is Excel day 45662; "=cmd" stays text (a cell, never a formula).
        XCTAssertTrue(customers.range(of: "<c r=\"C2\" s=\"\\d+\"><v>45662</v></c>", options: .regularExpression) != nil, customers)
        XCTAssertTrue(customers.contains("<t>=cmd</t>") && !customers.contains("<f>"), customers)
        let styles = try sheetXML(a, "xl/styles.xml")
        XCTAssertTrue(styles.contains("formatCode=\"yyyy-mm-dd\"") && styles.contains("formatCode=\"0.00%\"") && styles.contains("formatCode=\"#,##0.00\""), styles)
        // The same outputs give the same bytes (the nightly run and a rebuild are compared byte for byte).
        try writeWorkbook(b)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        XCTAssertTrue(try sheetXML(a, "docProps/core.xml").contains("2025-03-10T12:00:00Z"))
    }

    func testWorkbookSheetContinuesPastItsLastRow() throws {
        let dir = try TestSupport.tempDir("xlsx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.xlsx").path
        try writeWorkbook(a, rowsPerSheet: 4)   // a header and 3 rows per sheet: 9 cohort rows on 3 sheets
        let wb = try sheetXML(a, "xl/workbook.xml")
        XCTAssertTrue(wb.contains("name=\"cohort_repurchase\"") && wb.contains("name=\"cohort_repurchase_2\"") && wb.contains("name=\"cohort_repurchase_3\""), wb)
        XCTAssertFalse(wb.contains("cohort_repurchase_4"))
        let last = try sheetXML(a, "xl/worksheets/sheet3.xml")   // rows 7–9: the tmall rows, under a header
        XCTAssertTrue(last.contains("<t>cohort</t>") && last.contains("<t>tmall</t>") && !last.contains("<t>all</t>"), last)
    }

    // MARK: end to end (Tests/Fixtures/tiny, whose numbers EndToEndTests works out)

    func testTinyReportFolder() throws {
        let dir = try TestSupport.fixture("tiny")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try TestSupport.siyu(["run", "--pipeline", "tiny.toml", "--quiet"], cwd: dir).status, 2)
        let out = dir.appendingPathComponent("out/reports")
        for name in ReportStage.outputs {
            let bytes = try Data(contentsOf: out.appendingPathComponent("\(name).csv"))
            XCTAssertEqual(Array(bytes.prefix(3)), CSVWriter.bom, "\(name).csv starts with a BOM")
        }
        let html = try TestSupport.read(out.appendingPathComponent("index.html"))
        XCTAssertTrue(html.contains("<html lang=\"zh-CN\">"))
        // Tmall won A and B, JD won E (3 customers acquired elsewhere); A came back in the micro-store.
        XCTAssertTrue(answer(html, section: "migration").contains("其他平台获得的客户中，有 1 位后来在微商城复购（占他们 3 位的 33.3%）：天猫 1（50.0%）、京东 0（0.0%）"),
                      answer(html, section: "migration"))
        // March is in progress on 2025-03-10: the January cohort's +2 cell is hatched.
        XCTAssertTrue(html.contains("class=\"h5 inc\""), "the cell of March is hatched")
        let workbook = out.appendingPathComponent("report.xlsx").path
        let sheets = try sheetXML(workbook, "xl/workbook.xml")
        for name in ReportStage.outputs { XCTAssertTrue(sheets.contains("name=\"\(name)\""), "a sheet for \(name)") }

        // In English, without the BOM and without the workbook.
        let toml = try TestSupport.read(dir.appendingPathComponent("tiny.toml"))
            .replacingOccurrences(of: "output = \"out/reports\"", with: "output = \"out/en\"\nlanguage = \"en\"\ncsv_bom = false\nworkbook = false")
        try toml.write(to: dir.appendingPathComponent("en.toml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try TestSupport.siyu(["run", "--pipeline", "en.toml", "--quiet"], cwd: dir).status, 0)
        let en = dir.appendingPathComponent("out/en")
        XCTAssertEqual(try Data(contentsOf: en.appendingPathComponent("fan_lift.csv")).prefix(6), Data("cohort".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: en.appendingPathComponent("report.xlsx").path))
        let page = try TestSupport.read(en.appendingPathComponent("index.html"))
        XCTAssertTrue(page.contains("<html lang=\"en\">"))
        XCTAssertTrue(answer(page, section: "migration").contains("Of the customers other platforms acquired, 1 later repurchased in the Micro-store (33.3% of their 3): Tmall 1 (50.0%), JD 0 (0.0%)."),
                      answer(page, section: "migration"))
        XCTAssertFalse(page.contains("report.xlsx"), "no link to a workbook that is not there")
    }

    // MARK: the data dictionary

    /// docs/data-dictionary.md explains every column of every output the catalog knows, and the
    /// catalog knows every column an output of this siyu writes.
    func testDataDictionaryNamesEveryColumn() throws {
        let doc = try TestSupport.read(TestSupport.packageRoot.appendingPathComponent("docs/data-dictionary.md"))
        for o in ColumnCatalog.all {
            XCTAssertTrue(doc.contains("## \(o.name).csv") || doc.contains("## `\(o.name).csv`"), "docs/data-dictionary.md has a section for \(o.name)")
            guard let start = doc.range(of: "\(o.name).csv") else { continue }
            let rest = doc[start.upperBound...]
            let section = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
            for c in o.columns {
                XCTAssertTrue(section.contains("| `\(c.name)` |"), "docs/data-dictionary.md explains \(o.name).\(c.name)")
                XCTAssertFalse(c.zhDef.isEmpty || c.enDef.isEmpty, "\(o.name).\(c.name) has a definition for the page")
            }
        }
        for name in ReportStage.outputs where name != "customer_summary" {
            XCTAssertNotNil(ColumnCatalog.output(name), "the catalog knows \(name)")
        }
    }
}
