/// What the outputs need to know about one identity component, independent of the as-of date: its
/// customer (when it has a qualifying order), its fans, and the extra facts some outputs collect
/// (`FactCollector`). Stored in agg_facts, so that a nightly run can take out exactly what a
/// component added when the join retires it.
struct ComponentFacts {
    struct Purchase { var day: Int32, platform: UInt8, net: Int }
    struct Customer {
        var key: String, platform: Int, channel: Int, firstDay: Int, firstFollowDay: Int?
        var purchases: [Purchase]   // by day
    }
    struct Fan { var followDay: Int, channel: Int }
    var component: Int
    var customer: Customer?
    var fans: [Fan] = []
    /// Bytes by `FactCollector.key`, for the outputs that asked for them.
    var extras: [String: [UInt8]] = [:]

    init(component: Int, customer: Customer?, fans: [Fan]) {
        self.component = component
        self.customer = customer
        self.fans = fans
    }

    /// An extra fact, decoded by its collector's type (nil: the collector found none).
    func extra<C: FactCollector>(_ collector: C.Type) -> C.Fact? {
        extras[C.key].map { var r = ByteReader(bytes: $0); return C.Fact(from: &r) }
    }
}

extension ComponentFacts {
    /// The customer, purchases as day deltas, the fans, then the extras (only when there are any,
    /// so that facts without extras are encoded as before extras existed).
    func encoded() -> [UInt8] {
        var w = ByteWriter()
        if let c = customer {
            w.int(1); w.string(c.key); w.int(c.platform); w.int(c.channel); w.int(c.firstDay)
            w.int(c.firstFollowDay == nil ? 0 : 1); w.int(c.firstFollowDay ?? 0)
            w.int(c.purchases.count)
            var prev = 0
            for pu in c.purchases { w.int(Int(pu.day) - prev); prev = Int(pu.day); w.int(Int(pu.platform)); w.int(pu.net) }
        } else {
            w.int(0)
        }
        w.int(fans.count)
        for f in fans { w.int(f.followDay); w.int(f.channel) }
        if !extras.isEmpty {
            w.int(extras.count)
            for (key, bytes) in extras.sorted(by: { $0.key < $1.key }) { w.string(key); w.blob(bytes) }
        }
        return w.bytes
    }

    init(component: Int, bytes: [UInt8]) {
        self.component = component
        var r = ByteReader(bytes: bytes)
        if r.int() == 1 {
            let key = r.string(), platform = r.int(), channel = r.int(), firstDay = r.int()
            let hasFollow = r.int() == 1, follow = r.int()
            var ps: [Purchase] = []
            let n = r.int()
            ps.reserveCapacity(n)
            var prev = 0
            for _ in 0..<n {
                prev += r.int()
                let pl = r.int()
                ps.append(Purchase(day: Int32(prev), platform: UInt8(pl), net: r.int()))
            }
            customer = Customer(key: key, platform: platform, channel: channel, firstDay: firstDay,
                                firstFollowDay: hasFollow ? follow : nil, purchases: ps)
        }
        let nf = r.int()
        for _ in 0..<nf { let d = r.int(); fans.append(Fan(followDay: d, channel: r.int())) }
        if !r.atEnd {
            for _ in 0..<r.int() { let key = r.string(); extras[key] = r.blob() }
        }
    }
}
