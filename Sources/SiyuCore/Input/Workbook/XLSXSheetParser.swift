/// Turns a worksheet part's SAX events into rows of cell texts (see `XLSXReader.forEachRow`).
final class XLSXSheetParser: XMLPushParser {
    private enum CellType { case number, shared, inline, formulaString, boolean, error, isoDate }

    private let shared: SharedStrings
    private let dateStyles: [Bool]
    private let date1904: Bool
    private let limits: XLSXLimits
    private let body: (Int, XLSXRow) throws -> Bool

    private let builder = XLSXRowBuilder()
    private let text = ByteBuffer(capacity: 1024)
    /// The row being read (0: none), the last row handed over, the next column without a reference.
    private var row = 0
    private var lastRow = 0
    private var inRow = false
    private var nextColumn = 0
    // The cell being read.
    private var inCell = false, column = 0, type = CellType.number, style = 0
    private var inValue = false, inInlineString = false, inText = false, phonetic = 0

    init(shared: SharedStrings, dateStyles: [Bool], date1904: Bool, limits: XLSXLimits,
         body: @escaping (Int, XLSXRow) throws -> Bool) {
        self.shared = shared
        self.dateStyles = dateStyles
        self.date1904 = date1904
        self.limits = limits
        self.body = body
    }

    /// Where the parse is, for a message about a broken part.
    var position: String { inRow ? "in row \(row)" : lastRow > 0 ? "after row \(lastRow)" : "before its first row" }

    override func startElement(_ name: XMLName, _ attributes: XMLAttributes) throws {
        let n = name.bytes
        if n[0] == 0x63 && n[1] == 0 {   // c
            guard inRow else { return }
            startCell(attributes)
        } else if n[0] == 0x76 && n[1] == 0 {   // v
            if inCell { inValue = true; text.count = 0 }
        } else if n[0] == 0x74 && n[1] == 0 {   // t
            if inInlineString && phonetic == 0 { inText = true }
        } else if name.is("is") {
            if inCell { inInlineString = true; text.count = 0 }
        } else if name.is("rPh") {
            phonetic += 1   // a phonetic reading: not part of the text
        } else if name.is("row") {
            try startRow(attributes)
        }
    }

    override func endElement(_ name: XMLName) throws -> Bool {
        let n = name.bytes
        if n[0] == 0x63 && n[1] == 0 {   // c
            if inCell { try endCell() }
        } else if n[0] == 0x76 && n[1] == 0 {   // v
            inValue = false
        } else if n[0] == 0x74 && n[1] == 0 {   // t
            inText = false
        } else if name.is("is") {
            inInlineString = false
        } else if name.is("rPh") {
            phonetic -= 1
        } else if name.is("row") {
            return try endRow()
        }
        return true
    }

    override func characters(_ chars: UnsafeBufferPointer<UInt8>) {
        if inValue || inText { text.append(chars) }
    }

    private func startRow(_ attributes: XMLAttributes) throws {
        var r = lastRow + 1
        if let v = attributes.value(of: "r") {
            guard let parsed = Self.integer(v) else {
                throw WorkbookError("row \(lastRow + 1) has a row number that is not a number (`\(String(decoding: v, as: UTF8.self))`): the sheet is damaged; download the export again")
            }
            r = parsed
        }
        if r > limits.maxRows {
            throw WorkbookError("row number \(r) is beyond the \(limits.maxRows) rows a sheet can hold: the sheet is damaged; download the export again")
        }
        if r <= lastRow {
            throw WorkbookError("row \(r) comes after row \(lastRow): the rows go backwards, so the sheet is damaged; download the export again (or open it in Excel and save it again)")
        }
        row = r
        inRow = true
        nextColumn = 0
        builder.reset()
    }

    /// Hands the row over; false when `body` wants no more.
    private func endRow() throws -> Bool {
        guard inRow else { return true }
        inRow = false
        lastRow = row
        return try body(row, builder.row())
    }

    private func startCell(_ attributes: XMLAttributes) {
        var col = nextColumn
        type = .number
        style = 0
        for i in 0..<attributes.count {
            let a = attributes.name(i).bytes
            guard a[1] == 0 else { continue }
            let v = attributes.value(i)
            switch a[0] {
            case 0x72:   // r="AB12"
                var c = 0, k = 0
                while k < v.count {
                    let u = v[k] | 0x20   // lower case
                    guard u >= 0x61 && u <= 0x7A else { break }
                    c = c * 26 + Int(u - 0x60)
                    if c > 1 << 30 { break }
                    k += 1
                }
                if k > 0 { col = c - 1 }
            case 0x74:   // t
                type = Self.cellType(v)
            case 0x73:   // s
                style = Self.integer(v) ?? 0
            default: break
            }
        }
        column = col
        inCell = true
        inValue = false
        inInlineString = false
        inText = false
        text.count = 0
    }

    private func endCell() throws {
        inCell = false
        inValue = false
        inInlineString = false
        inText = false
        if column >= limits.maxColumns {
            throw WorkbookError("row \(row) has a cell in column \(column + 1), past the \(limits.maxColumns) columns a sheet can hold: the sheet is damaged; download the export again")
        }
        if column < nextColumn {
            throw WorkbookError("row \(row) has its cells out of order (column \(column + 1) after column \(nextColumn)): the sheet is damaged; download the export again (or open it in Excel and save it again)")
        }
        nextColumn = column + 1
        if text.count == 0 { return }
        let out = builder.bytes
        builder.beginCell(column)
        let value = text.bytes
        switch type {
        case .shared:
            guard let i = Self.integer(ExcelCellText.trimmed(value)), i < shared.count else {
                throw WorkbookError("row \(row) refers to shared string `\(String(decoding: value, as: UTF8.self))`, but the workbook has \(shared.count): the file is damaged; download the export again")
            }
            out.append(shared[i])
        case .inline, .formulaString:
            ExcelCellText.appendString(value, to: out)
        case .number:
            if style < dateStyles.count && dateStyles[style], let serial = ExcelCellText.number(value),
               ExcelCellText.appendDate(serial, date1904: date1904, to: out) {
                break
            }
            if !ExcelCellText.appendGeneral(value, to: out) { ExcelCellText.appendRaw(value, to: out) }
        case .boolean:
            ExcelCellText.appendBoolean(value, to: out)
        case .error:
            ExcelCellText.appendRaw(value, to: out)
        case .isoDate:
            ExcelCellText.appendISODate(value, to: out)
        }
        builder.endCell(column)
    }

    private static func cellType(_ v: UnsafeBufferPointer<UInt8>) -> CellType {
        switch v.count {
        case 1:
            switch v[0] {
            case 0x73: return .shared          // s
            case 0x62: return .boolean         // b
            case 0x65: return .error           // e
            case 0x64: return .isoDate         // d
            default: return .number            // n
            }
        case 3: return v[0] == 0x73 ? .formulaString : .number   // str
        case 9: return .inline                                     // inlineStr
        default: return .number
        }
    }

    /// A non-negative decimal integer (at most 18 digits), nil otherwise.
    static func integer(_ v: UnsafeBufferPointer<UInt8>) -> Int? {
        guard v.count > 0 && v.count <= 18 else { return nil }
        var n = 0
        for b in v {
            guard b &- 0x30 < 10 else { return nil }
            n = n * 10 + Int(b - 0x30)
        }
        return n
    }
}
