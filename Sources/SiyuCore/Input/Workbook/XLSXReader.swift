import Foundation
import ZIPFoundation

/// How much of a workbook the reader accepts before it calls the file a zip bomb or damaged.
public struct XLSXLimits: Sendable {
    /// Uncompressed bytes of one sheet part (counted while it inflates).
    public var maxSheetBytes: Int64
    /// Uncompressed bytes of the shared strings part, held in memory. The small parts (workbook,
    /// relationships, styles) may have as much, at most 64 MiB.
    public var maxSharedStringsBytes: Int64
    /// Inflated bytes per compressed byte of a part; checked once a part has inflated past 1 MiB.
    /// Deflate alone cannot pass ~1030:1; real sheets rarely pass 100:1.
    public var maxCompressionRatio: Int64
    /// Columns of a sheet (Excel: 16384, XFD).
    public var maxColumns: Int
    /// Row numbers of a sheet (Excel: 1048576).
    public var maxRows: Int

    public init(maxSheetBytes: Int64 = 8 << 30, maxSharedStringsBytes: Int64 = 1 << 30, maxCompressionRatio: Int64 = 500,
                maxColumns: Int = 16384, maxRows: Int = 1_048_576) {
        self.maxSheetBytes = maxSheetBytes
        self.maxSharedStringsBytes = maxSharedStringsBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.maxColumns = maxColumns
        self.maxRows = maxRows
    }

    public static let standard = XLSXLimits()

    /// A part may inflate this much before its compression ratio is judged.
    static let ratioGraceBytes: Int64 = 1 << 20
    /// The most a workbook, relationships or styles part may inflate to (real ones: kilobytes, a
    /// few megabytes for a workbook with thousands of styles).
    static let metadataBytes: Int64 = 64 << 20
}

/// Reads .xlsx workbooks: opens the zip, reads the workbook, relationships, styles and shared
/// strings up front, then streams a sheet's rows: the part inflates chunk by chunk (ZIPFoundation)
/// into libxml2's push parser, so memory does not grow with the rows.
///
/// Not thread-safe (one zip file handle): use an instance from one thread at a time, and read one
/// sheet at a time (not from inside another sheet's `forEachRow`).
public final class XLSXReader {
    public let limits: XLSXLimits
    /// The file, read by the inflaters (pread: no shared file position).
    private let fd: Int32
    /// Zip entries by part name (lower case, no leading slash: OPC part names ignore case), with
    /// the offset of each one's local header.
    private var entries: [String: (entry: Entry, header: UInt64)] = [:]
    private var sheets: [(name: String, part: String?)] = []
    private var shared = SharedStrings()
    private var dateStyles: [Bool] = []
    private var date1904 = false
    /// A sheet is being read (the zip handle is in use by its inflater).
    private var reading = false

    /// Sheet names in workbook order.
    public var sheetNames: [String] { sheets.map(\.name) }

