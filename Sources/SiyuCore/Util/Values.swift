import Foundation
/// Parsing of the cell values real exports carry. All pure functions, unit-tested one by one.
public enum Values {
    /// Placeholders that mean "empty" in exports (FORMATS.md).
    static let placeholders: Set<String> = ["——", "—", "N/A", "n/a", "null", "NULL", "-", "--"]

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    /// Trims spaces (ASCII, full-width U+3000, NBSP), unwraps `="…"`, drops a leading `'`.
    public static func clean(_ raw: String) -> String {
        var u = Substring(raw).utf8
        guard let f = u.first, let l = u.last else { return raw }
        // Fast path: nothing to trim or unwrap (most cells).
        if !isSpace(f) && !isSpace(l) && f != 0x3D && f != 0x27 && f != 0xE3 && f != 0xC2 && l != 0x80 && l != 0xA0 { return raw }
        trim(&u)
        if u.count >= 3, u.first == 0x3D, u.dropFirst().first == 0x22, u.last == 0x22 {
            u = u.dropFirst(2).dropLast()
            trim(&u)
        }
        if u.first == 0x27 { u = u.dropFirst(); trim(&u) }
        return String(Substring(u))
    }

    static func trim(_ u: inout Substring.UTF8View) {
        while true {
            if let f = u.first, isSpace(f) { u = u.dropFirst(); continue }
            if u.starts(with: [0xE3, 0x80, 0x80]) || u.starts(with: [0xC2, 0xA0]) { u = u.dropFirst(u.first == 0xE3 ? 3 : 2); continue }
            break
        }
        while true {
            if let l = u.last, isSpace(l) { u = u.dropLast(); continue }
            if u.count >= 3, u.last == 0x80, u.dropLast().last == 0x80, u.dropLast(2).last == 0xE3 { u = u.dropLast(3); continue }
            if u.count >= 2, u.last == 0xA0, u.dropLast().last == 0xC2 { u = u.dropLast(2); continue }
            break
        }
    }

    /// A cleaned cell, or nil when it is empty or a placeholder. `-` counts as a placeholder only
    /// for text; money treats `-` as zero (see `fen`).
    public static func text(_ raw: String) -> String? {
        let s = clean(raw)
        if s.isEmpty { return nil }
        if s.utf8.count <= 6 && placeholders.contains(s) { return nil }
        return s
    }

    public enum MoneyResult: Equatable { case empty, value(Int), invalid, tooLarge }

    /// The largest amount one cell may hold: 1,000,000,000.00 yuan. No order, refund or day of
    /// spend comes near it, and sums of ten million such cells stay far inside 64 bits.
    public static let maxFen = 100_000_000_000

