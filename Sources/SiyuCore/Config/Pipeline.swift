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

    /// The first day a date in this kind of export can plausibly hold (the platform's launch, with
    /// room): Taobao 2003, JD online 2004, Youzan 2012, WeChat official accounts 2012-08. An earlier
    /// date is a typo or a placeholder, quarantined instead of stretching every cohort back.
    public var earliestDay: Int {
        switch self {
        case .tmall, .spend: return CivilDate.dayNumber(2003, 1, 1)
        case .jd: return CivilDate.dayNumber(2004, 1, 1)
        case .youzan: return CivilDate.dayNumber(2012, 1, 1)
        case .followers: return CivilDate.dayNumber(2012, 8, 1)
        case .generic: return CivilDate.dayNumber(2000, 1, 1)
        }
    }
}

/// Which fields a channel rule looks at.
public enum RuleTarget: String, Sendable { case spend, order, follow }

public struct ChannelRule: Sendable {
    public var channel: String
    public var on: Set<RuleTarget>
    public var contains: [String]
    public var equals: [String]
    public var prefix: [String] = []
    /// Only rows of these pipeline sources (empty: every source).
    public var sources: [String] = []
    /// Only orders of these platforms (empty: every platform); a rule that names platforms is an
    /// order rule.
    public var platforms: [String] = []
    /// The fields the rule reads, by header name (orders, spend) or `subscribe_scene`, `qr_scene`,
    /// `qr_scene_str` (follows); empty: the kind's promotion fields, the campaign, the scene fields.
    public var fields: [String] = []

    public init(channel: String, on: Set<RuleTarget>, contains: [String], equals: [String], prefix: [String] = [],
                sources: [String] = [], platforms: [String] = [], fields: [String] = []) {
        self.channel = channel
        self.on = on
        self.contains = contains
        self.equals = equals
        self.prefix = prefix
        self.sources = sources
        self.platforms = platforms
        self.fields = fields
    }

    /// A rule without patterns matches every row in its scope (it names sources or platforms).
    var matchesAll: Bool { contains.isEmpty && equals.isEmpty && prefix.isEmpty }

    /// True when the rule may look at a row of `target` from `source` (and, for orders, `platform`).
    public func applies(to target: RuleTarget, source: String?, platform: String?) -> Bool {
        guard on.contains(target) else { return false }
        if !sources.isEmpty { guard let source, sources.contains(source) else { return false } }
        if !platforms.isEmpty { guard let platform, platforms.contains(platform) else { return false } }
        return true
    }

    /// True when any of the values (placeholders already removed) equals, starts with or contains
    /// a pattern.
    public func matches(_ values: [String?]) -> Bool {
        for case let v? in values where !v.isEmpty {
            if matchesAll || equals.contains(v) { return true }
            for p in prefix where !p.isEmpty && v.hasPrefix(p) { return true }
            for p in contains where !p.isEmpty && Values.has(v, p) { return true }
        }
        return false
    }

    /// The rule's values among `fields` (field name, value): its own fields, or the defaults.
    func values(_ fields: [RuleField]) -> [String?] {
        self.fields.isEmpty ? fields.filter(\.isDefault).map(\.value) : fields.filter { self.fields.contains($0.name) }.map(\.value)
    }

    var fingerprint: String { "\(channel)|\(on.map(\.rawValue).sorted())|\(contains)|\(equals)|\(prefix)|\(sources)|\(platforms)|\(fields)" }
}

/// One field a channel rule can read: its header (or canonical) name, its value, and whether it is
/// one of the fields rules read by default.
public struct RuleField: Sendable {
    public var name: String
    public var value: String?
    public var isDefault: Bool
    public init(name: String, value: String?, isDefault: Bool = true) {
        self.name = name
        self.value = value
        self.isDefault = isDefault
    }
}

