import Foundation
import TOMLKit

public enum SourceKind: String, Sendable, CaseIterable {
    case tmall, jd, youzan, followers, spend, generic

    /// The platform of orders from this kind (nil for followers and spend).
    var platform: String? {
        switch self {
        case .tmall: return "tmall"
        case .jd: return "jd"
        case .youzan: return "microstore"
        case .followers, .spend, .generic: return nil
        }
    }
    var isOrders: Bool { self == .tmall || self == .jd || self == .youzan || self == .generic }
}

/// Which fields a channel rule looks at.
public enum RuleTarget: String, Sendable { case spend, order, follow }

public struct ChannelRule: Sendable {
    public var channel: String
    public var on: Set<RuleTarget>
    public var contains: [String]
    public var equals: [String]

    /// True when any of the values (placeholders already removed) equals or contains a pattern.
    public func matches(_ values: [String?]) -> Bool {
        for case let v? in values where !v.isEmpty {
            if equals.contains(v) { return true }
            for p in contains where !p.isEmpty && Values.has(v, p) { return true }
        }
        return false
    }
}

public struct SourceConfig: Sendable {
    public var name: String
    public var kind: SourceKind
    public var files: [String]
    public var defaultChannel: String
    /// Platform name for order sources; `generic` sources use their name.
    public var platform: String
    /// `generic` only: canonical field -> header name in the file.
    public var columns: [String: String]
}

/// A pipeline file (TOML under pipelines/): inputs, time zone, period, rules, outputs.
public struct Pipeline: Sendable {
    public var path: String
    public var name: String
    public var timeZone: TimeZone
    public var period: PeriodKind
    public var asOf: Int?
    public var salt: String
    public var warehouse: String
    public var output: String
    public var windowDays: Int
    public var loyalThreshold: Int
    public var stopOnBadFile: Bool
    /// False when the file relies on the default salt (warned about: keys are easier to reverse).
    public var saltGiven = true
    public var sources: [SourceConfig]
    public var rules: [ChannelRule]

    public static let genericFields = ["order_id", "buyer", "phone", "paid", "refund", "pay_time", "created_time", "status", "promo"]