    public init(path: String, limits: XLSXLimits = .standard) throws {
        self.limits = limits
        switch Workbook.sniff(path: path) {
        case .xlsx: break
        case .xls:
            throw WorkbookError("this is an Excel 97-2003 workbook (.xls), which siyu does not read: open it in Excel and save it as an Excel Workbook (.xlsx) or as CSV (UTF-8), or export .xlsx or CSV from the back office")
        case .encrypted:
            throw WorkbookError("the workbook is password-protected (encrypted): open it in Excel with its password, remove the password (File > Info > Protect Workbook > Encrypt with Password, leave it empty) and save it, or export it again without a password")
        case .unknownOLE:
            throw WorkbookError("this is an old-style Office file (OLE) but not an Excel workbook siyu can read: check that the right file was given, or export the data again as .xlsx or CSV")
        case .notWorkbook:
            throw WorkbookError("the file is not an .xlsx workbook (it does not start like a zip file): check that the right file was given, or download the export again")
        }
        // From here on every stored property is set: a throw runs deinit, which closes the file.
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WorkbookError("the file cannot be opened (\(String(cString: strerror(errno))))") }
        // ZIPFoundation lists the entries (names, sizes, CRCs); their offsets are read beside it.
        guard let archive = try? Archive(url: URL(fileURLWithPath: path), accessMode: .read, pathEncoding: nil),
              let offsets = ZipEntryOffsets.localHeaders(fd: fd, fileSize: Int64(lseek(fd, 0, SEEK_END))) else {
            throw WorkbookError.damaged("its zip directory cannot be read, often a download cut short")
        }
        for (entry, header) in zip(archive, offsets) where entry.type == .file {
            let key = Self.key(entry.path)
            if entries[key] == nil { entries[key] = (entry, header) }
        }
        try readMetadata()
    }

    deinit { if fd >= 0 { close(fd) } }

    // MARK: Opening

    private func readMetadata() throws {
        var workbookPart = "xl/workbook.xml"
        if let rels = entries["_rels/.rels"] {
            let r = try parseSmallPart(rels, .relationships, "_rels/.rels")
            if let t = r.relationships.values.first(where: { $0.type.hasSuffix("/officeDocument") })?.target {
                workbookPart = XLSXMetadataParser.resolve(t, from: "/")
            }
        }
        guard let workbookEntry = entries[Self.key(workbookPart)] ?? entries["xl/workbook.xml"] else {
            throw WorkbookError("the file is a zip archive but not an .xlsx workbook (it has no xl/workbook.xml): if it is a zip of exports, unpack it and put the exports themselves in the folder; otherwise download the export again")
        }
        let workbook = try parseSmallPart(workbookEntry, .workbook, workbookPart)
        date1904 = workbook.date1904

        var relationships: [String: (type: String, target: String)] = [:]
        let relsPart = XLSXMetadataParser.relationshipsPart(of: workbookPart)
        if let e = entries[Self.key(relsPart)] {
            relationships = try parseSmallPart(e, .relationships, relsPart).relationships
        }
        sheets = workbook.sheets.map { s in
            (s.name, s.relationship.flatMap { relationships[$0] }.map { XLSXMetadataParser.resolve($0.target, from: workbookPart) })
        }
        func part(_ type: String, _ fallback: String) -> (entry: Entry, header: UInt64)? {
            let target = relationships.values.first { $0.type.hasSuffix(type) }?.target
            return target.flatMap { entries[Self.key(XLSXMetadataParser.resolve($0, from: workbookPart))] } ?? entries[fallback]
        }
        if let e = part("/styles", "xl/styles.xml") {
            dateStyles = try parseSmallPart(e, .styles, "the styles (xl/styles.xml)").dateStyles
        }
        if let e = part("/sharedStrings", "xl/sharedstrings.xml") {
            let parser = SharedStringsParser()
            try parse(e, limit: limits.maxSharedStringsBytes, part: "the shared strings (xl/sharedStrings.xml)", parser) { line, message in
                "the shared strings (xl/sharedStrings.xml) are not well-formed XML (line \(line): \(message)): the file is damaged; download the export again"
            }
            shared = parser.strings
        }
    }

    private func parseSmallPart(_ entry: (entry: Entry, header: UInt64), _ kind: XLSXMetadataParser.Kind, _ part: String) throws -> XLSXMetadataParser {
        let parser = XLSXMetadataParser(kind)
        try parse(entry, limit: min(limits.maxSharedStringsBytes, XLSXLimits.metadataBytes), part: part, parser) { line, message in
            "\(part) is not well-formed XML (line \(line): \(message)): the file is damaged; download the export again"
        }
        return parser
    }

    // MARK: Rows

    /// Streams the rows of sheet `index` (0-based, workbook order). `row` is the 1-based sheet row
    /// number (the `r` attribute, or counted when absent); rows the sheet does not hold are not
    /// called back, an empty `<row>` is (with `count` 0). `body` returns false to stop early.
    /// Memory does not grow with the number of rows.
    public func forEachRow(sheet index: Int, _ body: (_ row: Int, _ cells: XLSXRow) throws -> Bool) throws {
        guard sheets.indices.contains(index) else {
            throw WorkbookError("the workbook has \(sheets.count) sheet(s), none numbered \(index + 1)")
        }
        guard let part = sheets[index].part, let entry = entries[Self.key(part)] else {
            throw WorkbookError.damaged("the workbook lists this sheet but its part is missing")
        }
        precondition(!reading, "XLSXReader reads one sheet at a time")
        reading = true
        defer { reading = false }
        try withoutActuallyEscaping(body) { body in
            let sheet = XLSXSheetParser(shared: shared, dateStyles: dateStyles, date1904: date1904, limits: limits, body: body)
            try parse(entry, limit: limits.maxSheetBytes, part: "the sheet", sheet) { line, message in
                "the sheet's XML is malformed \(sheet.position) (line \(line): \(message)): the file is damaged or cut short; download the export again"
            }
        }
    }

    // MARK: Streaming a part

    /// Parses one part with `parser`, turning libxml2's complaint into a message by `malformed`.
    private func parse(_ entry: (entry: Entry, header: UInt64), limit: Int64, part: String, _ parser: XMLPushParser,
                       malformed: (Int, String) -> String) throws {
        do {
            try stream(entry, limit: limit, part: part, into: parser)
        } catch let XMLPushFailure.malformed(message, line) {
            throw WorkbookError(malformed(line, message))
        } catch let XMLPushFailure.callback(error) {
            throw error
        }
    }

    /// Feeds `entry`, as it inflates, to `parser`; stops early when the parser was stopped.
    private func stream(_ entry: (entry: Entry, header: UInt64), limit: Int64, part: String, into parser: XMLPushParser) throws {
        guard let start = ZipEntryOffsets.dataStart(fd: fd, localHeader: entry.header) else {
            throw WorkbookError.damaged("\(part) has no readable local header in the zip")
        }
        let inflater = PartInflater(fd: fd, dataStart: start, entry: entry.entry, limit: limit, maxRatio: limits.maxCompressionRatio, part: part)
        defer { inflater.finish() }
        while let chunk = try inflater.next() {
            if try !chunk.withUnsafeBytes({ try parser.feed($0) }) { return }
        }
        try parser.finish()
    }

    /// A part name as looked up: lower case, `/` separators, no leading slash.
    private static func key(_ path: String) -> String {
        var p = path.replacingOccurrences(of: "\\", with: "/").lowercased()
        while p.hasPrefix("/") { p.removeFirst() }
        return p
    }
}
