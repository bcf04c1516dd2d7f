import Foundation

/// Identity nodes with their exact keys packed in one byte arena: no String and no dictionary
/// entry per node, so a graph of millions of identities stays compact.
/// A key is the part of a node's string form after its kind prefix (`acct:<platform>:<buyer>`,
/// `openid:<id>`, `order:<platform>:<id>`, `phone:<11 digits>`, `unionid:<id>`). Keys are equal
/// when their text is the same code point for code point (their UTF-8 bytes), and ordered by
/// code points, as SQLite (which stores the nodes of a nightly run) compares them: no Unicode
/// normalisation, so no spelling depends on which file came first. Phone nodes keep their number.
///
/// Memory (docs/performance.md, "Join"): per node a kind byte, an 8-byte payload (the arena
/// offset or the phone number), a 32-bit parent and, while nodes are still added, a 32-bit tag
/// and a 32-bit slot of the open-addressing table (exact keys: no hash stands in for a key);
/// `sealLookups` frees the table and tags once every node is known, and `link` drops the graph
/// once int_nodes is written. Union-find runs on the `Int32` parents.
struct IdentityGraph {
    /// Kinds in the order their string forms sort ("acct:" < "openid:" < "order:" < "phone:" < "unionid:").
    enum Kind: UInt8 { case acct = 0, openid, order, phone, unionid }
    static let prefixes = ["acct:", "openid:", "order:", "phone:", "unionid:"]

    private(set) var kinds: [Kind] = []
    /// For phone nodes the number, for the others the offset of the key in `arena`.
    private var payload: [UInt64] = []
    /// High hash bits of each node, to skip most key comparisons while probing.
    private var tags: [UInt32] = []
    private var parent: [Int32] = []
    /// Each key: its length (LEB128), then its UTF-8 bytes.
    private var arena: [UInt8] = []
    /// Open addressing over node indexes (-1: empty); linear probing.
    private var slots: [Int32] = []

    init(capacity: Int) {
        kinds.reserveCapacity(capacity)
        payload.reserveCapacity(capacity)
        tags.reserveCapacity(capacity)
        parent.reserveCapacity(capacity)
        arena.reserveCapacity(capacity * 16)
        var n = 1024
        while n * 7 < capacity * 10 { n <<= 1 }
        slots = Array(repeating: -1, count: n)
    }

    var count: Int { parent.count }

    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33; h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33; h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    static func hash(_ kind: Kind, _ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9e37_79b9_7f4a_7c15 &* (UInt64(kind.rawValue) &+ 1) ^ UInt64(key.count)
        let raw = UnsafeRawBufferPointer(key)
        var i = 0
        while i + 8 <= raw.count {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        var tail: UInt64 = 0, shift: UInt64 = 0
        while i < raw.count { tail |= UInt64(raw[i]) << shift; shift += 8; i += 1 }
        return mix(h ^ tail ^ 0x5851_f42d_4c95_7f2d)
    }

    static func hash(phone: UInt64) -> UInt64 { mix(phone ^ 0x2545_f491_4f6c_dd1d) }

    /// The key bytes of node `i` (not a phone).
    @inline(__always) func withKey<R>(_ i: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        arena.withUnsafeBufferPointer { a in
            var at = Int(payload[Int(i)]), length = 0, shift = 0
            while true {
                let b = a[at]; at += 1
                length |= Int(b & 0x7f) << shift
                if b < 0x80 { break }
                shift += 7
            }
            return body(UnsafeBufferPointer(rebasing: a[at..<(at + length)]))
        }
    }

    private func keyEquals(_ i: Int32, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        withKey(i) { k in k.count == key.count && (k.count == 0 || memcmp(k.baseAddress!, key.baseAddress!, k.count) == 0) }
    }

    /// The slot of `key`, and its node when present.
    private func probe(_ kind: Kind, _ key: UnsafeBufferPointer<UInt8>, _ h: UInt64) -> (slot: Int, node: Int32?) {
        let mask = slots.count - 1, tag = UInt32(truncatingIfNeeded: h >> 32)
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let n = slots[s]
            if n < 0 { return (s, nil) }
            if tags[Int(n)] == tag, kinds[Int(n)] == kind, keyEquals(n, key) { return (s, n) }
            s = (s + 1) & mask
        }
    }

    private mutating func add(_ kind: Kind, _ payloadValue: UInt64, hash h: UInt64, slot: Int) -> Int32 {
        let i = Int32(parent.count)
        kinds.append(kind)
        payload.append(payloadValue)
        tags.append(UInt32(truncatingIfNeeded: h >> 32))
        parent.append(i)
        slots[slot] = i
        if parent.count * 10 > slots.count * 7 { grow() }
        return i
    }

    private mutating func grow() {
        var next = [Int32](repeating: -1, count: slots.count * 2)
        let mask = next.count - 1
        for i in 0..<Int32(count) {
            let h = kinds[Int(i)] == .phone ? Self.hash(phone: payload[Int(i)]) : withKey(i) { Self.hash(kinds[Int(i)], $0) }
            var s = Int(truncatingIfNeeded: h) & mask
            while next[s] >= 0 { s = (s + 1) & mask }
            next[s] = i
        }
        slots = next
    }

