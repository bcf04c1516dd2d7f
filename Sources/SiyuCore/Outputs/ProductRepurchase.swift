/// product_repurchase.csv: one row per (first product, acquisition platform or `all`): how many
/// customers a product brought in and how many of them came back within 90 and 180 days, with the
/// product they most often bought on their second purchase day.
///
/// Keeps per (acquisition platform, first product) the first customers by first purchase day, with
/// how many of them had a second purchase day within days 1–89 and 1–179: whether a window is
/// complete depends on the as-of date, so the eligible customers are summed when the table is
/// printed, not when a component is added. Beside them, per (first product, next product) the
/// customers, and per (product, title) the item lines of every qualifying order up to the as-of date
/// (the title printed). `all` is the sum of the platforms (each customer has one acquisition
/// platform). Products and titles are ids of `ProductNames`; 0 is `(unknown)`.
struct ProductRepurchase: TableOutput {
    static let name = "product_repurchase"
    static let columns = ["product", "title", "acquisition_platform", "first_customers", "eligible_90d", "repeat_customers_90d",
                          "repeat_rate_90d", "eligible_180d", "repeat_customers_180d", "repeat_rate_180d", "next_product",
                          "next_product_customers"]
    static var collectors: [any FactCollector.Type] { [PurchasedProductsCollector.self] }
    static let unknown = 0

    struct Count: Equatable { var n = 0, r90 = 0, r180 = 0 }
    struct Cell {
        /// First customers by first purchase day.
        var byDay: [Int: Count] = [:]
        /// Customers by product on their second purchase day.
        var next: [Int: Int] = [:]
    }
    /// (acquisition platform id, first product)
    var cells: [Pair: Cell] = [:]
    /// (product, title): item lines of qualifying orders up to the as-of date.
    var titleLines: [Pair: Int] = [:]

    init() {}

    static func reset(_ db: Database) throws { try ProductNames.reset(db) }

    mutating func add(_ c: ComponentView, sign s: Int, context: OutputContext) {
        guard let customer = c.customer else { return }
        let items = c.facts.extra(PurchasedProductsCollector.self)
        let first = customer.firstDay, second = c.days.count > 1 ? c.days[1] : nil
        var firstProducts = items?.products(on: first) ?? []
        if firstProducts.isEmpty { firstProducts = [Self.unknown] }
        let next = second.flatMap { items?.products(on: $0) } ?? []
        let gap = second.map { $0 - first } ?? Int.max
        let count = Count(n: s, r90: gap <= 89 ? s : 0, r180: gap <= 179 ? s : 0)
        for p in firstProducts {
            let key = Pair(customer.platform, p)
            cells[key, default: Cell()].add(day: first, count, next: next, sign: s)   // in place: no copy of the cell
            if s < 0, cells[key]?.isEmpty == true { cells[key] = nil }
        }
        for l in items?.lines ?? [] where l.day <= context.asOf && l.title != 0 {
            let key = Pair(l.product, l.title), v = titleLines[key, default: 0] + s * l.count
            titleLines[key] = v == 0 ? nil : v
        }
    }

    /// One printed row's sums.
    struct Summary {
        var n = 0, e90 = 0, r90 = 0, e180 = 0, r180 = 0
        var next: [Int: Int] = [:]
    }

    func table(_ context: OutputContext) throws -> OutputTable {
        var t = OutputTable(name: Self.name, columns: Self.columns)
        let names = try ProductNames.load(context.wh.db)
        func name(_ id: Int) -> String { id == Self.unknown ? "(unknown)" : names[id] ?? "" }
        // Per group (-1 = all, else the platform id), per first product.
        var groups: [Int: [Int: Summary]] = [:]
        for (key, cell) in cells {
            let s = cell.summary(asOf: context.asOf)
            guard s.n != 0 else { continue }
            for g in [-1, key.a] { groups[g, default: [:]][key.b, default: Summary()].merge(s) }
        }
        let platforms = context.population.platforms
        let order = [-1] + groups.keys.filter { $0 >= 0 }.sorted { platforms[$0].precedesByCodePoint(platforms[$1]) }
        let titles = bestTitles(names)
        for g in order {
            guard let products = groups[g] else { continue }
            let sorted = products.sorted { a, b in
                if (a.key == Self.unknown) != (b.key == Self.unknown) { return b.key == Self.unknown }
                if a.value.n != b.value.n { return a.value.n > b.value.n }
                return name(a.key).precedesByCodePoint(name(b.key))
            }
            for (product, s) in sorted {
                let next = s.next.filter { $0.value > 0 }.min { a, b in
                    a.value != b.value ? a.value > b.value : name(a.key).precedesByCodePoint(name(b.key))
                }
                t.rows.append([name(product), titles[product] ?? "", g < 0 ? "all" : platforms[g], String(s.n),
                               String(s.e90), String(s.r90), Fmt.rate(s.r90, s.e90), String(s.e180), String(s.r180), Fmt.rate(s.r180, s.e180),
                               next.map { name($0.key) } ?? "", String(next?.value ?? 0)])
            }
        }
        return t
    }

