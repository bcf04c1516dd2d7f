#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Gauss hypergeometric function ₂F₁(a, b; c; z) for real parameters and real z < 1, as the
/// BG/NBD conditional expectation needs it (Fader, Hardie & Lee 2005, eq. 10, with
/// z = t / (α + T + t)).
///
/// - −0.5 ≤ z ≤ 0.9: the defining power series, summed until the bound on the rest of the series,
///   |term|·ρ/(1 − ρ) with ρ the bound on the term ratio, is below 1e−17 of the sum. The sum is
///   carried with a separate scale so that a value like 10^400 (a heavy buyer's
///   F(r + x, b + x; a + b + x − 1; z)) does not overflow: the result is a sign and a log.
/// - z < −0.5: Pfaff's transformation F = (1 − z)^−a F(a, c − b; c; z/(z − 1)) (A&S 15.3.4).
/// - 0.9 < z < 1, where the series needs ≈ 40/(1 − z) terms: the series still, while that is at
///   most 20,000 terms (z ≤ 0.998); beyond, the 1 − z transformation (A&S 15.3.6), whose two
///   series in 1 − z < 0.002 converge in a few terms. Its gamma factors have poles when c − a − b
///   is an integer, where the two terms cancel; within 5e−4 of an integer the value is
///   interpolated (quintic, in c, on log|F|) from six points 1e−3, 2e−3 and 3e−3 away on either
///   side, where the cancellation costs at most four digits. The function is analytic in c.
///   When the transformation's terms cancel badly anyway (large parameters, the estimate being
///   the ratio of the largest term to the sum), the power series is summed with a budget of
///   5,000,000 terms instead.
///
/// `Evaluation.converged` is false when a series hit its term limit, or when cancellation may
/// have cost more than about eight digits. c must not be 0, −1, −2, … (the function is undefined
/// there); such calls, z ≥ 1 and non-finite arguments return `Evaluation.undefined`.
public enum Hypergeometric {
    public typealias SignedLog = SpecialFunctions.SignedLog

    public enum Method: String, Sendable {
        case series, pfaff, oneMinusZ, oneMinusZInterpolated, undefined
    }

    public struct Evaluation: Sendable {
        public var value: SignedLog
        /// Series terms summed, over every series the evaluation needed.
        public var terms: Int
        /// false when a series hit its term limit before the convergence test passed, when
        /// cancellation may have cost more than about eight digits, or when the arguments are
        /// outside the domain.
        public var converged: Bool
        public var method: Method
        /// F − 1 summed on its own (the series' terms after the first), when F came from the plain
        /// series without rescaling: log F = log1p(excess) keeps its accuracy for small z, where
        /// F − 1 is tiny and log(1 + (F − 1)) would lose it.
        public var excess: Double?

        public var double: Double { value.double }

        static let undefined = Evaluation(value: SignedLog(sign: 1, log: .nan), terms: 0, converged: false, method: .undefined)
    }

    /// The series alone is used up to this z.
    public static let seriesLimit = 0.9
    /// Above seriesLimit, the series is still tried when it should converge in this many terms.
    static let seriesBudget = 20_000
    static let fallbackBudget = 5_000_000
    /// A series stops when the bound on its remaining terms is below this fraction of the sum.
    static let relativeTolerance = 1e-17
    static let maxTerms = 200_000
    /// Largest term over the sum beyond which a result counts as unreliable (≈ 8 digits lost).
    static let maxCancellation = 1e8
    /// c − a − b closer than this to an integer is interpolated (1 − z transformation only).
    static let integerBand = 5e-4

    /// ₂F₁(a, b; c; z) as a Double (±inf when it does not fit: use `logF21` for large values).
    public static func f21(_ a: Double, _ b: Double, _ c: Double, _ z: Double) -> Double {
        evaluate(a, b, c, z).double
    }

