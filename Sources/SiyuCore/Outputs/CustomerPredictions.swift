import Foundation

/// customer_predictions.csv: one row per customer of customer_summary, in its order, from the
/// models fitted on segment `all` (`CustomerModels`):
/// - `p_alive`: P(still active at T | frequency, recency, T) under BG/NBD; 1 for frequency 0;
/// - `expected_purchases_<horizon>d`: expected repeat purchase days in the horizon after the as-of
///   date (`[predictions] horizon_days`, default 90: `expected_purchases_90d`);
/// - `expected_value`: the Gamma-Gamma conditional expected value of a purchase day, yuan (the
///   population mean for frequency 0); empty when it cannot be estimated (no repeat customer, or a
///   fitted q ≤ 1: an infinite mean);
/// - `predicted_value_365d`: expected purchase days in the next 365 days × expected_value, yuan,
///   undiscounted.
/// Probabilities and expected counts with four decimals, yuan with two.
///
/// Also leaves for the report what the page shows instead of the rows (agg_prediction_rollup):
/// customers, Σ p_alive, Σ expected purchases and Σ predicted value per cohort, per acquisition
/// channel, and the distribution of p_alive.
struct CustomerPredictions: Output {
    static let name = "customer_predictions"
    static let perCustomer = true
    static var columns: [String] { columns(horizon: PredictionSettings().horizonDays) }
    static func columns(horizon: Int) -> [String] {
        ["customer_key", "p_alive", "expected_purchases_\(horizon)d", "expected_value", "predicted_value_365d"]
    }

    init() {}

    /// The p_alive bins of the page: deciles for customers who came back, and one for those who did not.
    static let aliveBins = 10

    func publish(_ wh: Warehouse, context: OutputContext?) throws -> Int {
        let db = wh.db
        let cols = Self.columns(horizon: wh.pipeline.predictions.horizonDays)
        try db.execute("""
            DROP TABLE IF EXISTS out_customer_predictions;
            CREATE TABLE out_customer_predictions(\(cols.map { "\"\($0)\" TEXT" }.joined(separator: ", ")));
            DELETE FROM agg_prediction_rollup;
            """)
        guard let context else { return 0 }
        let models = try CustomerModels.of(context)
        let started = Date()
        let bg = models.all.bgnbd.parameters
        // Nothing observed (every T 0): no number but the model's p_alive of 1 for frequency 0.
        let predictive = models.all.bgnbd.predictive
        let ggFit = models.all.gammaGamma
        let gg: GammaGamma? = ggFit.customers > 0 ? ggFit.parameters : nil
        let horizon = Double(models.horizon)
        struct Predicted { var alive: Double, expected: Double, year: Double }
        var byPattern: [CustomerModels.PatternKey: Predicted] = [:]
        var rollup = Rollup()
        let insert = try db.prepare("INSERT INTO out_customer_predictions VALUES(?,?,?,?,?)")
        let st = try db.prepare("""
            SELECT customer_key, first_day, frequency, recency, monetary_value, acquisition_channel FROM agg_summary
            WHERE first_day <= ? ORDER BY customer_key
            """)
        try st.bind([.int(context.asOf)])
        var rows = 0
        while try st.step() {
            let first = st.int(1), x = st.int(2), recency = st.int(3)
            let key = CustomerModels.PatternKey(x: Int32(x), recency: Int32(recency), T: Int32(context.asOf - first))
            let p: Predicted
            if let known = byPattern[key] { p = known } else {
                let T = Double(key.T), r = Double(recency)
                p = Predicted(alive: bg.probabilityAlive(frequency: x, recency: r, T: T),
                              expected: bg.expectedPurchases(inNext: horizon, frequency: x, recency: r, T: T),
                              year: bg.expectedPurchases(inNext: 365, frequency: x, recency: r, T: T))
                byPattern[key] = p
            }
            let value = gg.flatMap { $0.conditionalExpectedValue(frequency: x, monetaryValue: Double(CustomerModels.fen(st.bytes(4))) / 100) }
            let year = predictive ? value.map { $0 * p.year } : nil
            try insert.run([.text(st.text(0)), .text(predictive || x == 0 ? Decimals.format(p.alive, 4) : ""),
                            .text(predictive ? Decimals.format(p.expected, 4) : ""),
                            .text(value.map { Decimals.format($0, 2) } ?? ""), .text(year.map { Decimals.format($0, 2) } ?? "")])
            rollup.add(cohort: context.period.index(ofDay: first), channel: st.text(5), repeated: x > 0,
                       alive: p.alive, expected: predictive ? p.expected : 0, value: year)
            rows += 1
        }
        st.reset()
        try rollup.store(db, context: context)
        wh.logger.info("customer predictions", metadata: ["customers": "\(rows)", "patterns": "\(byPattern.count)",
                                                          "seconds": "\(String(format: "%.2f", Date().timeIntervalSince(started)))"])
        return rows
    }

    /// Sums per cohort, per acquisition channel and per p_alive bin, for the page.
    struct Rollup {
        struct Cell { var n = 0, alive = 0.0, expected = 0.0, valued = 0, value = 0.0 }
        var cohorts: [Int: Cell] = [:], channels: [String: Cell] = [:], bins: [Int: Cell] = [:]

        mutating func add(cohort: Int, channel: String, repeated: Bool, alive: Double, expected: Double, value: Double?) {
            func put(_ c: inout Cell) {
                c.n += 1; c.alive += alive; c.expected += expected
                if let value { c.valued += 1; c.value += value }
            }
            put(&cohorts[cohort, default: Cell()])
            put(&channels[channel, default: Cell()])
            // Bin k holds p_alive in [k/10, (k+1)/10) (1 in the last); one-time buyers in their own bin.
            let bin = repeated ? min(Int(alive * Double(CustomerPredictions.aliveBins)), CustomerPredictions.aliveBins - 1) : CustomerPredictions.aliveBins
            put(&bins[bin, default: Cell()])
        }

        func store(_ db: Database, context: OutputContext) throws {
            let st = try db.prepare("INSERT INTO agg_prediction_rollup VALUES(?,?,?,?,?,?,?,?)")
            func put(_ dimension: String, _ ord: Int, _ label: String, _ c: Cell) throws {
                try st.bind([.text(dimension), .int(ord), .text(label), .int(c.n)])
                st.bindDouble(c.alive, at: 5)
                st.bindDouble(c.expected, at: 6)
                st.bindInt(c.valued, at: 7)
                st.bindDouble(c.value, at: 8)
                _ = try st.step()
                st.reset()
            }
            for (k, c) in cohorts.sorted(by: { $0.key < $1.key }) { try put("cohort", k, context.label(k), c) }
            for (i, (name, c)) in channels.sorted(by: { $0.key < $1.key }).enumerated() { try put("channel", i, name, c) }
            for (k, c) in bins.sorted(by: { $0.key < $1.key }) {
                let n = CustomerPredictions.aliveBins
                try put("p_alive", k, k == n ? "one-time" : "\(Decimals.format(Double(k) / Double(n), 1))–\(Decimals.format(Double(k + 1) / Double(n), 1))", c)
            }
        }
    }
}
