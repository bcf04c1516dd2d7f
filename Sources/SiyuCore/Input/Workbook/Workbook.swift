import Foundation

/// What the first bytes of a file say it is.
public enum WorkbookSniff: Equatable {
    /// Neither a zip nor an OLE file (CSV, JSON lines, anything else), or not a regular file.
    case notWorkbook
    /// A zip (`PK\x03\x04`): an .xlsx workbook, whatever the file is named.
    case xlsx
    /// An OLE file holding a `Workbook` or `Book` stream: an Excel 97-2003 (BIFF) .xls workbook.
    case xls
    /// An OLE file holding an `EncryptedPackage` stream: a password-protected .xlsx.
    case encrypted
    /// Another OLE file (a Word document, a damaged directory, ...).
    case unknownOLE
}

/// A workbook problem, said for the merchant: what is wrong and what to do. It names no file or
/// sheet: the caller adds them.
public struct WorkbookError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

public enum Workbook {
    static let oleSignature: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]

    /// Looks at the first bytes of `path` (and, for an OLE file, its directory). Never opens a file
    /// that is not a regular file (a FIFO, a device): those are `.notWorkbook`, like unreadable ones.
    public static func sniff(path: String) -> WorkbookSniff {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return .notWorkbook }
        // O_NONBLOCK: should the path have been swapped for a FIFO since, open does not wait on it.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .notWorkbook }
        defer { close(fd) }
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return .notWorkbook }
        var head = [UInt8](repeating: 0, count: 8)
        let n = pread(fd, &head, 8, 0)
        if n >= 4 && head[0..<4] == [0x50, 0x4B, 0x03, 0x04] { return .xlsx }
        guard n == 8 && head == oleSignature else { return .notWorkbook }
        guard let names = CompoundFileDirectory(fd: fd)?.streamNames() else { return .unknownOLE }
        if names.contains("ENCRYPTEDPACKAGE") { return .encrypted }
        if names.contains("WORKBOOK") || names.contains("BOOK") { return .xls }
        return .unknownOLE
    }
}

/// The directory of an OLE compound file (MS-CFB): enough of the format to list its entry names,
/// reading only the header, the directory sectors and the allocation-table sectors that chain them.
struct CompoundFileDirectory {
    private let fd: Int32
    private let shift: Int
    private let header: [UInt8]
    private static let endOfChain: UInt32 = 0xFFFF_FFFA   // this and above: no further sector

    init?(fd: Int32) {
        guard let h = LittleEndian.read(fd, at: 0, count: 512) else { return nil }
        let shift = Int(LittleEndian.u16(h, 0x1E))
        guard shift == 9 || shift == 12 else { return nil }
        self.fd = fd
        self.shift = shift
        header = h
    }

    private func readSector(_ s: UInt32) -> [UInt8]? {
        guard s < Self.endOfChain else { return nil }
        return LittleEndian.read(fd, at: (Int64(s) + 1) << Int64(shift), count: 1 << shift)
    }

    /// The sector number of the `i`-th allocation-table sector (the header lists 109, the DIFAT
    /// sectors the rest).
    private func fatSector(_ i: Int) -> UInt32? {
        if i < 109 { return LittleEndian.u32(header, 0x4C + 4 * i) }
        let perSector = (1 << shift) / 4 - 1
        var j = i - 109
        var s = LittleEndian.u32(header, 0x44)
        var hops = 0
        while true {
            guard let b = readSector(s), hops < 1 << 20 else { return nil }
            if j < perSector { return LittleEndian.u32(b, 4 * j) }
            s = LittleEndian.u32(b, 4 * perSector)
            j -= perSector
            hops += 1
        }
    }

    private func next(_ s: UInt32) -> UInt32? {
        let perSector = (1 << shift) / 4
        guard let fs = fatSector(Int(s) / perSector), let b = readSector(fs) else { return nil }
        return LittleEndian.u32(b, 4 * (Int(s) % perSector))
    }

    /// The upper-cased names of the streams and storages in the directory (those read before a
    /// damaged sector, if any); nil when none can be read.
    func streamNames() -> Set<String>? {
        var names = Set<String>()
        var s = LittleEndian.u32(header, 0x30)
        var seen = Set<UInt32>()
        while s < Self.endOfChain {
            guard seen.insert(s).inserted, let b = readSector(s) else { break }
            for e in stride(from: 0, to: b.count, by: 128) {
                let length = Int(LittleEndian.u16(b, e + 0x40))
                let type = b[e + 0x42]
                guard type == 1 || type == 2, length >= 2, length <= 64 else { continue }
                var units: [UInt16] = []
                for k in stride(from: 0, to: length - 2, by: 2) { units.append(LittleEndian.u16(b, e + k)) }
                names.insert(String(decoding: units, as: UTF16.self).uppercased())
            }
            guard let n = next(s) else { break }
            s = n
        }
        return names.isEmpty ? nil : names
    }
}