    /// Money in integer fen, exactly the spellings FORMATS.md lists: `199.00`, `1,234.5` (thousands
    /// separators in their places, half- or full-width), a currency sign `￥`/`¥`, a unit `元`,
    /// `-` or `--` (zero), `(12.00)` or `-12.00` (negative), and a trailing remark in parentheses
    /// without digits (`499.00（系统计算中，该值仅供参考）`). Half up past two decimals. Anything
    /// else (`1 234.50`, `12.34.56`, `12abc`, `0x1F`, a control character, an exponent) is
    /// `.invalid`; more than `maxFen` is `.tooLarge`.
    public static func fen(_ raw: String) -> MoneyResult {
        let s = clean(raw)
        if s.isEmpty { return .empty }
        let u = Array(s.utf8)
        if u.count <= 6 {
            if s == "-" || s == "--" { return .value(0) }
            if placeholders.contains(s) { return .empty }
        }
        var i = 0
        func at(_ bytes: [UInt8]) -> Bool {
            guard i + bytes.count <= u.count else { return false }
            for k in bytes.indices where u[i + k] != bytes[k] { return false }
            return true
        }
        func skipCurrency() { if at([0xEF, 0xBF, 0xA5]) { i += 3 } else if at([0xC2, 0xA5]) { i += 2 } }   // ￥ ¥
        skipCurrency()
        var negative = false, parenthesized = false
        if i < u.count, u[i] == 0x28 { negative = true; parenthesized = true; i += 1 }       // (12.00)
        else if i < u.count, u[i] == 0x2D { negative = true; i += 1 }                         // -12.00
        skipCurrency()
        // Integer part: digits, with separators (`,` or `，`) only between groups of three.
        var intPart = 0, digits = 0, groupDigits = 0, sawSeparator = false
        while i < u.count {
            if u[i] >= 0x30 && u[i] <= 0x39 {
                if intPart > maxFen { return .tooLarge }
                intPart = intPart * 10 + Int(u[i] - 0x30)
                digits += 1; groupDigits += 1; i += 1
            } else if u[i] == 0x2C || at([0xEF, 0xBC, 0x8C]) {
                // A separator needs 1-3 digits before the first one and exactly 3 between two.
                if digits == 0 || (sawSeparator ? groupDigits != 3 : groupDigits > 3) { return .invalid }
                sawSeparator = true; groupDigits = 0
                i += u[i] == 0x2C ? 1 : 3
            } else { break }
        }
        if digits == 0 || (sawSeparator && groupDigits != 3) { return .invalid }
        var frac: [Int] = []
        if i < u.count, u[i] == 0x2E {
            i += 1
            while i < u.count, u[i] >= 0x30 && u[i] <= 0x39 { if frac.count < 3 { frac.append(Int(u[i] - 0x30)) }; i += 1 }
            if frac.isEmpty { return .invalid }
        }
        if parenthesized { guard i < u.count, u[i] == 0x29 else { return .invalid }; i += 1 }
        // What may follow the number: a unit, then a remark in parentheses that holds no digit.
        if at([0xE5, 0x85, 0x83]) { i += 3 }   // 元
        if i < u.count {
            let rest = Array(u[i...])
            let full: ([UInt8], [UInt8]) = ([0xEF, 0xBC, 0x88], [0xEF, 0xBC, 0x89]), half: ([UInt8], [UInt8]) = ([0x28], [0x29])
            guard let (open, close) = [full, half].first(where: { rest.starts(with: $0.0) }),
                  rest.count >= open.count + close.count, Array(rest.suffix(close.count)) == close else { return .invalid }
            let inner = rest[open.count..<(rest.count - close.count)]
            if inner.contains(where: { ($0 >= 0x30 && $0 <= 0x39) || $0 < 0x20 || $0 == 0x7F }) { return .invalid }
        }
        var v = intPart * 100
        if frac.count > 0 { v += frac[0] * 10 }
        if frac.count > 1 { v += frac[1] }
        if frac.count > 2, frac[2] >= 5 { v += 1 }
        if v > maxFen { return .tooLarge }
        return .value(negative ? -v : v)
    }

    /// Local wall-clock time: `yyyy-MM-dd HH:mm:ss`, `yyyy/M/d H:mm`, `yyyy-MM-dd`, `yyyyMMdd`,
    /// also `yyyy-MM-ddTHH:mm:ss`. Returns seconds since 1970-01-01 00:00 local wall time.
    public static func localTime(_ raw: String) -> Int? {
        var s = clean(raw)
        if s.isEmpty { return nil }
        return s.withUTF8 { localTime(bytes: $0) }
    }

    static func localTime(bytes b: UnsafeBufferPointer<UInt8>) -> Int? {
        var nums: [Int] = []
        nums.reserveCapacity(7)
        var cur = -1
        var digitsInFirst = 0
        var i = 0
        while i < b.count {
            let u = b[i]
            if u >= 0x30 && u <= 0x39 {
                cur = (cur < 0 ? 0 : cur) * 10 + Int(u - 0x30)
                if nums.isEmpty { digitsInFirst += 1 }
                if cur > 99_999_999 { return nil }
            } else if u == 0x2E && nums.count == 5 && cur >= 0 {
                // Fractional seconds: skip the digits; nothing may follow (a zone is not local time).
                nums.append(cur); cur = -1
                i += 1
                while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                if i < b.count { return nil }
                break
            } else if u == 0x2D || u == 0x2F || u == 0x3A || u == 0x20 || u == 0x54 || (u == 0x2E && nums.count < 3) {
                if cur >= 0 { nums.append(cur); cur = -1 }
            } else {
                return nil
            }
            i += 1
        }
        if cur >= 0 { nums.append(cur) }
        if nums.count == 1 && digitsInFirst == 8 {
            let v = nums[0]
            nums = [v / 10000, (v / 100) % 100, v % 100]
        }
        guard nums.count >= 3, nums.count <= 6 else { return nil }
        let (y, m, d) = (nums[0], nums[1], nums[2])
        let hh = nums.count > 3 ? nums[3] : 0
        let mm = nums.count > 4 ? nums[4] : 0
        let ss = nums.count > 5 ? nums[5] : 0
        guard y >= 1990, y <= 2100, m >= 1, m <= 12, d >= 1, d <= CivilDate.daysInMonth(y, m),
              hh < 24, mm < 60, ss < 61 else { return nil }
        return CivilDate.dayNumber(y, m, d) * 86400 + hh * 3600 + mm * 60 + min(ss, 59)
    }

