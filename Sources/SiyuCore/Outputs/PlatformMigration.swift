/// platform_migration.csv: one row per (acquisition platform or `all`, repurchase platform or `any`).
///
/// Keeps per acquisition group the customers acquired, and per (group, repurchase platform) those
/// with a repeat purchase day on it (`any`: a repeat purchase day at all).
struct PlatformMigration: TableOutput {
    static let name = "platform_migration"
    static let columns = ["acquisition_platform", "repurchase_platform", "acquired_customers", "customers_repurchasing_on", "share"]

    /// Group 0 is `all`, 1 + i is platform i.
    var acquired: [Int: Int] = [:]
    /// (group, 0 = any | 1 + platform)
    var repurchasing: [Pair: Int] = [:]

    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) {
        guard let customer = c.customer else { return }
        var on = Set<Int>()
        for pu in c.purchases where Int(pu.day) > customer.firstDay { on.insert(Int(pu.platform)) }
        for g in c.acquisitionGroups {
            acquired[g, default: 0] += s
            if c.days.count >= 2 { repurchasing[Pair(g, 0), default: 0] += s }
            for pl in on { repurchasing[Pair(g, 1 + pl), default: 0] += s }
        }
    }

    func table(_ context: OutputContext) -> OutputTable {
        var t = OutputTable(name: Self.name, columns: Self.columns)
        for (name, g) in context.population.groupsPrinted {
            for (rname, r) in [("any", 0)] + context.population.usedPlatforms {
                let n = repurchasing[Pair(g, r)] ?? 0, a = acquired[g] ?? 0
                t.rows.append([name, rname, String(a), String(n), Fmt.rate(n, a)])
            }
        }
        return t
    }
}
