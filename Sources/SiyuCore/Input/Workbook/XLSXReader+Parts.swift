import Foundation

/// The workbook's shared strings, held in memory as one byte array (texts already decoded, as
/// the rows show them) and the end of each.
final class SharedStrings {
    private let storage = ByteBuffer(capacity: 1 << 16)
    private var ends: [Int] = []

    var count: Int { ends.count }

    subscript(i: Int) -> UnsafeBufferPointer<UInt8> {
        let start = i == 0 ? 0 : ends[i - 1]
        return UnsafeBufferPointer(start: storage.base + start, count: ends[i] - start)
    }

    fileprivate func append(_ raw: UnsafeBufferPointer<UInt8>) {
        ExcelCellText.appendString(raw, to: storage)
        ends.append(storage.count)
    }
}

/// Reads `xl/sharedStrings.xml`: the text runs of each `<si>` (rich-text runs joined, phonetic
/// readings left out).
final class SharedStringsParser: XMLPushParser {
    let strings = SharedStrings()
    private let text = ByteBuffer()
    private var inItem = false, inText = false, phonetic = 0

    override func startElement(_ name: XMLName, _ attributes: XMLAttributes) throws {
        if name.is("t") {
            inText = inItem && phonetic == 0
        } else if name.is("si") {
            inItem = true
            text.count = 0
        } else if name.is("rPh") {
            phonetic += 1
        }
    }

    override func endElement(_ name: XMLName) throws -> Bool {
        if name.is("t") {
            inText = false
        } else if name.is("si") {
            inItem = false
            strings.append(text.bytes)
        } else if name.is("rPh") {
            phonetic -= 1
        }
        return true
    }

    override func characters(_ chars: UnsafeBufferPointer<UInt8>) {
        if inText { text.append(chars) }
    }
}

/// Reads the small parts: the workbook (sheets, date system), relationships, and styles (which
/// cell formats show dates).
final class XLSXMetadataParser: XMLPushParser {
    enum Kind { case workbook, relationships, styles }
    let kind: Kind

    // workbook
    private(set) var sheets: [(name: String, relationship: String?)] = []
    private(set) var date1904 = false
    // relationships: id -> (type, target)
    private(set) var relationships: [String: (type: String, target: String)] = [:]
    // styles
    private var customFormats: [Int: String] = [:]
    private var cellFormats: [Int] = []
    private var inNumFmts = false, inCellXfs = false

    init(_ kind: Kind) {
        self.kind = kind
        super.init()
    }

    override func startElement(_ name: XMLName, _ attributes: XMLAttributes) throws {
        switch kind {
        case .workbook:
            if name.is("sheet") {
                var rel: String?
                for i in 0..<attributes.count where attributes.isNamespaced(i) && attributes.name(i).is("id") {
                    rel = attributes.string(i)
                }
                sheets.append((attributes.string(of: "name") ?? "Sheet\(sheets.count + 1)", rel))
            } else if name.is("workbookPr") {
                let v = attributes.string(of: "date1904")?.lowercased()
                date1904 = v == "1" || v == "true"
            }
        case .relationships:
            if name.is("Relationship"), let id = attributes.string(of: "Id"), let target = attributes.string(of: "Target"),
               attributes.string(of: "TargetMode") != "External" {
                relationships[id] = (attributes.string(of: "Type") ?? "", target)
            }
        case .styles:
            if name.is("numFmts") {
                inNumFmts = true
            } else if name.is("cellXfs") {
                inCellXfs = true
            } else if inNumFmts && name.is("numFmt"), let id = attributes.string(of: "numFmtId").flatMap({ Int($0) }) {
                customFormats[id] = attributes.string(of: "formatCode") ?? ""
            } else if inCellXfs && name.is("xf") {
                cellFormats.append(attributes.string(of: "numFmtId").flatMap { Int($0) } ?? 0)
            }
        }
    }

    override func endElement(_ name: XMLName) throws -> Bool {
        if name.is("numFmts") { inNumFmts = false } else if name.is("cellXfs") { inCellXfs = false }
        return true
    }

    /// For each cell format (`s` attribute), whether it shows a date or time.
    var dateStyles: [Bool] {
        cellFormats.map { id in
            if let code = customFormats[id] { return ExcelCellText.isDateFormatCode(code) }
            return ExcelCellText.isBuiltinDateFormat(id)
        }
    }

    /// The part a relationship of the part at `source` points to, as a path inside the zip.
    static func resolve(_ target: String, from source: String) -> String {
        let t = target.removingPercentEncoding ?? target
        // Relative to the source part's folder; absolute from the package root.
        var parts = t.hasPrefix("/") ? [] : Array(source.split(separator: "/").dropLast())
        for seg in t.split(separator: "/") {
            if seg == "." || seg.isEmpty { continue }
            if seg == ".." { if !parts.isEmpty { parts.removeLast() } } else { parts.append(seg) }
        }
        return parts.joined(separator: "/")
    }

    /// The relationships part of the part at `source` (`xl/workbook.xml` -> `xl/_rels/workbook.xml.rels`).
    static func relationshipsPart(of source: String) -> String {
        var parts = source.split(separator: "/").map(String.init)
        let last = parts.removeLast()
        return (parts + ["_rels", last + ".rels"]).joined(separator: "/")
    }
}
