#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few special functions the customer models need, in log space so that nothing overflows.
///
/// `lgamma_r` is used rather than `lgamma`: glibc's `lgamma` writes the global `signgam`, a data race
/// when two segments are fitted on two threads.
public enum SpecialFunctions {
    /// A real number kept as a sign (−1, 0 or +1) and the log of its magnitude, so that values such
    /// as Γ(500) or a hypergeometric sum of 10^400 can be multiplied and added without overflow.
    public struct SignedLog: Sendable, Equatable, CustomStringConvertible {
        public var sign: Double
        /// log|value|; −∞ when the value is 0.
        public var log: Double

        public init(sign: Double, log: Double) {
            self.sign = sign
            self.log = sign == 0 ? -Double.infinity : log
        }

        public init(_ value: Double) {
            if value == 0 {
                self.init(sign: 0, log: -.infinity)
            } else {
                self.init(sign: value < 0 ? -1 : 1, log: naturalLog(abs(value)))
            }
        }

        public static let zero = SignedLog(sign: 0, log: -.infinity)
        public static let one = SignedLog(sign: 1, log: 0)

        /// The value as a Double (±inf or 0 when it does not fit).
        public var double: Double { sign == 0 ? 0 : sign * exp(log) }

        public var isFinite: Bool { sign == 0 || log.isFinite }

        public static func * (l: SignedLog, r: SignedLog) -> SignedLog {
            if l.sign == 0 || r.sign == 0 { return .zero }
            return SignedLog(sign: l.sign * r.sign, log: l.log + r.log)
        }

        public static func + (l: SignedLog, r: SignedLog) -> SignedLog {
            if l.sign == 0 { return r }
            if r.sign == 0 { return l }
            let (big, small) = l.log >= r.log ? (l, r) : (r, l)
            let ratio = exp(small.log - big.log)        // in [0, 1]
            if big.sign == small.sign {
                return SignedLog(sign: big.sign, log: big.log + log1p(ratio))
            }
            if ratio == 1 { return .zero }
            return SignedLog(sign: big.sign, log: big.log + log1p(-ratio))
        }

        public var description: String { sign == 0 ? "0" : "\(sign < 0 ? "-" : "")exp(\(log))" }
    }

    /// log|Γ(x)| and the sign of Γ(x). At the poles (x = 0, −1, −2, …) the log is +∞.
    @inline(__always)
    public static func logGammaSigned(_ x: Double) -> (log: Double, sign: Double) {
        var s: Int32 = 1
        let v = lgamma_r(x, &s)
        return (v, s < 0 ? -1 : 1)
    }

    /// log Γ(x) for x > 0.
    @inline(__always)
    public static func logGamma(_ x: Double) -> Double {
        var s: Int32 = 1
        return lgamma_r(x, &s)
    }

    /// Γ(x) as a signed log (x not a pole).
    public static func gammaSigned(_ x: Double) -> SignedLog {
        let g = logGammaSigned(x)
        return SignedLog(sign: g.sign, log: g.log)
    }

    /// 1/Γ(x) as a signed log: exactly 0 at the poles of Γ (x = 0, −1, −2, …), where 1/Γ is an
    /// entire function's zero rather than a division by infinity.
    public static func reciprocalGammaSigned(_ x: Double) -> SignedLog {
        if x <= 0 && x == x.rounded() { return .zero }
        let g = logGammaSigned(x)
        if !g.log.isFinite { return .zero }
        return SignedLog(sign: g.sign, log: -g.log)
    }

    /// The digamma function ψ(x) = d/dx log Γ(x), for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x
    /// up to x ≥ 10, then the asymptotic series through x^−14 (error below 1e−15 there).
    public static func digamma(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return .nan }
        var v = x, shift = 0.0
        while v < 10 {
            shift -= 1 / v
            v += 1
        }
        let inv2 = 1 / (v * v)
        // Σ B₂ₖ/(2k v^2k), k = 1 … 7
        let series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240
            - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12))))))
        return shift + log(v) - 0.5 / v - series
    }

    /// 1 / (1 + e^−x), without overflow for large |x|.
    @inline(__always)
    public static func logistic(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + exp(-x)) }
        let e = exp(x)
        return e / (1 + e)
    }

    /// Lagrange interpolation at `s` through the points (nodes[i], values[i]).
    /// Used to step over removable singularities of a formula (a = 1 in the BG/NBD expectation,
    /// integer c − a − b in the 1 − z transformation of ₂F₁) with nodes at a safe distance.
    public static func lagrange(at s: Double, nodes: [Double], values: [Double]) -> Double {
        var total = 0.0
        for i in nodes.indices {
            var w = 1.0
            for j in nodes.indices where j != i {
                w *= (s - nodes[j]) / (nodes[i] - nodes[j])
            }
            total += w * values[i]
        }
        return total
    }
}

/// The natural log, under a name that SignedLog's `log` property does not shadow.
@inline(__always)
private func naturalLog(_ x: Double) -> Double { log(x) }
