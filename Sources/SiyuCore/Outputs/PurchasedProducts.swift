/// A customer's item lines as the product report needs them: for each purchase day, the products
/// bought on it and the titles their lines carry (ids of `ProductNames`), with how many lines.
/// Every qualifying order of the customer counts, whatever the as-of date (the output cuts at it):
/// the first and second purchase days give the first and next products, all days give the titles.
struct PurchasedProducts: ByteCodable {
    struct Line: Equatable {
        var day: Int, product: Int, title: Int
        /// Item lines of this (day, product, title).
        var count: Int
    }
    /// By day, product, title; one per distinct (day, product, title).
    private(set) var lines: [Line]

    /// Folds single item lines (any order) into counted, sorted lines.
    init(items: [(day: Int, product: Int, title: Int)]) {
        let sorted = items.sorted { ($0.day, $0.product, $0.title) < ($1.day, $1.product, $1.title) }
        var lines: [Line] = []
        for i in sorted {
            if let l = lines.last, l.day == i.day, l.product == i.product, l.title == i.title {
                lines[lines.count - 1].count += 1
            } else {
                lines.append(Line(day: i.day, product: i.product, title: i.title, count: 1))
            }
        }
        self.lines = lines
    }

    /// The distinct products bought on `day`, in id order.
    func products(on day: Int) -> [Int] {
        var out: [Int] = []
        for l in lines where l.day == day && out.last != l.product { out.append(l.product) }
        return out
    }

    init(from r: inout ByteReader) {
        let n = r.int()
        lines = []
        lines.reserveCapacity(n)
        var day = 0
        for _ in 0..<n {
            day += r.int()
            let product = r.int(), title = r.int()
            lines.append(Line(day: day, product: product, title: title, count: r.int()))
        }
    }

    func write(to w: inout ByteWriter) {
        w.int(lines.count)
        var day = 0
        for l in lines { w.int(l.day - day); day = l.day; w.int(l.product); w.int(l.title); w.int(l.count) }
    }
}

/// Collects `PurchasedProducts` for every component, streamed in component order by one query: the
/// item lines (stg_items) of the customer's qualifying orders (int_purchases, by stg_orders' rowid),
/// with the order's purchase day. A line's product is its code (the merchant's own: Tmall 商家编码,
/// JD 货号, else 商家SKUID), else its title; both were trimmed by clean, and a line with neither is
/// not in stg_items.
struct PurchasedProductsCollector: FactCollector {
    static let key = "purchased_products"
    private let st: Statement
    private var has: Bool
    private let names: ProductNames.Registry
    private var items: [(day: Int, product: Int, title: Int)] = []

    init(_ db: Database, from: Int) throws {
        names = try ProductNames.Registry(db)
        st = try db.prepare("""
            SELECT p.customer_id, p.pay_day, i.code, i.title FROM int_purchases p
            JOIN stg_orders o ON o.rowid = p.stg_order_rowid
            JOIN stg_items i ON i.platform = o.platform AND i.order_id = o.order_id
            WHERE p.customer_id >= ? ORDER BY p.customer_id
            """)
        try st.bind([.int(from)])
        has = try st.step()
    }

    mutating func collect(_ facts: ComponentFacts) throws -> PurchasedProducts? {
        while has, st.int(0) < facts.component { has = try st.step() }
        items.removeAll(keepingCapacity: true)
        while has, st.int(0) == facts.component {
            let code = st.bytes(2), title = st.bytes(3)
            let titleID = title.isEmpty ? 0 : try names.id(title)
            let productID = code.isEmpty ? titleID : try names.id(code)
            if productID != 0 { items.append((st.int(1), productID, titleID)) }
            has = try st.step()
        }
        return items.isEmpty ? nil : PurchasedProducts(items: items)
    }
}
