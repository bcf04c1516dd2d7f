import Foundation

/// customer_key: the first 16 hex digits of `sha256(salt + "\u{1f}" + smallest node string)`
/// (docs/decisions.md). Inside the join a key is a 64-bit number (its hex digits read big-endian:
/// same order, an eighth of the memory of a String), hashed on both cores.
extension JoinStage {
    public static func customerKey(salt: String, smallestNode: String) -> String {
        String(SHA256.hexDigest(salt + "\u{1f}" + smallestNode).prefix(16))
    }

    /// Hex form of a 64-bit key (what `customerKey` returns: the first 16 hex digits of the digest).
    static func hex16(_ v: UInt64) -> String {
        SHA256.hex((0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) })
    }

    /// `customerKey` as a number (its hex digits read as one big-endian 64-bit value: same order).
    static func customerKey64(salt: [UInt8], node: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = SHA256()
        h.update(salt)
        h.update(CollectionOfOne(UInt8(0x1f)))
        h.update(UnsafeRawBufferPointer(node))
        let d = h.finalize()
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(d[k]) }
        return v
    }

    /// 64-bit customer keys of many node strings at once, on both cores; `node(i, &buffer)` appends
    /// the i-th node string.
    static func keys(count: Int, salt: [UInt8], _ node: (Int, inout [UInt8]) -> Void) -> [UInt64] {
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: max(count, 1))
        defer { buffer.deallocate() }
        let chunks = 2, size = (count + chunks - 1) / chunks
        withoutActuallyEscaping(node) { node in
            let work = Unchecked((node, buffer))
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let (node, out) = work.value
                let lo = c * size, hi = min(count, lo + size)
                guard lo < hi else { return }
                var buffer: [UInt8] = []
                for i in lo..<hi {
                    buffer.removeAll(keepingCapacity: true)
                    node(i, &buffer)
                    out[i] = buffer.withUnsafeBufferPointer { customerKey64(salt: salt, node: $0) }
                }
            }
        }
        return Array(buffer.prefix(count))
    }
}
