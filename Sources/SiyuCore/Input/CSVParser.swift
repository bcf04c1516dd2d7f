import CCSV

/// One CSV record: its first physical line (1-based) and its fields as UTF-8 strings.
public struct CSVRecord {
    public var line: Int
    public var fields: [String]
}

/// libcsv behind one door: the only file that imports CCSV.
/// Feeds UTF-8 chunks to libcsv and hands back whole records with their starting line numbers.
/// Errors thrown by the record handler inside the C callbacks are kept aside and rethrown after
/// the C call returns.
public final class CSVParser {
    private var parser = csv_parser()
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var line = 1                // current physical line
    private var recordLine = 0          // line where the current record started (0: none yet)
    private var handler: (CSVRecord) throws -> Void
    private var pendingError: Error?
    public private(set) var records = 0

    public init(handler: @escaping (CSVRecord) throws -> Void) throws {
        self.handler = handler
        // Lenient mode (not CSV_STRICT): a stray quote does not stop the file; the row is judged later.
        // CSV_REPALL_NL reports every newline, so blank lines keep the line count right.
        guard csv_init(&parser, UInt8(CSV_REPALL_NL)) == 0 else { throw SiyuError.internalError("libcsv init failed") }
        fields.reserveCapacity(64)
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
        if me.recordLine == 0 { me.recordLine = me.line }
        if let ptr, len > 0 {
            let buf = UnsafeBufferPointer(start: ptr.assumingMemoryBound(to: UInt8.self), count: len)
            var nl = 0
            for b in buf where b == 0x0A { nl += 1 }
            me.line += nl
            me.fields.append(String(decoding: buf, as: UTF8.self))
        } else {
            me.fields.append("")
        }
    }

    private static let onRecord: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { c, data in
        let me = Unmanaged<CSVParser>.fromOpaque(data!).takeUnretainedValue()
        if !me.fields.isEmpty, me.pendingError == nil {
            me.records += 1
            let rec = CSVRecord(line: me.recordLine, fields: me.fields)
            do { try me.handler(rec) } catch { me.pendingError = error }
        }
        me.fields.removeAll(keepingCapacity: true)
        me.recordLine = 0
        if c == 0x0A { me.line += 1 }
    }
}