    public static func load(path: String) throws -> Pipeline {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SiyuError.config(file: path, message: "no such pipeline file; pass --pipeline pipelines/NAME.toml (see pipelines/sample.toml)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SiyuError.config(file: path, message: "cannot read the pipeline file as UTF-8 text")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> Pipeline {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw SiyuError.config(file: "\(path):\(e.source.begin.line):\(e.source.begin.column)", message: "TOML syntax: \(e.description)")
        }
        func fail(_ m: String) -> SiyuError { .config(file: path, message: m) }
        let p = root["pipeline"]?.table ?? TOMLTable()
        func str(_ t: TOMLTable, _ k: String, _ def: String? = nil) throws -> String? {
            guard let v = t[k] else { return def }
            guard let s = v.string else { throw fail("`\(k)` must be a string") }
            return s
        }
        func int(_ t: TOMLTable, _ k: String, _ def: Int) throws -> Int {
            guard let v = t[k] else { return def }
            guard let i = v.int else { throw fail("`\(k)` must be an integer") }
            return i
        }
        func strList(_ t: TOMLTable, _ k: String) throws -> [String] {
            guard let v = t[k] else { return [] }
            if let s = v.string { return [s] }
            guard let a = v.array else { throw fail("`\(k)` must be a list of strings") }
            return try a.map { guard let s = $0.string else { throw fail("`\(k)` must be a list of strings") }; return s }
        }
        let tzName = try str(p, "timezone", "Asia/Shanghai")!
        guard let tz = TimeZone(identifier: tzName) else { throw fail("unknown time zone `\(tzName)`; use an IANA name such as Asia/Shanghai") }
        let periodName = try str(p, "period", "month")!
        guard let period = PeriodKind(rawValue: periodName) else { throw fail("period must be \"month\" or \"week\", not `\(periodName)`") }
        var asOf: Int?
        if let a = try str(p, "as_of"), !a.isEmpty {
            guard let d = CivilDate.parseDay(a) else { throw fail("as_of must be a date like 2025-12-31, not `\(a)`") }
            asOf = d
        }
        let onBad = try str(p, "on_bad_file", "continue")!
        guard onBad == "continue" || onBad == "stop" else { throw fail("on_bad_file must be \"continue\" or \"stop\"") }

        var sources: [SourceConfig] = []
        for (i, v) in (root["source"]?.array ?? TOMLArray()).enumerated() {
            guard let t = v.table else { throw fail("[[source]] #\(i + 1) must be a table") }
            guard let kindName = try str(t, "kind"), let kind = SourceKind(rawValue: kindName) else {
                throw fail("[[source]] #\(i + 1) needs kind = one of \(SourceKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let name = try str(t, "name", kind.rawValue)!
            let platform = kind.platform ?? name
            let files = try strList(t, "files")
            if files.isEmpty { throw fail("[[source]] \(name) lists no files; add files = [\"path/*.csv\"]") }
            var columns: [String: String] = [:]
            if kind == .generic {
                guard let c = t["columns"]?.table else { throw fail("generic source \(name) needs a [source.columns] table mapping \(genericFields.joined(separator: ", ")) to headers") }
                for k in c.keys {
                    guard genericFields.contains(k) else { throw fail("generic source \(name): unknown column key `\(k)`; known: \(genericFields.joined(separator: ", "))") }
                    columns[k] = c[k]?.string
                }
                for req in ["order_id", "paid", "pay_time"] where columns[req] == nil {
                    throw fail("generic source \(name): [source.columns] must map `\(req)`")
                }
            }
            let def = try str(t, "default_channel", kind == .followers ? "wechat_follow" : platform)!
            sources.append(SourceConfig(name: name, kind: kind, files: files, defaultChannel: def, platform: platform, columns: columns))
        }
        if sources.isEmpty { throw fail("no [[source]] tables: the pipeline names no input files") }
        let names = sources.map(\.name)
        if Set(names).count != names.count { throw fail("two sources share a name; names must be unique") }

        var rules: [ChannelRule] = []
        for (i, v) in (root["rule"]?.array ?? TOMLArray()).enumerated() {
            guard let t = v.table, let channel = try str(t, "channel"), !channel.isEmpty else { throw fail("[[rule]] #\(i + 1) needs channel = \"…\"") }
            let onNames = try strList(t, "on")
            var on: Set<RuleTarget> = []
            for n in onNames {
                guard let r = RuleTarget(rawValue: n) else { throw fail("[[rule]] \(channel): `on` takes spend, order, follow; not `\(n)`") }
                on.insert(r)
            }
            if onNames.isEmpty { on = [.spend, .order, .follow] }
            let rule = ChannelRule(channel: channel, on: on, contains: try strList(t, "contains"), equals: try strList(t, "equals"))
            if rule.contains.isEmpty && rule.equals.isEmpty { throw fail("[[rule]] \(channel) needs `contains` or `equals`") }
            rules.append(rule)
        }
        let windowDays = try int(p, "window_days", 90), loyal = try int(p, "loyal_threshold", 3)
        guard windowDays >= 1 else { throw fail("window_days must be at least 1, not \(windowDays)") }
        guard loyal >= 1 else { throw fail("loyal_threshold must be at least 1, not \(loyal)") }
        var pipeline = Pipeline(
            path: path, name: try str(p, "name", "pipeline")!, timeZone: tz, period: period, asOf: asOf,
            salt: try str(p, "salt", "siyu")!, warehouse: try str(p, "warehouse", "build/warehouse.sqlite")!,
            output: try str(p, "output", "build/reports")!, windowDays: windowDays,
            loyalThreshold: loyal, stopOnBadFile: onBad == "stop",
            sources: sources, rules: rules)
        pipeline.saltGiven = p["salt"] != nil
        return pipeline
    }

    /// What the clean stage's output depends on besides the raw rows: when it changes, clean runs in full.
    public var cleanFingerprint: String {
        var parts = ["v1", timeZone.identifier]
        for s in sources { parts.append("\(s.name)|\(s.kind.rawValue)|\(s.platform)|\(s.columns.sorted { $0.key < $1.key })") }
        for r in rules { parts.append("\(r.channel)|\(r.on.map(\.rawValue).sorted())|\(r.contains)|\(r.equals)") }
        return SHA256.hexDigest(parts.joined(separator: "\n"))
    }

    /// The first rule for `target` that matches any of `values`.
    public func channel(for target: RuleTarget, values: [String?]) -> String? {
        rules.first { $0.on.contains(target) && $0.matches(values) }?.channel
    }

    public func defaultChannel(platform: String) -> String {
        sources.first { $0.kind.isOrders && $0.platform == platform }?.defaultChannel ?? platform
    }

    public var fanDefaultChannel: String {
        sources.first { $0.kind == .followers }?.defaultChannel ?? "wechat_follow"
    }

    /// The paths one glob matches (a literal path that exists matches itself).
    public static func matches(_ pattern: String) -> [String] {
        var out: [String] = []
        var g = glob_t()
        defer { globfree(&g) }
        if glob(pattern, 0, nil, &g) == 0 {
            for i in 0..<Int(g.gl_pathc) {
                if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
            }
        } else if FileManager.default.fileExists(atPath: pattern) {
            out.append(pattern)
        }
        return out
    }

    /// Paths sorted and without duplicates, by name without extension first, so "X.csv" comes
    /// before its re-delivered copy "X (1).csv".
    public static func inDeliveryOrder(_ paths: [String]) -> [String] {
        var seen = Set<String>()
        return paths.sorted { deliveryKey($0) < deliveryKey($1) }.filter { seen.insert($0).inserted }
    }

    /// Sorts as (path without extension, path): `X.csv` before its re-delivered copy `X (1).csv`.
    public static func deliveryKey(_ path: String) -> String { (path as NSString).deletingPathExtension + "\u{1}" + path }
}
