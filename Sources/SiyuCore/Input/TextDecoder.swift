import CIconv
import Foundation

/// Text encodings siyu recognises in exports.
public enum TextEncoding: String, Sendable {
    case utf8 = "UTF-8"
    case utf8BOM = "UTF-8-BOM"
    case gb18030 = "GB18030"   // superset of GBK and GB2312
    case workbook = "xlsx"     // a workbook's XML (UTF-8 inside its zip)
}

public struct DecodeError: Error, CustomStringConvertible {
    public let file: String
    public let byteOffset: Int
    public let encoding: TextEncoding
    public var description: String {
        "\(file): bytes at offset \(byteOffset) are not valid \(encoding.rawValue); re-export the file as UTF-8 or GBK, or remove the damaged bytes"
    }
}

/// Streams a file as UTF-8 chunks, converting GBK/GB18030 with iconv.
/// Encoding: a UTF-8 BOM means UTF-8; otherwise the first 256 KiB decide: valid UTF-8 stays UTF-8,
/// anything else is read as GB18030 (which contains GBK and GB2312).
public final class UTF8ChunkReader {
    public let path: String
    public private(set) var encoding: TextEncoding = .utf8
    public private(set) var bytesRead = 0
    /// SHA-256 of the raw bytes, computed on a helper thread from the chunks as they are read
    /// (one pass over the file, and the hashing overlaps decoding and parsing).
    private let hashQueue = BlockingQueue<Data?>(capacity: 8)
    private let hashDone = BlockingQueue<String>(capacity: 1)
    private var hashStarted = false

    /// Waits for the hash of everything read so far; call once, after the last chunk.
    public func sha256() -> String {
        startHashing()
        hashQueue.push(nil)
        hashFinished = true
        return hashDone.pop()
    }
    private var hashFinished = false

