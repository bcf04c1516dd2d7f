/// The Nelder–Mead simplex minimiser (Lagarias, Reeds, Wright & Wright 1998, with the
/// dimension-adapted coefficients of Gao & Han 2012), used on the log-parameters of the customer
/// models, where the likelihood is smooth but its scale differs by orders of magnitude between
/// parameters.
///
/// Deterministic: the same function and start give the same result bit for bit (no randomness,
/// ties between vertices broken by their position).
///
/// Stopping: a run ends when the spread of the function over the simplex is at most
/// `relativeTolerance` · |f(best)| (the relative change of the log-likelihood the models ask for)
/// and every vertex is within `parameterTolerance` of the best one in every coordinate; or when
/// the best value has not improved by more than `relativeTolerance` · |f(best)| for
/// `stallIterations` iterations (on a ridge where the likelihood keeps rising by ever smaller
/// amounts towards a supremum at infinity, such as r, α → ∞ with r/α fixed, the simplex never
/// gets small). Simplex methods can also stall on a degenerate simplex, so a converged run is
/// restarted from its best point with a fresh simplex; the minimisation has converged when a
/// restart improves f by no more than the relative tolerance. Hitting `maxEvaluations` first is
/// reported as not converged.
///
/// With `box`, the search is confined to |xᵢ| ≤ box: a point outside is evaluated at its
/// projection onto the box (f is extended flat beyond it, so a simplex chasing a supremum at
/// infinity, such as r → 0 when nobody came back, settles on the edge instead of running out of
/// evaluations), and the result is a projected point.
public struct NelderMead: Sendable {
    public var relativeTolerance: Double
    public var parameterTolerance: Double
    public var maxEvaluations: Int
    /// Size of the initial simplex along each axis.
    public var initialStep: Double
    /// Half-width of the search box, or nil for no box.
    public var box: Double?
    /// Iterations without a relative improvement above `relativeTolerance` that end a run;
    /// nil: 50 per dimension.
    public var stallIterations: Int?

    public init(relativeTolerance: Double = 1e-10, parameterTolerance: Double = 1e-7,
                maxEvaluations: Int = 20_000, initialStep: Double = 0.5, box: Double? = nil,
                stallIterations: Int? = nil) {
        self.relativeTolerance = relativeTolerance
        self.parameterTolerance = parameterTolerance
        self.maxEvaluations = maxEvaluations
        self.initialStep = initialStep
        self.box = box
        self.stallIterations = stallIterations
    }

    public struct Result: Sendable {
        public var point: [Double]
        public var value: Double
        public var converged: Bool
        /// Simplex iterations (reflect / expand / contract / shrink steps), over all restarts.
        public var iterations: Int
        public var evaluations: Int
        public var restarts: Int
    }

    /// Minimises f from x0. Non-finite values of f count as +∞ (outside the domain).
    public func minimize(from x0: [Double], _ f: ([Double]) -> Double) -> Result {
        var evaluations = 0
        func eval(_ x: [Double]) -> Double {
            evaluations += 1
            let v = f(project(x))
            return v.isNaN ? .infinity : v
        }
        var best = x0
        var bestValue = eval(x0)
        var iterations = 0
        var restarts = 0
        while true {
            let run = simplexRun(from: best, value: bestValue, eval: eval, evaluations: { evaluations },
                                 iterations: &iterations)
            let improvement = bestValue - run.value
            let improved = run.value < bestValue
            if improved {
                best = run.point
                bestValue = run.value
            }
            if !run.converged {
                return Result(point: project(best), value: bestValue, converged: false, iterations: iterations,
                              evaluations: evaluations, restarts: restarts)
            }
            if restarts > 0 && (!improved || improvement <= relativeTolerance * max(abs(bestValue), 1e-300)) {
                return Result(point: project(best), value: bestValue, converged: bestValue.isFinite,
                              iterations: iterations, evaluations: evaluations, restarts: restarts)
            }
            restarts += 1
        }
    }

    /// The point moved onto the box, if any.
    public func project(_ x: [Double]) -> [Double] {
        guard let box else { return x }
        return x.map { min(max($0, -box), box) }
    }

    private struct Run {
        var point: [Double]
        var value: Double
        var converged: Bool
    }

    private func simplexRun(from x0: [Double], value f0: Double, eval: ([Double]) -> Double,
                            evaluations: () -> Int, iterations: inout Int) -> Run {
        let n = x0.count
        let dim = Double(max(n, 1))
        // Gao & Han's coefficients; for n = 2 they are the classical 1, 2, 1/2, 1/2.
        let rho = 1.0, chi = 1 + 2 / dim, gamma = 0.75 - 1 / (2 * dim), sigma = 1 - 1 / dim
        let stall = stallIterations ?? 50 * max(n, 1)
        var lastImprovement = iterations, reference = f0
        var simplex: [[Double]] = [x0]
        var values: [Double] = [f0]
        for i in 0..<n {
            var v = x0
            v[i] += initialStep
            simplex.append(v)
            values.append(eval(v))
        }
        while true {
            // Order the vertices, best first; equal values keep their positions.
            let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] < values[$1] : $0 < $1 }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let fBest = values[0], fWorst = values[n]
            if fBest < reference - relativeTolerance * max(abs(reference), 1e-300) || !reference.isFinite {
                reference = fBest
                lastImprovement = iterations
            }
            if fBest.isFinite && iterations - lastImprovement >= stall {
                return Run(point: simplex[0], value: fBest, converged: true)
            }
            if fBest.isFinite && fWorst.isFinite {
                let spread = fWorst - fBest
                var size = 0.0
                for v in simplex.dropFirst() {
                    for j in 0..<n { size = max(size, abs(v[j] - simplex[0][j])) }
                }
                if spread <= relativeTolerance * max(abs(fBest), 1e-300) && size <= parameterTolerance {
                    return Run(point: simplex[0], value: fBest, converged: true)
                }
            }
            if evaluations() >= maxEvaluations {
                return Run(point: simplex[0], value: fBest, converged: false)
            }
            iterations += 1
            var centroid = [Double](repeating: 0, count: n)
            for v in simplex.prefix(n) {
                for j in 0..<n { centroid[j] += v[j] }
            }
            for j in 0..<n { centroid[j] /= dim }
            func along(_ t: Double) -> [Double] {
                (0..<n).map { centroid[$0] + t * (centroid[$0] - simplex[n][$0]) }
            }
            let xr = along(rho)
            let fr = eval(xr)
            if fr < values[0] {
                let xe = along(rho * chi)
                let fe = eval(xe)
                if fe < fr {
                    simplex[n] = xe; values[n] = fe
                } else {
                    simplex[n] = xr; values[n] = fr
                }
                continue
            }
            if fr < values[n - 1] {
                simplex[n] = xr; values[n] = fr
                continue
            }
            if fr < values[n] {
                let xc = along(rho * gamma)               // outside contraction
                let fc = eval(xc)
                if fc <= fr {
                    simplex[n] = xc; values[n] = fc
                    continue
                }
            } else {
                let xc = along(-gamma)                    // inside contraction
                let fc = eval(xc)
                if fc < values[n] {
                    simplex[n] = xc; values[n] = fc
                    continue
                }
            }
            // Shrink towards the best vertex.
            for i in 1...n {
                simplex[i] = (0..<n).map { simplex[0][$0] + sigma * (simplex[i][$0] - simplex[0][$0]) }
                values[i] = eval(simplex[i])
            }
        }
    }
}
