import Foundation

/// Writes RFC 4180 CSV (UTF-8, comma, header row). Text cells that a spreadsheet would run as a
/// formula (starting with = + - @ tab or CR) get a leading apostrophe; numbers are left alone.
/// A file may start with a UTF-8 byte order mark (the pipeline's `csv_bom`, on by default): without
/// it, Excel in a Chinese locale reads the file as GBK and shows `抖音` as mojibake.
public enum CSVWriter {
    public static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    public static func isNumber(_ s: String) -> Bool {
        var u = Substring(s)
        if u.hasPrefix("-") { u = u.dropFirst() }
        guard let f = u.first, f.isASCII, f.isNumber else { return false }
        var dot = false
        for c in u {
            if c == "." { if dot { return false }; dot = true; continue }
            if !(c.isASCII && c.isNumber) { return false }
        }
        return u.last != "."
    }

    public static func safeCell(_ s: String) -> String {
        var v = s
        if let f = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(f), !isNumber(v) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            v = "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    public static func render(_ t: OutputTable, bom: Bool = false) -> String {
        var out: [UInt8] = bom ? Self.bom : []
        out.reserveCapacity((t.rows.count + 1) * 64)
        func line(_ r: [String]) {
            for (k, cell) in r.enumerated() {
                if k > 0 { out.append(0x2C) }
                append(cell, to: &out)
            }
            out.append(0x0D)
            out.append(0x0A)
        }
        line(t.columns)
        for r in t.rows { line(r) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `append` for a cell given as UTF-8 bytes.
    static func append(_ cell: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var needsWork = false
        if let f = cell.first, f == 0x3D || f == 0x2B || f == 0x2D || f == 0x40 || f == 0x09 || f == 0x0D { needsWork = true }
        if !needsWork {
            for b in cell where b == 0x2C || b == 0x22 || b == 0x0A || b == 0x0D { needsWork = true; break }
        }
        if needsWork { out.append(contentsOf: safeCell(String(decoding: cell, as: UTF8.self)).utf8) } else { out.append(contentsOf: cell) }
    }

    /// `safeCell` on bytes, with a fast path for the common cell (no quoting, no formula start).
    static func append(_ cell: String, to out: inout [UInt8]) {
        var needsWork = false
        if let f = cell.utf8.first, f == 0x3D || f == 0x2B || f == 0x2D || f == 0x40 || f == 0x09 || f == 0x0D { needsWork = true }
        if !needsWork {
            for b in cell.utf8 where b == 0x2C || b == 0x22 || b == 0x0A || b == 0x0D { needsWork = true; break }
        }
        if needsWork { out.append(contentsOf: safeCell(cell).utf8) } else { out.append(contentsOf: cell.utf8) }
    }

    /// A CSV file written row by row to a temporary name, renamed into place by `finish`.
    public final class Stream {
        let path: String, tmp: String
        var file: UnsafeMutablePointer<FILE>?
        var buffer: [UInt8] = []
        var failed = false

        public init(path: String, header: [String], bom: Bool = false) throws {
            self.path = path
            tmp = path + ".tmp-\(getpid())"
            file = fopen(tmp, "wb")
            guard file != nil else {
                throw SiyuError.input(file: tmp, line: nil, column: nil, message: "cannot write the output file; check that the output directory is writable")
            }
            buffer.reserveCapacity(1 << 20)
            if bom { buffer.append(contentsOf: CSVWriter.bom) }
            row(header)
        }

        public func row(_ r: [String]) {
            for (k, cell) in r.enumerated() {
                if k > 0 { buffer.append(0x2C) }
                CSVWriter.append(cell, to: &buffer)
            }
            buffer.append(0x0D)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { flush() }
        }

        /// A row straight from a statement's columns, without building Strings.
        public func row(_ st: Statement, columns n: Int32) {
            for k in 0..<n {
                if k > 0 { buffer.append(0x2C) }
                CSVWriter.append(st.bytes(k), to: &buffer)
            }
            buffer.append(0x0D)
            buffer.append(0x0A)
            if buffer.count >= 1 << 20 { flush() }
        }

        func flush() {
            if let f = file, !buffer.isEmpty, fwrite(buffer, 1, buffer.count, f) != buffer.count { failed = true }
            buffer.removeAll(keepingCapacity: true)
        }

        public func abandon() {
            if let f = file { fclose(f); file = nil }
            unlink(tmp)
        }

        /// Closes the temporary file; renames it into place unless `rename` is false (then the
        /// caller moves it with `moveIntoPlace`, together with other files). Returns the temporary path.
        @discardableResult
        public func finish(rename: Bool = true) throws -> String {
            flush()
            guard let f = file else { return tmp }
            file = nil
            if fclose(f) != 0 || failed {
                unlink(tmp)
                throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot write the output file (disk full?)")
            }
            if rename { try CSVWriter.moveIntoPlace([(tmp, path)]) }
            return tmp
        }

        deinit { if file != nil { abandon() } }
    }

    /// Writes text to `<path>.tmp-<pid>` (plain stdio, not Foundation's atomic write, whose own
    /// temporary name a killed run would leave behind) and returns that name.
    public static func writeTemporary(_ text: String, for path: String) throws -> String {
        let tmp = path + ".tmp-\(getpid())"
        guard let f = fopen(tmp, "wb") else {
            throw SiyuError.input(file: tmp, line: nil, column: nil, message: "cannot write the output file; check that the output directory is writable")
        }
        var bytes = Array(text.utf8)
        let ok = bytes.isEmpty || fwrite(&bytes, 1, bytes.count, f) == bytes.count
        if fclose(f) != 0 || !ok {
            unlink(tmp)
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot write the output file (disk full?)")
        }
        return tmp
    }

    /// Renames finished temporary files into place, one after another with nothing in between.
    public static func moveIntoPlace(_ files: [(tmp: String, path: String)]) throws {
        for (tmp, path) in files where rename(tmp, path) != 0 {
            let e = errno
            for (t, _) in files { unlink(t) }
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot move the finished output into place (errno \(e))")
        }
    }
}
