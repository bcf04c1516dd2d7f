/// Calendar arithmetic on day numbers (days since 1970-01-01), no time zones involved.
public enum CivilDate {
    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's days_from_civil).
    public static func dayNumber(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civil(_ z0: Int) -> (y: Int, m: Int, d: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }

    public static func iso(_ day: Int) -> String {
        let (y, m, d) = civil(day)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Parses `yyyy-MM-dd`.
    public static func parseDay(_ s: String) -> Int? {
        guard let t = Values.localTime(s), t % 86400 == 0 else { return nil }
        return t / 86400
    }

    static func pad(_ v: Int, _ w: Int) -> String {
        let s = String(v)
        return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
    }

    /// Floor division for day numbers before 1970.
    @inline(__always) static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
}

/// Reporting periods: calendar months or ISO weeks, as consecutive integer indexes.
public enum PeriodKind: String, Sendable {
    case month, week

    public func index(ofDay day: Int) -> Int {
        switch self {
        case .month:
            let (y, m, _) = CivilDate.civil(day)
            return y * 12 + (m - 1)
        case .week:
            return CivilDate.floorDiv(day + 3, 7)   // 1970-01-01 is a Thursday; weeks start Monday
        }
    }

    public func firstDay(_ index: Int) -> Int {
        switch self {
        case .month: return CivilDate.dayNumber(CivilDate.floorDiv(index, 12), index - CivilDate.floorDiv(index, 12) * 12 + 1, 1)
        case .week: return index * 7 - 3
        }
    }

    public func lastDay(_ index: Int) -> Int { firstDay(index + 1) - 1 }

    public func label(_ index: Int) -> String {
        switch self {
        case .month:
            let y = CivilDate.floorDiv(index, 12)
            return "\(CivilDate.pad(y, 4))-\(CivilDate.pad(index - y * 12 + 1, 2))"
        case .week:
            let thursday = firstDay(index) + 3
            let (y, _, _) = CivilDate.civil(thursday)
            let week = (thursday - CivilDate.dayNumber(y, 1, 1)) / 7 + 1
            return "\(CivilDate.pad(y, 4))-W\(CivilDate.pad(week, 2))"
        }
    }
}
