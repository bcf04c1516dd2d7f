import Foundation
import XCTest
import ZIPFoundation
@testable import SiyuCore

/// The prediction sections of the page (issue 17): what customer_predictions adds up to (from a
/// hand-made agg_prediction_rollup), the prediction check, the model fit with its warnings; hidden
/// when `[predictions] enabled = false`; every value escaped. The expected numbers are worked out
/// in the comments; the last test compares the sample page with sums of its own CSVs.
final class PredictionSectionTests: XCTestCase {
    /// One month index (the rollup's cohort `ord`).
    func month(_ y: Int, _ m: Int) -> Int { PeriodKind.month.index(ofDay: CivilDate.dayNumber(y, m, 1)) }

    func status(bgConverged: Bool = true, bgCustomers: Int = 1000, ggCustomers: Int = 600, note: String = "") -> String {
        """
        {"horizon":90,"fits":[
        {"model":"bgnbd","segment":"all","customers":\(bgCustomers),"converged":\(bgConverged),"degenerate":true,"note":"\(note)","unidentified":["a","b"]},
        {"model":"gamma_gamma","segment":"all","customers":\(ggCustomers),"converged":true,"degenerate":false,"note":"","unidentified":[]},
        {"model":"bgnbd","segment":"calibration 2024-12-10","customers":800,"converged":true,"degenerate":false,"note":"","unidentified":[]}]}
        """
    }

    /// 1,000 customers: 400 came back (300 with p_alive in 0.8–0.9, 100 in 0.2–0.3), 600 one-time buyers.
    ///   expected purchases: 150 + 10 + 120 = 280 → 0.28 each; one-time buyers 120 / 600 = 0.20 each
    ///   value: 120,000 + 10,000 + 60,000 = ¥190,000 → ¥190.00 each
    ///   p_alive of the 400 who came back: (255 + 25) / 400 = 70.0%
    /// Channels: ads 400 customers, ¥80,000 (¥200.00 each); organic 500, ¥50,000; `<b>x</b>` 100, ¥60,000.
    func facts(_ statusJSON: String? = nil, firstCohort: (Int, Int) = (2025, 1)) -> PredictionFacts {
        let status = (statusJSON ?? status()).data(using: .utf8).flatMap { try? JSONDecoder().decode(ModelStatus.self, from: $0) }
        XCTAssertNotNil(status)
        typealias G = PredictionFacts.Group
        return PredictionFacts(horizon: 90, status: status,
                               cohorts: [G(ord: month(firstCohort.0, firstCohort.1), label: String(format: "%04d-%02d", firstCohort.0, firstCohort.1),
                                           customers: 600, aliveSum: 500, expectedSum: 150, valueCustomers: 600, valueSum: 100_000),
                                         G(ord: month(2025, 2), label: "2025-02", customers: 400, aliveSum: 380, expectedSum: 130, valueCustomers: 400, valueSum: 90_000)],
                               channels: [G(ord: 0, label: "<b>x</b>", customers: 100, aliveSum: 90, expectedSum: 30, valueCustomers: 100, valueSum: 60_000),
                                          G(ord: 1, label: "ads", customers: 400, aliveSum: 350, expectedSum: 100, valueCustomers: 400, valueSum: 80_000),
                                          G(ord: 2, label: "organic", customers: 500, aliveSum: 440, expectedSum: 150, valueCustomers: 500, valueSum: 50_000)],
                               alive: [G(ord: 2, label: "0.2–0.3", customers: 100, aliveSum: 25, expectedSum: 10, valueCustomers: 100, valueSum: 10_000),
                                       G(ord: 8, label: "0.8–0.9", customers: 300, aliveSum: 255, expectedSum: 150, valueCustomers: 300, valueSum: 120_000),
                                       G(ord: 10, label: "one-time", customers: 600, aliveSum: 600, expectedSum: 120, valueCustomers: 600, valueSum: 60_000)])
    }

