/// The page's words: every sentence is written in both languages where it is used, and the
/// pipeline's `language` picks one.
public struct Words: Sendable {
    public let lang: ReportLanguage
    public init(_ lang: ReportLanguage) { self.lang = lang }
    /// The Chinese or the English text.
    public func callAsFunction(_ zh: String, _ en: String) -> String { lang == .zh ? zh : en }
}

/// Platform and channel names as the merchant reads them: the pipeline's `display_name` per
/// source and `[channels]` table first, then siyu's names for its own codes, else the code.
public struct DisplayNames: Sendable {
    var platforms: [String: String] = [:]
    var channels: [String: String] = [:]
    let w: Words

    public init(pipeline: Pipeline) {
        self.init(language: pipeline.language, sources: pipeline.sources, channels: pipeline.channelNames)
    }

    public init(language: ReportLanguage, sources: [SourceConfig] = [], channels: [String: String] = [:]) {
        w = Words(language)
        platforms = ["all": w("全部平台", "All platforms"), "any": w("任一平台", "Any platform"),
                     "tmall": w("天猫", "Tmall"), "jd": w("京东", "JD"), "microstore": w("微商城", "Micro-store")]
        // A platform named twice keeps the first source's name (in the pipeline file's order).
        for s in sources.reversed() where s.kind.isOrders { if let d = s.displayName, !d.isEmpty { platforms[s.platform] = d } }
        self.channels = ["unmapped": w("未归类投放", "Unmapped spend"), "blended": w("全部渠道合计", "All channels (blended)"),
                         "all": w("全部渠道", "All channels"), "wechat_follow": w("公众号关注", "WeChat follow")]
        for (code, name) in channels { self.channels[code] = name }
    }

    public func platform(_ code: String) -> String { platforms[code] ?? code }

    /// A channel's name; a platform's default channel (`tmall`) takes the platform's name.
    public func channel(_ code: String) -> String { channels[code] ?? platforms[code] ?? code }
}

/// What the streamed customer_summary adds up to: the page never holds per-customer rows.
public struct CustomerStats: Sendable {
    public struct Group: Sendable {
        public var customers = 0, repeaters = 0, fans = 0, repeatDays = 0
        /// Customers by repeat purchase days: 0, 1, 2, 3, 4, 5 and more.
        public var byFrequency = [Int](repeating: 0, count: 6)
    }
    public var all = Group()
    public var platforms: [String: Group] = [:]
    public init() {}

    public var total: Int { all.customers }
    public var repeaters: Int { all.repeaters }

    public mutating func add(platform: String, frequency: Int, isFan: Bool) {
        func put(_ g: inout Group) {
            g.customers += 1
            if frequency > 0 { g.repeaters += 1; g.repeatDays += frequency }
            if isFan { g.fans += 1 }
            g.byFrequency[min(max(frequency, 0), 5)] += 1
        }
        put(&all)
        put(&platforms[platform, default: Group()])
    }
}

/// Everything the page needs besides the output tables.
public struct ReportContext: Sendable {
    public var pipelineName: String
    public var asOf: String
    public var period: PeriodKind
    public var windowDays = 90
    public var loyalThreshold = 3
    public var names: DisplayNames
    /// Order counts by (platform, status) over every landed order.
    public var statusCounts: [(String, String, Int)] = []
    public var customers: CustomerStats? = nil
    /// True when report.xlsx is written beside index.html (the page links it).
    public var workbook = true
    /// Outputs whose rows are one per customer: in the CSV and the workbook, never on the page.
    public var perCustomer: Set<String> = ReportContext.perCustomerOutputs
    /// The customer models' sums and fit status (`[predictions] enabled`); nil: no prediction sections.
    public var predictions: PredictionFacts? = nil

    public var words: Words { names.w }

    public static let perCustomerOutputs: Set<String> = ["customer_summary", "customer_predictions"]
}

extension ReportContext {
    public init(pipeline: Pipeline, asOf: String, statusCounts: [(String, String, Int)], customers: CustomerStats?, predictions: PredictionFacts? = nil) {
        self.init(pipelineName: pipeline.name, asOf: asOf, period: pipeline.period, windowDays: pipeline.windowDays,
                  loyalThreshold: pipeline.loyalThreshold, names: DisplayNames(pipeline: pipeline),
                  statusCounts: statusCounts, customers: customers, workbook: pipeline.workbook,
                  predictions: pipeline.predictions.enabled ? predictions : nil)
    }
}
