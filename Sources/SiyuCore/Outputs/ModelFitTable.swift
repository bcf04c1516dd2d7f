/// model_fit.csv, long format: one row per (model, segment, parameter), BG/NBD (`r, alpha, a, b`)
/// then Gamma-Gamma (`p, q, gamma`), each followed by its `log_likelihood`; segment `all`, then each
/// acquisition platform with at least `[predictions] segment_min_customers` customers, fitted on
/// its own (`CustomerModels`). `customers` is what the model was fitted on: every customer for
/// BG/NBD, those with frequency > 0 for Gamma-Gamma.
///
/// A parameter the data cannot estimate (`ModelFit.unidentified`: nobody came back, no repeat
/// spend, a parameter that ran to 0 or ∞ with those tied to it) is printed empty rather than as
/// the edge of the search; the log-likelihood is
/// printed whenever there were customers. Nothing is kept between runs: the fits are a function
/// of customer_summary (and reused from agg_model_cache when it did not change).
struct ModelFitTable: TableOutput {
    static let name = "model_fit"
    static let columns = ["model", "segment", "customers", "parameter", "value"]

    init() {}

    func table(_ context: OutputContext) throws -> OutputTable {
        let models = try CustomerModels.of(context)
        var t = OutputTable(name: Self.name, columns: Self.columns)
        for (model, names) in [("bgnbd", ["r", "alpha", "a", "b"]), ("gamma_gamma", ["p", "q", "gamma"])] {
            for s in models.segments {
                let fit = model == "bgnbd" ? s.bgnbd.summary : s.gammaGamma.summary
                for (name, v) in zip(names, fit.parameters) {
                    let estimated = fit.customers > 0 && !fit.unidentified.contains(name)
                    t.rows.append([model, s.name, String(fit.customers), name, estimated ? SignificantDigits.format(v) : ""])
                }
                // A log-likelihood within 1e-6 of 0 is 0 (nobody came back: the supremum, approached
                // to rounding noise such as -9.4e-13, which six significant digits would print).
                let ll = abs(fit.logLikelihood) < 1e-6 ? 0 : fit.logLikelihood
                t.rows.append([model, s.name, String(fit.customers), "log_likelihood", fit.customers > 0 ? SignificantDigits.format(ll) : ""])
            }
        }
        return t
    }
}
