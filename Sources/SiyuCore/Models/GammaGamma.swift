#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
/// Hardie's note 025): a customer's transaction values are Gamma(p, ν), with ν ~ Gamma(q, γ)
/// across customers. Fitted on the customers with frequency > 0, on (x, m̄) where m̄ is the mean
/// value of their x repeat transactions (purchase days in siyu).
public struct GammaGamma: Sendable, Equatable {
    public var p: Double
    public var q: Double
    public var gamma: Double

    public init(p: Double, q: Double, gamma: Double) {
        self.p = p
        self.q = q
        self.gamma = gamma
    }

    /// `count` customers with x = frequency repeat transactions of mean value `monetaryValue`.
    public struct Pattern: Sendable, Hashable {
        public var frequency: Int
        public var monetaryValue: Double
        public var count: Int

        public init(frequency: Int, monetaryValue: Double, count: Int = 1) {
            self.frequency = frequency
            self.monetaryValue = monetaryValue
            self.count = count
        }
    }

    public typealias Fit = ModelFit<GammaGamma>

    /// Maximum-likelihood fit. Patterns with frequency 0 carry no spend information and are
    /// ignored (counted in `ignoredCustomers`), so all customers may be passed. Money is scaled
    /// internally by the customers' mean of m̄; the search starts from p = q = 1, γ = that mean,
    /// on log p, log q, log γ (`LogParameterSearch`).
    public static func fit(_ patterns: [Pattern], relativeTolerance: Double = 1e-10) throws -> Fit {
        let data = try Prepared(patterns)
        if data.customers == 0 {
            return .empty(GammaGamma(p: 1, q: 1, gamma: 1), ignoredCustomers: data.ignored, note: "no customer with frequency > 0")
        }
        let search = LogParameterSearch(names: ["p", "q", "gamma"], relativeTolerance: relativeTolerance)
        let outcome = search.maximize { theta in
            data.logLikelihood(p: exp(theta[0]), q: exp(theta[1]), gamma: exp(theta[2]))
        }
        let theta = outcome.theta
        let params = GammaGamma(p: exp(theta[0]), q: exp(theta[1]), gamma: exp(theta[2]) / data.scale)
        // Scaled money changes each customer's log-likelihood by −log(scale).
        var fit = Fit(parameters: params, logLikelihood: -outcome.value + Double(data.customers) * log(data.scale),
                   outcome: outcome, customers: data.customers, patterns: data.patterns, ignoredCustomers: data.ignored,
                   otherNotes: params.q <= 1 ? ["q ≤ 1: the population mean value is infinite"] : [])
        let edges = Set(outcome.edges)
        // p → ∞ takes γ → 0 with p·γ fixed (every customer's spends alike around their mean);
        // q, γ → ∞ with γ/q fixed (every customer's mean alike).
        var unidentified: Set<String> = edges.contains("p") ? ["p", "gamma"] : []
        if !edges.isDisjoint(with: ["q", "gamma"]) { unidentified.formUnion(["q", "gamma"]) }
        fit.unidentified = ["p", "q", "gamma"].filter(unidentified.contains)
        return fit
    }

    /// Total log-likelihood of the patterns (frequency > 0) at these parameters.
    public func logLikelihood(_ patterns: [Pattern]) throws -> Double {
        let data = try Prepared(patterns)
        return data.logLikelihood(p: p, q: q, gamma: gamma * data.scale).value + Double(data.customers) * log(data.scale)
    }

    /// The mean transaction value of a new customer, E[Z] = p·γ/(q − 1); nil when q ≤ 1 (infinite).
    public var populationMeanValue: Double? {
        q > 1 ? p * gamma / (q - 1) : nil
    }

    /// E[Z | x, m̄] = p(γ + x·m̄)/(p·x + q − 1): a weighted mean of the population mean and the
    /// customer's own mean m̄. For x = 0 it is the population mean. nil when p·x + q ≤ 1, where the
    /// posterior mean is infinite.
    public func conditionalExpectedValue(frequency x: Int, monetaryValue m: Double) -> Double? {
        let xd = Double(max(x, 0))
        let denominator = p * xd + q - 1
        guard denominator > 0 else { return nil }
        let v = p * (gamma + xd * (x > 0 ? m : 0)) / denominator
        return v.isFinite ? v : nil
    }

    // MARK: - The likelihood

