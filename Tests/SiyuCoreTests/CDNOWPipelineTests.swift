import Foundation
import XCTest

/// The customer models end to end: Fader & Hardie's CDNOW sample written as an order export, run
/// through the real `siyu` binary, and model_fit.csv, customer_predictions.csv and
/// prediction_check.csv checked against the published estimates and the independent Python
/// implementation's fixtures (Tests/Fixtures/cdnow: reference_fit.csv and
/// reference_predictions.csv from Tests/crosscheck/models_check.py; reference_pipeline.csv from
/// Tests/crosscheck/cdnow_pipeline_reference.py). ModelTests checks the same models at library
/// level; this checks what the pipeline makes of the data: purchase days, the summary it fits on,
/// the rows it prints, the calibration it cuts.
///
/// The export: one order per line of CDNOW_sample.txt (order id = line number, buyer = the CDNOW
/// customer id, paid = the spend), paid at noon on the line's date moved by 28 years. siyu refuses
/// dates before 2003 as implausible; 1997/98 and 2025/26 are all common years, so moving the year
/// by 28 keeps every calendar date and every distance in days (1997-01-01 → 2025-01-01 is 10,227
/// days; 1997-09-30 → 2025-09-30, 1998-06-30 → 2026-06-30). A spend of 0.00 is no purchase in siyu
/// (net_paid > 0); the eight such lines are each the only transaction of their customer (checked
/// below), a first purchase whose value no model reads, so they are written as 0.01. (The last
/// holdout day, 2026-06-30, must not be after the day the test runs: siyu refuses future dates.)
final class CDNOWPipelineTests: XCTestCase {
    static let fixtureDir = TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/cdnow")
    static let yearShift = 28

