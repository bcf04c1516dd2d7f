import Foundation

/// What int_customers and int_fans need from stg_* besides the graph, read on its own thread and
/// read-only connection: per fan (by index) its key and scene, per customer (in key order) its
/// first order's id and its acquisition channel.
/// Memory and time: `link` starts it once the graph is freed (the two never take memory at the
/// same time) and it overlaps the writes of groups and purchases on the main thread; it reads only
/// stg_*, committed by clean, so a second connection sees the same rows (an `immutable` one when
/// the writer of a scratch file does not use the WAL, see `Database.withoutWAL`).
final class DetailsFetch: @unchecked Sendable {
    struct Scene {
        var scene: String?, qrScene: String?, qrSceneStr: String?
        /// The fields a follow rule reads, by their `user/info` names.
        var ruleFields: [RuleField] {
            [RuleField(name: "subscribe_scene", value: scene), RuleField(name: "qr_scene", value: qrScene), RuleField(name: "qr_scene_str", value: qrSceneStr)]
        }
    }
    struct Details {
        var fanKey: [UInt64] = [], fanScene: [Int32] = [], scenes: [Scene] = []
        var firstOrderIDs: [UInt8] = [], firstOrderIDAt: [Int] = [], customerChannel: [Int32] = [], channels: [String] = []
    }
    let dbPath: String, pipeline: Pipeline, salt: [UInt8]
    let fanRowid: [Int], fanTs: [Int], earliestFan: [Int32]
    let firstRowid: [Int], firstPay: [Int], firstPlatform: [UInt16], platforms: [String]
    /// Opens the file immutable (no locks): a scratch file whose writer does not use the WAL.
    let immutable: Bool
    private var result: Result<Details, Error>?
    private let done = DispatchSemaphore(value: 0)
    private var started = false, waited = false

    init(dbPath: String, pipeline: Pipeline, salt: [UInt8], fanRowid: [Int], fanTs: [Int], earliestFan: [Int32],
         firstRowid: [Int], firstPay: [Int], firstPlatform: [UInt16], platforms: [String], immutable: Bool) {
        self.immutable = immutable
        self.dbPath = dbPath; self.pipeline = pipeline; self.salt = salt
        self.fanRowid = fanRowid; self.fanTs = fanTs; self.earliestFan = earliestFan
        self.firstRowid = firstRowid; self.firstPay = firstPay; self.firstPlatform = firstPlatform
        self.platforms = platforms
    }

    /// The details of `components`' customers and of `input`'s fans.
    convenience init(dbPath: String, pipeline: Pipeline, salt: [UInt8], input: LinkInput, components: Components, immutable: Bool) {
        let orders = input.orders, q = input.qualifying, customers = 0..<components.customerCount
        self.init(dbPath: dbPath, pipeline: pipeline, salt: salt, fanRowid: input.fans.rowid, fanTs: input.fans.ts,
                  earliestFan: components.earliestFan,
                  firstRowid: customers.map { orders.rowid[Int(q.order[components.firstQ($0)])] },
                  firstPay: customers.map { q.pay[components.firstQ($0)] },
                  firstPlatform: customers.map { q.platform[components.firstQ($0)] }, platforms: input.platforms.names,
                  immutable: immutable)
    }

    func start() {
        started = true
        let t = Thread { [self] in
            result = Result {
                let db = try Database(path: dbPath, readOnly: true, immutable: immutable)
                try db.execute("PRAGMA cache_size=-16384")   // lookups in rowid order: a small cache does
                return try fetch(db)
            }
            done.signal()
        }
        t.stackSize = 8 << 20
        t.start()
    }

    /// The details (waits for them). Called from the thread that started the fetch.
    @discardableResult
    func wait() -> Result<Details, Error> {
        guard started else { return .failure(SiyuError.internalError("join: details not started")) }
        if !waited { done.wait(); waited = true }
        return result!
    }

    private func fetch(_ db: Database) throws -> Details {
        var d = Details()
        try fetchFans(db, into: &d)
        try fetchCustomers(db, into: &d)
        return d
    }