/// An order's promotion fields as stg_orders.promo keeps them. Values joined by U+001F, as before
/// rules could name fields; when some rule names fields, each is `name U+001E value`, and a field
/// read only because a rule names it starts with U+001D.
public enum PromoText {
    public static func encode(_ fields: [RuleField], named: Bool) -> String {
        if !named { return fields.compactMap(\.value).joined(separator: "\u{1f}") }
        return fields.compactMap { f in f.value.map { (f.isDefault ? "" : "\u{1d}") + f.name + "\u{1e}" + $0 } }.joined(separator: "\u{1f}")
    }

    public static func decode(_ text: String) -> [RuleField] {
        text.split(separator: "\u{1f}").map { part in
            guard let sep = part.firstIndex(of: "\u{1e}") else { return RuleField(name: "", value: String(part)) }
            let extra = part.first == "\u{1d}"
            return RuleField(name: String(part[part.index(part.startIndex, offsetBy: extra ? 1 : 0)..<sep]),
                             value: String(part[part.index(after: sep)...]), isDefault: !extra)
        }
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
    /// The operator allows this source to match no file although its files counted before (a
    /// source being retired); otherwise such a run stops.
    public var allowMissing = false
    /// The source's name in the report as the merchant writes it (`display_name`, e.g. "天猫旗舰店").
    public var displayName: String? = nil
}

/// The language of the report page and of the workbook's dictionary sheet.
public enum ReportLanguage: String, Sendable, CaseIterable { case zh, en }

/// `[predictions]`: the BG/NBD and Gamma-Gamma outputs (model_fit, customer_predictions,
/// prediction_check).
/// Which engine runs ingest, clean and the identity closure of `siyu run` (docs/spark.md).
public enum EngineKind: String, Sendable, CaseIterable { case embedded, spark }

/// `[spark]`: how `siyu run --engine spark` submits its job.
public struct SparkSettings: Sendable, Equatable {
    /// Spark's master URL: `local[2]`, `spark://host:7077`, `yarn`, `k8s://…`.
    public var master = "local[2]"
    /// The driver's memory (spark-submit --driver-memory).
    public var driverMemory = "2g"
    /// The spark-submit to run; empty: `spark-submit` on PATH, else pyspark's own.
    public var submit = ""
    /// spark.sql.shuffle.partitions; 0: twice the default parallelism.
    public var partitions = 0
    /// More Spark settings, each passed as `--conf key=value`.
    public var conf: [String: String] = [:]
    public init() {}
}

public struct PredictionSettings: Sendable, Equatable {
    /// False: the three outputs are not made (nor fitted).
    public var enabled = true
    /// Days ahead for expected purchases, and the held-out days of prediction_check.
    public var horizonDays = 90
    /// An acquisition platform is a segment of model_fit, fitted on its own, from this many customers.
    public var segmentMinCustomers = 500
    public init() {}
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
    /// Report settings: the page's language, a UTF-8 BOM at the start of every CSV (so that
    /// Chinese-locale Excel opens them as UTF-8), report.xlsx beside the CSVs, and the names
    /// channels carry in the report (`[channels]`: channel code -> display name).
    public var language: ReportLanguage = .zh
    public var csvBOM = true
    public var workbook = true
    public var channelNames: [String: String] = [:]
    public var predictions = PredictionSettings()
    /// `[pipeline] engine`; `siyu run --engine` overrides it.
    public var engine = EngineKind.embedded
    public var spark = SparkSettings()

    public static let genericFields = ["order_id", "buyer", "phone", "paid", "refund", "pay_time", "created_time", "status", "promo",
                                       "item_code", "item_title", "quantity", "item_price"]