    /// ₂F₁(a, b; c; z) as a sign and a log.
    ///
    /// - Parameter oneMinusZ: 1 − z when the caller knows it more precisely than `1 - z` computes
    ///   it (z = t/(α + T + t) has 1 − z = (α + T)/(α + T + t) without cancellation).
    public static func evaluate(_ a: Double, _ b: Double, _ c: Double, _ z: Double, oneMinusZ: Double? = nil) -> Evaluation {
        guard a.isFinite, b.isFinite, c.isFinite, z.isFinite, z < 1 else { return .undefined }
        if c <= 0 && c == c.rounded() { return .undefined }
        let w = oneMinusZ ?? (1 - z)
        guard w > 0 else { return .undefined }
        if z == 0 || a == 0 || b == 0 {
            return Evaluation(value: .one, terms: 0, converged: true, method: .series, excess: 0)
        }
        if z < -0.5 {
            // Pfaff: F(a, b; c; z) = (1 − z)^−a F(a, c − b; c; z/(z − 1)); z/(z − 1) ∈ (1/3, 1).
            let zz = z / (z - 1)
            var inner = evaluate(a, c - b, c, zz, oneMinusZ: 1 / w)
            inner.value = inner.value * SignedLog(sign: 1, log: -a * log(w))
            if inner.method == .series { inner.method = .pfaff }
            inner.excess = nil
            return inner
        }
        if z <= seriesLimit {
            let s = series(a, b, c, z, maxTerms: maxTerms)
            return Evaluation(value: s.value, terms: s.terms, converged: s.reliable, method: .series, excess: s.excess)
        }
        var terms = 0
        if 40 / w <= Double(seriesBudget) {
            let s = series(a, b, c, z, maxTerms: 2 * seriesBudget)
            if s.reliable { return Evaluation(value: s.value, terms: s.terms, converged: true, method: .series, excess: s.excess) }
            terms += s.terms
        }
        var t = oneMinusZTransformation(a, b, c, z, w)
        t.terms += terms
        if t.converged { return t }
        let s = series(a, b, c, z, maxTerms: fallbackBudget)
        if s.reliable { return Evaluation(value: s.value, terms: t.terms + s.terms, converged: true, method: .series, excess: s.excess) }
        t.terms += s.terms
        return t
    }

    // MARK: - The power series

    struct SeriesSum {
        var value: SignedLog
        var terms: Int
        var converged: Bool
        /// Largest |term| over |sum|: the factor by which rounding errors may have grown.
        var cancellation: Double
        /// The sum of the terms after the first (F − 1), when no rescaling was needed.
        var excess: Double?

        var reliable: Bool { converged && cancellation < maxCancellation && value.isFinite }
    }

    /// Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ, with a running scale against overflow.
    static func series(_ a: Double, _ b: Double, _ c: Double, _ z: Double, maxTerms: Int = maxTerms) -> SeriesSum {
        // sum = first + rest, the first term (1) kept apart so that F − 1 is exact to rounding.
        var first = 1.0, rest = 0.0, term = 1.0, logScale = 0.0, largest = 1.0
        var sum: Double { first + rest }
        var n = 0.0
        var terms = 0
        let rescale = 1e-250, logRescale = -250 * log(10.0)
        func result(_ converged: Bool) -> SeriesSum {
            let total = sum
            return SeriesSum(value: scaled(total, logScale), terms: terms, converged: converged,
                             cancellation: total == 0 ? .infinity : largest / abs(total),
                             excess: logScale == 0 ? rest : nil)
        }
        while terms < maxTerms {
            let num = (a + n) * (b + n)
            if num == 0 {
                // a or b is a non-positive integer: the series is a polynomial and has ended.
                return result(true)
            }
            let den = (c + n) * (n + 1)
            if den == 0 {
                return SeriesSum(value: SignedLog(sign: 1, log: .nan), terms: terms, converged: false, cancellation: .infinity, excess: nil)
            }
            term *= num / den * z
            rest += term
            largest = max(largest, abs(term))
            n += 1
            terms += 1
            if abs(rest) > 1e250 || abs(term) > 1e250 || largest > 1e250 {
                first *= rescale
                rest *= rescale
                term *= rescale
                largest *= rescale
                logScale -= logRescale
            }
            // Past every sign change of the factors, the ratios tend monotonically to z; the
            // remaining terms are bounded by a geometric series with ratio ρ.
            if a + n > 0, b + n > 0, c + n > 0 {
                let next = abs((a + n) * (b + n) / ((c + n) * (n + 1)) * z)
                let rho = max(next, abs(z))
                if rho < 1, abs(term) * rho / (1 - rho) <= relativeTolerance * abs(sum) {
                    return result(true)
                }
            }
        }
        return result(false)
    }

