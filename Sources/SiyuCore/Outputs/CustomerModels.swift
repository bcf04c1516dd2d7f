import Foundation
import Logging

/// A customer's purchase days after the first, kept in agg_summary for the customer models as day
/// offsets from the first purchase day: "3,40" (empty for a one-time buyer).
enum RepeatDays {
    static func encode(_ days: [Int]) -> String {
        guard let first = days.first, days.count > 1 else { return "" }
        return days.dropFirst().map { String($0 - first) }.joined(separator: ",")
    }

    /// Calls `body` with each offset, in order.
    static func each(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Int) -> Void) {
        var v = 0, any = false
        for b in bytes {
            if b == UInt8(ascii: ",") { if any { body(v) }; v = 0; any = false; continue }
            v = v * 10 + Int(b &- 48)
            any = true
        }
        if any { body(v) }
    }
}

/// The customer models of METRICS.md ("customer_predictions.csv and model_fit.csv"), fitted once
/// per publish and shared by its three outputs (`ModelFitTable`, `CustomerPredictions`,
/// `PredictionCheck`).
///
/// One pass over agg_summary (customer_summary's rows) gathers, per acquisition platform, the
/// distinct `(frequency, recency, T)` patterns for BG/NBD, the distinct `(frequency,
/// monetary_value)` of repeat customers for Gamma-Gamma, and the calibration patterns of
/// prediction_check (each customer's history with the as-of date moved back by the horizon, and
/// their purchase days in the held-out days). The fits run on the patterns, never on rows: a
/// million customers are a few hundred thousand patterns at most.
///
/// A fit is a function of its patterns: it starts from fixed values and the patterns are merged
/// and sorted first, so the same summary gives the same parameters bit for bit. A fit is kept in
/// agg_model_cache under the SHA-256 of its patterns, and a night whose summary did not change
/// reuses it instead of fitting again.
final class CustomerModels {
    struct Segment {
        var name: String
        var customers: Int
        var bgnbd: BGNBD.Fit
        var gammaGamma: GammaGamma.Fit
    }

    /// `all` first, then each acquisition platform with at least `segmentMinCustomers` customers,
    /// by name.
    var segments: [Segment] = []
    /// BG/NBD fitted at the calibration date (as-of − horizon); nil when no customer was acquired by then.
    var calibration: BGNBD.Fit?
    /// prediction_check's rows: calibration frequency 0…6, 7+: customers, Σ predicted, Σ actual.
    var check: [(customers: Int, predicted: Double, actual: Int)] = Array(repeating: (0, 0, 0), count: 8)
    let horizon: Int
    let calibrationDay: Int
    /// Fits taken from agg_model_cache, and fitted now.
    var reused = 0, fitted = 0
    var all: Segment { segments[0] }

    struct PatternKey: Hashable { var x: Int32, recency: Int32, T: Int32 }
    struct SpendKey: Hashable { var x: Int32, fen: Int }

    /// The models at `context`'s as-of date; made on the first call of a publish, then shared.
    static func of(_ context: OutputContext) throws -> CustomerModels {
        if let m = context.shared.models { return m }
        let m = try CustomerModels(context)
        context.shared.models = m
        return m
    }

