import Foundation

/// Where the data of each zip entry starts. ZIPFoundation's `Archive` lists the entries but keeps
/// their offsets to itself, and its `extract` keeps asking the file for more bytes when a damaged
/// deflate stream runs past its entry: at the end of the file it loops for ever. The reader
/// therefore feeds ZIPFoundation's inflater from a provider that stops at the entry's last byte,
/// which needs these offsets: read here from the central directory (ZIP64 included), nothing else.
enum ZipEntryOffsets {
    private typealias LE = LittleEndian
    private static let eocdSignature: UInt32 = 0x0605_4B50, zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EOCDSignature: UInt32 = 0x0606_4B50, centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50

    /// The local-header offset of each central-directory record, in directory order (the order
    /// `Archive` lists its entries in); nil when the directory cannot be read.
    static func localHeaders(fd: Int32, fileSize: Int64) -> [UInt64]? {
        // The end record: the last signature in the final 22 + 65535 (comment) bytes.
        let tailSize = Int(min(fileSize, 22 + 65535))
        guard tailSize >= 22, let tail = LE.read(fd, at: fileSize - Int64(tailSize), count: tailSize) else { return nil }
        guard let e = stride(from: tailSize - 22, through: 0, by: -1).first(where: { LE.u32(tail, $0) == eocdSignature }) else { return nil }
        var count = UInt64(LE.u16(tail, e + 10)), size = UInt64(LE.u32(tail, e + 12)), start = UInt64(LE.u32(tail, e + 16))
        if count == 0xFFFF || size == 0xFFFF_FFFF || start == 0xFFFF_FFFF {
            let locatorAt = fileSize - Int64(tailSize) + Int64(e) - 20
            guard locatorAt >= 0, let locator = LE.read(fd, at: locatorAt, count: 20), LE.u32(locator, 0) == zip64LocatorSignature,
                  let record = LE.read(fd, at: Int64(clamping: LE.u64(locator, 8)), count: 56), LE.u32(record, 0) == zip64EOCDSignature else { return nil }
            count = LE.u64(record, 32)
            size = LE.u64(record, 40)
            start = LE.u64(record, 48)
        }
        guard start <= UInt64(fileSize), size <= UInt64(fileSize) - start, size <= 64 << 20, let cd = LE.read(fd, at: Int64(start), count: Int(size)) else { return nil }
        var offsets: [UInt64] = []
        var p = 0
        while offsets.count < count, p + 46 <= cd.count, LE.u32(cd, p) == centralSignature {
            let nameLength = Int(LE.u16(cd, p + 28)), extraLength = Int(LE.u16(cd, p + 30)), commentLength = Int(LE.u16(cd, p + 32))
            var offset = UInt64(LE.u32(cd, p + 42))
            if offset == 0xFFFF_FFFF {
                // The ZIP64 extra field (0x0001) holds, in order, the 64-bit sizes that are 0xFFFFFFFF, then the offset.
                var x = p + 46 + nameLength
                let end = min(x + extraLength, cd.count)
                while x + 4 <= end {
                    let id = LE.u16(cd, x), length = Int(LE.u16(cd, x + 2))
                    if id == 1 {
                        var field = x + 4
                        if LE.u32(cd, p + 24) == 0xFFFF_FFFF { field += 8 }   // uncompressed size
                        if LE.u32(cd, p + 20) == 0xFFFF_FFFF { field += 8 }   // compressed size
                        guard field + 8 <= min(x + 4 + length, end) else { return nil }
                        offset = LE.u64(cd, field)
                        break
                    }
                    x += 4 + length
                }
            }
            offsets.append(offset)
            p += 46 + nameLength + extraLength + commentLength
        }
        return offsets
    }

    /// Where the data of the entry whose local header is at `offset` starts.
    static func dataStart(fd: Int32, localHeader offset: UInt64) -> UInt64? {
        guard let h = LE.read(fd, at: Int64(clamping: offset), count: 30), LE.u32(h, 0) == localSignature else { return nil }
        return offset + 30 + UInt64(LE.u16(h, 26)) + UInt64(LE.u16(h, 28))
    }
}