    private mutating func append(_ kind: Kind, key: UnsafeBufferPointer<UInt8>, hash h: UInt64, slot: Int) -> Int32 {
        let at = arena.count
        var length = key.count
        repeat {
            arena.append(UInt8(length & 0x7f) | (length > 0x7f ? 0x80 : 0))
            length >>= 7
        } while length > 0
        arena.append(contentsOf: key)
        return add(kind, UInt64(at), hash: h, slot: slot)
    }

    mutating func node(_ kind: Kind, _ key: UnsafeBufferPointer<UInt8>) -> Int32 {
        let h = Self.hash(kind, key)
        let (slot, found) = probe(kind, key, h)
        if let found { return found }
        return append(kind, key: key, hash: h, slot: slot)
    }

    mutating func node(_ kind: Kind, _ key: String) -> Int32 {
        var k = key
        return k.withUTF8 { node(kind, $0) }
    }

    /// The slot of phone `number`, and its node when present.
    @inline(__always) private func probe(phone number: UInt64, _ h: UInt64) -> (slot: Int, node: Int32?) {
        let mask = slots.count - 1, tag = UInt32(truncatingIfNeeded: h >> 32)
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let n = slots[s]
            if n < 0 { return (s, nil) }
            if tags[Int(n)] == tag, kinds[Int(n)] == .phone, payload[Int(n)] == number { return (s, n) }
            s = (s + 1) & mask
        }
    }

    mutating func phone(_ number: UInt64) -> Int32 {
        let h = Self.hash(phone: number)
        let (slot, found) = probe(phone: number, h)
        if let found { return found }
        return add(.phone, number, hash: h, slot: slot)
    }

    /// The node of `kind` and `key` when it is known (nothing is added).
    func existing(_ kind: Kind, _ key: UnsafeBufferPointer<UInt8>) -> Int32? {
        probe(kind, key, Self.hash(kind, key)).node
    }

    func existingPhone(_ number: UInt64) -> Int32? { probe(phone: number, Self.hash(phone: number)).node }

    /// The node whose string form is `text` (`acct:…`, `phone:…`, …), when it is known.
    func existing(string text: String) -> Int32? {
        for (k, prefix) in Self.prefixes.enumerated() where text.hasPrefix(prefix) {
            let key = text.dropFirst(prefix.count)
            let kind = Kind(rawValue: UInt8(k))!
            if kind == .phone { return UInt64(key).flatMap { existingPhone($0) } }
            var bytes = Array(key.utf8)
            return bytes.withUnsafeMutableBufferPointer { existing(kind, UnsafeBufferPointer($0)) }
        }
        return nil
    }

    /// Frees the lookup table once every node is known (`node` and `phone` must not be called after).
    mutating func sealLookups() {
        slots = []
        tags = []
    }

    mutating func find(_ x: Int32) -> Int32 {
        var r = x
        while parent[Int(r)] != r { r = parent[Int(r)] }
        var c = x
        while parent[Int(c)] != r { let n = parent[Int(c)]; parent[Int(c)] = r; c = n }
        return r
    }

    mutating func union(_ a: Int32, _ b: Int32) {
        let ra = find(a), rb = find(b)
        if ra != rb { if ra < rb { parent[Int(rb)] = ra } else { parent[Int(ra)] = rb } }
    }

    /// Order of two nodes' string forms (kind prefix, then key) by code points (UTF-8 bytes).
    func less(_ a: Int32, _ b: Int32) -> Bool {
        let ka = kinds[Int(a)], kb = kinds[Int(b)]
        if ka != kb { return ka.rawValue < kb.rawValue }
        if ka == .phone { return payload[Int(a)] < payload[Int(b)] }
        return withKey(a) { x in
            withKey(b) { y in
                let n = min(x.count, y.count)
                let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
                return c != 0 ? c < 0 : x.count < y.count
            }
        }
    }

    /// Appends node `i`'s string form to `out`.
    func appendString(_ i: Int32, to out: inout [UInt8]) {
        let k = kinds[Int(i)]
        out.append(contentsOf: Self.prefixes[Int(k.rawValue)].utf8)
        if k == .phone { out.append(contentsOf: String(payload[Int(i)]).utf8); return }
        withKey(i) { out.append(contentsOf: $0) }
    }

    func string(_ i: Int32) -> String {
        var out: [UInt8] = []
        appendString(i, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Every node's root, with paths fully compressed: `parent` then maps each node to its root.
    mutating func roots() -> [Int32] {
        for i in 0..<Int32(count) { _ = find(i) }
        return parent
    }

    /// The smallest node of every component, indexed by root (-1 for non-roots).
    func smallestNodes(roots: [Int32]) -> [Int32] {
        var best = [Int32](repeating: -1, count: count)
        for i in 0..<Int32(count) {
            let r = Int(roots[Int(i)])
            let b = best[r]
            if b < 0 || less(i, b) { best[r] = i }
        }
        return best
    }
}
