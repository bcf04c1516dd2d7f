/// Maximum likelihood over the log-parameters of a customer model, shared by BG/NBD and
/// Gamma-Gamma: BFGS with the analytic gradient from log-parameters 0; if it does not converge
/// (the supremum is at infinity, or the line search stalls) the Nelder–Mead simplex takes over
/// from its best point. Both search the box |θᵢ| ≤ `bound`; a parameter that ends within 0.5 of
/// the edge ran off to 0 or ∞ and makes the fit degenerate.
struct LogParameterSearch {
    var names: [String]
    var relativeTolerance = 1e-10
    /// e^±15 = 3e−7 … 3e6, in the models' scaled units: far beyond any real shop's parameters.
    var bound = 15.0

    struct Outcome {
        var theta: [Double]
        /// The minimised function: the negative log-likelihood (in the model's scaled units).
        var value: Double
        var converged: Bool
        var atEdge: Bool
        var iterations: Int
        var evaluations: Int
        /// "quasi-newton", or "quasi-newton (why it stopped), then nelder-mead".
        var method: String
        var notes: [String]
        /// The parameters that ran to the edge of the box.
        var edges: [String] = []
    }

    /// Maximises `logLikelihood(θ)`, which returns the log-likelihood and its gradient in θ.
    func maximize(from start: [Double]? = nil, _ logLikelihood: ([Double]) -> (value: Double, gradient: [Double])) -> Outcome {
        func objective(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
            let ll = logLikelihood(theta)
            return (-ll.value, ll.gradient.map { -$0 })
        }
        let start = start ?? [Double](repeating: 0, count: names.count)
        let quasiNewton = QuasiNewton(relativeTolerance: relativeTolerance, box: bound)
        let qn = quasiNewton.minimize(from: start, objective)
        var outcome = Outcome(theta: qn.point, value: qn.value, converged: qn.converged, atEdge: false,
                              iterations: qn.iterations, evaluations: qn.evaluations, method: "quasi-newton", notes: [])
        if !qn.converged, let pinned = pinnedAtEdge(from: qn, quasiNewton, objective) {
            // The supremum is at infinity along some coordinates (b → ∞ with a/(a + b) fixed: one
            // dropout probability for all): those are held at the edge and the rest converge.
            outcome.theta = pinned.point
            outcome.value = pinned.value
            outcome.converged = true
            outcome.iterations += pinned.iterations
            outcome.evaluations += pinned.evaluations
            outcome.method = "quasi-newton (\(qn.stop.rawValue)), then quasi-newton with \(pinned.names.joined(separator: ", ")) held at the edge"
        } else if !qn.converged {
            let nm = NelderMead(relativeTolerance: relativeTolerance, box: bound)
                .minimize(from: qn.point) { objective($0).value }
            outcome.method = "quasi-newton (\(qn.stop.rawValue)), then nelder-mead"
            if nm.value <= qn.value {
                outcome.theta = nm.point
                outcome.value = nm.value
            }
            outcome.converged = nm.converged
            outcome.iterations += nm.iterations
            outcome.evaluations += nm.evaluations
            if !nm.converged { outcome.notes.append("did not converge in \(outcome.evaluations) evaluations") }
        }
        for (name, v) in zip(names, outcome.theta) where atEdge(v) {
            outcome.atEdge = true
            outcome.edges.append(name)
            outcome.notes.append("\(name) ran to the edge of the search box (\(v < 0 ? "→ 0" : "→ ∞"))")
        }
        return outcome
    }

    /// When the search stopped with coordinates at the edge of the box: BFGS again on the other
    /// coordinates with those held at the edge (and any that then reach it too), as long as each
    /// round converges and is no worse. nil when nothing is at the edge, or that does not converge;
    /// the simplex then takes over.
    func pinnedAtEdge(from qn: QuasiNewton.Result, _ quasiNewton: QuasiNewton,
                      _ objective: ([Double]) -> (value: Double, gradient: [Double]))
        -> (point: [Double], value: Double, iterations: Int, evaluations: Int, names: [String])? {
        var point = qn.point, value = qn.value
        var fixed = [Bool](repeating: false, count: point.count)
        var evaluations = 0, iterations = 0
        for _ in 0..<point.count {
            let edge = point.indices.filter { !fixed[$0] && atEdge(point[$0]) }
            if edge.isEmpty { return nil }
            for i in edge { fixed[i] = true; point[i] = point[i] > 0 ? bound : -bound }
            let free = point.indices.filter { !fixed[$0] }
            if free.isEmpty { return nil }
            let base = point
            func full(_ y: [Double]) -> [Double] {
                var x = base
                for (k, i) in free.enumerated() { x[i] = y[k] }
                return x
            }
            let r = quasiNewton.minimize(from: free.map { point[$0] }) { y in
                let (v, g) = objective(full(y))
                return (v, free.map { g[$0] })
            }
            evaluations += r.evaluations
            iterations += r.iterations
            point = full(r.point)
            if r.converged {
                guard r.value <= value + relativeTolerance * abs(value) else { return nil }
                return (point, r.value, iterations, evaluations, names.indices.filter { fixed[$0] }.map { names[$0] })
            }
            if r.stop != .boundary { return nil }
            value = min(value, r.value)
        }
        return nil
    }

    /// Within 0.5 of the box's edge: the parameter ran off to 0 or ∞.
    func atEdge(_ theta: Double) -> Bool { abs(theta) >= bound - 0.5 }
}
