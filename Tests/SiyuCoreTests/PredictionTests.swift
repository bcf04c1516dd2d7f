import Foundation
import XCTest
@testable import SiyuCore

/// The customer models as outputs (issue 17): model_fit.csv, customer_predictions.csv and
/// prediction_check.csv on small shops worked out by hand, the `[predictions]` settings, segments,
/// and a night that reuses the fits. The models' numerics are checked against CDNOW and an
/// independent Python implementation in ModelTests; here: what the outputs make of them.
final class PredictionTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TestSupport.tempDir("predictions") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ rel: String, _ text: String) throws { try TestSupport.write(dir, rel, text) }

    static func pipeline(_ predictions: String = "") -> String {
        """
        [pipeline]
        salt = "test-salt-predictions"
        name = "shop"
        warehouse = "out/w.sqlite"
        output = "out/reports"
        [[source]]
        name = "shop"
        kind = "generic"
        files = ["orders/*.csv"]
        default_channel = "shop"
        [source.columns]
        order_id = "order"
        buyer = "buyer"
        paid = "paid"
        pay_time = "paid_at"
        \(predictions)
        """
    }

    /// Orders as (buyer, day, yuan); one file.
    func orders(_ rows: [(String, String, String)]) throws {
        var text = "order,buyer,paid,paid_at\n"
        for (i, r) in rows.enumerated() { text += "O\(i + 1),\(r.0),\(r.2),\(r.1) 10:00:00\n" }
        try write("orders/orders.csv", text)
    }

    @discardableResult
    func siyuRun(_ extra: [String] = [], status: Int32 = 0) throws -> TestSupport.Result {
        let r = try TestSupport.siyu(["run", "--pipeline", "p.toml"] + extra, cwd: dir)
        XCTAssertEqual(r.status, status, r.stderr)
        return r
    }

    func csv(_ name: String) throws -> [[String]] {
        TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/\(name).csv")))
    }

    /// model_fit as [model/segment/parameter: value].
    func fit() throws -> [String: String] {
        let rows = try csv("model_fit")
        XCTAssertEqual(rows.first, ["model", "segment", "customers", "parameter", "value"])
        var out: [String: String] = [:]
        for r in rows.dropFirst() { out["\(r[0])/\(r[1])/\(r[3])"] = r[4]; out["\(r[0])/\(r[1])/customers"] = r[2] }
        return out
    }

    /// Ten customers, none came back: nothing to learn a dropout or a spend from. No crash, no
    /// made-up numbers: a and b empty, Gamma-Gamma fitted on nobody, p_alive 1 (the model's
    /// value for frequency 0), no expected purchases, no value.
    func testTenCustomersWhoNeverCameBack() throws {
        try write("p.toml", Self.pipeline())
        try orders((1...10).map { ("b\($0)", "2025-03-\(10 + $0)", "\(10 * $0).00") })
        let r = try siyuRun()
        XCTAssertTrue(r.stderr.contains("gamma_gamma on segment all has no customers to fit"), r.stderr)
        let f = try fit()
        XCTAssertEqual(f["bgnbd/all/customers"], "10")
        XCTAssertEqual(f["bgnbd/all/a"], "")
        XCTAssertEqual(f["bgnbd/all/b"], "")
        XCTAssertEqual(f["gamma_gamma/all/customers"], "0")
        for p in ["p", "q", "gamma", "log_likelihood"] { XCTAssertEqual(f["gamma_gamma/all/\(p)"], "", p) }
        // Nobody bought twice: the likelihood's supremum is 1 (log 0), approached as the rate goes to 0.
        XCTAssertEqual(f["bgnbd/all/log_likelihood"], "0")
        let predictions = try csv("customer_predictions")
        XCTAssertEqual(predictions[0], ["customer_key", "p_alive", "expected_purchases_90d", "expected_value", "predicted_value_365d"])
        XCTAssertEqual(predictions.count, 11)
        for row in predictions.dropFirst() {
            XCTAssertEqual(row[1], "1.0000")
            XCTAssertEqual(row[2], "0.0000")
            XCTAssertEqual(row[3], "")
            XCTAssertEqual(row[4], "")
        }
        // Keys and order are customer_summary's.
        XCTAssertEqual(predictions.dropFirst().map { $0[0] }, try csv("customer_summary").dropFirst().map { $0[0] })
    }

    /// A shop worked out by hand, horizon 30 days: the as-of date is 2025-06-30 (the last
    /// purchase), the calibration date 2025-05-31.
    ///   c1  01-10                    cal x 0, back later 0
    ///   c2  01-15 03-01              cal x 1, 0
    ///   c3  02-01 06-10              cal x 0, 1
    ///   c4  02-05 02-20 04-01 06-30  cal x 2, 1 (06-30 is the as-of date: held out, counted)
    ///   c5  03-03 03-03 (two orders) cal x 0, 0 (one purchase day)
    ///   c6  06-05                    acquired after the calibration date: not in prediction_check
    ///   c7  04-01 05-31 06-01        cal x 1 (05-31 is the calibration date: in), 1
    ///   c8 c9 c10: 01-20, 02-20, 03-20  cal x 0, 0
    /// prediction_check: x 0: 6 customers, 1 came back → 0.1667; x 1: 2 customers, 1 → 0.5000;
    /// x 2: 1 customer, 1 → 1.0000; the other rows have no customer.
    func testPredictionCheckCountsTheHeldOutDaysByHand() throws {
        try write("p.toml", Self.pipeline("[predictions]\nhorizon_days = 30\n"))
        try orders([("c1", "2025-01-10", "10.00"), ("c2", "2025-01-15", "20.00"), ("c2", "2025-03-01", "30.00"),
                    ("c3", "2025-02-01", "15.00"), ("c3", "2025-06-10", "25.00"),
                    ("c4", "2025-02-05", "10.00"), ("c4", "2025-02-20", "12.00"), ("c4", "2025-04-01", "14.00"), ("c4", "2025-06-30", "16.00"),
                    ("c5", "2025-03-03", "5.00"), ("c5", "2025-03-03", "6.00"), ("c6", "2025-06-05", "50.00"),
                    ("c7", "2025-04-01", "40.00"), ("c7", "2025-05-31", "41.00"), ("c7", "2025-06-01", "42.00"),
                    ("c8", "2025-01-20", "9.00"), ("c9", "2025-02-20", "9.00"), ("c10", "2025-03-20", "9.00")])
        try siyuRun()
        let check = try csv("prediction_check")
        XCTAssertEqual(check[0], ["frequency", "customers", "predicted_mean", "actual_mean"])
        XCTAssertEqual(check.dropFirst().map { $0[0] }, ["0", "1", "2", "3", "4", "5", "6", "7+"])
        XCTAssertEqual(check.dropFirst().map { $0[1] }, ["6", "2", "1", "0", "0", "0", "0", "0"])
        XCTAssertEqual(check.dropFirst().map { $0[3] }, ["0.1667", "0.5000", "1.0000", "", "", "", "", ""])
        for row in check[1...3] {
            let predicted = try XCTUnwrap(Double(row[2]), "\(row)")
            XCTAssertTrue(predicted >= 0 && predicted < 30, "\(row)")
        }
        XCTAssertEqual(check[4...].map { $0[2] }, ["", "", "", "", ""])

        // The horizon names the column; every customer has a finite prediction.
        let predictions = try csv("customer_predictions")
        XCTAssertEqual(predictions[0][2], "expected_purchases_30d")
        let summary = try csv("customer_summary")
        XCTAssertEqual(predictions.count, summary.count)
        let f = try fit()
        for (p, s) in zip(predictions.dropFirst(), summary.dropFirst()) {
            XCTAssertEqual(p[0], s[0])
            let alive = try XCTUnwrap(Double(p[1])), expected = try XCTUnwrap(Double(p[2]))
            XCTAssertTrue((0...1).contains(alive) && expected >= 0, "\(p)")
            if s[3] == "0" { XCTAssertEqual(p[1], "1.0000") }
            // P(alive) by Fader, Hardie & Lee's note 021 from the printed parameters, when the data pins them down.
            if s[3] != "0", let r = Double(f["bgnbd/all/r"] ?? ""), let alpha = Double(f["bgnbd/all/alpha"] ?? ""),
               let a = Double(f["bgnbd/all/a"] ?? ""), let b = Double(f["bgnbd/all/b"] ?? "") {
                let x = Double(s[3])!, tx = Double(s[4])!, T = Double(s[5])!
                let byHand = 1 / (1 + a / (b + x - 1) * pow((alpha + T) / (alpha + tx), r + x))
                XCTAssertEqual(alive, byHand, accuracy: 2e-4, "\(s)")
            }
        }
        // c6 (one purchase, on 06-05): T = 25 days.
        XCTAssertTrue(summary.contains { $0[3] == "0" && $0[5] == "25" })
    }

    /// Every customer acquired by the calibration date was acquired on that very day (T = 0 in the
    /// calibration): the calibration fit has nothing to learn from, so prediction_check prints the
    /// actual means and no predicted one, and the page says there is nothing to check.
    /// Horizon 30: as-of 2025-03-31 (the last purchase), calibration date 2025-03-01.
    func testACalibrationWithNothingObservedPredictsNothing() throws {
        try write("p.toml", Self.pipeline("[predictions]\nhorizon_days = 30\n"))
        try orders([("c1", "2025-03-01", "10.00"), ("c2", "2025-03-01", "11.00"), ("c2", "2025-03-20", "12.00"),
                    ("c3", "2025-03-10", "13.00"), ("c3", "2025-03-31", "14.00")])
        try siyuRun()
        let check = try csv("prediction_check").dropFirst()
        XCTAssertEqual(check.first, ["0", "2", "", "0.5000"])   // c1 and c2; c2 came back once
        XCTAssertEqual(check.dropFirst().map { $0[1] }, ["0", "0", "0", "0", "0", "0", "0"])
        let html = try TestSupport.read(dir.appendingPathComponent("out/reports/index.html"))
        XCTAssertTrue(html.contains("的客户都是当天首购的，还没有可观察的历史：无法检验预测。"))
    }

    /// `[predictions]`: off leaves the other outputs byte for byte as they are; bad keys and values
    /// are refused with where and what.
    func testSettings() throws {
        try orders([("c1", "2025-01-10", "10.00"), ("c1", "2025-02-10", "11.00"), ("c2", "2025-01-15", "20.00")])
        try write("p.toml", Self.pipeline())
        try siyuRun()
        let names = ["cohort_repurchase", "repurchase_by_period", "platform_migration", "channel_cpa", "fan_conversion", "fan_lift",
                     "customer_summary", "product_repurchase", "data_quality"]
        let on = try names.map { try TestSupport.read(dir.appendingPathComponent("out/reports/\($0).csv")) }
        for name in ["model_fit", "customer_predictions", "prediction_check"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/reports/\(name).csv").path), name)
        }
        try write("p.toml", Self.pipeline("[predictions]\nenabled = false\n"))
        try siyuRun()
        let off = try names.map { try TestSupport.read(dir.appendingPathComponent("out/reports/\($0).csv")) }
        XCTAssertEqual(on, off)
        for name in ["model_fit", "customer_predictions", "prediction_check"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out/reports/\(name).csv").path), name)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out/reports").path)
        XCTAssertFalse(files.contains { $0.contains("prediction") || $0.contains("model") }, "\(files)")
        // Off leaves no model table or status behind (status lists neither).
        let status = try TestSupport.siyu(["status", "--pipeline", "p.toml"], cwd: dir).stdout
        XCTAssertFalse(status.contains("customer models") || status.contains("out_model_fit") || status.contains("out_customer_predictions"), status)

        for (text, message) in [("[predictions]\nhorizon_day = 30\n", "unknown key `horizon_day` in [predictions]; did you mean `horizon_days`?"),
                                ("[predictions]\nhorizon_days = 0\n", "`horizon_days` must be from 1 to 3650 days, not 0"),
                                ("[predictions]\nenabled = \"no\"\n", "[predictions]: `enabled` must be true or false"),
                                ("[predictions]\nsegment_min_customers = 0\n", "`segment_min_customers` must be from 1"),
                                ("[prediction]\nenabled = false\n", "did you mean `[predictions]`?")] {
            try write("p.toml", Self.pipeline(text))
            let r = try TestSupport.siyu(["run", "--pipeline", "p.toml"], cwd: dir)
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), "\(text): \(r.stderr)")
        }
    }

    /// Segments: each acquisition platform with at least `segment_min_customers` customers is fitted
    /// on its own; its customers are those customer_summary lists for it (counted here from the CSV).
    func testSegmentsAreTheLargePlatforms() throws {
        let work = try TestSupport.tempDir("segments")
        defer { try? FileManager.default.removeItem(at: work) }
        for item in ["sample-data", "pipelines"] {
            try FileManager.default.copyItem(at: TestSupport.packageRoot.appendingPathComponent(item), to: work.appendingPathComponent(item))
        }
        let sample = try TestSupport.read(work.appendingPathComponent("pipelines/sample.toml"))
        let text = sample.replacingOccurrences(of: "segment_min_customers = 500", with: "segment_min_customers = 180")
        XCTAssertNotEqual(text, sample)
        try Data(text.utf8).write(to: work.appendingPathComponent("pipelines/seg.toml"))
        let r = try TestSupport.siyu(["run", "--pipeline", "pipelines/seg.toml", "--warehouse", "w.sqlite", "--output", "out"], cwd: work)
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)
        let summary = TestSupport.csvRows(try TestSupport.read(work.appendingPathComponent("out/customer_summary.csv"))).dropFirst()
        var perPlatform: [String: (all: Int, repeaters: Int)] = [:]
        for s in summary { perPlatform[s[1], default: (0, 0)].all += 1; if s[3] != "0" { perPlatform[s[1], default: (0, 0)].repeaters += 1 } }
        let large = perPlatform.filter { $0.value.all >= 180 }.keys.sorted()
        XCTAssertFalse(large.isEmpty)
        XCTAssertLessThan(large.count, perPlatform.count, "the sample has a platform under 180 customers: \(perPlatform)")
        let rows = TestSupport.csvRows(try TestSupport.read(work.appendingPathComponent("out/model_fit.csv"))).dropFirst()
        XCTAssertEqual(rows.count, (1 + large.count) * 9)
        var expected: [[String]] = []
        for (model, params) in [("bgnbd", ["r", "alpha", "a", "b"]), ("gamma_gamma", ["p", "q", "gamma"])] {
            for segment in ["all"] + large {
                let n = segment == "all" ? perPlatform.values.reduce(0) { $0 + (model == "bgnbd" ? $1.all : $1.repeaters) }
                    : model == "bgnbd" ? perPlatform[segment]!.all : perPlatform[segment]!.repeaters
                for p in params + ["log_likelihood"] { expected.append([model, segment, String(n), p]) }
            }
        }
        XCTAssertEqual(rows.map { Array($0[0...3]) }, expected)
        // Each fitted segment's log-likelihood is its own: the platforms' sum is at least the joint fit's.
        let ll = Dictionary(uniqueKeysWithValues: rows.filter { $0[0] == "bgnbd" && $0[3] == "log_likelihood" }.map { ($0[1], Double($0[4])!) })
        XCTAssertEqual(ll.count, 1 + large.count)
    }

    /// A night with nothing new: the fits come from agg_model_cache (the same summary), and every
    /// output is byte for byte the last night's. Moving the as-of date changes T: a new fit.
    func testANightWithoutChangesReusesTheFits() throws {
        try write("p.toml", Self.pipeline())
        var rows: [(String, String, String)] = []
        for i in 1...40 {
            rows.append(("b\(i)", String(format: "2025-01-%02d", 1 + i % 28), "\(10 + i).00"))
            if i % 3 == 0 { rows.append(("b\(i)", String(format: "2025-03-%02d", 1 + i % 28), "\(20 + i).50")) }
            if i % 5 == 0 { rows.append(("b\(i)", String(format: "2025-05-%02d", 1 + i % 28), "\(30 + i).00")) }
        }
        try orders(rows)
        let first = try siyuRun()
        XCTAssertTrue(first.stderr.contains("fitted=3") && first.stderr.contains("reused=0"), first.stderr)
        func outputs() throws -> [String: Data] {
            var out: [String: Data] = [:]
            for name in ["model_fit", "customer_predictions", "prediction_check", "customer_summary"] {
                out[name] = try Data(contentsOf: dir.appendingPathComponent("out/reports/\(name).csv"))
            }
            return out
        }
        let before = try outputs()
        // status says how the fits went: 40 customers, 19 of whom came back (every third and every fifth).
        let status = try TestSupport.siyu(["status", "--pipeline", "p.toml"], cwd: dir).stdout
        XCTAssertTrue(status.contains("customer models (last aggregate, horizon 90 days):"), status)
        XCTAssertTrue(status.contains("bgnbd        all                    customers=40  "), status)
        XCTAssertTrue(status.contains("gamma_gamma  all                    customers=19  "), status)
        let second = try siyuRun()
        XCTAssertTrue(second.stderr.contains("fitted=0") && second.stderr.contains("reused=3"), second.stderr)
        XCTAssertEqual(try outputs(), before)
        let db = try Database(path: dir.appendingPathComponent("out/w.sqlite").path, readOnly: true)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM agg_model_cache"), 3)
        // An earlier as-of date: other T, other fits; the cache keeps only what this run used.
        let third = try siyuRun(["--as-of", "2025-04-30"])
        XCTAssertTrue(third.stderr.contains("fitted=3"), third.stderr)
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM agg_model_cache"), 3)
        XCTAssertNotEqual(try outputs()["model_fit"], before["model_fit"])
    }

    /// A shop whose one platform is large enough to be a segment: the segment is all of it, its
    /// patterns are `all`'s, and it is fitted once (the log says 2 fits, not 4: BG/NBD and Gamma-Gamma; no customer is old enough for
    /// a calibration fit), printed under both names with the same values.
    func testASegmentThatIsTheWholeShopIsFittedOnce() throws {
        try write("p.toml", Self.pipeline("[predictions]\nsegment_min_customers = 5\n"))
        var rows: [(String, String, String)] = []
        for i in 1...12 {
            rows.append(("b\(i)", String(format: "2025-01-%02d", i), "\(10 + i).00"))
            if i % 2 == 0 { rows.append(("b\(i)", String(format: "2025-02-%02d", i), "\(15 + i).00")) }
        }
        try orders(rows)
        let r = try siyuRun()
        XCTAssertTrue(r.stderr.contains("fitted=2 ") && r.stderr.contains("segments=all,shop"), r.stderr)
        let fit = try csv("model_fit").dropFirst()
        let all = fit.filter { $0[1] == "all" }.map { [$0[0], $0[2], $0[3], $0[4]] }
        let shop = fit.filter { $0[1] == "shop" }.map { [$0[0], $0[2], $0[3], $0[4]] }
        XCTAssertEqual(all.count, 9)
        XCTAssertEqual(all, shop)
    }

    /// model_fit's six significant digits (plain decimals, never an exponent) and the predictions'
    /// fixed decimals (half away from zero), on values worked out by hand.
    func testNumberFormats() {
        let cases: [(Double, String)] = [(0.2430087, "0.243009"), (4.414, "4.414"), (30.898765, "30.8988"), (-9582.4321, "-9582.43"),
                                         (-12345678.9, "-12345700"), (999999.5, "1000000"), (-4.2109312e-12, "-0.00000000000421093"),
                                         (0.000123456789, "0.000123457"), (0, "0"), (-0.0, "0"), (.infinity, ""), (.nan, "")]
        for (v, s) in cases { XCTAssertEqual(SignificantDigits.format(v), s, "\(v)") }
        XCTAssertEqual(Decimals.format(0.55555, 4), "0.5556")
        XCTAssertEqual(Decimals.format(1, 4), "1.0000")
        XCTAssertEqual(Decimals.format(0.00004, 4), "0.0000")
        XCTAssertEqual(Decimals.format(0.00005, 4), "0.0001")
        XCTAssertEqual(Decimals.format(1234.005, 2), "1234.01")
        XCTAssertEqual(Decimals.format(0.125, 2), "0.13")
        XCTAssertEqual(Decimals.format(2.5e-3, 2), "0.00")
        XCTAssertEqual(Decimals.format(.nan, 2), "")
    }
}
