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
    func maximize(_ logLikelihood: ([Double]) -> (value: Double, gradient: [Double])) -> Outcome {
        func objective(_ theta: [Double]) -> (value: Double, gradient: [Double]) {
            let ll = logLikelihood(theta)
            return (-ll.value, ll.gradient.map { -$0 })
        }
        let start = [Double](repeating: 0, count: names.count)
        let qn = QuasiNewton(relativeTolerance: relativeTolerance, box: bound).minimize(from: start, objective)
        var outcome = Outcome(theta: qn.point, value: qn.value, converged: qn.converged, atEdge: false,
                              iterations: qn.iterations, evaluations: qn.evaluations, method: "quasi-newton", notes: [])
        if !qn.converged {
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
        for (name, v) in zip(names, outcome.theta) where abs(v) >= bound - 0.5 {
            outcome.atEdge = true
            outcome.edges.append(name)
            outcome.notes.append("\(name) ran to the edge of the search box (\(v < 0 ? "→ 0" : "→ ∞"))")
        }
        return outcome
    }
}