    /// r = 0.5, α = 50 days (r/α = 0.01 a day: one purchase day every 100 days, 3.65 a year); a, b
    /// not estimated; p = 3, q = 9, γ = 400 (mean value p·γ/(q − 1) = 1200 / 8 = ¥150.00).
    func modelFit(q: String = "9") -> OutputTable {
        OutputTable(name: "model_fit", columns: ["model", "segment", "customers", "parameter", "value"], rows: [
            ["bgnbd", "all", "1000", "r", "0.5"], ["bgnbd", "all", "1000", "alpha", "50"], ["bgnbd", "all", "1000", "a", ""],
            ["bgnbd", "all", "1000", "b", ""], ["bgnbd", "all", "1000", "log_likelihood", "-1234.5"],
            ["gamma_gamma", "all", "600", "p", "3"], ["gamma_gamma", "all", "600", "q", q], ["gamma_gamma", "all", "600", "gamma", "400"],
            ["gamma_gamma", "all", "600", "log_likelihood", "-999"],
        ])
    }

    /// 800 customers: predicted 500 × 0.3 + 200 × 0.6 + 100 × 1.0 = 370 (0.46 each), actual
    /// 100 + 100 + 110 = 310 (0.39 each): 60 / 310 = 19.4% high. Frequencies 3 … 7+ have nobody.
    func check() -> OutputTable {
        OutputTable(name: "prediction_check", columns: ["frequency", "customers", "predicted_mean", "actual_mean"], rows: [
            ["0", "500", "0.3000", "0.2000"], ["1", "200", "0.6000", "0.5000"], ["2", "100", "1.0000", "1.1000"],
            ["3", "0", "", ""], ["4", "0", "", ""], ["5", "0", "", ""], ["6", "0", "", ""], ["7+", "0", "", ""],
        ])
    }

    /// ads: ¥30,000 for 100 new customers in January (¥300.00), ¥10,000 for 300 in February: over all
    /// periods ¥40,000 / 400 = ¥100.00 (not the mean of the periods' CPAs, ¥166.67). organic: no spend.
    /// Blended ¥40,000 / 900 = ¥44.44.
    func cpa() -> OutputTable {
        OutputTable(name: "channel_cpa", columns: ReportTests.cpaColumns + ["repeat_customers", "cost_per_repeat_customer"], rows: [
            ["2025-01", "ads", "30000.00", "100", "300.00", "0.00", "0.00", "", "true", "0", ""],
            ["2025-01", "organic", "0.00", "200", "0.00", "0.00", "0.00", "", "true", "0", ""],
            ["2025-01", "blended", "30000.00", "300", "100.00", "0.00", "0.00", "", "true", "0", ""],
            ["2025-02", "ads", "10000.00", "300", "33.33", "0.00", "0.00", "", "true", "0", ""],
            ["2025-02", "organic", "0.00", "300", "0.00", "0.00", "0.00", "", "true", "0", ""],
            ["2025-02", "blended", "10000.00", "600", "16.67", "0.00", "0.00", "", "true", "0", ""],
        ])
    }

    func context(_ lang: ReportLanguage = .zh, facts: PredictionFacts?) -> ReportContext {
        var c = ReportContext(pipelineName: "t", asOf: "2025-03-10", period: .month,
                              names: DisplayNames(language: lang, channels: ["ads": "朋友圈<广告>"]))
        c.predictions = facts
        return c
    }

    func render(_ lang: ReportLanguage = .zh, facts: PredictionFacts?, fit: OutputTable? = nil) -> String {
        var tables = ["channel_cpa": cpa()]
        if facts != nil { tables["model_fit"] = fit ?? modelFit(); tables["prediction_check"] = check() }
        return HTMLReport.render(tables: tables, context: context(lang, facts: facts))
    }