    init(_ context: OutputContext) throws {
        let settings = context.wh.pipeline.predictions
        let asOf = context.asOf, db = context.wh.db
        horizon = settings.horizonDays
        calibrationDay = asOf - horizon
        let started = Date()
        // One pass: patterns per acquisition platform, and the calibration patterns.
        var platformIndex: [String: Int] = [:], platformNames: [String] = []
        var bg: [[PatternKey: Int]] = [], gg: [[SpendKey: Int]] = []
        var cal: [PatternKey: (n: Int, actual: Int)] = [:]
        let st = try db.prepare("SELECT acquisition_platform, first_day, frequency, recency, monetary_value, repeat_days FROM agg_summary WHERE first_day <= ?")
        try st.bind([.int(asOf)])
        let c = calibrationDay
        while try st.step() {
            let platformBytes = st.bytes(0)
            let platform: Int
            let name = String(decoding: platformBytes, as: UTF8.self)
            if let i = platformIndex[name] { platform = i } else {
                platform = platformNames.count
                platformIndex[name] = platform
                platformNames.append(name)
                bg.append([:]); gg.append([:])
            }
            let first = st.int(1), x = st.int(2), recency = st.int(3)
            bg[platform][PatternKey(x: Int32(x), recency: Int32(recency), T: Int32(asOf - first)), default: 0] += 1
            if x > 0 { gg[platform][SpendKey(x: Int32(x), fen: Self.fen(st.bytes(4))), default: 0] += 1 }
            if first <= c {
                var xc = 0, last = 0, actual = 0
                RepeatDays.each(st.bytes(5)) { off in
                    if first + off <= c { xc += 1; last = off } else { actual += 1 }
                }
                let k = PatternKey(x: Int32(xc), recency: Int32(last), T: Int32(c - first))
                var e = cal[k] ?? (0, 0)
                e.n += 1; e.actual += actual
                cal[k] = e
            }
        }
        st.reset()
        let loaded = Date()

        // Segments: all, then the large platforms by name.
        var groups: [(name: String, members: [Int])] = [("all", Array(platformNames.indices))]
        for (i, name) in platformNames.enumerated().sorted(by: { $0.1 < $1.1 }) {
            let n = bg[i].values.reduce(0, +)
            if n >= settings.segmentMinCustomers { groups.append((name, [i])) }
        }
        func merged<K>(_ dicts: [[K: Int]], _ members: [Int]) -> [K: Int] {
            if members.count == 1 { return dicts[members[0]] }
            var out: [K: Int] = [:]
            for i in members { out.merge(dicts[i], uniquingKeysWith: +) }
            return out
        }
        var jobs: [FitJob] = []
        for g in groups {
            let b = merged(bg, g.members)
            jobs.append(.bgnbd(b.map { BGNBD.Pattern(frequency: Int($0.key.x), recency: Double($0.key.recency), T: Double($0.key.T), count: $0.value) }))
            let s = merged(gg, g.members)
            jobs.append(.gammaGamma(s.map { GammaGamma.Pattern(frequency: Int($0.key.x), monetaryValue: Double($0.key.fen) / 100, count: $0.value) }))
        }
        let calPatterns = cal.map { BGNBD.Pattern(frequency: Int($0.key.x), recency: Double($0.key.recency), T: Double($0.key.T), count: $0.value.n) }
        if !calPatterns.isEmpty { jobs.append(.bgnbd(calPatterns)) }

        let grouped = Date()
        let cache = try FitCache(db)
        let results = try cache.fits(jobs)
        let fittedAt = Date()
        reused = cache.reused
        fitted = cache.fitted
        for (k, g) in groups.enumerated() {
            guard case .bgnbd(let b) = results[2 * k], case .gammaGamma(let s) = results[2 * k + 1] else { continue }
            segments.append(Segment(name: g.name, customers: b.customers, bgnbd: b, gammaGamma: s))
        }
        if !calPatterns.isEmpty, case .bgnbd(let fit) = results[2 * groups.count] {
            calibration = fit
            let model = fit.parameters, t = Double(horizon)
            for (k, v) in cal {
                let bin = min(Int(k.x), 7)
                let e = model.expectedPurchases(inNext: t, frequency: Int(k.x), recency: Double(k.recency), T: Double(k.T))
                check[bin].customers += v.n
                // Nothing observed by the calibration date (every T 0): no prediction to check.
                check[bin].predicted += fit.predictive ? e * Double(v.n) : .nan
                check[bin].actual += v.actual
            }
        }
        try cache.forgetUnused()
        let logger = context.wh.logger
        for s in segments {
            for (model, fit) in [("bgnbd", s.bgnbd.summary), ("gamma_gamma", s.gammaGamma.summary)] {
                Self.log(logger, "\(model) on segment \(s.name)", fit)
            }
        }
        if let f = calibration?.summary { Self.log(logger, "bgnbd at the calibration date \(CivilDate.iso(calibrationDay)) (prediction_check)", f) }
        logger.info("customer models", metadata: ["segments": "\(segments.map(\.name).joined(separator: ","))",
                                                  "fitted": "\(fitted)", "reused": "\(reused)",
                                                  "read_seconds": "\(String(format: "%.2f", loaded.timeIntervalSince(started)))",
                                                  "group_seconds": "\(String(format: "%.2f", grouped.timeIntervalSince(loaded)))",
                                                  "fit_seconds": "\(String(format: "%.2f", fittedAt.timeIntervalSince(grouped)))",
                                                  "check_seconds": "\(String(format: "%.2f", Date().timeIntervalSince(fittedAt)))"])
        try context.wh.setMeta("model_status", Self.status(segments, calibration: calibration, calibrationDay: calibrationDay, horizon: horizon))
    }

