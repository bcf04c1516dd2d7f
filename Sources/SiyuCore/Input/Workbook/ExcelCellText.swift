import Foundation

/// The text Excel shows for a cell's stored value: strings with Excel's `_xHHHH_` escapes decoded,
/// numbers in the General format, date cells as local wall-clock time. Everything appends UTF-8 to
/// a `ByteBuffer` (siyu's joined row) and turns 0x1F, siyu's cell separator, into a space.
enum ExcelCellText {
    private static let underscore: UInt8 = 0x5F, separator: UInt8 = 0x1F, space: UInt8 = 0x20

    // MARK: Strings

    /// Appends string text, decoding `_xHHHH_` (a UTF-16 code unit; `_x005F_` is a literal `_`;
    /// a surrogate pair is two escapes; a lone surrogate becomes U+FFFD).
    static func appendString(_ s: UnsafeBufferPointer<UInt8>, to out: ByteBuffer) {
        let n = s.count
        var run = 0, i = 0
        while i < n {
            let b = s[i]
            if b != underscore && b != separator { i += 1; continue }
            out.append(UnsafeBufferPointer(rebasing: s[run..<i]))
            if b == separator {
                out.append(space)
                i += 1
            } else if let (unit, next) = escape(s, i) {
                var scalar = UInt32(unit), after = next
                if unit >= 0xD800 && unit < 0xDC00, let (low, n2) = escape(s, next), low >= 0xDC00 && low < 0xE000 {
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    after = n2
                } else if unit >= 0xD800 && unit < 0xE000 {
                    scalar = 0xFFFD
                }
                appendScalar(scalar, to: out)
                i = after
            } else {
                out.append(underscore)
                i += 1
            }
            run = i
        }
        out.append(UnsafeBufferPointer(rebasing: s[run..<n]))
    }