    /// A timestamp in business time: local wall-clock forms as `localTime`; a timestamp that carries
    /// its own zone (`2025-03-01T10:00:00+08:00`, `…Z`, `….000Z`, `… -0500`) is converted to `zone`.
    public static func businessTime(_ raw: String, zone: TimeZone) -> Int? {
        var s = clean(raw)
        // Most cells carry no zone (no `Z` at the end, no sign after the first colon): local time,
        // decided on the bytes (a Character scan of every timestamp was a tenth of clean's time).
        let zoned = s.withUTF8 { b -> Bool in
            guard let colon = b.firstIndex(of: 0x3A) else { return false }
            if let l = b.last, l == 0x5A || l == 0x7A { return true }
            return b[colon...].contains { $0 == 0x2B || $0 == 0x2D }
        }
        if !zoned { return localTime(s) }
        guard let colon = s.firstIndex(of: ":") else { return localTime(s) }   // a date alone is local
        var body = Substring(s), offset: Int?
        if body.hasSuffix("Z") || body.hasSuffix("z") {
            body = body.dropLast()
            offset = 0
        } else if let sign = body[colon...].lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let digits = body[body.index(after: sign)...].filter { $0 != ":" }
            guard digits.count == 4 || digits.count == 2, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(digits) else { return nil }
            let minutes = digits.count == 4 ? (v / 100) * 60 + v % 100 : v * 60
            offset = (body[sign] == "-" ? -1 : 1) * minutes * 60
            body = body[..<sign]
        }
        guard let offset else { return localTime(s) }
        while body.last == " " { body = body.dropLast() }
        if let dot = body.lastIndex(of: "."), dot > colon { body = body[..<dot] }   // fractional seconds
        guard let wall = localTime(String(body)) else { return nil }
        let utc = wall - offset
        return utc + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc)))
    }

    /// A full mainland mobile number (11 digits starting with 1) or nil. Masked numbers give nil.
    public static func mobile(_ raw: String) -> String? {
        let s = clean(raw)
        if s.isEmpty || s.utf8.contains(0x2A) { return nil }
        var digits: [UInt8] = []
        for u in s.utf8 {
            if u >= 0x30 && u <= 0x39 { digits.append(u) }
            else if u == 0x2B || u == 0x2D || u == 0x20 || u == 0x28 || u == 0x29 { continue }
            else { return nil }
        }
        if digits.count == 13, digits[0] == 0x38, digits[1] == 0x36 { digits.removeFirst(2) }
        else if digits.count == 15, digits.starts(with: [0x30, 0x30, 0x38, 0x36]) { digits.removeFirst(4) }
        guard digits.count == 11, digits[0] == 0x31 else { return nil }
        return String(decoding: digits, as: UTF8.self)
    }

    /// An order id: digits and letters after `="…"`/`'` removal; `.scientific` for Excel's
    /// exponent notation (`1.23456789012346E+18`), whose digits are lost.
    public static func orderID(_ raw: String) -> OrderIDResult {
        let s = clean(raw)
        if s.isEmpty { return .empty }
        var sawE = false, sawMark = false, other = false
        for b in s.utf8 {
            if b >= 0x30 && b <= 0x39 { continue } else if b == 0x45 || b == 0x65 { sawE = true }
            else if b == 0x2E || b == 0x2B { sawMark = true } else { other = true; break }
        }
        if let f = s.utf8.first, f >= 0x30 && f <= 0x39, sawE, sawMark, !other { return .scientific }
        return .value(s)
    }

    public enum OrderIDResult: Equatable { case empty, scientific, value(String) }

    /// Substring search on UTF-8 bytes (Foundation's `contains` is locale-aware and slow on hot paths).
    public static func has(_ s: String, _ needle: String) -> Bool {
        var s = s, needle = needle
        return s.withUTF8 { h in needle.withUTF8 { n in has(h, n) } }
    }

    static func has(_ h: UnsafeBufferPointer<UInt8>, _ n: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !n.isEmpty else { return true }
        guard h.count >= n.count else { return false }
        let first = n[0]
        var i = 0
        while i <= h.count - n.count {
            if h[i] == first {
                var k = 1
                while k < n.count && h[i + k] == n[k] { k += 1 }
                if k == n.count { return true }
            }
            i += 1
        }
        return false
    }

    /// Removes `(删除)` / `(锁定)` style prefixes and unifies commas in a status text.
    public static func normalizedStatus(_ raw: String) -> String {
        var s = clean(raw)
        if s.utf8.contains(0xEF) { s = s.replacingOccurrences(of: "，", with: ",") }
        for p in ["(删除)", "（删除）", "(锁定)", "（锁定）"] where s.hasPrefix(p) {
            s = String(s.dropFirst(p.count))
        }
        return s
    }
}