    /// Each product's title: the one on most of its item lines (ties: the smallest by code point).
    func bestTitles(_ names: [Int: String]) -> [Int: String] {
        var best: [Int: (title: String, lines: Int)] = [:]
        for (key, lines) in titleLines where lines > 0 {
            let title = names[key.b] ?? ""
            if let b = best[key.a], b.lines > lines || (b.lines == lines && !title.precedesByCodePoint(b.title)) { continue }
            best[key.a] = (title, lines)
        }
        return best.mapValues { $0.title }
    }
}

extension ProductRepurchase.Cell {
    var isEmpty: Bool { byDay.isEmpty && next.isEmpty }

    mutating func add(day: Int, _ c: ProductRepurchase.Count, next products: [Int], sign s: Int) {
        byDay[day, default: .init()].add(c)
        if byDay[day] == .init() { byDay[day] = nil }
        for q in products {
            let v = next[q, default: 0] + s
            next[q] = v == 0 ? nil : v
        }
    }

    /// The first customers, and those whose 90- and 180-day windows are complete at `asOf` (first
    /// purchase day + 89 (179) ≤ as-of) with how many of them came back within it.
    func summary(asOf: Int) -> ProductRepurchase.Summary {
        var s = ProductRepurchase.Summary()
        for (day, c) in byDay {
            s.n += c.n
            if day + 89 <= asOf { s.e90 += c.n; s.r90 += c.r90 }
            if day + 179 <= asOf { s.e180 += c.n; s.r180 += c.r180 }
        }
        s.next = next
        return s
    }
}

extension ProductRepurchase.Count {
    mutating func add(_ c: Self) { n += c.n; r90 += c.r90; r180 += c.r180 }
}

extension ProductRepurchase.Summary {
    mutating func merge(_ o: Self) {
        n += o.n; e90 += o.e90; r90 += o.r90; e180 += o.e180; r180 += o.r180
        for (q, v) in o.next { next[q, default: 0] += v }
    }
}

// MARK: saved in agg_state as flat integer lists (one cell per first product and day can be many)

extension ProductRepurchase {
    private enum CodingKeys: String, CodingKey { case cells, titleLines }
    /// A cell as `[platform, product, days, day, n, r90, r180, …, next product, customers, …]`.
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for a in try c.decode([[Int]].self, forKey: .cells) {
            guard a.count >= 3, a.count >= 3 + 4 * a[2], (a.count - 3 - 4 * a[2]) % 2 == 0 else {
                throw DecodingError.dataCorruptedError(forKey: .cells, in: c, debugDescription: "a product_repurchase cell of \(a.count) numbers")
            }
            var cell = Cell()
            var i = 3
            for _ in 0..<a[2] { cell.byDay[a[i]] = Count(n: a[i + 1], r90: a[i + 2], r180: a[i + 3]); i += 4 }
            while i < a.count { cell.next[a[i]] = a[i + 1]; i += 2 }
            cells[Pair(a[0], a[1])] = cell
        }
        let t = try c.decode([Int].self, forKey: .titleLines)
        guard t.count % 3 == 0 else { throw DecodingError.dataCorruptedError(forKey: .titleLines, in: c, debugDescription: "titleLines") }
        for i in stride(from: 0, to: t.count, by: 3) { titleLines[Pair(t[i], t[i + 1])] = t[i + 2] }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var saved: [[Int]] = []
        for (key, cell) in cells {
            var a = [key.a, key.b, cell.byDay.count]
            for (day, n) in cell.byDay { a += [day, n.n, n.r90, n.r180] }
            for (q, v) in cell.next { a += [q, v] }
            saved.append(a)
        }
        try c.encode(saved, forKey: .cells)
        try c.encode(titleLines.flatMap { [$0.key.a, $0.key.b, $0.value] }, forKey: .titleLines)
    }
}