    /// A fit that did not converge or had nothing to learn from is a warning (the report says so
    /// too); parameters at a limit the data supports (every customer alike in one respect) are
    /// explained at info level.
    static func log(_ logger: Logger, _ what: String, _ fit: FitSummary) {
        if !fit.converged && fit.customers > 0 {
            logger.warning("\(what) did not converge: \(fit.note); its numbers are the best found, not a maximum; the report says so")
        } else if fit.customers == 0 {
            logger.warning("\(what) has no customers to fit: \(fit.note); its values are left empty")
        } else if fit.degenerate {
            logger.info("\(what): \(fit.note); \(fit.unidentified.joined(separator: ", ")) not estimated (left empty in model_fit.csv)")
        }
    }

    /// Fen from a monetary_value cell ("123.45", as CustomerSummary prints it).
    static func fen(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var v = 0, neg = false
        for b in bytes {
            if b == UInt8(ascii: "-") { neg = true } else if b != UInt8(ascii: ".") { v = v * 10 + Int(b &- 48) }
        }
        return neg ? -v : v
    }

    /// What the report says about each fit (siyu_meta `model_status`, JSON).
    static func status(_ segments: [Segment], calibration: BGNBD.Fit?, calibrationDay: Int, horizon: Int) -> String {
        var entries: [FitStatus] = []
        for s in segments {
            entries.append(FitStatus(model: "bgnbd", segment: s.name, s.bgnbd.summary))
            entries.append(FitStatus(model: "gamma_gamma", segment: s.name, s.gammaGamma.summary))
        }
        if let c = calibration { entries.append(FitStatus(model: "bgnbd", segment: "calibration \(CivilDate.iso(calibrationDay))", c.summary)) }
        let data = (try? JSONEncoder().encode(ModelStatus(horizon: horizon, fits: entries))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// What the report shows about one fit.
public struct FitStatus: Codable, Sendable {
    public var model: String, segment: String
    public var customers: Int
    public var converged: Bool, degenerate: Bool
    public var note: String
    public var unidentified: [String]
    /// `ModelDataLimit` codes: what the data could not tell the model.
    public var dataLimits: [String]
    public var predictive: Bool
    enum CodingKeys: String, CodingKey { case model, segment, customers, converged, degenerate, note, unidentified, dataLimits, predictive }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        segment = try c.decode(String.self, forKey: .segment)
        customers = try c.decode(Int.self, forKey: .customers)
        converged = try c.decode(Bool.self, forKey: .converged)
        degenerate = try c.decode(Bool.self, forKey: .degenerate)
        note = try c.decode(String.self, forKey: .note)
        unidentified = try c.decodeIfPresent([String].self, forKey: .unidentified) ?? []
        dataLimits = try c.decodeIfPresent([String].self, forKey: .dataLimits) ?? []
        predictive = try c.decodeIfPresent(Bool.self, forKey: .predictive) ?? true
    }

    init(model: String, segment: String, _ s: FitSummary) {
        unidentified = s.unidentified
        dataLimits = s.dataLimits
        predictive = s.predictive
        self.model = model
        self.segment = segment
        customers = s.customers
        converged = s.converged
        degenerate = s.degenerate
        note = s.note
    }
}

public struct ModelStatus: Codable, Sendable {
    public var horizon: Int
    public var fits: [FitStatus]
}

/// The parts of a fit the outputs and the cache need, whatever the model.
struct FitSummary: Codable {
    var parameters: [Double]
    var logLikelihood: Double
    var converged: Bool
    var degenerate: Bool
    var customers: Int
    var note: String
    var method: String
    var evaluations: Int
    var unidentified: [String]
    var dataLimits: [String]
    var predictive: Bool
}

extension ModelFit where Parameters == BGNBD {
    var summary: FitSummary {
        FitSummary(parameters: [parameters.r, parameters.alpha, parameters.a, parameters.b], logLikelihood: logLikelihood, converged: converged,
                   degenerate: degenerate, customers: customers, note: note, method: method, evaluations: evaluations,
                   unidentified: unidentified, dataLimits: dataLimits, predictive: predictive)
    }
}

extension ModelFit where Parameters == GammaGamma {
    var summary: FitSummary {
        FitSummary(parameters: [parameters.p, parameters.q, parameters.gamma], logLikelihood: logLikelihood, converged: converged,
                   degenerate: degenerate, customers: customers, note: note, method: method, evaluations: evaluations,
                   unidentified: unidentified, dataLimits: dataLimits, predictive: predictive)
    }
}

enum FitJob {
    case bgnbd([BGNBD.Pattern])
    case gammaGamma([GammaGamma.Pattern])
}

enum FitResult {
    case bgnbd(BGNBD.Fit)
    case gammaGamma(GammaGamma.Fit)
}

/// Fits by the SHA-256 of their patterns (agg_model_cache): a fit found there is reused, the
/// others run on both cores. Entries no fit of this publish used are forgotten.
final class FitCache {
    let db: Database
    private(set) var reused = 0, fitted = 0
    private var used: [String] = []
    /// Bumped when a fit's method changes, so that a new siyu does not reuse an old one's parameters.
    static let version = "2"

    init(_ db: Database) throws { self.db = db }

    static func key(_ job: FitJob) -> String {
        var h = SHA256()
        func put(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { h.update($0) } }
        func put(_ d: Double) { put(Int64(bitPattern: d.bitPattern)) }
        switch job {
        case .bgnbd(let ps):
            h.update(Array("bgnbd|\(version)|".utf8))
            for p in ps.sorted(by: { ($0.frequency, $0.recency, $0.T) < ($1.frequency, $1.recency, $1.T) }) {
                put(Int64(p.frequency)); put(p.recency); put(p.T); put(Int64(p.count))
            }
        case .gammaGamma(let ps):
            h.update(Array("gamma_gamma|\(version)|".utf8))
            for p in ps.sorted(by: { ($0.frequency, $0.monetaryValue) < ($1.frequency, $1.monetaryValue) }) where p.frequency > 0 {
                put(Int64(p.frequency)); put(p.monetaryValue); put(Int64(p.count))
            }
        }
        return SHA256.hex(h.finalize())
    }

    func fits(_ jobs: [FitJob]) throws -> [FitResult] {
        let keys = jobs.map(Self.key)
        used = keys
        var results = [FitResult?](repeating: nil, count: jobs.count)
        let get = try db.prepare("SELECT fit FROM agg_model_cache WHERE key=?")
        reused = 0
        for (i, k) in keys.enumerated() {
            try get.bind([.text(k)])
            if try get.step(), let s = try? JSONDecoder().decode(FitSummary.self, from: Data(get.text(0).utf8)) {
                results[i] = Self.result(jobs[i], s)
                if results[i] != nil { reused += 1 }
            }
            get.reset()
        }
        // The same patterns twice (a shop whose only large platform is all of it) are fitted once.
        var firstOfKey: [String: Int] = [:]
        let todo = results.indices.filter { i in
            guard results[i] == nil, firstOfKey[keys[i]] == nil else { return false }
            firstOfKey[keys[i]] = i
            return true
        }
        fitted = todo.count
        // The fits left, on both cores (each is single-threaded and pure).
        let out = UnsafeMutableBufferPointer<Result<FitResult, Error>?>.allocate(capacity: max(todo.count, 1))
        out.initialize(repeating: nil)
        defer { out.deinitialize(); out.deallocate() }
        let work = Unchecked((jobs, todo, out))
        DispatchQueue.concurrentPerform(iterations: todo.count) { n in
            let (jobs, todo, out) = work.value
            out[n] = Result {
                switch jobs[todo[n]] {
                case .bgnbd(let ps): return FitResult.bgnbd(try BGNBD.fit(ps))
                case .gammaGamma(let ps): return FitResult.gammaGamma(try GammaGamma.fit(ps))
                }
            }
        }
        let put = try db.prepare("INSERT OR REPLACE INTO agg_model_cache VALUES(?, ?)")
        for (n, i) in todo.enumerated() {
            let result = try out[n]!.get()
            results[i] = result
            let summary: FitSummary
            switch result {
            case .bgnbd(let f): summary = f.summary
            case .gammaGamma(let f): summary = f.summary
            }
            try put.run([.text(keys[i]), .text(String(decoding: try JSONEncoder().encode(summary), as: UTF8.self))])
        }
        for i in results.indices where results[i] == nil { results[i] = results[firstOfKey[keys[i]]!] }
        return results.map { $0! }
    }

    /// A cached fit back as the model's fit.
    static func result(_ job: FitJob, _ s: FitSummary) -> FitResult? {
        switch job {
        case .bgnbd:
            guard s.parameters.count == 4 else { return nil }
            var f = BGNBD.Fit.empty(BGNBD(r: s.parameters[0], alpha: s.parameters[1], a: s.parameters[2], b: s.parameters[3]), note: "")
            f.restore(s)
            return .bgnbd(f)
        case .gammaGamma:
            guard s.parameters.count == 3 else { return nil }
            var f = GammaGamma.Fit.empty(GammaGamma(p: s.parameters[0], q: s.parameters[1], gamma: s.parameters[2]), note: "")
            f.restore(s)
            return .gammaGamma(f)
        }
    }

    func forgetUnused() throws {
        let keep = Array(repeating: "?", count: used.count).joined(separator: ",")
        try db.prepare("DELETE FROM agg_model_cache WHERE key NOT IN (\(keep))").run(used.map { .text($0) })
    }
}

extension ModelFit {
    mutating func restore(_ s: FitSummary) {
        logLikelihood = s.logLikelihood
        converged = s.converged
        degenerate = s.degenerate
        customers = s.customers
        note = s.note
        method = s.method
        evaluations = s.evaluations
        unidentified = s.unidentified
        dataLimits = s.dataLimits
        predictive = s.predictive
    }
}

/// Six significant digits, as model_fit prints its values: always a plain decimal (no exponent:
/// a spreadsheet, and siyu's CSV guard against formulas, take it as a number); "" for a value
/// that is not finite.
enum SignificantDigits {
    static func format(_ v: Double, digits: Int = 6) -> String {
        guard v.isFinite else { return "" }
        if v == 0 { return "0" }
        // Round to the significant digits in decimal first (a value like 999999.5 gains a digit).
        let rounded = Double(String(format: "%.\(digits - 1)e", v))!
        if rounded == 0 { return "0" }
        let exponent = Int(floor(log10(abs(rounded))))
        var s = String(format: "%.\(max(0, digits - 1 - exponent))f", rounded)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }
}

/// Fixed decimals for the predictions: rounded half away from zero, "" when not finite.
enum Decimals {
    static func format(_ v: Double, _ places: Int) -> String {
        guard v.isFinite else { return "" }
        let scale = places == 4 ? 10_000.0 : places == 2 ? 100.0 : pow(10, Double(places))
        let scaled = (v * scale).rounded(.toNearestOrAwayFromZero)
        guard abs(scaled) < 9e15 else { return String(format: "%.\(places)f", v) }
        let i = Int(scaled), neg = i < 0, m = i.magnitude
        let p = UInt(scale)
        let frac = String(m % p)
        return "\(neg ? "-" : "")\(m / p).\(String(repeating: "0", count: places - frac.count))\(frac)"
    }
}
