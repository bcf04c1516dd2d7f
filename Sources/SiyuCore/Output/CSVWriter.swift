import Foundation

/// Writes RFC 4180 CSV (UTF-8, comma, header row). Text cells that a spreadsheet would run as a
/// formula (starting with = + - @ tab or CR) get a leading apostrophe; numbers are left alone.
public enum CSVWriter {
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

    public static func render(_ t: OutputTable) -> String {
        var out = t.columns.map(safeCell).joined(separator: ",") + "\r\n"
        for r in t.rows { out += r.map(safeCell).joined(separator: ",") + "\r\n" }
        return out
    }

    /// Writes to a temporary name beside the target, then renames: readers never see half a file.
    public static func writeAtomically(_ text: String, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
            throw SiyuError.input(file: tmp, line: nil, column: nil, message: "cannot write the output file; check that the output directory is writable")
        }
        if rename(tmp, path) != 0 {
            unlink(tmp)
            throw SiyuError.input(file: path, line: nil, column: nil, message: "cannot move the finished output into place (errno \(errno))")
        }
    }
}
