import Foundation

/// What the page shows of the customer models instead of customer_predictions' rows (one per
/// customer, millions of them): the sums the aggregate left in agg_prediction_rollup (per cohort,
/// per acquisition channel, per p_alive bin) and how each fit went (siyu_meta `model_status`).
/// The report stage reads them only when `[predictions] enabled`: a pipeline that turned the
/// models off may still hold an older run's rollup.
public struct PredictionFacts: Sendable {
    /// One row of agg_prediction_rollup: sums over its customers.
    public struct Group: Sendable {
        public var ord: Int
        public var label: String
        public var customers: Int
        /// Σ p_alive (one-time buyers count 1, as the model gives).
        public var aliveSum: Double
        /// Σ expected repeat purchase days in the horizon.
        public var expectedSum: Double
        /// Customers with a predicted 365-day value, and its sum (yuan).
        public var valueCustomers: Int
        public var valueSum: Double

        public init(ord: Int, label: String, customers: Int, aliveSum: Double, expectedSum: Double, valueCustomers: Int, valueSum: Double) {
            self.ord = ord
            self.label = label
            self.customers = customers
            self.aliveSum = aliveSum
            self.expectedSum = expectedSum
            self.valueCustomers = valueCustomers
            self.valueSum = valueSum
        }

        var meanAlive: Double? { customers > 0 ? aliveSum / Double(customers) : nil }
        var meanExpected: Double? { customers > 0 ? expectedSum / Double(customers) : nil }
        var meanValue: Double? { valueCustomers > 0 ? valueSum / Double(valueCustomers) : nil }

        mutating func add(_ g: Group) {
            customers += g.customers; aliveSum += g.aliveSum; expectedSum += g.expectedSum
            valueCustomers += g.valueCustomers; valueSum += g.valueSum
        }
    }

    /// Days ahead of `expected_purchases_<horizon>d`, and the held-out days of prediction_check.
    public var horizon: Int
    /// `[predictions] segment_min_customers`: a platform with this many customers is fitted on its own.
    public var segmentMinCustomers = PredictionFacts.fewCustomers
    /// How each fit went; nil when the warehouse has no record of it.
    public var status: ModelStatus?
    /// By cohort (ord = period index), by acquisition channel (label = channel code), and by
    /// p_alive bin (ord 0…9: deciles among customers who came back; `oneTimeBin`: one-time buyers).
    public var cohorts: [Group] = []
    public var channels: [Group] = []
    public var alive: [Group] = []

    /// The p_alive bin of the customers with frequency 0 (agg_prediction_rollup's `one-time`).
    static var oneTimeBin: Int { CustomerPredictions.aliveBins }

    public init(horizon: Int, status: ModelStatus? = nil, cohorts: [Group] = [], channels: [Group] = [], alive: [Group] = []) {
        self.horizon = horizon
        self.status = status
        self.cohorts = cohorts
        self.channels = channels
        self.alive = alive
    }

    /// `statusJSON`: siyu_meta `model_status` (nil or unreadable: no status on the page).
    public static func load(_ db: Database, settings: PredictionSettings, statusJSON: String?) throws -> PredictionFacts {
        let status = statusJSON.flatMap { try? JSONDecoder().decode(ModelStatus.self, from: Data($0.utf8)) }
        var f = PredictionFacts(horizon: status?.horizon ?? settings.horizonDays, status: status)
        f.segmentMinCustomers = settings.segmentMinCustomers
        let rows = try db.prepare("""
            SELECT dimension, ord, label, customers, p_alive_sum, expected_sum, value_customers, value_sum
            FROM agg_prediction_rollup ORDER BY dimension, ord
            """).rows { st in
            (st.text(0), Group(ord: st.int(1), label: st.text(2), customers: st.int(3), aliveSum: st.double(4), expectedSum: st.double(5),
                               valueCustomers: st.int(6), valueSum: st.double(7)))
        }
        for (dimension, g) in rows {
            switch dimension {
            case "cohort": f.cohorts.append(g)
            case "channel": f.channels.append(g)
            case "p_alive": f.alive.append(g)
            default: continue
            }
        }
        return f
    }

    /// Every customer (each is in exactly one p_alive bin).
    var total: Group {
        var t = Group(ord: 0, label: "all", customers: 0, aliveSum: 0, expectedSum: 0, valueCustomers: 0, valueSum: 0)
        for g in alive { t.add(g) }
        return t
    }

    /// The customers who came back (frequency > 0), and the one-time buyers.
    var repeaters: Group {
        var t = Group(ord: 0, label: "repeat", customers: 0, aliveSum: 0, expectedSum: 0, valueCustomers: 0, valueSum: 0)
        for g in alive where g.ord != Self.oneTimeBin { t.add(g) }
        return t
    }

    var oneTime: Group {
        alive.first { $0.ord == Self.oneTimeBin } ?? Group(ord: Self.oneTimeBin, label: "one-time", customers: 0, aliveSum: 0, expectedSum: 0, valueCustomers: 0, valueSum: 0)
    }

    /// A fit's status: `segment` is `all`, a platform, or `calibration` for the calibration fit.
    func fit(_ model: String, _ segment: String) -> FitStatus? {
        status?.fits.first { $0.model == model && (segment == "calibration" ? $0.segment.hasPrefix("calibration") : $0.segment == segment) }
    }

    /// The calibration date of prediction_check ("2025-10-02"), from the calibration fit's segment.
    var calibrationDate: String? {
        guard let s = fit("bgnbd", "calibration")?.segment, s.hasPrefix("calibration ") else { return nil }
        return String(s.dropFirst("calibration ".count))
    }

    /// Days from the first day of the earliest cohort's period to the as-of date: the history the
    /// models learnt from (at most one period longer than from the first customer's first day).
    func historyDays(asOf: String, period: PeriodKind) -> Int? {
        guard let day = CivilDate.parseDay(asOf), let first = cohorts.filter({ $0.customers > 0 }).map(\.ord).min() else { return nil }
        return day - period.firstDay(first) + 1
    }

    /// Below this many customers a fit's parameters are uncertain enough that the page says so
    /// (the default `segment_min_customers`).
    static let fewCustomers = 500
}
