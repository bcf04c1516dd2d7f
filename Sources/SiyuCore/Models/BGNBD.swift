#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while
/// alive a customer buys at a Poisson rate λ ~ Gamma(r, α); after each purchase they drop out with
/// probability p ~ Beta(a, b).
///
/// A customer's history is `(frequency, recency, T)` in one time unit (days in siyu, weeks in
/// Fader & Hardie's CDNOW study): frequency = repeat purchases, recency = time from the first to
/// the last purchase, T = time from the first purchase to the end of observation. α is in that
/// same unit (α in days is 7 × α in weeks; r, a, b do not depend on the unit).
public struct BGNBD: Sendable, Equatable {
    public var r: Double
    public var alpha: Double
    public var a: Double
    public var b: Double

    public init(r: Double, alpha: Double, a: Double, b: Double) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
    }

    /// `count` customers with the same history.
    public struct Pattern: Sendable, Hashable {
        public var frequency: Int
        public var recency: Double
        public var T: Double
        public var count: Int

        public init(frequency: Int, recency: Double, T: Double, count: Int = 1) {
            self.frequency = frequency
            self.recency = recency
            self.T = T
            self.count = count
        }
    }

    public typealias Fit = ModelFit<BGNBD>

    /// Maximum-likelihood fit on the patterns (merged and put in a canonical order first, so that
    /// the same customers in any order and any grouping give the same parameters bit for bit).
    ///
    /// Time is scaled internally so that the largest T is 10 (as `lifetimes` does); the search
    /// starts from r = α = a = b = 1 in that scale, on log r, log α, log(a/b), log(a + b)
    /// (`LogParameterSearch`: BFGS with the analytic gradient; coordinates whose supremum is at
    /// infinity held at the edge of the box; the simplex if that fails).
    public static func fit(_ patterns: [Pattern], relativeTolerance: Double = 1e-10) throws -> Fit {
        let data = try Prepared(patterns)
        if data.customers == 0 { return .empty(BGNBD(r: 1, alpha: 1, a: 1, b: 1), note: "no customers") }
        // a and b are searched as u = log(a/b) and v = log(a + b): when every customer has the same
        // dropout probability π = a/(a + b) the supremum lies at a + b → ∞ along one coordinate,
        // v, which is then held at the edge while the others converge (`LogParameterSearch`).
        let search = LogParameterSearch(names: ["r", "alpha", "a/(a+b)", "a+b"], relativeTolerance: relativeTolerance)
        let outcome = search.maximize(from: [0, 0, 0, log(2)]) { theta in
            let (logA, logB) = Self.logAB(u: theta[2], v: theta[3])
            let (value, g) = data.logLikelihood(r: exp(theta[0]), alpha: exp(theta[1]), a: exp(logA), b: exp(logB))
            // g holds ∂/∂log a and ∂/∂log b; log a = v + log σ(u), log b = v + log σ(−u).
            let su = SpecialFunctions.logistic(theta[2]), sm = SpecialFunctions.logistic(-theta[2])
            return (value, [g[0], g[1], g[2] * sm - g[3] * su, g[2] + g[3]])
        }
        // Every repeat customer bought once more, on the last day observed: the likelihood does not
        // depend on a and b at all (B(a, b + 1)/B(a, b) · (1 + a/b) = 1). The search leaves them
        // where it started; the predictions take the limit more purchases would lead to, no dropout
        // seen yet (a/(a + b) → 0), not the start values.
        let flatDropout = data.repeatCustomers > 0 && data.repeatersSeenAfterLast == 0 && data.repeatersBeyondOne == 0
        let (logA, logB) = Self.logAB(u: flatDropout ? -search.bound : outcome.theta[2], v: outcome.theta[3])
        let theta = [outcome.theta[0], outcome.theta[1], logA, logB]
        var dataNotes: [String] = [], limits: [String] = []
        if data.repeatCustomers == 0 {
            dataNotes.append("no customer came back: a and b are not identified, r·log(α/(α+T)) → 0")
            limits.append(ModelDataLimit.nobodyCameBack)
        }
        if data.maxT == 0 {
            dataNotes.append("every customer's T is 0: nothing was observed")
            limits.append(ModelDataLimit.nothingObserved)
        }
        if data.repeatCustomers > 0 && data.repeatersSeenAfterLast == 0 {
            dataNotes.append("every repeat customer's last purchase is on the last day observed: nothing shows yet whether customers drop out after a purchase")
            limits.append(ModelDataLimit.noDropoutSeen)
        }
        // The scaled likelihood differs from the one in the caller's unit by Σ n·x·log(scale).
        var fit = Fit(parameters: BGNBD(r: exp(theta[0]), alpha: exp(theta[1]) / data.scale, a: exp(theta[2]), b: exp(theta[3])),
                      logLikelihood: -outcome.value + log(data.scale) * data.repeatPurchases, outcome: outcome,
                      customers: data.customers, patterns: data.patterns, dataNotes: dataNotes)
        let edges = Set(outcome.edges)
        var unidentified: Set<String> = []
        if data.maxT == 0 { unidentified = ["r", "alpha", "a", "b"] }
        if !edges.isDisjoint(with: ["r", "alpha"]) { unidentified.formUnion(["r", "alpha"]) }
        if !edges.isDisjoint(with: ["a/(a+b)", "a+b"]) || data.repeatCustomers == 0 || data.repeatersSeenAfterLast == 0 {
            unidentified.formUnion(["a", "b"])
        }
        fit.unidentified = ["r", "alpha", "a", "b"].filter(unidentified.contains)
        fit.dataLimits = limits
        // Nothing observed: any prediction would be the search's start values.
        fit.predictive = data.maxT > 0
        return fit
    }

    /// log a and log b from u = log(a/b) and v = log(a + b), without overflow.
    static func logAB(u: Double, v: Double) -> (Double, Double) {
        func logSigmoid(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
        return (v + logSigmoid(u), v + logSigmoid(-u))
    }

    /// Total log-likelihood of the patterns at these parameters (caller's time unit).
    public func logLikelihood(_ patterns: [Pattern]) throws -> Double {
        let data = try Prepared(patterns)
        return data.logLikelihood(r: r, alpha: alpha * data.scale, a: a, b: b).value + log(data.scale) * data.repeatPurchases
    }

    // MARK: - Predictions

    /// P(alive at T | frequency, recency, T) (Fader, Hardie & Lee 2008, note 021):
    /// 1 / (1 + a/(b + x − 1) · ((α + T)/(α + t_x))^(r + x)) for x > 0, and 1 for x = 0 (in this model
    /// a customer can only drop out right after a purchase).
    public func probabilityAlive(frequency x: Int, recency: Double, T: Double) -> Double {
        if x <= 0 { return 1 }
        let xd = Double(x)
        let logOdds = (r + xd) * log1p((T - recency) / (alpha + recency)) + log(a) - log(b + xd - 1)
        return SpecialFunctions.logistic(-logOdds)
    }

    /// Expected repeat purchases in (T, T + t] given the history (eq. 10 of Fader, Hardie & Lee
    /// 2005): P(alive) × E[purchases in t | alive].
    public func expectedPurchases(inNext t: Double, frequency x: Int, recency: Double, T: Double) -> Double {
        probabilityAlive(frequency: x, recency: recency, T: T) * expectedPurchasesIfAlive(inNext: t, frequency: x, T: T)
    }

    /// Expected purchases in (0, t] of a customer just acquired (eq. 9): the conditional expectation
    /// with no history.
    public func expectedPurchases(inFirst t: Double) -> Double {
        expectedPurchasesIfAlive(inNext: t, frequency: 0, T: 0)
    }

    /// E[purchases in (T, T + t] | alive at T, x, T]
    ///   = (a + b + x − 1)/(a − 1) · [1 − ((α + T)/(α + T + t))^(r + x) ₂F₁(r + x, b + x; a + b + x − 1; z)],
    /// z = t/(α + T + t).
    ///
    /// - z ≤ 0.5 (t shorter than α + T, the usual case), r ≤ a + b + 9 and a·z ≤ 1,000: the Euler-transformed
    ///   series of `expectedIfAliveEulerSeries`, which has no singularity at a = 1 or at
    ///   a + b + x − 1 = 0 and no cancellation for small t.
    /// - Otherwise the formula above with `Hypergeometric` (which switches to the 1 − z
    ///   transformation near z = 1). At a = 1 both factors vanish: within 1e−4 of it the value is
    ///   interpolated (cubic, in a) from a = 1 ± 2e−4 and 1 ± 4e−4, where the cancellation costs
    ///   fewer than 4 digits.
    ///
    /// The result is kept within [0, (r + x)·t/(α + T)], the expectation with no dropout at all.
    public func expectedPurchasesIfAlive(inNext t: Double, frequency x: Int, T: Double) -> Double {
        guard t > 0 else { return 0 }
        let xd = Double(max(x, 0))
        let z = t / (alpha + T + t)
        // The Euler series' terms grow until n ≈ a·z before they fall: with a large (a, b → ∞
        // together, one dropout probability for all) the plain series below converges at once instead.
        if z <= 0.5, r - (a + b - 1) <= 10, a * z <= 1_000, let e = expectedIfAliveEulerSeries(xd, z: z, logW: -log1p(t / (alpha + T))) {
            return clampExpectation(e, t, xd, T)
        }
        let band = 1e-4
        if abs(a - 1) < band {
            let nodes = [-4 * band, -2 * band, 2 * band, 4 * band]
            let values = nodes.map {
                BGNBD(r: r, alpha: alpha, a: 1 + $0, b: b).expectedIfAliveAwayFromAEqualsOne(t, xd, T)
            }
            return clampExpectation(SpecialFunctions.lagrange(at: a - 1, nodes: nodes, values: values), t, xd, T)
        }
        return expectedIfAliveAwayFromAEqualsOne(t, xd, T)
    }

    /// With Euler's transformation F(A, B; C; z) = (1 − z)^(C − A − B) F(C − A, C − B; C; z), and
    /// (a − 1)ₙ = (a − 1)(a)ₙ₋₁, (C)ₙ = C (C + 1)ₙ₋₁ (C = a + b + x − 1):
    ///   E = C (1 − (1 − z)^(a − 1))/(a − 1)
    ///     − (1 − z)^(a − 1) Σₙ≥₁ (a + b − 1 − r)ₙ (a)ₙ₋₁ / ((C + 1)ₙ₋₁ n!) zⁿ.
    /// The terms' ratio tends to z and, for heavy buyers, falls like 1/x; the first factors change
    /// sign only while n < r − (a + b − 1) ≤ 10, so at most a few digits cancel. nil if the series
    /// has not converged in 5,000 terms.
    private func expectedIfAliveEulerSeries(_ x: Double, z: Double, logW: Double) -> Double? {
        let C = a + b + x - 1, shifted = a + b - 1 - r, k = a - 1
        let first = C * (k == 0 ? -logW : -expm1(k * logW) / k)
        var sum = 0.0, term = shifted * z, n = 1.0
        for _ in 0..<5_000 {
            sum += term
            // t(n+1)/t(n) = (a + b − 1 − r + n)(a + n − 1) / ((C + n)(n + 1)) · z
            let next = (shifted + n) * (a + n - 1) / ((C + n) * (n + 1)) * z
            if next == 0 { return first - exp(k * logW) * sum }
            if shifted + n > 0 {
                let rho = max(abs(next), z)
                if rho < 1, abs(term) * rho / (1 - rho) <= 1e-17 * abs(sum) { return first - exp(k * logW) * sum }
            }
            term *= next
            n += 1
        }
        return nil
    }

    private func clampExpectation(_ e: Double, _ t: Double, _ x: Double, _ T: Double) -> Double {
        let noDropout = (r + x) * t / (alpha + T)
        guard e.isFinite else { return noDropout }
        return min(max(e, 0), noDropout)
    }

    private func expectedIfAliveAwayFromAEqualsOne(_ t: Double, _ x: Double, _ T: Double) -> Double {
        let A = r + x, B = b + x, C = a + b + x - 1
        let s = alpha + T
        let z = t / (s + t)
        let w = s / (s + t)                 // 1 − z, without cancellation
        let logW = -log1p(t / s)
        let e: Double
        if C > 0.5 {
            // Q = (1 − z)^A F(A, B; C; z) in log space: F grows like (1 − z)^(C − A − B) and
            // overflows for heavy buyers; Q itself is moderate.
            // For small z, Q is 1 − O(z): log F is then taken as log1p(F − 1).
            let f = Hypergeometric.evaluate(A, B, C, z, oneMinusZ: w)
            let logF = f.excess.map { log1p($0) } ?? f.value.log
            let logQ = A * logW + logF
            e = f.value.sign > 0 ? C * -expm1(logQ) / (a - 1) : .nan
        } else {
            // C = a + b − 1 ≤ 0.5 (x = 0 and a + b ≤ 1.5): F(…; C; z) has a pole at C = 0 that the
            // factor C cancels. Gauss's contiguous relation in c (DLMF 15.5.18) gives C·F(C) from
            // F(C + 1) and F(C + 2), both with c > 0.
            let f1 = Hypergeometric.evaluate(A, B, C + 1, z, oneMinusZ: w)
            let f2 = Hypergeometric.evaluate(A, B, C + 2, z, oneMinusZ: w)
            let q1 = f1.value.sign * exp(A * logW + f1.value.log)
            let q2 = f2.value.sign * exp(A * logW + f2.value.log)
            let cq = ((C + 1) * (C - (2 * C + 1 - A - B) * z) * q1 + (C + 1 - A) * (C + 1 - B) * z * q2) / ((C + 1) * w)
            e = (C - cq) / (a - 1)
        }
        return clampExpectation(e, t, x, T)
    }

    // MARK: - The likelihood on distinct patterns

    /// The patterns merged and sorted by (frequency, recency, T), grouped by frequency, with the
    /// distinct T and recency values in tables: one likelihood evaluation costs one exp and one
    /// log1p per distinct pattern with x > 0, and per distinct T with x = 0.
    struct Prepared {
        var scale = 1.0
        var maxT = 0.0
        var customers = 0
        var repeatCustomers = 0
        /// Repeat customers observed for some time after their last purchase (recency < T), and
        /// those with more than one repeat purchase.
        var repeatersSeenAfterLast = 0, repeatersBeyondOne = 0
        var repeatPurchases = 0.0
        var patterns = 0
        /// Distinct scaled T and recency values.
        var ages: [Double] = []
        var recencies: [Double] = []
        /// x = 0 customers by T.
        var zeroAge: [Int32] = []
        var zeroCount: [Double] = []
        /// x > 0: one group per distinct x, its patterns in patAge/patRecency/patCount[range].
        var groupX: [Double] = []
        var groupCount: [Double] = []
        var groupStart: [Int] = [0]
        var patAge: [Int32] = []
        var patRecency: [Int32] = []
        var patCount: [Double] = []

        init(_ input: [Pattern]) throws {
            var rows: [Pattern] = []
            rows.reserveCapacity(input.count)
            for (i, p) in input.enumerated() {
                func bad(_ reason: String) -> ModelInputError { ModelInputError(model: "bgnbd", index: i, reason: reason) }
                guard p.count >= 0 else { throw bad("negative count \(p.count)") }
                guard p.frequency >= 0 else { throw bad("negative frequency \(p.frequency)") }
                guard p.recency.isFinite, p.T.isFinite else { throw bad("recency or T is not a finite number") }
                guard p.recency >= 0, p.recency <= p.T else { throw bad("need 0 ≤ recency ≤ T (recency \(p.recency), T \(p.T))") }
                guard p.frequency > 0 || p.recency == 0 else { throw bad("frequency 0 with recency \(p.recency) ≠ 0") }
                if p.count == 0 { continue }
                // +0.0 folds −0.0 into 0.0, so that equal histories merge.
                rows.append(Pattern(frequency: p.frequency, recency: p.recency + 0.0, T: p.T + 0.0, count: p.count))
            }
            rows.sort { l, r in
                if l.frequency != r.frequency { return l.frequency < r.frequency }
                if l.recency != r.recency { return l.recency < r.recency }
                return l.T < r.T
            }
            var merged: [Pattern] = []
            merged.reserveCapacity(rows.count)
            for p in rows {
                if let last = merged.last, last.frequency == p.frequency, last.recency == p.recency, last.T == p.T {
                    merged[merged.count - 1].count += p.count
                } else {
                    merged.append(p)
                }
            }
            patterns = merged.count
            maxT = merged.reduce(0) { max($0, $1.T) }
            scale = maxT > 0 ? 10 / maxT : 1
            let distinctT = Array(Set(merged.map(\.T))).sorted()
            let distinctRecency = Array(Set(merged.lazy.filter { $0.frequency > 0 }.map(\.recency))).sorted()
            ages = distinctT.map { $0 * scale }
            recencies = distinctRecency.map { $0 * scale }
            let tIndex = Dictionary(uniqueKeysWithValues: distinctT.enumerated().map { ($1, Int32($0)) })
            let rIndex = Dictionary(uniqueKeysWithValues: distinctRecency.enumerated().map { ($1, Int32($0)) })
            var zeroByAge: [Int32: Double] = [:]
            for p in merged {
                customers += p.count
                if p.frequency == 0 {
                    zeroByAge[tIndex[p.T]!, default: 0] += Double(p.count)
                    continue
                }
                repeatCustomers += p.count
                if p.recency < p.T { repeatersSeenAfterLast += p.count }
                if p.frequency > 1 { repeatersBeyondOne += p.count }
                repeatPurchases += Double(p.count) * Double(p.frequency)
                let x = Double(p.frequency)
                if groupX.last != x {
                    if !groupX.isEmpty { groupStart.append(patCount.count) }
                    groupX.append(x)
                    groupCount.append(0)
                }
                groupCount[groupCount.count - 1] += Double(p.count)
                patAge.append(tIndex[p.T]!)
                patRecency.append(rIndex[p.recency]!)
                patCount.append(Double(p.count))
            }
            groupStart.append(patCount.count)
            for k in zeroByAge.keys.sorted() {
                zeroAge.append(k)
                zeroCount.append(zeroByAge[k]!)
            }
        }

        /// Σ n · log L(r, α, a, b | x, t_x, T) in the scaled time, following section 7 of Fader,
        /// Hardie & Lee (2005) and Hardie's note 004:
        ///   log L = log Γ(r + x) − log Γ(r) + r log α + log B(a, b + x) − log B(a, b)
        ///         + log( (α + T)^−(r+x) + [x > 0] a/(b + x − 1) (α + t_x)^−(r+x) ),
        /// the last term as log-add-exp of its two logs, A₃ and A₄. With its gradient in
        /// (log r, log α, log a, log b): with w₃, w₄ the shares of the two terms (softmax of A₃, A₄),
        ///   ∂/∂r = ψ(r + x) − ψ(r) + log α − w₃ log(α + T) − w₄ log(α + t_x)
        ///   ∂/∂α = r/α − (r + x)(w₃/(α + T) + w₄/(α + t_x))
        ///   ∂/∂a = ψ(a + b) − ψ(a + b + x) + w₄/a
        ///   ∂/∂b = ψ(a + b) + ψ(b + x) − ψ(b) − ψ(a + b + x) − w₄/(b + x − 1),
        /// where, x being an integer, log Γ(r + x) − log Γ(r) = Σⱼ<ₓ log(r + j), ψ(r + x) − ψ(r) =
        /// Σⱼ<ₓ 1/(r + j), and likewise for the Beta functions: sums without the cancellation of
        /// log-gamma differences at large parameters.
        func logLikelihood(r: Double, alpha: Double, a: Double, b: Double) -> (value: Double, gradient: [Double]) {
            let logAlpha = log(alpha), logA = log(a)
            // Γ(r + x)/Γ(r) and B(a, b + x)/B(a, b) for integer x as products over j < x (their logs
            // and derivatives as running sums, the groups being in increasing x): exact where the
            // log-gamma differences cancel, as when a, b (or r, α) grow large together.
            var j = 0.0, sumLogR = 0.0, sumInvR = 0.0, sumLogBeta = 0.0, sumInvB = 0.0, sumInvAB = 0.0
            let logAge = ages.map { log(alpha + $0) }, invAge = ages.map { 1 / (alpha + $0) }
            let logRec = recencies.map { log(alpha + $0) }, invRec = recencies.map { 1 / (alpha + $0) }
            var value = 0.0, dr = 0.0, dAlpha = 0.0, da = 0.0, db = 0.0
            // x = 0: r log α − r log(α + T).
            var zeroCustomers = 0.0, zeroLog = 0.0, zeroInv = 0.0
            for i in zeroAge.indices {
                let n = zeroCount[i], k = Int(zeroAge[i])
                zeroCustomers += n
                zeroLog += n * logAge[k]
                zeroInv += n * invAge[k]
            }
            value += r * (zeroCustomers * logAlpha - zeroLog)
            dr += zeroCustomers * logAlpha - zeroLog
            dAlpha += r * (zeroCustomers / alpha - zeroInv)
            logAge.withUnsafeBufferPointer { la in
            invAge.withUnsafeBufferPointer { ia in
            logRec.withUnsafeBufferPointer { lr in
            invRec.withUnsafeBufferPointer { ir in
            patAge.withUnsafeBufferPointer { pa in
            patRecency.withUnsafeBufferPointer { pr in
            patCount.withUnsafeBufferPointer { pc in
                for g in groupX.indices {
                    let x = groupX[g], rx = r + x, customers = groupCount[g]
                    while j < x {
                        sumLogR += log(r + j)
                        sumInvR += 1 / (r + j)
                        sumLogBeta -= log1p(a / (b + j))
                        sumInvB += 1 / (b + j)
                        sumInvAB += 1 / (a + b + j)
                        j += 1
                    }
                    let constant = sumLogR + r * logAlpha + sumLogBeta
                    let c4 = logA - log(b + x - 1)
                    var sumL = 0.0, sumW4 = 0.0, sumLog = 0.0, sumInv = 0.0
                    for i in groupStart[g]..<groupStart[g + 1] {
                        let t = Int(pa[i]), u = Int(pr[i])
                        let a3 = -rx * la[t]
                        let a4 = c4 - rx * lr[u]
                        let d = a4 - a3
                        let e = exp(-abs(d))
                        let share = 1 / (1 + e)
                        let (w3, w4) = d >= 0 ? (e * share, share) : (share, e * share)
                        let n = pc[i]
                        sumL += n * (max(a3, a4) + log1p(e))
                        sumW4 += n * w4
                        sumLog += n * (w3 * la[t] + w4 * lr[u])
                        sumInv += n * (w3 * ia[t] + w4 * ir[u])
                    }
                    value += customers * constant + sumL
                    dr += customers * (sumInvR + logAlpha) - sumLog
                    dAlpha += customers * r / alpha - rx * sumInv
                    da += customers * -sumInvAB + sumW4 / a
                    db += customers * (sumInvB - sumInvAB) - sumW4 / (b + x - 1)
                }
            }}}}}}}
            return (value, [r * dr, alpha * dAlpha, a * da, b * db])
        }
    }
}