    static func fixtureCSV(_ name: String) throws -> [[String: String]] {
        let text = try String(contentsOf: fixtureDir.appendingPathComponent(name), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
    }

    /// The CSV rows of an output, as dictionaries by header.
    static func output(_ dir: URL, _ name: String) throws -> (header: [String], rows: [[String: String]]) {
        let rows = TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/\(name).csv")))
        let header = rows[0]
        return (header, rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) })
    }

    /// Writes the export and a pipeline file into a fresh directory; runs siyu.
    static func run(asOf: String, horizonDays: Int?) throws -> URL {
        let dir = try TestSupport.tempDir("cdnow")
        let text = try String(contentsOf: fixtureDir.appendingPathComponent("CDNOW_sample.txt"), encoding: .utf8)
        var csv = "order_id,buyer,paid,pay_time\n"
        var lines = 0, zero = 0
        var linesOf: [String: Int] = [:]
        var parsed: [(customer: String, date: String, spend: String)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard f.count == 5 else { continue }
            parsed.append((f[1], f[2], f[4]))
            linesOf[f[1], default: 0] += 1
        }
        for (customer, date, spend) in parsed {
            lines += 1
            let d = Array(date)
            let year = Int(String(d[0..<4]))! + yearShift
            let day = "\(year)-\(String(d[4..<6]))-\(String(d[6..<8]))"
            var paid = spend
            if spend == "0.00" {
                zero += 1
                XCTAssertEqual(linesOf[customer], 1, "customer \(customer): a spend of 0.00 beside other transactions")
                paid = "0.01"
            }
            csv += "L\(lines),cdnow\(customer),\(paid),\(day) 12:00:00\n"
        }
        XCTAssertEqual(lines, 6919)
        XCTAssertEqual(zero, 8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("cdnow"), withIntermediateDirectories: true)
        try Data(csv.utf8).write(to: dir.appendingPathComponent("cdnow/orders.csv"))
        let pipeline = """
            [pipeline]
            name = "cdnow"
            salt = "cdnow-pipeline-test-7b1e"
            warehouse = "out/w.sqlite"
            output = "out/reports"
            csv_bom = false
            workbook = false
            [[source]]
            name = "cdnow"
            kind = "generic"
            files = ["cdnow/*.csv"]
            [source.columns]
            order_id = "order_id"
            buyer = "buyer"
            paid = "paid"
            pay_time = "pay_time"
            """ + (horizonDays.map { "\n[predictions]\nhorizon_days = \($0)\n" } ?? "\n")
        try Data(pipeline.utf8).write(to: dir.appendingPathComponent("p.toml"))
        let r = try TestSupport.siyu(["run", "--pipeline", "p.toml", "--as-of", asOf, "--quiet"], cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir
    }

    /// Six significant digits, as model_fit prints them (compared as numbers: trailing zeros aside).
    func assertSixDigits(_ printed: String?, _ reference: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let printed, let v = Double(printed) else { return XCTFail("\(what): printed \(printed ?? "nothing")", file: file, line: line) }
        XCTAssertEqual(v, Double(String(format: "%.6g", reference))!, "\(what): printed \(printed), reference \(reference)", file: file, line: line)
    }

    /// `value` with the decimals of the published figure equals it.
    func assertPublished(_ value: Double, _ published: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let decimals = published.split(separator: ".").last.map(\.count) ?? 0
        XCTAssertEqual(String(format: "%.\(decimals)f", value), published, "\(what) = \(value)", file: file, line: line)
    }

    func testDateShiftKeepsEveryDistance() {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        func days(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
            cal.dateComponents([.day], from: cal.date(from: DateComponents(year: a.0, month: a.1, day: a.2))!,
                               to: cal.date(from: DateComponents(year: b.0, month: b.1, day: b.2))!).day!
        }
        for (m, d) in [(1, 1), (2, 28), (3, 1), (9, 30), (12, 31)] {
            XCTAssertEqual(days((1997, m, d), (2025, m, d)), 10227)
            XCTAssertEqual(days((1998, m, d), (2026, m, d)), 10227)
        }
        XCTAssertEqual(days((1997, 10, 1), (1998, 6, 30)) + 1, 273)    // the holdout: 39 weeks
        XCTAssertEqual(days((2025, 9, 30), (2026, 6, 30)), 273)
    }

    /// As of 2025-09-30 (1997-09-30): model_fit against the published estimates and the Python
    /// fits; customer_predictions against the Python predictions at the reference parameters.
    func testModelsOnCDNOWAsOfEndOfCalibration() throws {
        let dir = try Self.run(asOf: "2025-09-30", horizonDays: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        let refFit = Dictionary(uniqueKeysWithValues: try Self.fixtureCSV("reference_fit.csv").map {
            ("\($0["model"]!)/\($0["unit"]!)/\($0["parameter"]!)", Double($0["value"]!)!) })
        let refGG = Dictionary(uniqueKeysWithValues: try Self.fixtureCSV("reference_pipeline.csv").map { ($0["parameter"]!, Double($0["value"]!)!) })

        // The summary siyu fits on is Fader & Hardie's (monetary value in two-decimal yuan).
        let summary = try Self.output(dir, "customer_summary").rows
        XCTAssertEqual(summary.count, 2357)
        let reference = try Self.fixtureCSV("reference_predictions.csv")
        func key(_ x: String, _ tx: String, _ T: String, _ m: String) -> String { "\(x)/\(tx)/\(T)/\(m)" }
        func cents(_ mv: String, _ x: Int) -> String {       // the repeat days' mean in cents, half up
            guard x > 0 else { return "0.00" }
            let total = Int((Double(mv)! * 100 * Double(x)).rounded())
            let c = (2 * total + x) / (2 * x)
            return "\(c / 100).\(String(format: "%02d", c % 100))"
        }
        var referenceByKey: [String: [String: String]] = [:]
        for r in reference {
            let x = Int(r["frequency"]!)!
            let k = key(r["frequency"]!, r["recency_days"]!, r["T_days"]!, cents(r["monetary_value"]!, x))
            if let other = referenceByKey[k] {
                XCTAssertEqual(other["p_alive"], r["p_alive"], "the predictions depend on the summary only")
            }
            referenceByKey[k] = r
        }
        XCTAssertEqual(summary.map { key($0["frequency"]!, $0["recency"]!, $0["T"]!, $0["monetary_value"]!) }.sorted(),
                       reference.map { key($0["frequency"]!, $0["recency_days"]!, $0["T_days"]!, cents($0["monetary_value"]!, Int($0["frequency"]!)!)) }.sorted(),
                       "customer_summary's (frequency, recency, T, monetary_value) are the reference summary's")
        XCTAssertEqual(Set(summary.map { $0["first_purchase_day"]! }).sorted().first, "2025-01-01")
        XCTAssertEqual(Set(summary.map { $0["first_purchase_day"]! }).sorted().last, "2025-03-25")   // 1997-03-25

        // model_fit: BG/NBD in days to six digits of the Python fit, and Fader, Hardie & Lee's estimates.
        let fit = try Self.output(dir, "model_fit")
        XCTAssertEqual(fit.header, ["model", "segment", "customers", "parameter", "value"])
        // Model-major, `all` then each acquisition platform with 500+ customers: the one platform,
        // cdnow, holds every customer, so its fits are the `all` fits.
        let bgRows = ["r", "alpha", "a", "b", "log_likelihood"], ggRows = ["p", "q", "gamma", "log_likelihood"]
        XCTAssertEqual(fit.rows.map { "\($0["model"]!)/\($0["segment"]!)/\($0["customers"]!)/\($0["parameter"]!)" },
                       bgRows.map { "bgnbd/all/2357/\($0)" } + bgRows.map { "bgnbd/cdnow/2357/\($0)" }
                       + ggRows.map { "gamma_gamma/all/946/\($0)" } + ggRows.map { "gamma_gamma/cdnow/946/\($0)" })
        XCTAssertEqual(fit.rows.filter { $0["segment"] == "cdnow" }.map { $0["value"]! },
                       fit.rows.filter { $0["segment"] == "all" }.map { $0["value"]! })
        func value(_ model: String, _ parameter: String) -> String? {
            fit.rows.first { $0["model"] == model && $0["segment"] == "all" && $0["parameter"] == parameter }?["value"]
        }
        for p in ["r", "alpha", "a", "b", "log_likelihood"] {
            assertSixDigits(value("bgnbd", p), refFit["bgnbd/days/\(p)"]!, "bgnbd \(p)")
        }
        let r = Double(value("bgnbd", "r")!)!, alpha = Double(value("bgnbd", "alpha")!)!
        let a = Double(value("bgnbd", "a")!)!, b = Double(value("bgnbd", "b")!)!
        assertPublished(r, "0.243", "r")
        assertPublished(alpha / 7, "4.414", "alpha / 7 (weeks)")
        assertPublished(a, "0.793", "a")
        assertPublished(b, "2.426", "b")
        // The log-likelihood in weeks is that in days plus Σx·log 7 (Σx = 2,457): −9582.4 published.
        assertPublished(Double(value("bgnbd", "log_likelihood")!)! + 2457 * log(7), "-9582.4", "log-likelihood in weeks")
        // Gamma-Gamma on the two-decimal monetary values: six digits of the Python fit on the same;
        // the published p, q, γ (fitted on the exact means) to three significant digits: γ moves
        // from 15.4435 to 15.4477 when the means are rounded to cents, so 15.44 is not reproduced.
        for p in ["p", "q", "gamma", "log_likelihood"] {
            assertSixDigits(value("gamma_gamma", p), refGG[p]!, "gamma_gamma \(p)")
        }
        let p = Double(value("gamma_gamma", "p")!)!, q = Double(value("gamma_gamma", "q")!)!, gamma = Double(value("gamma_gamma", "gamma")!)!
        assertPublished(p, "6.25", "p")
        assertPublished(q, "3.74", "q")
        assertPublished(gamma, "15.4", "gamma")
        XCTAssertEqual(refFit["gamma_gamma/dollars/gamma"]!, 15.44, accuracy: 0.005, "the published γ, on the exact means")

        // customer_predictions, in customer_summary's order, against the Python predictions at the
        // reference parameters. Four decimals: siyu's rounding (0.5e-4) + 1e-6 (siyu's and Python's
        // fits agree to ~1e-9 relative; the predictions move less than 1e-6 over that). Yuan:
        // expected_value = p(γ + x·m)/(p·x + q − 1) at reference_pipeline.csv's fit (the population
        // mean pγ/(q − 1) for x = 0) and predicted_value_365d = E[Y(365)] × that, within 0.005 + 1e-6
        // relative.
        let predictions = try Self.output(dir, "customer_predictions")
        XCTAssertEqual(predictions.header, ["customer_key", "p_alive", "expected_purchases_90d", "expected_value", "predicted_value_365d"])
        XCTAssertEqual(predictions.rows.map { $0["customer_key"]! }, summary.map { $0["customer_key"]! })
        let gg = (p: refGG["p"]!, q: refGG["q"]!, gamma: refGG["gamma"]!)
        var worst: [String: Double] = [:]
        var mismatches: [String] = []
        func check(_ column: String, _ printed: String?, _ expected: Double, _ tolerance: Double, _ who: String) {
            guard let printed, let v = Double(printed) else { return mismatches.append("\(who) \(column): printed \(printed ?? "nothing")") }
            let d = abs(v - expected)
            worst[column] = max(worst[column] ?? 0, d)
            if d > tolerance { mismatches.append("\(who) \(column): siyu \(printed), reference \(expected), difference \(d)") }
        }
        for (s, row) in zip(summary, predictions.rows) {
            let k = key(s["frequency"]!, s["recency"]!, s["T"]!, s["monetary_value"]!)
            guard let ref = referenceByKey[k] else { XCTFail("no reference for \(k)"); continue }
            let who = "customer (\(k))"
            let x = Double(s["frequency"]!)!, m = Double(s["monetary_value"]!)!
            check("p_alive", row["p_alive"], Double(ref["p_alive"]!)!, 0.5e-4 + 1e-6, who)
            check("expected_purchases_90d", row["expected_purchases_90d"], Double(ref["expected_90d"]!)!, 0.5e-4 + 1e-6, who)
            let ev = gg.p * (gg.gamma + x * m) / (gg.p * x + gg.q - 1)
            check("expected_value", row["expected_value"], ev, 0.005 + 1e-6 * ev, who)
            let pv = Double(ref["expected_365d"]!)! * ev
            check("predicted_value_365d", row["predicted_value_365d"], pv, 0.005 + 1e-6 * pv, who)
        }
        print("CDNOW customer_predictions: max |siyu − reference| " + worst.keys.sorted().map { "\($0) \(String(format: "%.2e", worst[$0]!))" }.joined(separator: ", "))
        XCTAssertTrue(mismatches.isEmpty, "\(mismatches.count) predictions differ:\n" + mismatches.prefix(20).joined(separator: "\n"))
        // Fader & Hardie's customer 1 (x = 2, t_x = 213, T = 272 days, repeat days 29.73 and 14.96 → 22.35).
        let one = predictions.rows[summary.firstIndex { key($0["frequency"]!, $0["recency"]!, $0["T"]!, $0["monetary_value"]!) == "2/213/272/22.35" }!]
        XCTAssertEqual(one["p_alive"], "0.7266")
        XCTAssertEqual(one["expected_purchases_90d"], "0.4525")
    }

    /// As of 2026-06-30 (1998-06-30) with a 273-day horizon: the calibration date is 2025-09-30
    /// (1997-09-30), so prediction_check is Fader & Hardie's calibration-vs-holdout comparison.
    /// actual_mean: the reference summary's holdout purchase days (1997-10-01 … 1998-06-30), exactly;
    /// predicted_mean: the mean of E[Y(39 weeks)] at the reference fit (expected_39w, the weekly fit:
    /// the same as 273 days at the daily fit), within 0.5e-4 (rounding) + 1e-6, so siyu's own
    /// calibration fit must reach the reference parameters.
    func testPredictionCheckIsCalibrationVersusHoldout() throws {
        let dir = try Self.run(asOf: "2026-06-30", horizonDays: 273)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Self.output(dir, "prediction_check")
        XCTAssertEqual(check.header, ["frequency", "customers", "predicted_mean", "actual_mean"])
        XCTAssertEqual(check.rows.map { $0["frequency"]! }, ["0", "1", "2", "3", "4", "5", "6", "7+"])
        let reference = try Self.fixtureCSV("reference_predictions.csv")
        var predicted: [String] = []
        for (i, row) in check.rows.enumerated() {
            let group = reference.filter { i == 7 ? Int($0["frequency"]!)! >= 7 : Int($0["frequency"]!)! == i }
            XCTAssertEqual(row["customers"], String(group.count), "frequency \(row["frequency"]!)")
            let holdout = group.reduce(0) { $0 + Int($1["holdout_frequency"]!)! }
            let q = (2 * holdout * 10000 + group.count) / (2 * group.count)     // half up, from integers
            XCTAssertEqual(row["actual_mean"], "\(q / 10000).\(String(format: "%04d", q % 10000))", "frequency \(row["frequency"]!)")
            let mean = group.reduce(0.0) { $0 + Double($1["expected_39w"]!)! } / Double(group.count)
            let siyu = Double(row["predicted_mean"]!)!
            predicted.append(String(format: "%@ %.2e", row["frequency"]!, abs(siyu - mean)))
            XCTAssertEqual(siyu, mean, accuracy: 0.5e-4 + 1e-6, "frequency \(row["frequency"]!): predicted_mean")
        }
        print("CDNOW prediction_check: |siyu − reference| predicted_mean " + predicted.joined(separator: ", "))
        // Lifetimes' plot of this comparison: 1,411 one-time buyers bought 0.2367 times on average in
        // the 39 weeks, the model says 0.2251.
        XCTAssertEqual(check.rows[0]["customers"], "1411")
        XCTAssertEqual(check.rows[0]["actual_mean"], "0.2367")
        XCTAssertEqual(check.rows[0]["predicted_mean"], "0.2251")
    }
}