    public static func load(path: String) throws -> Pipeline {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SiyuError.config(file: path, message: "no such pipeline file; pass --pipeline pipelines/NAME.toml (see pipelines/sample.toml)")
        }
        if isDir.boolValue {
            throw SiyuError.config(file: path, message: "this is a directory; pass the pipeline file itself, e.g. --pipeline \((path as NSString).appendingPathComponent("NAME.toml"))")
        }
        if let problem = InputFile.problem(path) { throw SiyuError.config(file: path, message: "the pipeline file is \(problem)") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SiyuError.config(file: path, message: "cannot read the pipeline file; check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SiyuError.config(file: path, message: "the pipeline file is not UTF-8 text; save it as UTF-8 (TOML files are UTF-8)")
        }
        return try parse(text, path: path)
    }

    static let pipelineKeys = ["name", "timezone", "period", "as_of", "salt", "warehouse", "output", "window_days",
                               "loyal_threshold", "on_bad_file", "language", "csv_bom", "workbook", "engine"]
    static let sourceKeys = ["name", "kind", "files", "default_channel", "columns", "allow_missing", "display_name"]
    static let sections = ["pipeline", "source", "rule", "channels", "predictions", "spark"]
    static let sparkKeys = ["master", "driver_memory", "submit", "partitions", "conf"]
    static let predictionKeys = ["enabled", "horizon_days", "segment_min_customers"]
    static let ruleKeys = ["channel", "on", "contains", "equals", "prefix", "sources", "platforms", "fields"]
    static let followFields = ["subscribe_scene", "qr_scene", "qr_scene_str"]

    /// Keys a table may not hold: each is an error naming where it is and the nearest known key.
    static func checkKeys(_ t: TOMLTable, known: [String], in place: String, fail: (String) -> SiyuError) throws {
        for k in t.keys.sorted() where !known.contains(k) {
            let near = Self.nearest(k, in: known).map { "; did you mean `\($0)`?" } ?? "; known keys: \(known.joined(separator: ", "))"
            throw fail("unknown key `\(k)` in \(place)\(near)")
        }
    }

