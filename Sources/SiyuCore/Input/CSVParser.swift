import CCSV

/// One CSV record: its first physical line (1-based) and its fields, joined by U+001F in UTF-8
/// bytes (a U+001F inside a value becomes a space). Strings are made only when asked for.
public struct CSVRecord {
    public var line: Int
    public var fieldCount: Int
    public var joined: UnsafeBufferPointer<UInt8>

    /// The fields as strings (for headers and quarantine: not on the hot path).
    public var fields: [String] { Warehouse.splitCells(String(decoding: joined, as: UTF8.self)) }

    /// True when every field is empty or blank.
    public var isBlank: Bool { joined.allSatisfy { $0 == 0x1F || $0 == 0x20 || $0 == 0x09 } }
}

/// libcsv behind one door: the only file that imports CCSV.
/// Feeds UTF-8 chunks to libcsv and hands back whole records with their starting line numbers.
/// Errors thrown by the record handler inside the C callbacks are kept aside and rethrown after
/// the C call returns.
public final class CSVParser {
    private var parser = csv_parser()
    private var row: [UInt8] = []
    private var fieldCount = 0
    private var line = 1                // current physical line
    private var recordLine = 0          // line where the current record started (0: none yet)
    private var handler: (CSVRecord) throws -> Void
    private var pendingError: Error?
    /// The last line ending was a CR: an LF right after it belongs to it.
    private var afterCR = false
    public private(set) var records = 0

    public init(handler: @escaping (CSVRecord) throws -> Void) throws {
        self.handler = handler
        // Lenient mode (not CSV_STRICT): a stray quote does not stop the file; the row is judged later.
        // CSV_REPALL_NL reports every newline, so blank lines keep the line count right.
        guard csv_init(&parser, UInt8(CSV_REPALL_NL)) == 0 else { throw SiyuError.internalError("libcsv init failed") }
        row.reserveCapacity(4096)
    }

    deinit { csv_free(&parser) }

    public func feed(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let me = Unmanaged.passUnretained(self).toOpaque()
        let n = csv_parse(&parser, base, bytes.count, CSVParser.onField, CSVParser.onRecord, me)
        if let e = pendingError { pendingError = nil; throw e }
        if n != bytes.count {
            throw SiyuError.internalError("libcsv: \(String(cString: csv_strerror(csv_error(&parser))))")
        }
    }

    public func finish() throws {
        let me = Unmanaged.passUnretained(self).toOpaque()
        csv_fini(&parser, CSVParser.onField, CSVParser.onRecord, me)
        if let e = pendingError { pendingError = nil; throw e }
    }

    private static let onField: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Void = { ptr, len, data in
        let me = Unmanaged<CSVParser>.fromOpaque(data!).takeUnretainedValue()
        me.afterCR = false
        if me.recordLine == 0 { me.recordLine = me.line }
        if me.fieldCount > 0 { me.row.append(0x1F) }
        me.fieldCount += 1
        if let ptr, len > 0 {
            let buf = UnsafeBufferPointer(start: ptr.assumingMemoryBound(to: UInt8.self), count: len)
            var special = false
            for b in buf where b == 0x0A || b == 0x1F { special = true; break }
            if special {
                for b in buf {
                    if b == 0x0A { me.line += 1 }
                    me.row.append(b == 0x1F ? 0x20 : b)
                }
            } else {
                me.row.append(contentsOf: buf)
            }
        }
    }

    private static let onRecord: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { c, data in
        let me = Unmanaged<CSVParser>.fromOpaque(data!).takeUnretainedValue()
        if me.fieldCount > 0, me.pendingError == nil {
            me.records += 1
            let count = me.fieldCount, line = me.recordLine
            me.row.withUnsafeBufferPointer { buf in
                do { try me.handler(CSVRecord(line: line, fieldCount: count, joined: buf)) } catch { me.pendingError = error }
            }
        }
        me.row.removeAll(keepingCapacity: true)
        me.fieldCount = 0
        me.recordLine = 0
        // A line ends at LF, at CRLF (counted once) and at a lone CR (old Mac files).
        if c == 0x0D { me.line += 1; me.afterCR = true } else if c == 0x0A { if !me.afterCR { me.line += 1 }; me.afterCR = false }
    }
}
