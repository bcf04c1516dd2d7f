import Foundation
/// Parsing of the cell values real exports carry. All pure functions, unit-tested one by one.
public enum Values {
    /// Placeholders that mean "empty" in exports (FORMATS.md).
    static let placeholders: Set<String> = ["——", "—", "N/A", "n/a", "null", "NULL", "-", "--"]

    /// Trims spaces (ASCII, full-width, NBSP), unwraps `="…"`, drops a leading `'`.
    public static func clean(_ raw: String) -> String {
        var s = Substring(raw)
        s = trimSpaces(s)
        if s.hasPrefix("=\""), s.hasSuffix("\""), s.count >= 3 {
            s = s.dropFirst(2).dropLast()
            s = trimSpaces(s)
        }
        if s.hasPrefix("'") { s = trimSpaces(s.dropFirst()) }
        return String(s)
    }

    static func trimSpaces(_ s: Substring) -> Substring {
        var t = s
        while let f = t.first, f == " " || f == "\t" || f == "\u{3000}" || f == "\u{A0}" || f == "\r" || f == "\n" { t = t.dropFirst() }
        while let l = t.last, l == " " || l == "\t" || l == "\u{3000}" || l == "\u{A0}" || l == "\r" || l == "\n" { t = t.dropLast() }
        return t
    }

    /// A cleaned cell, or nil when it is empty or a placeholder. `-` counts as a placeholder only
    /// for text; money treats `-` as zero (see `fen`).
    public static func text(_ raw: String) -> String? {
        let s = clean(raw)
        if s.isEmpty || placeholders.contains(s) { return nil }
        return s
    }

    public enum MoneyResult: Equatable { case empty, value(Int), invalid }

    /// Money in integer fen from `199.00`, `￥1,234.5`, `0元`, `-` (zero), `(12.00)` (negative),
    /// `499.00（系统计算中，该值仅供参考）` (a trailing remark is ignored). Half up past two decimals.
    public static func fen(_ raw: String) -> MoneyResult {
        var s = clean(raw)
        if s.isEmpty || s == "——" || s == "—" || s == "N/A" || s == "null" { return .empty }
        if s == "-" || s == "--" { return .value(0) }
        var negative = false
        s = s.replacingOccurrences(of: "￥", with: "").replacingOccurrences(of: "¥", with: "")
            .replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "，", with: "")
        s = String(trimSpaces(Substring(s)))
        if s.hasPrefix("("), let close = s.firstIndex(of: ")") {
            negative = true
            s = String(s[s.index(after: s.startIndex)..<close])
        } else if s.hasPrefix("-") {
            negative = true
            s.removeFirst()
        } else if s.hasPrefix("+") {
            s.removeFirst()
        }
        var intPart = 0, frac = [Int](), seenDigit = false, inFrac = false
        for u in s.utf8 {
            if u >= 0x30 && u <= 0x39 {
                seenDigit = true
                if inFrac { frac.append(Int(u - 0x30)) } else {
                    if intPart > 92_233_720_368_547 { return .invalid }
                    intPart = intPart * 10 + Int(u - 0x30)
                }
            } else if u == 0x2E && !inFrac {
                inFrac = true
            } else {
                break   // unit (元) or remark: the number has ended
            }
        }
        if !seenDigit { return .invalid }
        // Exponent notation is not money.
        if s.contains("E+") || s.contains("e+") { return .invalid }
        var v = intPart * 100
        if frac.count > 0 { v += frac[0] * 10 }
        if frac.count > 1 { v += frac[1] }
        if frac.count > 2, frac[2] >= 5 { v += 1 }
        return .value(negative ? -v : v)
    }

    /// Local wall-clock time: `yyyy-MM-dd HH:mm:ss`, `yyyy/M/d H:mm`, `yyyy-MM-dd`, `yyyyMMdd`,
    /// also `yyyy-MM-ddTHH:mm:ss`. Returns seconds since 1970-01-01 00:00 local wall time.
    public static func localTime(_ raw: String) -> Int? {
        let s = clean(raw)
        if s.isEmpty { return nil }
        var nums: [Int] = []
        var cur = -1
        var digitsInFirst = 0
        for u in s.utf8 {
            if u >= 0x30 && u <= 0x39 {
                cur = (cur < 0 ? 0 : cur) * 10 + Int(u - 0x30)
                if nums.isEmpty { digitsInFirst += 1 }
                if cur > 99_999_999 { return nil }
            } else if u == 0x2D || u == 0x2F || u == 0x3A || u == 0x20 || u == 0x54 || u == 0x2E {
                if cur >= 0 { nums.append(cur); cur = -1 }
                if u == 0x2E && nums.count >= 6 { break }   // fractional seconds
            } else {
                return nil
            }
        }
        if cur >= 0 { nums.append(cur) }
        if nums.count == 1 && digitsInFirst == 8 {
            let v = nums[0]
            nums = [v / 10000, (v / 100) % 100, v % 100]
        }
        guard nums.count >= 3, nums.count <= 7 else { return nil }
        let (y, m, d) = (nums[0], nums[1], nums[2])
        let hh = nums.count > 3 ? nums[3] : 0
        let mm = nums.count > 4 ? nums[4] : 0
        let ss = nums.count > 5 ? nums[5] : 0
        guard y >= 1990, y <= 2100, m >= 1, m <= 12, d >= 1, d <= CivilDate.daysInMonth(y, m),
              hh < 24, mm < 60, ss < 61 else { return nil }
        return CivilDate.dayNumber(y, m, d) * 86400 + hh * 3600 + mm * 60 + min(ss, 59)
    }

    /// A full mainland mobile number (11 digits starting with 1) or nil. Masked numbers give nil.
    public static func mobile(_ raw: String) -> String? {
        let s = clean(raw)
        if s.isEmpty || s.contains("*") { return nil }
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

    /// An order id: digits and letters after `="…"`/`'` removal; nil for Excel's scientific notation.
    public static func orderID(_ raw: String) -> OrderIDResult {
        let s = clean(raw)
        if s.isEmpty { return .empty }
        let upper = s.uppercased()
        if upper.contains("E+") && s.contains(".") || upper.range(of: #"^[0-9.]+E\+?[0-9]+$"#, options: .regularExpression) != nil {
            return .scientific
        }
        return .value(s)
    }

    public enum OrderIDResult: Equatable { case empty, scientific, value(String) }

    /// Removes `(删除)` / `(锁定)` style prefixes and unifies commas in a status text.
    public static func normalizedStatus(_ raw: String) -> String {
        var s = clean(raw).replacingOccurrences(of: "，", with: ",")
        for p in ["(删除)", "（删除）", "(锁定)", "（锁定）"] where s.hasPrefix(p) {
            s = String(s.dropFirst(p.count))
        }
        return s
    }
}