    private static func scaled(_ sum: Double, _ logScale: Double) -> SignedLog {
        var v = SignedLog(sum)
        if v.sign != 0 { v.log += logScale }
        return v
    }

    // MARK: - The 1 − z transformation

    /// A&S 15.3.6:
    ///   F(a,b;c;z) = Γ(c)Γ(d)/(Γ(c−a)Γ(c−b)) · F(a, b; 1−d; 1−z)
    ///              + (1−z)^d Γ(c)Γ(−d)/(Γ(a)Γ(b)) · F(c−a, c−b; 1+d; 1−z),   d = c − a − b.
    static func oneMinusZTransformation(_ a: Double, _ b: Double, _ c: Double, _ z: Double, _ w: Double) -> Evaluation {
        let d = c - a - b
        let m = d.rounded()
        if abs(d - m) < integerBand {
            return interpolatedNearIntegerD(a, b, c, z, w, d: d, m: m)
        }
        let gc = SpecialFunctions.gammaSigned(c)
        let f1 = series(a, b, 1 - d, w)
        let f2 = series(c - a, c - b, 1 + d, w)
        let g1 = gc * SpecialFunctions.gammaSigned(d)
            * SpecialFunctions.reciprocalGammaSigned(c - a) * SpecialFunctions.reciprocalGammaSigned(c - b)
        let g2 = gc * SpecialFunctions.gammaSigned(-d)
            * SpecialFunctions.reciprocalGammaSigned(a) * SpecialFunctions.reciprocalGammaSigned(b)
            * SignedLog(sign: 1, log: d * log(w))
        let first = g1 * f1.value, second = g2 * f2.value
        let value = first + second
        // The two terms cancel when c − a − b is near an integer or the parameters are large.
        let cancellation = exp(max(first.log, second.log) - value.log)
        let reliable = f1.reliable && f2.reliable && value.isFinite
            && value.sign != 0 && cancellation * max(f1.cancellation, f2.cancellation, 1) < maxCancellation
        return Evaluation(value: value, terms: f1.terms + f2.terms, converged: reliable, method: .oneMinusZ)
    }

    /// c − a − b within `integerBand` of the integer m: quintic interpolation in c through the
    /// points where c − a − b = m ± 2·band, ± 4·band, ± 6·band (in log space when the values share a
    /// sign).
    static func interpolatedNearIntegerD(_ a: Double, _ b: Double, _ c: Double, _ z: Double, _ w: Double,
                                         d: Double, m: Double) -> Evaluation {
        let h = 2 * integerBand
        let offsets: [Double] = [-3 * h, -2 * h, -h, h, 2 * h, 3 * h]
        var values: [SignedLog] = []
        var terms = 0, converged = true
        for o in offsets {
            // c − a − b = m + o exactly enough: |o| ≥ 2·band, far from the band.
            let e = oneMinusZTransformation(a, b, c - (d - m) + o, z, w)
            values.append(e.value)
            terms += e.terms
            converged = converged && e.converged
        }
        let s = d - m
        let value: SignedLog
        let firstSign = values[0].sign
        if firstSign != 0 && values.allSatisfy({ $0.sign == firstSign }) {
            let l = SpecialFunctions.lagrange(at: s, nodes: offsets, values: values.map(\.log))
            value = SignedLog(sign: firstSign, log: l)
        } else {
            value = SignedLog(SpecialFunctions.lagrange(at: s, nodes: offsets, values: values.map(\.double)))
        }
        return Evaluation(value: value, terms: terms, converged: converged && value.isFinite,
                          method: .oneMinusZInterpolated)
    }
}