    /// The known word closest to `word` (edit distance at most a third of its length, at least 2).
    static func nearest(_ word: String, in known: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var prev = row[0]; row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let cur = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                    prev = cur
                }
            }
            return a.isEmpty ? b.count : row[b.count]
        }
        let w = Array(word.lowercased())
        let best = known.map { ($0, distance(w, Array($0))) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= max(2, w.count / 3) else { return nil }
        return best.0
    }

    public static func parse(_ text: String, path: String) throws -> Pipeline {
        let root: TOMLTable
        do { root = try TOMLTable(string: text) } catch let e as TOMLParseError {
            throw SiyuError.config(file: "\(path):\(e.source.begin.line):\(e.source.begin.column)", message: "TOML syntax: \(e.description)")
        }
        func fail(_ m: String) -> SiyuError { .config(file: path, message: m) }
        for k in root.keys.sorted() where !sections.contains(k) {
            let near = nearest(k, in: sections).map { "; did you mean `[\($0)]`?" } ?? "; a pipeline file has [pipeline], [[source]], [[rule]], [channels], [predictions] and [spark]"
            throw fail("unknown section or key `\(k)` at the top level\(near)")
        }
        if root["pipeline"] != nil, root["pipeline"]?.table == nil { throw fail("`pipeline` must be a table: [pipeline]") }
        let p = root["pipeline"]?.table ?? TOMLTable()
        try checkKeys(p, known: pipelineKeys, in: "[pipeline]", fail: fail)
        func str(_ t: TOMLTable, _ k: String, _ def: String? = nil) throws -> String? {
            guard let v = t[k] else { return def }
            guard let s = v.string else { throw fail("`\(k)` must be a string") }
            return s
        }
        func int(_ t: TOMLTable, _ k: String, _ def: Int, _ range: ClosedRange<Int>, _ unit: String) throws -> Int {
            guard let v = t[k] else { return def }
            guard let i = v.int else { throw fail("`\(k)` must be an integer") }
            guard range.contains(i) else { throw fail("`\(k)` must be from \(range.lowerBound) to \(range.upperBound) \(unit), not \(i)") }
            return i
        }
        func strList(_ t: TOMLTable, _ k: String) throws -> [String] {
            guard let v = t[k] else { return [] }
            if let s = v.string { return [s] }
            guard let a = v.array else { throw fail("`\(k)` must be a list of strings") }
            return try a.map { guard let s = $0.string else { throw fail("`\(k)` must be a list of strings") }; return s }
        }
        let tzName = try str(p, "timezone", "Asia/Shanghai")!
        // IANA names only: an abbreviation is ambiguous (`CST` is US Central to the system, China
        // Standard Time to a merchant).
        guard tzName.contains("/") || tzName == "UTC" || tzName == "GMT", let tz = TimeZone(identifier: tzName) else {
            throw fail("unknown time zone `\(tzName)`; use an IANA name such as Asia/Shanghai (abbreviations like CST are ambiguous)")
        }
        let periodName = try str(p, "period", "month")!
        guard let period = PeriodKind(rawValue: periodName) else { throw fail("period must be \"month\" or \"week\", not `\(periodName)`") }
        var asOf: Int?
        if let a = try str(p, "as_of"), !a.isEmpty {
            guard let d = CivilDate.parseDay(a) else { throw fail("as_of must be a date like 2025-12-31, not `\(a)`") }
            asOf = d
        }
        func bool(_ t: TOMLTable, _ k: String, _ def: Bool, in place: String) throws -> Bool {
            guard let v = t[k] else { return def }
            guard let b = v.bool else { throw fail("\(place): `\(k)` must be true or false") }
            return b
        }
        let languageName = try str(p, "language", "zh")!
        guard let language = ReportLanguage(rawValue: languageName) else {
            throw fail("language must be \"zh\" (Chinese, the default) or \"en\" (English), not `\(languageName)`")
        }
        let csvBOM = try bool(p, "csv_bom", true, in: "[pipeline]")
        let workbook = try bool(p, "workbook", true, in: "[pipeline]")
        var channelNames: [String: String] = [:]
        if let c = root["channels"] {
            guard let t = c.table else { throw fail("`channels` must be a table: [channels] with lines like wechat_organic = \"公众号自然流量\"") }
            for k in t.keys {
                guard let v = t[k]?.string else { throw fail("[channels]: `\(k)` must be the channel's display name (a string)") }
                let name = v.trimmingCharacters(in: .whitespaces)
                if name.isEmpty { throw fail("[channels]: `\(k)` has an empty display name; write the name the report should show, or remove the line") }
                channelNames[k] = name
            }
        }
        var predictions = PredictionSettings()
        if let v = root["predictions"] {
            guard let t = v.table else { throw fail("`predictions` must be a table: [predictions] with enabled, horizon_days, segment_min_customers") }
            try checkKeys(t, known: predictionKeys, in: "[predictions]", fail: fail)
            predictions.enabled = try bool(t, "enabled", true, in: "[predictions]")
            predictions.horizonDays = try int(t, "horizon_days", 90, 1...3650, "days")
            predictions.segmentMinCustomers = try int(t, "segment_min_customers", 500, 1...1_000_000_000, "customers")
        }
        let engineName = try str(p, "engine", "embedded")!
        guard let engine = EngineKind(rawValue: engineName) else { throw fail("engine must be \"embedded\" (the default) or \"spark\", not `\(engineName)`") }
        var spark = SparkSettings()
        if let v = root["spark"] {
            guard let t = v.table else { throw fail("`spark` must be a table: [spark] with master, driver_memory, submit, partitions, conf") }
            try checkKeys(t, known: sparkKeys, in: "[spark]", fail: fail)
            spark.master = try str(t, "master", spark.master)!
            if spark.master.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("[spark]: `master` is empty; write local[2], spark://host:7077, yarn or k8s://…") }
            spark.driverMemory = try str(t, "driver_memory", spark.driverMemory)!
            spark.submit = try str(t, "submit", "")!
            spark.partitions = try int(t, "partitions", 0, 0...100_000, "partitions")
            if let c = t["conf"] {
                guard let ct = c.table else { throw fail("[spark]: `conf` must be a table: [spark.conf] with lines like \"spark.executor.memory\" = \"4g\"") }
                for k in ct.keys {
                    guard let s = ct[k]?.string else { throw fail("[spark.conf]: `\(k)` must be a string") }
                    spark.conf[k] = s
                }
            }
        }
        let onBad = try str(p, "on_bad_file", "continue")!
        guard onBad == "continue" || onBad == "stop" else { throw fail("on_bad_file must be \"continue\" or \"stop\"") }

        var sources: [SourceConfig] = []
        if root["source"] != nil, root["source"]?.array == nil { throw fail("sources are written [[source]] (an array of tables), not [source]") }
        for (i, v) in (root["source"]?.array ?? TOMLArray()).enumerated() {
            guard let t = v.table else { throw fail("[[source]] #\(i + 1) must be a table") }
            let place = "[[source]] #\(i + 1)\((try? str(t, "name")).flatMap { $0 }.map { " (\($0))" } ?? "")"
            try checkKeys(t, known: sourceKeys, in: place, fail: fail)
            guard let kindName = try str(t, "kind"), let kind = SourceKind(rawValue: kindName) else {
                throw fail("\(place) needs kind = one of \(SourceKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let name = try str(t, "name", kind.rawValue)!
            let platform = kind.platform ?? name
            let files = try strList(t, "files")
            if files.isEmpty { throw fail("[[source]] \(name) lists no files; add files = [\"path/*.csv\"]") }
            var columns: [String: String] = [:]
            if kind == .generic {
                guard let c = t["columns"]?.table else { throw fail("generic source \(name) needs a [source.columns] table mapping \(genericFields.joined(separator: ", ")) to headers") }
                for k in c.keys {
                    guard genericFields.contains(k) else {
                        let near = nearest(k, in: genericFields).map { "; did you mean `\($0)`?" } ?? ""
                        throw fail("generic source \(name): unknown column key `\(k)`\(near); known: \(genericFields.joined(separator: ", "))")
                    }
                    guard let header = c[k]?.string else { throw fail("generic source \(name): column `\(k)` must be a header name (a string)") }
                    columns[k] = header
                }
                for req in ["order_id", "paid", "pay_time"] where columns[req] == nil {
                    throw fail("generic source \(name): [source.columns] must map `\(req)`")
                }
            } else if t["columns"] != nil {
                throw fail("\(place): `columns` is for kind = \"generic\" sources; a \(kind.rawValue) export is recognised by its headers")
            }
            let def = try str(t, "default_channel", kind == .followers ? "wechat_follow" : platform)!
            var allowMissing = false
            if let a = t["allow_missing"] {
                guard let b = a.bool else { throw fail("\(place): `allow_missing` must be true or false") }
                allowMissing = b
            }
            var source = SourceConfig(name: name, kind: kind, files: files, defaultChannel: def, platform: platform, columns: columns)
            source.allowMissing = allowMissing
            if let d = try str(t, "display_name") {
                let shown = d.trimmingCharacters(in: .whitespaces)
                if shown.isEmpty { throw fail("\(place): `display_name` is empty; write the name the report should show, or remove it") }
                source.displayName = shown
            }
            sources.append(source)
        }
        if sources.isEmpty { throw fail("no [[source]] tables: the pipeline names no input files") }
        let names = sources.map(\.name)
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw fail("two sources are named `\(twice)`; names must be unique (a [[source]] without name = … is named after its kind)")
        }
        let platformNames = Set(sources.filter(\.kind.isOrders).map(\.platform))

        var rules: [ChannelRule] = []
        if root["rule"] != nil, root["rule"]?.array == nil { throw fail("rules are written [[rule]] (an array of tables), not [rule]") }
        for (i, v) in (root["rule"]?.array ?? TOMLArray()).enumerated() {
            guard let t = v.table else { throw fail("[[rule]] #\(i + 1) must be a table") }
            let place = "[[rule]] #\(i + 1)\((try? str(t, "channel")).flatMap { $0 }.map { " (\($0))" } ?? "")"
            try checkKeys(t, known: ruleKeys, in: place, fail: fail)
            guard let channel = try str(t, "channel"), !channel.isEmpty else { throw fail("\(place) needs channel = \"…\"") }
            let onNames = try strList(t, "on")
            var on: Set<RuleTarget> = []
            for n in onNames {
                guard let r = RuleTarget(rawValue: n) else {
                    let near = nearest(n, in: ["spend", "order", "follow"]).map { "; did you mean `\($0)`?" } ?? ""
                    throw fail("\(place): `on` takes spend, order, follow; not `\(n)`\(near)")
                }
                on.insert(r)
            }
            let rule = ChannelRule(channel: channel, on: on, contains: try strList(t, "contains"), equals: try strList(t, "equals"),
                                   prefix: try strList(t, "prefix"), sources: try strList(t, "sources"),
                                   platforms: try strList(t, "platforms"), fields: try strList(t, "fields"))
            var scoped = rule
            if onNames.isEmpty { scoped.on = rule.platforms.isEmpty ? [.spend, .order, .follow] : [.order] }
            for s in rule.sources where !names.contains(s) {
                let near = nearest(s, in: names).map { "; did you mean `\($0)`?" } ?? "; sources: \(names.joined(separator: ", "))"
                throw fail("\(place): `sources` names `\(s)`, which is no [[source]] of this pipeline\(near)")
            }
            for pl in rule.platforms where !platformNames.contains(pl) {
                throw fail("\(place): `platforms` names `\(pl)`; the order platforms of this pipeline are \(platformNames.sorted().joined(separator: ", "))")
            }
            if !rule.platforms.isEmpty, scoped.on != [.order] {
                throw fail("\(place): `platforms` scopes a rule to orders; set on = [\"order\"] (use `sources` to scope spend or follows)")
            }
            if scoped.on == [.follow], let f = rule.fields.first(where: { !followFields.contains($0) }) {
                throw fail("\(place): a follow rule reads \(followFields.joined(separator: ", ")); not `\(f)`")
            }
            if rule.matchesAll && rule.sources.isEmpty && rule.platforms.isEmpty {
                throw fail("\(place) needs `equals`, `prefix` or `contains` (or `sources` / `platforms`, to match every row they scope)")
            }
            rules.append(scoped)
        }
        let windowDays = try int(p, "window_days", 90, 1...3650, "days")
        let loyal = try int(p, "loyal_threshold", 3, 1...1000, "purchase days")
        var pipeline = Pipeline(
            path: path, name: try str(p, "name", "pipeline")!, timeZone: tz, period: period, asOf: asOf,
            salt: try str(p, "salt", "siyu")!, warehouse: try str(p, "warehouse", "build/warehouse.sqlite")!,
            output: try str(p, "output", "build/reports")!, windowDays: windowDays,
            loyalThreshold: loyal, stopOnBadFile: onBad == "stop",
            sources: sources, rules: rules)
        pipeline.saltGiven = p["salt"] != nil
        pipeline.language = language
        pipeline.csvBOM = csvBOM
        pipeline.workbook = workbook
        pipeline.channelNames = channelNames
        pipeline.predictions = predictions
        pipeline.engine = engine
        pipeline.spark = spark
        return pipeline
    }

    /// Why an as-of date cannot be used, or nil: before any platform's exports (2003) or after
    /// the day of the run in the business time zone (the report would be padded with empty
    /// periods up to it: a typo of 2099 wrote a 300 MB page).
    public static func asOfProblem(_ day: Int, zone: TimeZone, now: Date = Date()) -> String? {
        let today = CivilDate.floorDiv(Int(now.timeIntervalSince1970) + zone.secondsFromGMT(for: now), 86400)
        if day > today { return "is after today (\(CivilDate.iso(today))): the as-of date is the last day the data covers" }
        if day < CivilDate.dayNumber(2003, 1, 1) { return "is before 2003-01-01, when the platforms' exports begin" }
        return nil
    }

    /// Salts siyu refuses for a run on real data: none, an empty one, siyu's default, and the
    /// sample's (allowed where every source reads the bundled sample-data/). A known salt makes
    /// customer keys as good as the phone numbers and nicks behind them.
    public var saltProblem: String? {
        if !saltGiven { return "the pipeline file sets no salt; add salt = \"<a long random secret>\" to [pipeline] (for example the output of `openssl rand -hex 16`) and keep it secret: customer keys are only opaque while the salt is unknown" }
        if salt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "salt is empty; set salt = \"<a long random secret>\" in [pipeline] (for example the output of `openssl rand -hex 16`)" }
        if salt == "siyu" { return "salt = \"siyu\" is siyu's documented default; set your own secret salt in [pipeline] (for example the output of `openssl rand -hex 16`)" }
        // The bundled sample: every glob inside sample-data/ once `.` and `..` are resolved.
        let sampleOnly = sources.allSatisfy { $0.files.allSatisfy { glob in
            var parts: [Substring] = []
            for c in glob.split(separator: "/") where c != "." { if c == "..", !parts.isEmpty { parts.removeLast() } else { parts.append(c) } }
            return !glob.hasPrefix("/") && parts.count > 1 && parts[0] == "sample-data" && !parts.contains("..")
        } }
        if salt == "siyu-sample-salt" && !sampleOnly { return "salt = \"siyu-sample-salt\" is the bundled sample's published salt; set your own secret salt in [pipeline] (for example the output of `openssl rand -hex 16`)" }
        return nil
    }

    /// What the clean stage's output depends on besides the raw rows: when it changes, clean runs in full.
    public var cleanFingerprint: String {
        var parts = ["v1", timeZone.identifier]
        for s in sources { parts.append("\(s.name)|\(s.kind.rawValue)|\(s.platform)|\(s.columns.sorted { $0.key < $1.key })") }
        for r in rules { parts.append(r.fingerprint) }
        return SHA256.hexDigest(parts.joined(separator: "\n"))
    }

    /// The first rule for `target` that matches any of `values` (rows of any source or platform).
    public func channel(for target: RuleTarget, values: [String?]) -> String? {
        channel(for: target, source: nil, platform: nil, fields: values.map { RuleField(name: "", value: $0) })
    }

    /// The first rule for `target` whose scope holds the row (`source`, `platform`) and that
    /// matches one of the fields it reads.
    public func channel(for target: RuleTarget, source: String?, platform: String?, fields: [RuleField]) -> String? {
        rules.first { $0.applies(to: target, source: source, platform: platform) && $0.matches($0.values(fields)) }?.channel
    }

    /// True when some rule for `target` names the fields it reads: their names are kept.
    public func rulesNameFields(_ target: RuleTarget) -> Bool { rules.contains { $0.on.contains(target) && !$0.fields.isEmpty } }

    /// Header names that rules for `target` read besides the default fields.
    public func ruleFieldNames(_ target: RuleTarget) -> [String] {
        var out: [String] = []
        for r in rules where r.on.contains(target) { for f in r.fields where !out.contains(f) { out.append(f) } }
        return out
    }

    public func defaultChannel(platform: String) -> String {
        sources.first { $0.kind.isOrders && $0.platform == platform }?.defaultChannel ?? platform
    }

    /// The follower source whose name follow rules scoped by `sources` look for (the first).
    public var followerSource: String? { sources.first { $0.kind == .followers }?.name }

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
