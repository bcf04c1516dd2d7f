import Foundation

/// Little-endian integers in bytes read from a file (zip and OLE structures).
enum LittleEndian {
    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(u16(b, at)) | UInt32(u16(b, at + 2)) << 16 }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }

    /// `count` bytes of the file at `offset`, nil when the file has fewer.
    static func read(_ fd: Int32, at offset: Int64, count: Int) -> [UInt8]? {
        var b = [UInt8](repeating: 0, count: count)
        guard offset >= 0, count == 0 || pread(fd, &b, count, off_t(offset)) == count else { return nil }
        return b
    }
}
