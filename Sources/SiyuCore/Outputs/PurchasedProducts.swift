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

/// Collects `PurchasedProducts` for every component with id >= `from`, in component order: the
/// item lines (stg_items) of the customer's qualifying orders (int_purchases, by stg_orders' rowid),
/// with the order's purchase day. A line's product is its code (the merchant's own: Tmall 商家编码,
/// JD 货号, else 商家SKUID), else its title; both were trimmed by clean, and a line with neither is
/// not in stg_items.
///
/// Two ways to the same facts. A full aggregate (`from` 0) reads stg_items once in table order,
/// keeps each line as 32-bit integers (its order as an `OrderKeyIndex` index, product, title),
/// reads the order keys once in key order (the covering index stg_orders_key) to find each order's
/// row, and sorts the lines by component: sequential reads only, about 40 bytes a line and 8 per
/// stg_orders row in memory (docs/performance.md). Seeking each line's order or each purchase's
/// lines in an index reads at random and took 3–5 times as long at 1M order lines. A night
/// (`from` > 0: a few new components) does look up each new purchase's lines, with one query in
/// component order.
struct PurchasedProductsCollector: FactCollector {
    static let key = "purchased_products"
    private let names: ProductNames.Registry
    /// A full aggregate: item lines by component, day, product, title; `next` is the first not handed out yet.
    private var lines: [SIMD4<Int32>] = [], next = 0
    /// A night: the query in component order, and whether it has a row.
    private var query: Statement?, has = false
    private var items: [(day: Int, product: Int, title: Int)] = []

    init(_ db: Database, from: Int) throws {
        names = try ProductNames.Registry(db)
        if from == 0, let lines = try Self.allLines(db, names) {
            self.lines = lines
            return
        }
        let st = try db.prepare("""
            SELECT p.customer_id, p.pay_day, i.code, i.title FROM int_purchases p
            JOIN stg_orders o ON o.rowid = p.stg_order_rowid
            JOIN stg_items i ON i.platform = o.platform AND i.order_id = o.order_id
            WHERE p.customer_id >= ? ORDER BY p.customer_id
            """)
        try st.bind([.int(from)])
        query = st
        has = try st.step()
    }

    /// Every item line of a qualifying order as (component, day, product, title), sorted; nil when
    /// an id or a day does not fit in 32 bits (then the query does it).
    private static func allLines(_ db: Database, _ names: ProductNames.Registry) throws -> [SIMD4<Int32>]? {
        let maxRowID = try db.scalarInt("SELECT COALESCE(max(rowid), 0) FROM stg_orders")
        let maxCustomer = try db.scalarInt("SELECT COALESCE(max(customer_id), 0) FROM int_purchases")
        guard maxRowID < Int32.max, maxCustomer < Int32.max else { return nil }
        // The purchase of each stg_orders row: its component and day (-1: not a qualifying order).
        var component = [Int32](repeating: -1, count: maxRowID + 1), day = [Int32](repeating: 0, count: maxRowID + 1)
        let ps = try db.prepare("SELECT stg_order_rowid, customer_id, pay_day FROM int_purchases")
        while try ps.step() {
            let r = ps.int(0), d = ps.int(2)
            guard d > Int32.min, d < Int32.max else { return nil }
            component[r] = Int32(ps.int(1))
            day[r] = Int32(d)
        }
        ps.reset()
        // Item lines in table order, their orders as key indexes: no index seek per line.
        var orders = OrderKeyIndex()
        var itemOrder: [Int32] = [], itemNames: [SIMD2<Int32>] = []
        let maxItem = try db.scalarInt("SELECT COALESCE(max(rowid), 0) FROM stg_items")   // rows (no deletes on a full clean)
        itemOrder.reserveCapacity(maxItem)
        itemNames.reserveCapacity(maxItem)
        let items = try db.prepare("SELECT platform, order_id, code, title FROM stg_items")
        while try items.step() {
            guard let l = try line(items.bytes(2), items.bytes(3), names) else { continue }
            itemOrder.append(Int32(orders.add(platform: items.bytes(0), orderID: items.bytes(1))))
            itemNames.append(SIMD2(Int32(l.product), Int32(l.title)))
        }
        items.reset()
        // The qualifying stg_orders row of each of those orders, from the key index read in order.
        var rowOf = [Int32](repeating: -1, count: orders.count)
        let keys = try db.prepare("SELECT platform, order_id, rowid FROM stg_orders")
        while try keys.step() {
            let r = keys.int(2)
            guard component[r] >= 0, let k = orders.index(platform: keys.bytes(0), orderID: keys.bytes(1)) else { continue }
            rowOf[k] = Int32(r)
        }
        keys.reset()
        var lines: [SIMD4<Int32>] = []
        lines.reserveCapacity(itemOrder.count)
        for (k, n) in zip(itemOrder, itemNames) where rowOf[Int(k)] >= 0 {
            let r = Int(rowOf[Int(k)])
            lines.append(SIMD4(component[r], day[r], n[0], n[1]))
        }
        lines.sort { $0[0] < $1[0] }   // by component (PurchasedProducts orders a component's lines)
        return lines
    }

    /// A line's product and title ids (title 0: none); nil without either.
    private static func line(_ code: UnsafeBufferPointer<UInt8>, _ title: UnsafeBufferPointer<UInt8>,
                             _ names: ProductNames.Registry) throws -> (product: Int, title: Int)? {
        let titleID = title.isEmpty ? 0 : try names.id(title)
        let productID = code.isEmpty ? titleID : try names.id(code)
        return productID == 0 ? nil : (productID, titleID)
    }

    mutating func collect(_ facts: ComponentFacts) throws -> PurchasedProducts? {
        items.removeAll(keepingCapacity: true)
        let c = facts.component
        if let st = query {
            while has, st.int(0) < c { has = try st.step() }
            while has, st.int(0) == c {
                if let l = try Self.line(st.bytes(2), st.bytes(3), names) { items.append((st.int(1), l.product, l.title)) }
                has = try st.step()
            }
        } else {
            while next < lines.count, Int(lines[next][0]) < c { next += 1 }
            while next < lines.count, Int(lines[next][0]) == c {
                items.append((Int(lines[next][1]), Int(lines[next][2]), Int(lines[next][3])))
                next += 1
            }
        }
        return items.isEmpty ? nil : PurchasedProducts(items: items)
    }
}
