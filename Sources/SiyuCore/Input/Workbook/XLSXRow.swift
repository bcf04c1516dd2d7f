/// One sheet row as `XLSXReader.forEachRow` hands it over: cell texts joined by 0x1F, the way
/// siyu's CSV rows travel. Valid only inside the callback (its memory is reused for the next row).
public struct XLSXRow {
    /// Cells up to the last non-empty one; gaps are filled with "".
    public var count: Int
    /// UTF-8 cell texts joined by 0x1F (a 0x1F inside a value became a space).
    public var joined: UnsafeBufferPointer<UInt8>
    /// Where each cell starts in `joined`; `starts[count]` is `joined.count + 1`.
    let starts: UnsafePointer<Int>

    /// The text of cell `i` (0-based), "" past the last cell.
    public func cell(_ i: Int) -> String {
        guard i >= 0 && i < count else { return "" }
        return String(decoding: UnsafeBufferPointer(rebasing: joined[starts[i]..<(starts[i + 1] - 1)]), as: UTF8.self)
    }

    /// All cell texts.
    public var strings: [String] { (0..<count).map(cell) }
}

/// Builds rows cell by cell into one reused buffer: a cell at a later column fills the gap with
/// empty cells, an empty cell is written only when a later non-empty one needs it.
final class XLSXRowBuilder {
    let bytes = ByteBuffer(capacity: 1 << 16)
    /// Where each cell written so far starts in `bytes` (one more entry while a cell is open).
    private let starts = GrowableBuffer<Int>(capacity: 256)
    /// Cells written (up to the last non-empty one).
    private(set) var count = 0
    private var mark = 0, cellStart = 0

    func reset() {
        bytes.count = 0
        starts.count = 0
        count = 0
    }

    /// Starts the cell of column `column` (0-based, at least `count`): the caller appends its text
    /// to `bytes`, then calls `endCell`.
    @inline(__always) func beginCell(_ column: Int) {
        mark = bytes.count
        bytes.reserve(column - count + 1)
        starts.count = count
        starts.reserve(column - count + 2)
        if count > 0 { bytes.append(0x1F) }
        var i = count
        while i < column {
            starts.append(bytes.count)
            bytes.append(0x1F)
            i += 1
        }
        cellStart = bytes.count
        starts.append(cellStart)
    }

    /// Ends the cell begun at `column`: kept when it has text, dropped (with its gap) when empty.
    @inline(__always) func endCell(_ column: Int) {
        if bytes.count == cellStart {
            bytes.count = mark
        } else {
            count = column + 1
        }
    }

    /// The row built so far, valid until the next `reset`.
    func row() -> XLSXRow {
        starts.count = count
        starts.append(bytes.count + 1)
        return XLSXRow(count: count, joined: bytes.bytes, starts: UnsafePointer(starts.base))
    }
}