    /// Patterns merged, sorted by (x, m̄) and grouped by x.
    struct Prepared {
        var scale = 1.0
        var customers = 0
        var ignored = 0
        var patterns = 0
        var groupX: [Double] = []
        var groupLogX: [Double] = []
        var groupCount: [Double] = []
        var groupStart: [Int] = [0]
        var money: [Double] = []          // scaled m̄
        var logMoney: [Double] = []
        var count: [Double] = []

        init(_ input: [Pattern]) throws {
            var rows: [Pattern] = []
            rows.reserveCapacity(input.count)
            for (i, p) in input.enumerated() {
                func bad(_ reason: String) -> ModelInputError { ModelInputError(model: "gamma_gamma", index: i, reason: reason) }
                guard p.count >= 0 else { throw bad("negative count \(p.count)") }
                guard p.frequency >= 0 else { throw bad("negative frequency \(p.frequency)") }
                if p.frequency == 0 {
                    ignored += p.count
                    continue
                }
                guard p.monetaryValue.isFinite, p.monetaryValue > 0 else {
                    throw bad("monetary value \(p.monetaryValue) with frequency \(p.frequency): need a positive number")
                }
                if p.count > 0 { rows.append(p) }
            }
            rows.sort { $0.frequency != $1.frequency ? $0.frequency < $1.frequency : $0.monetaryValue < $1.monetaryValue }
            var merged: [Pattern] = []
            for p in rows {
                if let last = merged.last, last.frequency == p.frequency, last.monetaryValue == p.monetaryValue {
                    merged[merged.count - 1].count += p.count
                } else {
                    merged.append(p)
                }
            }
            patterns = merged.count
            var weighted = 0.0
            for p in merged {
                customers += p.count
                weighted += Double(p.count) * p.monetaryValue
            }
            scale = customers > 0 ? Double(customers) / weighted : 1
            for p in merged {
                let x = Double(p.frequency)
                if groupX.last != x {
                    if !groupX.isEmpty { groupStart.append(count.count) }
                    groupX.append(x)
                    groupLogX.append(log(x))
                    groupCount.append(0)
                }
                groupCount[groupCount.count - 1] += Double(p.count)
                let m = p.monetaryValue * scale
                money.append(m)
                logMoney.append(log(m))
                count.append(Double(p.count))
            }
            groupStart.append(count.count)
        }

        /// Σ n · [log Γ(px + q) − log Γ(px) − log Γ(q) + q log γ + (px − 1) log m̄ + px log x
        ///        − (px + q) log(x m̄ + γ)],
        /// with its gradient in (log p, log q, log γ):
        ///   ∂/∂p = x [ψ(px + q) − ψ(px) + log m̄ + log x − log(x m̄ + γ)]
        ///   ∂/∂q = ψ(px + q) − ψ(q) + log γ − log(x m̄ + γ)
        ///   ∂/∂γ = q/γ − (px + q)/(x m̄ + γ).
        func logLikelihood(p: Double, q: Double, gamma: Double) -> (value: Double, gradient: [Double]) {
            let lgQ = SpecialFunctions.logGamma(q), psiQ = SpecialFunctions.digamma(q), logGamma = log(gamma)
            var value = 0.0, dp = 0.0, dq = 0.0, dGamma = 0.0
            for g in groupX.indices {
                let x = groupX[g], px = p * x, customers = groupCount[g]
                let constant = SpecialFunctions.logGamma(px + q) - SpecialFunctions.logGamma(px) - lgQ
                    + q * logGamma + px * groupLogX[g]
                let psiPXQ = SpecialFunctions.digamma(px + q), psiPX = SpecialFunctions.digamma(px)
                var sumLogM = 0.0, sumL = 0.0, sumInv = 0.0
                for i in groupStart[g]..<groupStart[g + 1] {
                    let denominator = x * money[i] + gamma
                    sumLogM += count[i] * logMoney[i]
                    sumL += count[i] * log(denominator)
                    sumInv += count[i] / denominator
                }
                value += customers * constant + (px - 1) * sumLogM - (px + q) * sumL
                dp += x * (customers * (psiPXQ - psiPX + groupLogX[g]) + sumLogM - sumL)
                dq += customers * (psiPXQ - psiQ + logGamma) - sumL
                dGamma += customers * q / gamma - (px + q) * sumInv
            }
            return (value, [p * dp, q * dq, gamma * dGamma])
        }
    }
}
