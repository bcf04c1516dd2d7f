/// BFGS quasi-Newton minimisation with an analytic gradient (Nocedal & Wright, Numerical
/// Optimization, algorithm 6.1, with a backtracking line search and Shanno's scaling of the first
/// inverse Hessian). A step is accepted on Armijo's sufficient decrease or, once f is too flat
/// for its values to tell the points apart (within 1e−12 · |f|), on Hager & Zhang's approximate
/// Wolfe conditions, which read the directional derivative instead: near a likelihood's maximum
/// the gradient still points the way when the values are all equal to the last few bits. The customer models use it first: with the gradient, a fit on a million
/// customers takes a few dozen likelihood evaluations where the simplex needs several hundred.
///
/// Stopping: converged when a step changes f by at most `relativeTolerance` · |f| (the relative
/// change of the log-likelihood the models ask for) and the largest gradient component is at most
/// `gradientTolerance` · max(|f|, 1), which pins the parameters down far more tightly than the
/// change of f alone can. It gives up, and says why, when the line search cannot decrease f, when
/// an iterate reaches the edge of the box (the supremum is at infinity: the caller's simplex
/// handles that), or after `maxIterations`.
///
/// Deterministic: no randomness, a fixed order of operations.
public struct QuasiNewton: Sendable {
    public var relativeTolerance: Double
    public var gradientTolerance: Double
    public var maxIterations: Int
    /// Largest change of any coordinate in one step (log-parameters: a factor e² at most).
    public var maxStep: Double
    /// Half-width of the search box, or nil for none.
    public var box: Double?

    public init(relativeTolerance: Double = 1e-10, gradientTolerance: Double = 1e-9,
                maxIterations: Int = 200, maxStep: Double = 2, box: Double? = nil) {
        self.relativeTolerance = relativeTolerance
        self.gradientTolerance = gradientTolerance
        self.maxIterations = maxIterations
        self.maxStep = maxStep
        self.box = box
    }

    public enum Stop: String, Sendable {
        case converged
        case lineSearchFailed = "the line search could not decrease the function"
        case boundary = "an iterate reached the edge of the search box"
        case iterationLimit = "iteration limit"
        case notFinite = "the function or its gradient is not finite at the start"
    }

    public struct Result: Sendable {
        public var point: [Double]
        public var value: Double
        public var gradient: [Double]
        public var stop: Stop
        public var iterations: Int
        public var evaluations: Int
        public var converged: Bool { stop == .converged }
    }

    /// Minimises f from x0; `fg` returns f and its gradient.
    public func minimize(from x0: [Double], _ fg: ([Double]) -> (value: Double, gradient: [Double])) -> Result {
        let n = x0.count
        var x = x0
        var (f, g) = fg(x)
        var evaluations = 1
        func result(_ stop: Stop, _ iterations: Int) -> Result {
            Result(point: x, value: f, gradient: g, stop: stop, iterations: iterations, evaluations: evaluations)
        }
        guard f.isFinite, g.allSatisfy(\.isFinite) else { return result(.notFinite, 0) }
        // Inverse Hessian approximation, row-major.
        var h = identity(n)
        var scaled = false
        for iteration in 1...max(maxIterations, 1) {
            var p = multiply(h, g).map { -$0 }
            if dot(p, g) >= 0 {
                h = identity(n)
                p = g.map { -$0 }
            }
            let largest = p.reduce(0) { max($0, abs($1)) }
            if largest > maxStep { p = p.map { $0 * maxStep / largest } }
            let slope = dot(g, p)
            var t = 1.0
            var accepted: (x: [Double], f: Double, g: [Double])?
            while t >= 1e-12 {
                var trial = (0..<n).map { x[$0] + t * p[$0] }
                if let box { trial = trial.map { min(max($0, -box), box) } }
                let (ft, gt) = fg(trial)
                evaluations += 1
                if ft.isFinite, gt.allSatisfy(\.isFinite) {
                    let armijo = ft <= f + 1e-4 * t * slope
                    let trialSlope = dot(gt, p)
                    let approximateWolfe = ft <= f + 1e-12 * abs(f) && trialSlope >= 0.9 * slope && trialSlope <= -0.8 * slope
                    if armijo || approximateWolfe {
                        accepted = (trial, ft, gt)
                        break
                    }
                }
                t *= 0.5
            }
            guard let next = accepted else { return result(.lineSearchFailed, iteration) }
            let s = (0..<n).map { next.x[$0] - x[$0] }
            let y = (0..<n).map { next.g[$0] - g[$0] }
            let change = abs(f - next.f)
            x = next.x
            f = next.f
            g = next.g
            let sy = dot(s, y)
            if sy > 1e-12 * (dot(s, s) * dot(y, y)).squareRoot() {
                if !scaled {
                    h = identity(n).map { $0.map { $0 * sy / dot(y, y) } }
                    scaled = true
                }
                update(&h, s: s, y: y, sy: sy)
            }
            if let box, x.contains(where: { abs($0) >= box }) { return result(.boundary, iteration) }
            let gradientSmall = g.reduce(0) { max($0, abs($1)) } <= gradientTolerance * max(abs(f), 1)
            if change <= relativeTolerance * abs(f) && gradientSmall { return result(.converged, iteration) }
        }
        return result(.iterationLimit, maxIterations)
    }

    /// H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/(yᵀs).
    private func update(_ h: inout [[Double]], s: [Double], y: [Double], sy: Double) {
        let n = s.count
        let rho = 1 / sy
        let hy = multiply(h, y)
        let yhy = dot(y, hy)
        for i in 0..<n {
            for j in 0..<n {
                h[i][j] += -rho * (s[i] * hy[j] + hy[i] * s[j]) + (rho * rho * yhy + rho) * s[i] * s[j]
            }
        }
    }

    private func identity(_ n: Int) -> [[Double]] {
        (0..<n).map { i in (0..<n).map { $0 == i ? 1 : 0 } }
    }

    private func multiply(_ m: [[Double]], _ v: [Double]) -> [Double] {
        m.map { dot($0, v) }
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in a.indices { s += a[i] * b[i] }
        return s
    }
}
