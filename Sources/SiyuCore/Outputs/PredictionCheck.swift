/// prediction_check.csv: BG/NBD fitted with the as-of date moved back by the horizon (the
/// calibration date), each customer acquired by then predicted for the held-out days after it,
/// and compared with the purchase days they then made: one row per calibration frequency `0` … `6`,
/// `7+`, with `customers`, `predicted_mean` and `actual_mean` (repeat purchase days in the held-out
/// days per customer; empty where the row has no customer). The plot `lifetimes` draws as
/// "calibration vs holdout". Worked out by `CustomerModels`.
struct PredictionCheck: TableOutput {
    static let name = "prediction_check"
    static let columns = ["frequency", "customers", "predicted_mean", "actual_mean"]

    init() {}

    func table(_ context: OutputContext) throws -> OutputTable {
        let models = try CustomerModels.of(context)
        var t = OutputTable(name: Self.name, columns: Self.columns)
        for (bin, row) in models.check.enumerated() {
            let n = Double(row.customers)
            t.rows.append([bin == 7 ? "7+" : String(bin), String(row.customers),
                           row.customers > 0 ? Decimals.format(row.predicted / n, 4) : "",   // "" when not finite (nothing to predict from)
                           row.customers > 0 ? Decimals.format(Double(row.actual) / n, 4) : ""])
        }
        return t
    }
}