    /// A section's HTML, and its text with the tags removed (entities stay escaped).
    func section(_ html: String, _ id: String) -> (html: String, text: String) {
        guard let s = html.range(of: "<section id=\"\(id)\""), let e = html.range(of: "</section>", range: s.upperBound..<html.endIndex) else { return ("", "") }
        let h = String(html[s.lowerBound..<e.upperBound])
        return (h, h.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression))
    }

    func count(_ s: String, _ needle: String) -> Int { s.components(separatedBy: needle).count - 1 }

    func testPredictionsAddUpTheRollup() {
        let html = render(facts: facts())
        let p = section(html, "predictions")
        XCTAssertTrue(p.text.contains("按 BG/NBD 和 Gamma-Gamma 模型，1,000 位客户未来 90 天预计共有 280.00 个复购日（平均每位 0.28），未来 365 天的预期价值合计 ¥190,000（平均每位 ¥190.00，未折现）。"), p.text)
        XCTAssertTrue(p.text.contains("复购过的 400 位客户平均仍活跃概率（p_alive）为 70.0%；600 位只买过一次的客户，模型一律记为 100%（见下图），他们未来 90 天平均只有 0.20 个复购日。"), p.text)
        // Ten deciles (empty ones as 0) and the one-time buyers on a bar of their own.
        XCTAssertEqual(count(p.html, "class=\"bar-row b-alive\""), 10)
        XCTAssertEqual(count(p.html, "class=\"bar-row b-once\""), 1)
        XCTAssertTrue(p.text.contains("80–90%300占复购客户 75.0% · 平均未来 90 天 0.50 个复购日 · 平均 365 天价值 ¥400"), p.text)
        XCTAssertTrue(p.text.contains("只买过一次600模型记为 100%"), p.text)
        XCTAssertTrue(p.text.contains("只买过一次的客户为什么是 100%？"), p.text)
        // Cohorts: January 600 customers, ¥100,000 → ¥166.67 each; mean p_alive 500 / 600 = 83.3%.
        XCTAssertTrue(p.text.contains("2025-0160083.3%0.25¥166.67¥100,000"), p.text)
        XCTAssertEqual(count(p.html, "<rect class=\"s-val\""), 2)
        // Channels: ads ¥200.00 per customer against ¥100.00, 2.00 times; its name escaped.
        XCTAssertTrue(p.text.contains("比最高的是 朋友圈&lt;广告&gt;：¥200.00 对 ¥100.00，2.00 倍。"), p.text)
        XCTAssertTrue(p.text.contains("全部渠道合计：每位客户预期价值 ¥190.00，获客成本 ¥44.44（投放 ¥40,000 ÷ 新客 900），4.28 倍。"), p.text)
        XCTAssertTrue(p.text.contains("朋友圈&lt;广告&gt;40087.5%0.25¥200.00¥100.002.00"), p.text)
        XCTAssertTrue(p.text.contains("organic50088.0%0.30¥100.00无投放—"), p.text)
        // The customers themselves are never on the page.
        XCTAssertFalse(html.contains("<small>customer_key</small>"), "no per-customer table")
        // Escaping: the channel names from the pipeline and the channel code from the data.
        XCTAssertFalse(html.contains("<广告>") || html.contains("<b>x</b>"))
        XCTAssertTrue(p.text.contains("&lt;b&gt;x&lt;/b&gt;"))
        // The data covers 2025-01-01 … 2025-03-10: 69 days, less than twice the horizon.
        XCTAssertTrue(p.html.contains("<p class=\"warn\" role=\"note\">数据只覆盖约 69 天，不到预测期（90 天）的两倍"), p.text)
        XCTAssertFalse(section(render(facts: facts(firstCohort: (2024, 1))), "predictions").text.contains("数据只覆盖"))
    }

    func testPredictionCheck() {
        let c = section(render(facts: facts()), "predcheck")
        XCTAssertTrue(c.text.contains("把截止日前移 90 天到 2024-12-10（校准日）"), c.text)
        XCTAssertTrue(c.text.contains("800 位客户平均预测 0.46 个复购日，实际 0.39 个（预测比实际多 19.4%）。"), c.text)
        XCTAssertTrue(c.text.contains("整体相差 10%–25%"), c.text)
        // Grouped bars: predicted and actual for the three frequencies that have customers.
        XCTAssertEqual(count(c.html, "<rect class=\"s-pred\""), 3)
        XCTAssertEqual(count(c.html, "<rect class=\"s-act\""), 3)
        XCTAssertEqual(count(c.html, "<g class=\"cgrp small\""), 5, "frequencies 3 … 7+ (no customers) are drawn pale")
        XCTAssertTrue(c.html.contains("data-tip=\"校准期复购 2 天的 100 位客户：预测平均 1.00 个复购日，实际 1.10\""), c.html)
        // And the numbers in a table.
        XCTAssertTrue(c.text.contains("05000.30000.2000"), c.text)
    }

    func testModelFitInPlainWords() {
        let m = section(render(facts: facts()), "modelfit")
        XCTAssertTrue(m.text.contains("BG/NBD 在 1,000 位客户上拟合，Gamma-Gamma 在其中 600 位复购客户上拟合；没有获客平台达到 500 位客户，只拟合了全部客户；都已收敛。"), m.text)
        XCTAssertTrue(m.text.contains("平均每天 r/α = 0.01 个购买日，约每 100 天一次、一年约 3.65 次"), m.text)
        XCTAssertTrue(m.text.contains("a、b 未被数据确定（趋于无穷，留空）：按数据，每位客户每次购买后流失的概率都一样"), m.text)
        XCTAssertTrue(m.text.contains("总体平均单日金额 p·γ/(q−1) = ¥150.00"), m.text)
        XCTAssertTrue(m.text.contains("全部客户1,0000.550未估计未估计-1,234.5已收敛；部分参数未估计"), m.text)
        XCTAssertFalse(m.html.contains("class=\"warn\""), "converged, 1,000 and 600 customers, q > 1: nothing to warn about")
    }

    func testWarnings() {
        // Not converged, with the optimiser's note (escaped); 300 customers; q ≤ 1.
        let f = facts(status(bgConverged: false, bgCustomers: 300, note: "stopped <after> 5000 evaluations"))
        let html = render(facts: f, fit: modelFit(q: "0.9"))
        for id in ["predictions", "modelfit"] {
            let s = section(html, id)
            XCTAssertTrue(s.html.contains("<p class=\"warn\" role=\"note\">BG/NBD（全部客户）没有收敛：参数是搜索停下时的最好值"), "\(id): \(s.text)")
            XCTAssertTrue(s.html.contains("stopped &lt;after&gt; 5000 evaluations"), id)
            XCTAssertTrue(s.text.contains("q = 0.9 ≤ 1"), "\(id): \(s.text)")
        }
        XCTAssertTrue(section(html, "predictions").text.contains("BG/NBD（全部客户）只基于 300 位客户（少于 500 位）"))
        XCTAssertTrue(section(html, "modelfit").text.contains("客户少于 500 位的拟合：BG/NBD（全部客户）300 位"))
        XCTAssertTrue(section(html, "modelfit").text.contains("1 个没有收敛"))
        XCTAssertFalse(html.contains("<after>"))
    }

    func testEnglish() {
        let html = render(.en, facts: facts())
        XCTAssertTrue(section(html, "predictions").text.contains("By the BG/NBD and Gamma-Gamma models, the 1,000 customers are expected to make 280.00 repeat purchase days in the next 90 days (0.28 each); their next 365 days are worth ¥190,000 (¥190.00 each, undiscounted)."))
        XCTAssertTrue(section(html, "predcheck").text.contains("800 customers, 0.46 predicted per customer, 0.39 made (the prediction is 19.4% high)."), section(html, "predcheck").text)
        XCTAssertTrue(section(html, "modelfit").text.contains("a and b are not estimated (they run to infinity; left empty): by the data, every customer has the same probability of dropping out after a purchase"))
    }

    func testHiddenWhenPredictionsAreOff() throws {
        let html = render(facts: nil)
        for id in ["predictions", "predcheck", "modelfit"] { XCTAssertFalse(html.contains("<section id=\"\(id)\""), id) }
        XCTAssertFalse(html.contains("dict-customer_predictions"))
        // The report stage passes the facts only when the pipeline enables the models.
        let off = try Pipeline.parse("""
            [pipeline]
            salt = "test-salt-0123"
            [[source]]
            name = "tmall"
            kind = "tmall"
            files = ["t/*.csv"]
            [predictions]
            enabled = false
            """, path: "p.toml")
        XCTAssertNil(ReportContext(pipeline: off, asOf: "2025-03-10", statusCounts: [], customers: nil, predictions: facts()).predictions)
    }

    func testColumnsFollowTheHorizon() throws {
        let info = ColumnCatalog.info("customer_predictions", "expected_purchases_30d")
        XCTAssertEqual(info.kind, .number)
        XCTAssertEqual(info.label(Words(.zh)), "未来 30 天预期复购天数")
        XCTAssertEqual(ColumnCatalog.info("customer_predictions", "expected_purchases_90d").label(Words(.en)), "expected purchases (90 days)")
        // The page's dictionary names the column the CSV has.
        var f = facts()
        f.horizon = 30
        let html = render(facts: f)
        XCTAssertTrue(html.contains("<code>expected_purchases_30d</code> 未来 30 天预期复购天数"), "dictionary")
        XCTAssertTrue(html.contains("id=\"dict-customer_predictions\""))
        // The workbook: the column is numbers, and the dictionary sheet explains it.
        let dir = try TestSupport.tempDir("xlsx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("p.xlsx").path
        let book = try ReportWorkbook(path: path, asOf: "2025-03-10", title: "t", language: .zh)
        let cols = CustomerPredictions.columns(horizon: 30)
        let s = try book.sheet(for: "customer_predictions", columns: cols)
        s.row(["k1", "0.5506", "0.6450", "188.99", "714.60"])
        try s.finish()
        try book.addDictionary([("customer_predictions", cols)])
        try CSVWriter.moveIntoPlace([(try book.finish(), path)])
        let sheet = try xml(path, "xl/worksheets/sheet1.xml")
        XCTAssertTrue(sheet.range(of: "<c r=\"C2\" s=\"\\d+\"><v>0.645</v></c>", options: .regularExpression) != nil, sheet)
        XCTAssertTrue(try TestSupport.outputText(URL(fileURLWithPath: path)).contains("未来 30 天预期复购天数"))
    }

    func xml(_ path: String, _ entry: String) throws -> String {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        guard let e = archive[entry] else { XCTFail("no \(entry)"); return "" }
        var data = Data()
        _ = try archive.extract(e) { data.append($0) }
        return String(decoding: data, as: UTF8.self)
    }

    /// The sample page, horizon 30 days: its sentence and p_alive bars are what customer_predictions.csv
    /// and customer_summary.csv add up to (summed here from the CSVs' rounded values, so within rounding).
    func testSamplePageAddsUpTheCSV() throws {
        let work = try TestSupport.tempDir("predsample")
        defer { try? FileManager.default.removeItem(at: work) }
        let sample = try TestSupport.read(TestSupport.packageRoot.appendingPathComponent("pipelines/sample.toml"))
        let toml = sample.replacingOccurrences(of: "horizon_days = 90", with: "horizon_days = 30")
        XCTAssertNotEqual(toml, sample)
        let pipeline = work.appendingPathComponent("p.toml")
        try toml.write(to: pipeline, atomically: true, encoding: .utf8)
        let out = work.appendingPathComponent("reports")
        let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", pipeline.path, "--warehouse", work.appendingPathComponent("w.sqlite").path, "--output", out.path],
                                     cwd: TestSupport.packageRoot)
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)
        let preds = TestSupport.csvRows(try TestSupport.read(out.appendingPathComponent("customer_predictions.csv")))
        XCTAssertEqual(preds.first, ["customer_key", "p_alive", "expected_purchases_30d", "expected_value", "predicted_value_365d"])
        let frequency = Dictionary(uniqueKeysWithValues: TestSupport.csvRows(try TestSupport.read(out.appendingPathComponent("customer_summary.csv"))).dropFirst().map { ($0[0], Int($0[3])!) })
        var expected = 0.0, value = 0.0, alive = 0.0, repeaters = 0
        var bins = [Int](repeating: 0, count: 11)
        for row in preds.dropFirst() {
            expected += Double(row[2])!
            value += Double(row[4]) ?? 0
            let p = Double(row[1])!
            if frequency[row[0]]! > 0 {
                alive += p; repeaters += 1
                bins[min(Int(p * 10), 9)] += 1
            } else {
                XCTAssertEqual(row[1], "1.0000", "a one-time buyer's p_alive")
                bins[10] += 1
            }
        }
        let html = try TestSupport.read(out.appendingPathComponent("index.html"))
        let p = section(html, "predictions").text
        func number(after: String, _ until: String) -> Double? {
            guard let a = p.range(of: after), let b = p.range(of: until, range: a.upperBound..<p.endIndex) else { return nil }
            return Double(p[a.upperBound..<b.lowerBound].replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "¥", with: ""))
        }
        XCTAssertTrue(p.contains("\(Show.count(preds.count - 1)) 位客户未来 30 天预计共有"), p)
        XCTAssertEqual(number(after: "未来 30 天预计共有 ", " 个复购日") ?? -1, expected, accuracy: 0.05)
        XCTAssertEqual(number(after: "预期价值合计 ", "（") ?? -1, value, accuracy: 5)
        XCTAssertEqual(number(after: "平均仍活跃概率（p_alive）为 ", "%") ?? -1, alive / Double(repeaters) * 100, accuracy: 0.06)
        for k in 0..<10 {
            XCTAssertTrue(p.contains("\(k * 10)–\((k + 1) * 10)%\(bins[k])"), "bin \(k): \(bins[k]) customers")
        }
        XCTAssertTrue(p.contains("只买过一次\(bins[10])"), "one-time buyers: \(bins[10])")
        XCTAssertTrue(html.contains("<section id=\"predcheck\"") && html.contains("<section id=\"modelfit\""))
    }
}
