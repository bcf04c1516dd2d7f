/// Zigzag varints and length-prefixed UTF-8: the encoding of a component's facts in agg_facts.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func int(_ v: Int) {
        var u = UInt64(bitPattern: Int64((v << 1) ^ (v >> 63)))
        while u >= 0x80 { bytes.append(UInt8(u & 0x7F) | 0x80); u >>= 7 }
        bytes.append(UInt8(u))
    }
    mutating func string(_ s: String) { int(s.utf8.count); bytes.append(contentsOf: s.utf8) }
    /// Length-prefixed raw bytes.
    mutating func blob(_ b: [UInt8]) { int(b.count); bytes.append(contentsOf: b) }
}

/// Reads what a `ByteWriter` wrote, in the same order.
struct ByteReader {
    let bytes: [UInt8]
    var i = 0
    var atEnd: Bool { i >= bytes.count }
    mutating func int() -> Int {
        var u: UInt64 = 0, shift: UInt64 = 0
        while i < bytes.count {
            let b = bytes[i]; i += 1
            u |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        let v = Int64(bitPattern: u)
        return Int((v >> 1) ^ -(v & 1))
    }
    mutating func string() -> String {
        let n = int()
        let s = String(decoding: bytes[i..<min(bytes.count, i + n)], as: UTF8.self)
        i += n
        return s
    }
    mutating func blob() -> [UInt8] {
        let n = int()
        let b = Array(bytes[i..<min(bytes.count, i + n)])
        i += n
        return b
    }
}