    private func startHashing() {
        guard !hashStarted else { return }
        hashStarted = true
        let q = hashQueue, done = hashDone
        Thread {
            var h = SHA256()
            while let d = q.pop() { h.update(d) }
            done.push(SHA256.hex(h.finalize()))
        }.start()
    }
    private let handle: FileHandle
    private var cd: iconv_t?
    private var pending: [UInt8] = []   // undecoded tail (incomplete multibyte sequence)
    private var first = true
    private let chunkSize: Int

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        let h = try InputFile.open(path)
        self.path = path
        self.handle = h
        self.chunkSize = chunkSize
    }

    deinit {
        if hashStarted && !hashFinished { hashQueue.push(nil); _ = hashDone.pop() }
        if let cd { iconv_close(cd) }
        try? handle.close()
    }

    /// Calls `body` with each decoded UTF-8 chunk until end of file.
    public func forEachChunk(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var offsetOfPending = 0
        while true {
            let data = handle.readData(ofLength: first ? max(chunkSize, 1 << 18) : chunkSize)
            let atEOF = data.isEmpty
            startHashing()
            if !data.isEmpty { hashQueue.push(data) }
            var bytes = pending
            bytes.append(contentsOf: data)
            bytesRead += data.count
            if first {
                first = false
                if bytes.starts(with: [0x1F, 0x8B]) {
                    throw SiyuError.input(file: path, line: nil, column: nil, message: "the file is gzip-compressed; unpack it (gunzip) and put the export itself in the folder")
                }
                if bytes.starts(with: [0xFF, 0xFE, 0x00, 0x00]) || bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF]) {
                    throw SiyuError.input(file: path, line: nil, column: nil, message: "the file is UTF-32 text; siyu reads UTF-8 and GBK: open it and save it as \"CSV UTF-8\"")
                }
                if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) || Self.looksLikeUTF16(bytes) {
                    throw SiyuError.input(file: path, line: nil, column: nil, message: "the file is UTF-16 text (Excel's \"Unicode Text\" or a tool's UTF-16 export); siyu reads UTF-8 and GBK: open it and save it as \"CSV UTF-8\", or export CSV from the back office again")
                }
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
                    encoding = .utf8BOM
                    bytes.removeFirst(3)
                    offsetOfPending = 3
                    decided = true
                } else if !bytes[0..<(atEOF ? bytes.count : Self.completeUTF8Length(bytes))].contains(where: { $0 >= 0x80 }) {
                    encoding = .utf8   // plain ASCII so far (a cut character aside): decided at the first byte that is not
                } else if Self.isValidUTF8Prefix(bytes, atEOF: data.count < max(chunkSize, 1 << 18)) {
                    encoding = .utf8
                    decided = true
                } else {
                    try startGB18030()
                }
            } else if !decided, encoding == .utf8, let k = bytes.firstIndex(where: { $0 >= 0x80 }) {
                // The first non-ASCII byte after a long ASCII start (a GBK spend report whose first
                // MiB is numbers): UTF-8 if what follows is, GBK otherwise. ASCII reads the same in both.
                let tail = Array(bytes[k...])
                if !atEOF && Self.completeUTF8Length(tail) == 0 {
                    // The first non-ASCII character is cut by the chunk's end: decide with the next chunk.
                    try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<k])) }
                    offsetOfPending += k
                    pending = tail
                    continue
                }
                decided = true
                if !Self.isValidUTF8Prefix(tail, atEOF: atEOF) {
                    try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<k])) }
                    offsetOfPending += k
                    bytes.removeFirst(k)
                    try startGB18030()
                }
            }
            if bytes.isEmpty { if atEOF { break } else { continue } }
            if encoding == .gb18030 {
                let (out, consumed, bad) = convert(bytes)
                if let bad {
                    throw DecodeError(file: path, byteOffset: offsetOfPending + bad, encoding: encoding)
                }
                pending = Array(bytes[consumed...])
                offsetOfPending += consumed
                try out.withUnsafeBufferPointer { try body($0) }
                if atEOF {
                    if !pending.isEmpty { throw SiyuError.input(file: path, line: nil, column: nil, message: "the file ends inside a multibyte character at byte \(offsetOfPending); it looks truncated, download it again") }
                    break
                }
            } else {
                // Keep an incomplete trailing UTF-8 sequence for the next chunk.
                var cut = bytes.count
                if !atEOF { cut = Self.completeUTF8Length(bytes) }
                if let bad = Self.firstInvalidUTF8(bytes[0..<cut]) {
                    if atEOF, cut - bad < 4, Self.completeUTF8Length(Array(bytes[bad..<cut])) == 0 {
                        throw SiyuError.input(file: path, line: nil, column: nil, message: "the file ends inside a character at byte \(offsetOfPending + bad); it looks truncated, download it again")
                    }
                    throw DecodeError(file: path, byteOffset: offsetOfPending + bad, encoding: encoding)
                }
                pending = Array(bytes[cut...])
                offsetOfPending += cut
                try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[0..<cut])) }
                if atEOF { break }
            }
        }
    }

    /// Whether the encoding has been told by a BOM or a non-ASCII byte (until then the file is ASCII).
    private var decided = false

    private func startGB18030() throws {
        encoding = .gb18030
        decided = true
        cd = iconv_open("UTF-8", "GB18030")
        if cd == iconv_t(bitPattern: -1) { throw SiyuError.internalError("iconv cannot convert GB18030 on this system") }
    }

    /// UTF-16 without a byte order mark: a NUL in every other byte of the start.
    /// UTF-16 without a byte order mark: NUL bytes on one side of the code units only (ASCII
    /// punctuation and digits between Chinese characters), never on the other.
    static func looksLikeUTF16(_ b: [UInt8]) -> Bool {
        let head = Array(b.prefix(512))
        guard head.count >= 8 else { return false }
        var even = 0, odd = 0
        for (i, x) in head.enumerated() where x == 0 { if i % 2 == 0 { even += 1 } else { odd += 1 } }
        return (max(even, odd) >= 4 && min(even, odd) == 0) || (even + odd) * 3 >= head.count
    }

    /// Converts as much as possible; returns output, bytes consumed, and the offset of an invalid sequence.
    private func convert(_ input: [UInt8]) -> ([UInt8], Int, Int?) {
        var out = [UInt8](repeating: 0, count: input.count * 2 + 16)
        var consumed = 0
        var produced = 0
        var badAt: Int?
        input.withUnsafeBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(mutating: inBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuf.count
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuf.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outLeft = outBuf.count
                let rc = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                consumed = inBuf.count - inLeft
                produced = outBuf.count - outLeft
                if rc == -1 && siyu_errno() == EILSEQ { badAt = consumed }
            }
        }
        out.removeSubrange(produced...)
        return (out, consumed, badAt)
    }

    static func completeUTF8Length(_ b: [UInt8]) -> Int {
        var i = b.count - 1
        var back = 0
        while i >= 0 && back < 4 {
            let c = b[i]
            if c & 0xC0 == 0x80 { i -= 1; back += 1; continue }
            let need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1
            return (b.count - i) >= need ? b.count : i
        }
        return b.count
    }

    static func firstInvalidUTF8(_ b: ArraySlice<UInt8>) -> Int? {
        var i = b.startIndex
        let end = b.endIndex
        while i < end {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let need: Int
            if c >= 0xC2 && c <= 0xDF { need = 1 } else if c >= 0xE0 && c <= 0xEF { need = 2 } else if c >= 0xF0 && c <= 0xF4 { need = 3 } else { return i - b.startIndex }
            if i + need >= end { return i - b.startIndex }
            for k in 1...need where b[i + k] & 0xC0 != 0x80 { return i - b.startIndex }
            i += need + 1
        }
        return nil
    }

    static func isValidUTF8Prefix(_ b: [UInt8], atEOF: Bool) -> Bool {
        let cut = atEOF ? b.count : completeUTF8Length(b)
        return firstInvalidUTF8(b[0..<cut]) == nil
    }
}