    /// Fans in rowid order: the spelling of their openid (for the fan key, as a String spells
    /// it) and their scene and QR fields, interned by bytes (few distinct ones; each fan keeps
    /// its own record's spelling).
    private func fetchFans(_ db: Database, into d: inout Details) throws {
        struct SceneBytes: Hashable { var scene: [UInt8]?, qrScene: [UInt8]?, qrSceneStr: [UInt8]? }
        var sceneIndex: [SceneBytes: Int32] = [:]
        let fanCount = fanRowid.count
        d.fanKey = [UInt64](repeating: 0, count: fanCount)
        d.fanScene = [Int32](repeating: 0, count: fanCount)
        var byRowid = Array(0..<Int32(fanCount))
        byRowid.sort { fanRowid[Int($0)] < fanRowid[Int($1)] }
        let follow = try db.prepare("SELECT openid, scene, qr_scene, qr_scene_str FROM stg_follow_records WHERE rowid=?")
        var text: [UInt8] = []
        for f32 in byRowid {
            let f = Int(f32)
            follow.bindInt(fanRowid[f], at: 1)
            guard try follow.step() else { throw SiyuError.internalError("join: a follow record vanished while reading") }
            func field(_ c: Int32) -> [UInt8]? { follow.isNull(c) ? nil : Array(follow.bytes(c)) }
            let sb = SceneBytes(scene: field(1), qrScene: field(2), qrSceneStr: field(3))
            if let s = sceneIndex[sb] { d.fanScene[f] = s } else {
                d.fanScene[f] = Int32(d.scenes.count)
                sceneIndex[sb] = Int32(d.scenes.count)
                d.scenes.append(Scene(scene: follow.textOrNil(1), qrScene: follow.textOrNil(2), qrSceneStr: follow.textOrNil(3)))
            }
            text.removeAll(keepingCapacity: true)
            text.append(contentsOf: "openid:".utf8)
            let o = follow.bytes(0)
            if o.allSatisfy({ $0 < 0x80 }) { text.append(contentsOf: o) } else { text.append(contentsOf: String(decoding: o, as: UTF8.self).utf8) }
            d.fanKey[f] = text.withUnsafeBufferPointer { JoinStage.customerKey64(salt: salt, node: $0) }
            follow.reset()
        }
    }

    /// Customers: their first order's promo text and id, read in rowid order; the channel of the
    /// order's promo text, else of an earlier follow, else the platform's default.
    private func fetchCustomers(_ db: Database, into d: inout Details) throws {
        let customerCount = firstRowid.count
        var channels = AcquisitionChannels(pipeline: pipeline)
        d.customerChannel = [Int32](repeating: 0, count: customerCount)
        var ids: [UInt8] = [], idAt = [Int](repeating: 0, count: customerCount + 1)   // [start, end) in fetch order
        var fetchOrder = Array(0..<Int32(customerCount))
        fetchOrder.sort { firstRowid[Int($0)] < firstRowid[Int($1)] }
        var fetchedAt = [Int32](repeating: 0, count: customerCount)
        let promo = try db.prepare("SELECT promo, order_id, source FROM stg_orders WHERE rowid=?")
        for (k, c32) in fetchOrder.enumerated() {
            let c = Int(c32)
            promo.bindInt(firstRowid[c], at: 1)
            guard try promo.step() else { throw SiyuError.internalError("join: an order vanished while reading") }
            let promoText = promo.text(0), source = promo.text(2)
            let platform = platforms[Int(firstPlatform[c])]
            ids.append(contentsOf: promo.text(1).utf8)
            idAt[k + 1] = ids.count
            fetchedAt[c] = Int32(k)
            promo.reset()
            var channel = channels.ofOrder(promo: promoText, source: source, platform: platform)
            let e = earliestFan[c]
            if channel == nil, e >= 0, fanTs[Int(e)] < firstPay[c] { channel = channels.ofFollow(scene: d.fanScene[Int(e)], d.scenes) }
            d.customerChannel[c] = channels.id(channel ?? pipeline.defaultChannel(platform: platform))
        }
        d.channels = channels.names
        // First order ids by customer, in key order.
        d.firstOrderIDAt = [Int](repeating: 0, count: customerCount + 1)
        d.firstOrderIDs.reserveCapacity(ids.count)
        for c in 0..<customerCount {
            let k = Int(fetchedAt[c])
            d.firstOrderIDs.append(contentsOf: ids[idAt[k]..<idAt[k + 1]])
            d.firstOrderIDAt[c + 1] = d.firstOrderIDs.count
        }
    }
}

/// Customers' acquisition channels by the pipeline's rules, memoised (many orders share a promo
/// text, many fans a scene), and interned by bytes (each keeps its spelling).
struct AcquisitionChannels {
    let pipeline: Pipeline
    private(set) var names: [String] = []
    private var index: [[UInt8]: Int32] = [:]
    private var orderRule: [String: String?] = [:]   // promo text, source, platform -> channel
    private var followRule: [Int32: String?] = [:]   // scene -> channel

    init(pipeline: Pipeline) { self.pipeline = pipeline }

    mutating func id(_ c: String) -> Int32 {
        let b = Array(c.utf8)
        if let i = index[b] { return i }
        names.append(c); index[b] = Int32(names.count - 1)
        return Int32(names.count - 1)
    }

    /// The order rule matching a promo text. Rules may be scoped to sources and platforms: the
    /// cache knows both.
    mutating func ofOrder(promo: String, source: String, platform: String) -> String? {
        let ruleKey = promo + "\u{1d}" + source + "\u{1d}" + platform
        if let cached = orderRule[ruleKey] { return cached }
        let channel = pipeline.channel(for: .order, source: source, platform: platform, fields: PromoText.decode(promo))
        orderRule[ruleKey] = channel
        return channel
    }

    /// The follow rule matching a scene (index into `scenes`).
    mutating func ofFollow(scene s: Int32, _ scenes: [DetailsFetch.Scene]) -> String? {
        if let cached = followRule[s] { return cached }
        let channel = pipeline.channel(for: .follow, source: pipeline.followerSource, platform: nil, fields: scenes[Int(s)].ruleFields)
        followRule[s] = channel
        return channel
    }
}
