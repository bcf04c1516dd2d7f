/// The result of fitting a customer model (`BGNBD.fit`, `GammaGamma.fit`).
public struct ModelFit<Parameters: Sendable>: Sendable {
    public var parameters: Parameters
    /// Total log-likelihood at `parameters`, in the caller's units (time for BG/NBD, money for
    /// Gamma-Gamma), not divided by the number of customers.
    public var logLikelihood: Double
    /// The optimiser stopped on its tolerance: a step changed the log-likelihood by less than
    /// 1e−10 relative, with the gradient (in the log-parameters) below 1e−9 of it; or, after a
    /// fallback to the simplex, the log-likelihood varies by less than 1e−10 relative over it.
    public var converged: Bool
    /// The data cannot pin the parameters down: no customers, nothing the model can learn from
    /// (BG/NBD: nobody came back, so a and b are not identified; nobody was observed for any
    /// time), or a parameter ran to the edge of the search box (|log θ| ≥ 14.5 in scaled units:
    /// r, α → ∞ when purchase rates show no heterogeneity, p, q → ∞ when everybody spends the
    /// same). The parameters are finite and their predictions sensible, but they should not be
    /// published as estimates.
    public var degenerate: Bool
    /// The parameters the data does not pin down (a subset of the model's names): those that ran
    /// to the edge and the ones only identified together with them (BG/NBD: a and b → ∞ with
    /// a/(a + b) fixed is a dropout probability the same for everybody; r and α → ∞ with r/α fixed
    /// a purchase rate the same for everybody; Gamma-Gamma: q and γ likewise), or all of them when
    /// the data says nothing. Print them as not estimated; the others are estimates.
    public var unidentified: [String] = []
    /// Why the data itself limits the fit (`ModelDataLimit` codes), for the report to say in words.
    public var dataLimits: [String] = []
    /// False when the data holds nothing to predict from (every T is 0, or no customer): the
    /// predictions would be the search's start values and are left empty.
    public var predictive = true
    public var iterations: Int
    /// Likelihood evaluations (each with its gradient).
    public var evaluations: Int
    /// "quasi-newton", or "quasi-newton (why it stopped), then nelder-mead"; "none" for no data.
    public var method: String
    /// Customers (sum of counts) and distinct patterns fitted.
    public var customers: Int
    public var patterns: Int
    /// Customers passed but left out because the model cannot use them (Gamma-Gamma: frequency 0).
    public var ignoredCustomers: Int
    /// Why the fit is degenerate or not converged (or what else to know); empty otherwise.
    public var note: String

    /// A fit from the search's outcome; `dataNotes` are reasons the data itself is degenerate.
    init(parameters: Parameters, logLikelihood: Double, outcome: LogParameterSearch.Outcome,
         customers: Int, patterns: Int, ignoredCustomers: Int = 0, dataNotes: [String] = [], otherNotes: [String] = []) {
        self.parameters = parameters
        self.logLikelihood = logLikelihood
        self.converged = outcome.converged
        self.degenerate = outcome.atEdge || !dataNotes.isEmpty
        self.iterations = outcome.iterations
        self.evaluations = outcome.evaluations
        self.method = outcome.method
        self.customers = customers
        self.patterns = patterns
        self.ignoredCustomers = ignoredCustomers
        self.note = (outcome.notes + dataNotes + otherNotes).joined(separator: "; ")
        self.unidentified = outcome.edges
    }

    /// No data: the start values, degenerate and not converged.
    static func empty(_ parameters: Parameters, ignoredCustomers: Int = 0, note: String) -> ModelFit {
        var fit = ModelFit(parameters: parameters, logLikelihood: 0,
                           outcome: LogParameterSearch.Outcome(theta: [], value: 0, converged: false, atEdge: false, iterations: 0,
                                                               evaluations: 0, method: "none", notes: []),
                           customers: 0, patterns: 0, ignoredCustomers: ignoredCustomers, dataNotes: [note])
        fit.converged = false
        fit.predictive = false
        fit.dataLimits = [ModelDataLimit.noCustomers]
        return fit
    }
}

/// Codes for what the data cannot tell a model (`ModelFit.dataLimits`).
public enum ModelDataLimit {
    /// No customer to fit (Gamma-Gamma: no repeat customer).
    public static let noCustomers = "no_customers"
    /// Nobody came back: dropout is not identified and the purchase rate runs to 0.
    public static let nobodyCameBack = "nobody_came_back"
    /// Every T is 0.
    public static let nothingObserved = "nothing_observed"
    /// Every repeat customer's last purchase is on the last day observed: dropout not seen yet.
    public static let noDropoutSeen = "no_dropout_seen"
}