    /// The code unit of an `_xHHHH_` escape at `i`, and the index after it.
    @inline(__always) private static func escape(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt16, Int)? {
        guard i + 6 < s.count, s[i] == underscore, s[i + 1] == 0x78, s[i + 6] == underscore else { return nil }
        var v: UInt16 = 0
        for k in 2...5 {
            let c = s[i + k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt16(d)
        }
        return (v, i + 7)
    }

    private static func appendScalar(_ v: UInt32, to out: ByteBuffer) {
        switch v {
        case UInt32(separator): out.append(space)
        case 0..<0x80: out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | v >> 6)); out.append(UInt8(0x80 | v & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | v >> 12)); out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18)); out.append(UInt8(0x80 | v >> 12 & 0x3F))
            out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// Appends text as written (error values such as `#N/A`), only the separator replaced.
    static func appendRaw(_ s: UnsafeBufferPointer<UInt8>, to out: ByteBuffer) {
        out.reserve(s.count)
        for b in s { out.append(b == separator ? space : b) }
    }

    /// `TRUE` / `FALSE` for a boolean cell's `1` / `0`.
    static func appendBoolean(_ s: UnsafeBufferPointer<UInt8>, to out: ByteBuffer) {
        let t = trimmed(s)
        if t.count == 1 && t[0] == 0x31 { out.append("TRUE") } else if t.count == 1 && t[0] == 0x30 { out.append("FALSE") } else { appendRaw(t, to: out) }
    }

    /// An ISO 8601 date cell (`t="d"`, strict OOXML): `2025-03-01T10:00:05Z` -> `2025-03-01 10:00:05`.
    static func appendISODate(_ s: UnsafeBufferPointer<UInt8>, to out: ByteBuffer) {
        for (i, b) in trimmed(s).enumerated() {
            if i >= 10 && (b == 0x2E || b == 0x5A || b == 0x2B || b == 0x2D) { break }   // . Z + -: fraction or zone
            out.append(b == 0x54 ? space : b)
        }
    }

    static func trimmed(_ s: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var a = 0, e = s.count
        while a < e && (s[a] == 0x20 || s[a] == 0x09 || s[a] == 0x0A || s[a] == 0x0D) { a += 1 }
        while e > a && (s[e - 1] == 0x20 || s[e - 1] == 0x09 || s[e - 1] == 0x0A || s[e - 1] == 0x0D) { e -= 1 }
        return UnsafeBufferPointer(rebasing: s[a..<e])
    }

    // MARK: Numbers

    /// The value of a numeric cell's `<v>` text, nil when it is not a finite number.
    static func number(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
        let t = trimmed(s)
        guard t.count > 0, t.count < 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: t.count + 1) { p -> Double? in
            let c = p.baseAddress!
            for i in 0..<t.count { c[i] = CChar(bitPattern: t[i]) }
            c[t.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let d = strtod(c, &end)
            guard end == c + t.count, d.isFinite else { return nil }
            return d
        }
    }

    /// Appends a numeric cell's `<v>` text as Excel's General format shows it: at most 15
    /// significant digits, no trailing zeros, scientific (`1.23456789012346E+18`) when the integer
    /// part has more than 15 digits or the value is below 1E-9. Returns false when it is no number.
    static func appendGeneral(_ s: UnsafeBufferPointer<UInt8>, to out: ByteBuffer) -> Bool {
        if appendShortDecimal(trimmed(s), to: out) { return true }
        guard let d = number(s) else { return false }
        appendGeneral(d, to: out)
        return true
    }

    /// The common case without a conversion: a plain decimal literal (`49.00`, `-3`, `0.125`) of at
    /// most 15 significant digits is already what General shows, less its superfluous zeros.
    private static func appendShortDecimal(_ v: UnsafeBufferPointer<UInt8>, to out: ByteBuffer) -> Bool {
        let n = v.count
        var i = 0
        let negative = n > 0 && v[0] == 0x2D
        if negative { i = 1 }
        let intStart = i
        while i < n && v[i] &- 0x30 < 10 { i += 1 }
        let intEnd = i
        guard intEnd > intStart else { return false }
        var fracStart = i, fracEnd = i
        if i < n && v[i] == 0x2E {
            i += 1
            fracStart = i
            while i < n && v[i] &- 0x30 < 10 { i += 1 }
            fracEnd = i
        }
        guard i == n else { return false }
        var a = intStart
        while a < intEnd - 1 && v[a] == 0x30 { a += 1 }
        while fracEnd > fracStart && v[fracEnd - 1] == 0x30 { fracEnd -= 1 }
        if intEnd - a == 1 && v[a] == 0x30 {
            var z = fracStart
            while z < fracEnd && v[z] == 0x30 { z += 1 }
            if z == fracEnd { out.append(0x30); return true }   // zero, -0 included
            guard z - fracStart <= 8, fracEnd - z <= 15 else { return false }
        } else {
            guard intEnd - a <= 15, intEnd - a + fracEnd - fracStart <= 15 else { return false }
        }
        if negative { out.append(0x2D) }
        out.append(UnsafeBufferPointer(rebasing: v[a..<intEnd]))
        if fracEnd > fracStart {
            out.append(0x2E)
            out.append(UnsafeBufferPointer(rebasing: v[fracStart..<fracEnd]))
        }
        return true
    }

    /// General format of a double (see `appendGeneral(_:to:)`).
    static func appendGeneral(_ d: Double, to out: ByteBuffer) {
        if d == 0 { out.append(0x30); return }
        // "%.14e" rounds correctly to 15 significant digits: -d.ddddddddddddddde+XX
        var digits = [UInt8](repeating: 0, count: 15)
        var exponent = 0
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 40) { p in
            let c = p.baseAddress!
            _ = withVaList([d]) { vsnprintf(c, 40, "%.14e", $0) }
            var i = c[0] == 0x2D ? 1 : 0
            var k = 0
            while k < 15 {
                if c[i] != 0x2E { digits[k] = UInt8(c[i]) - 0x30; k += 1 }
                i += 1
            }
            i += 1   // 'e'
            let negativeExponent = c[i] == 0x2D
            i += 1
            while c[i] != 0 { exponent = exponent * 10 + Int(c[i] - 0x30); i += 1 }
            if negativeExponent { exponent = -exponent }
        }
        var nd = 15
        while nd > 1 && digits[nd - 1] == 0 { nd -= 1 }
        if d < 0 { out.append(0x2D) }
        if exponent >= 15 || exponent < -9 {
            out.append(0x30 + digits[0])
            if nd > 1 {
                out.append(0x2E)
                for k in 1..<nd { out.append(0x30 + digits[k]) }
            }
            out.append(0x45)
            out.append(exponent < 0 ? 0x2D : 0x2B)
            let e = abs(exponent)
            out.appendDigits(e, width: e >= 100 ? 3 : 2)
        } else if exponent >= 0 {
            for k in 0...exponent { out.append(k < nd ? 0x30 + digits[k] : 0x30) }
            if nd > exponent + 1 {
                out.append(0x2E)
                for k in (exponent + 1)..<nd { out.append(0x30 + digits[k]) }
            }
        } else {
            out.append(0x30); out.append(0x2E)
            for _ in 0..<(-exponent - 1) { out.append(0x30) }
            for k in 0..<nd { out.append(0x30 + digits[k]) }
        }
    }

    // MARK: Dates

    private static let epoch1900 = CivilDate.dayNumber(1899, 12, 30)
    private static let epoch1904 = CivilDate.dayNumber(1904, 1, 1)

    /// Appends a date cell's serial as `yyyy-MM-dd HH:mm:ss`, rounded to the nearest second. In the
    /// 1900 system serial 60 is Excel's fictitious 1900-02-29 and 0 is `1900-01-00`, as Excel shows
    /// them. Returns false outside Excel's dates (negative, after 9999-12-31): General then.
    static func appendDate(_ serial: Double, date1904: Bool, to out: ByteBuffer) -> Bool {
        guard serial >= 0, serial < (date1904 ? 2957004 : 2958466) else { return false }
        let total = Int((serial * 86400).rounded())
        let days = total / 86400, seconds = total % 86400
        let y: Int, m: Int, d: Int
        if date1904 {
            (y, m, d) = CivilDate.civil(epoch1904 + days)
        } else if days == 60 {
            (y, m, d) = (1900, 2, 29)
        } else if days == 0 {
            (y, m, d) = (1900, 1, 0)
        } else {
            (y, m, d) = CivilDate.civil(epoch1900 + days + (days < 60 ? 1 : 0))
        }
        out.appendDigits(y, width: 4); out.append(0x2D)
        out.appendDigits(m, width: 2); out.append(0x2D)
        out.appendDigits(d, width: 2); out.append(space)
        out.appendDigits(seconds / 3600, width: 2); out.append(0x3A)
        out.appendDigits(seconds / 60 % 60, width: 2); out.append(0x3A)
        out.appendDigits(seconds % 60, width: 2)
        return true
    }

    /// Excel's built-in number formats that show dates or times (14-22; 27-36 and 50-58 are the
    /// East Asian date formats; 45-47 minutes and seconds).
    static func isBuiltinDateFormat(_ id: Int) -> Bool {
        (14...22).contains(id) || (27...36).contains(id) || (45...47).contains(id) || (50...58).contains(id)
    }

    /// True when a format code shows a date or time: a y, m, d, h or s outside quoted text,
    /// `[...]` (colours, locales, elapsed-time brackets), `\x` escapes and `_x` / `*x` padding.
    static func isDateFormatCode(_ code: String) -> Bool {
        let b = Array(code.utf8)
        var i = 0
        while i < b.count {
            switch b[i] {
            case 0x22:   // "text"
                i += 1
                while i < b.count && b[i] != 0x22 { i += 1 }
                i += 1
            case 0x5B:   // [...]
                while i < b.count && b[i] != 0x5D { i += 1 }
                i += 1
            case 0x5C, 0x5F, 0x2A:   // \x, _x, *x
                i += 2
            case 0x79, 0x59, 0x6D, 0x4D, 0x64, 0x44, 0x68, 0x48, 0x73, 0x53:   // y Y m M d D h H s S
                return true
            default:
                i += 1
            }
        }
        return false
    }
}
