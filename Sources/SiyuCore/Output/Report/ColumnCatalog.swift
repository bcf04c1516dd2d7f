/// Every output's columns: how a value is shown (page and workbook), its label and a one-line
/// definition in both languages. docs/data-dictionary.md explains them at length; a test checks
/// that the two name the same columns.
public enum ColumnKind: Sendable {
    case text, key, period, day, offset, platform, channel, count, number, yuan, yuanUnit, rate, ratio, flag, param
}

public struct ColumnInfo: Sendable {
    public var name: String
    public var kind: ColumnKind
    public var zh: String, en: String
    public var zhDef: String, enDef: String

    public func label(_ w: Words) -> String { w(zh, en) }
    public func definition(_ w: Words) -> String { w(zhDef, enDef) }
}

public struct OutputInfo: Sendable {
    public var name: String
    public var zh: String, en: String
    public var columns: [ColumnInfo]
    public func title(_ w: Words) -> String { w(zh, en) }
    public func column(_ name: String) -> ColumnInfo? { columns.first { $0.name == name } }
}

public enum ColumnCatalog {
    /// A column the catalog does not know (an output newer than this page): shown as its values look.
    public static func info(_ output: String, _ column: String, sample: String? = nil) -> ColumnInfo {
        if let c = outputs[output]?.column(column) { return c }
        if output == "customer_predictions", let days = expectedPurchasesHorizon(column) { return expectedPurchases(days) }
        let numeric = sample.map { !$0.isEmpty && CSVWriter.isNumber($0) } ?? false
        let kind: ColumnKind = column.hasSuffix("_rate") || column == "share" ? .rate
            : column.hasSuffix("platform") ? .platform : column.hasSuffix("channel") ? .channel
            : column == "partial" || column.hasPrefix("window_complete") || column.hasPrefix("is_") ? .flag
            : numeric ? .number : .text
        return ColumnInfo(name: column, kind: kind, zh: column, en: column, zhDef: "", enDef: "")
    }

    public static func output(_ name: String) -> OutputInfo? { outputs[name] }

    /// The horizon of customer_predictions' `expected_purchases_<days>d` column (`[predictions] horizon_days`).
    static func expectedPurchasesHorizon(_ column: String) -> Int? {
        guard column.hasPrefix("expected_purchases_"), column.hasSuffix("d") else { return nil }
        return Int(column.dropFirst("expected_purchases_".count).dropLast())
    }

    /// customer_predictions' expected purchases over a horizon of `days`.
    static func expectedPurchases(_ days: Int) -> ColumnInfo {
        c("expected_purchases_\(days)d", .number, "未来 \(days) 天预期复购天数", "expected purchases (\(days) days)",
          "截止日后 \(days) 天内预期的复购日数（BG/NBD，已计入客户可能已流失；天数由 [predictions] horizon_days 设置）",
          "expected repeat purchase days in the \(days) days after the as-of date (BG/NBD, allowing for the customer having dropped out; the days are [predictions] horizon_days)")
    }

    static func c(_ name: String, _ kind: ColumnKind, _ zh: String, _ en: String, _ zhDef: String, _ enDef: String) -> ColumnInfo {
        ColumnInfo(name: name, kind: kind, zh: zh, en: en, zhDef: zhDef, enDef: enDef)
    }

    /// In the report's order.
    public static let order = ["cohort_repurchase", "repurchase_by_period", "platform_migration", "channel_cpa", "fan_conversion",
                               "fan_lift", "product_repurchase", "customer_summary", "customer_predictions", "prediction_check",
                               "model_fit", "data_quality"]

    public static let outputs: [String: OutputInfo] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    static let all: [OutputInfo] = [
        OutputInfo(name: "cohort_repurchase", zh: "新客复购（按首购期）", en: "Cohort repurchase", columns: [
            c("cohort", .period, "首购期", "cohort", "客户第一个购买日所在的周期（月或 ISO 周）", "the period that holds the customer's first purchase day (month or ISO week)"),
            c("acquisition_platform", .platform, "获客平台", "acquisition platform", "客户第一笔有效订单所在的平台；all 为全部客户", "platform of the customer's first qualifying order; all: every customer"),
            c("period_offset", .offset, "首购后第 k 期", "period offset", "k = 0 为首购期，k = 1 为下一期，依此类推", "k = 0 is the cohort's own period, 1 the next, and so on"),
            c("cohort_customers", .count, "首购客户数", "cohort customers", "该首购期（和平台）的新客户数", "customers whose first purchase day is in the cohort"),
            c("active_customers", .count, "当期购买客户", "active customers", "其中在第 k 期于任一平台有有效订单的客户（k = 0 时为全部）", "of them, customers with a qualifying order on any platform in period cohort+k (k = 0: all)"),
            c("retention_rate", .rate, "留存率", "retention rate", "当期购买客户 ÷ 首购客户数", "active customers / cohort customers"),
            c("repeat_customers", .count, "累计复购客户", "repeat customers", "第二个购买日在第 k 期结束前的客户", "customers whose second purchase day is on or before the end of period cohort+k"),
            c("cumulative_repeat_rate", .rate, "累计复购率", "cumulative repeat rate", "累计复购客户 ÷ 首购客户数；只增不减", "repeat customers / cohort customers; it only grows"),
            c("net_revenue", .yuan, "净收入", "net revenue", "该群客户第 k 期在任一平台的实付减退款（元）", "the cohort's net paid (paid − refunded) on any platform in period cohort+k, yuan"),
            c("partial", .flag, "未结束", "partial", "true：第 k 期在截止日后才结束，数字仍会增长", "true when period cohort+k ends after the as-of date: its numbers still grow"),
        ]),
        OutputInfo(name: "repurchase_by_period", zh: "每期买家：新客与老客", en: "Buyers per period: new and returning", columns: [
            c("period", .period, "周期", "period", "月或 ISO 周", "month or ISO week"),
            c("platform", .platform, "平台", "platform", "该平台的订单；all 为全部平台", "orders on this platform; all: every platform"),
            c("buyers", .count, "买家", "buyers", "本期在该平台有有效订单的客户", "customers with a qualifying order on the platform in the period"),
            c("new_buyers", .count, "新客", "new buyers", "第一个购买日（任一平台）在本期的买家", "buyers whose first purchase day (any platform) is in the period"),
            c("returning_buyers", .count, "老客", "returning buyers", "第一个购买日在本期之前的买家", "buyers whose first purchase day is before the period"),
            c("returning_share", .rate, "老客占比", "returning share", "老客 ÷ 买家", "returning buyers / buyers"),
            c("repeat_buyers", .count, "本期复购买家", "repeat buyers", "本期内在该平台有两个及以上购买日的买家", "buyers with two or more purchase days on the platform within the period"),
            c("period_repurchase_rate", .rate, "本期复购率", "period repurchase rate", "本期复购买家 ÷ 买家", "repeat buyers / buyers"),
            c("net_revenue", .yuan, "净收入", "net revenue", "本期该平台有效订单的实付减退款（元）", "net paid of the period's qualifying orders on the platform, yuan"),
            c("partial", .flag, "未结束", "partial", "true：本期在截止日后才结束", "true when the period ends after the as-of date"),
        ]),
        OutputInfo(name: "platform_migration", zh: "平台客户转入微商城", en: "Into the micro-store", columns: [
            c("acquisition_platform", .platform, "获客平台", "acquisition platform", "客户第一笔有效订单的平台；all 为全部客户", "platform of the first qualifying order; all: every customer"),
            c("repurchase_platform", .platform, "复购平台", "repurchase platform", "复购所在的平台；any 为任一平台", "platform of the repeat purchase; any: any platform"),
            c("acquired_customers", .count, "获客数", "acquired customers", "该平台获得的客户数", "customers the platform acquired"),
            c("customers_repurchasing_on", .count, "在该平台复购的客户", "customers repurchasing on", "在某个复购日于复购平台有有效订单的客户", "customers with a repeat purchase day holding a qualifying order on the repurchase platform"),
            c("share", .rate, "占比", "share", "在该平台复购的客户 ÷ 获客数", "customers repurchasing on / acquired customers"),
        ]),
        OutputInfo(name: "channel_cpa", zh: "渠道获客成本", en: "Channel cost per acquisition", columns: [
            c("period", .period, "周期", "period", "新客首购日（和投放日期）所在的周期", "the period of the new customers' first purchase day and of the spend"),
            c("channel", .channel, "渠道", "channel", "首次触达渠道（管道文件的规则）；unmapped 为未被规则匹配的投放，blended 为全部渠道合计", "first-touch channel (the pipeline's rules); unmapped: spend no rule maps; blended: all channels"),
            c("spend", .yuan, "投放", "spend", "本期该渠道的投放金额（元）", "spend dated in the period, yuan"),
            c("new_customers", .count, "新客", "new customers", "经该渠道获得、首购日在本期的客户", "customers acquired through the channel whose first purchase day is in the period"),
            c("cpa", .yuanUnit, "获客成本", "CPA", "投放 ÷ 新客（元）；无新客时为空", "spend / new customers, yuan; empty with no new customers"),
            c("first_order_revenue", .yuan, "首购日收入", "first-day revenue", "新客首购日全部有效订单的净收入（元）", "net paid of the new customers' first purchase day, yuan"),
            c("revenue_90d", .yuan, "90 天收入", "90-day revenue", "新客首购日起 0–89 天的净收入（窗口由管道设置）", "net paid over days 0–89 from each first purchase day (the window is a pipeline setting)"),
            c("ltv_cac", .ratio, "LTV/CAC", "LTV/CAC", "90 天收入 ÷ 投放；大于 1 表示 90 天内回本", "revenue_90d / spend; above 1: paid back within the window"),
            c("window_complete", .flag, "窗口已满", "window complete", "true：本期最后一天 + 89 天不晚于截止日", "true when the period's last day + 89 days is on or before the as-of date"),
            c("repeat_customers", .count, "复购客户", "repeat customers", "这些新客中已有第二个购买日的客户", "of the new customers, those with a second purchase day"),
            c("cost_per_repeat_customer", .yuanUnit, "每位复购客成本", "cost per repeat customer", "投放 ÷ 复购客户（元）", "spend / repeat customers, yuan"),
        ]),
        OutputInfo(name: "fan_conversion", zh: "粉丝转化", en: "Fan conversion", columns: [
            c("follow_period", .period, "关注期", "follow period", "粉丝首次关注日所在的周期", "the period of the fan's first follow day"),
            c("fan_channel", .channel, "粉丝渠道", "fan channel", "由关注场景和二维码规则得到的渠道；all 为全部粉丝", "channel from rules on the follow's scene and QR code; all: every fan"),
            c("fans", .count, "新粉丝", "fans", "本期新关注的粉丝（每个 openid 只在首次关注时计一次）", "new fans in the period (each openid once, at its first follow)"),
            c("already_customers", .count, "关注前已是客户", "already customers", "首购日在关注日之前的粉丝", "fans whose first purchase day is before the follow day"),
            c("prospects", .count, "潜在客户", "prospects", "新粉丝 − 关注前已是客户", "fans − already customers"),
            c("converted_7d", .count, "7 天内首购", "converted in 7 days", "关注后 0–6 天内首购的潜在客户", "prospects whose first purchase day is within days 0–6 of the follow"),
            c("converted_30d", .count, "30 天内首购", "converted in 30 days", "关注后 0–29 天内首购的潜在客户", "prospects who first bought within days 0–29"),
            c("converted_90d", .count, "90 天内首购", "converted in 90 days", "关注后 0–89 天内首购的潜在客户", "prospects who first bought within days 0–89"),
            c("conversion_rate_30d", .rate, "30 天转化率", "30-day conversion", "30 天内首购 ÷ 潜在客户", "converted_30d / prospects"),
            c("repeat_fans", .count, "复购粉丝", "repeat fans", "关注日及之后有两个及以上购买日的粉丝", "fans with two or more purchase days on or after the follow day"),
            c("loyal_fans", .count, "忠实粉丝", "loyal fans", "关注日及之后有三个及以上购买日的粉丝（门槛由管道设置）", "fans with three or more purchase days on or after the follow day (a pipeline setting)"),
            c("median_days_to_first_order", .number, "首购中位天数", "median days to first order", "已转化潜在客户从关注到首购的天数中位数", "median days from follow to first purchase of the converted prospects"),
            c("window_complete_30d", .flag, "30 天窗口已满", "30-day window complete", "true：本期最后一天 + 29 天不晚于截止日", "true when the period's last day + 29 days is on or before the as-of date"),
        ]),
        OutputInfo(name: "fan_lift", zh: "粉丝是否复购更多", en: "Do fans come back more often?", columns: [
            c("cohort", .period, "首购期", "cohort", "客户第一个购买日所在的周期", "the period of the customer's first purchase day"),
            c("group", .text, "分组", "group", "fan：在第二个购买日（或截止日）前已关注；non_fan：其他", "fan: followed by the second purchase day (or the as-of date); non_fan: the others"),
            c("customers", .count, "客户数", "customers", "该首购期该组的客户", "the cohort's customers in the group"),
            c("repeat_customers_180d", .count, "180 天内复购", "repeat within 180 days", "首购后 1–179 天内有第二个购买日的客户", "customers with a second purchase day within days 1–179 of the first"),
            c("repeat_rate_180d", .rate, "180 天复购率", "180-day repeat rate", "180 天内复购 ÷ 客户数", "repeat customers / customers"),
            c("window_complete", .flag, "窗口已满", "window complete", "true：首购期最后一天 + 179 天不晚于截止日", "true when the cohort's last day + 179 days is on or before the as-of date"),
        ]),
        OutputInfo(name: "product_repurchase", zh: "首购商品与复购", en: "First products and repurchase", columns: [
            c("product", .text, "商品", "product", "商家编码（没有时为标题）；(unknown) 为首购日无商品明细", "the merchant's code (else the title); (unknown): no item lines on the first purchase day"),
            c("title", .text, "标题", "title", "该商品最常见的标题", "the product's most common title"),
            c("acquisition_platform", .platform, "获客平台", "acquisition platform", "客户首单平台；all 为全部", "platform of the first order; all: every customer"),
            c("first_customers", .count, "首购客户", "first customers", "首购日买了该商品的客户", "customers with the product on their first purchase day"),
            c("eligible_90d", .count, "满 90 天客户", "eligible (90 days)", "首购日 + 89 天不晚于截止日的首购客户", "first customers whose first purchase day + 89 is on or before the as-of date"),
            c("repeat_customers_90d", .count, "90 天内复购", "repeat within 90 days", "其中 1–89 天内有第二个购买日的客户", "eligible customers with a second purchase day within days 1–89"),
            c("repeat_rate_90d", .rate, "90 天复购率", "90-day repeat rate", "90 天内复购 ÷ 满 90 天客户", "repeat_customers_90d / eligible_90d"),
            c("eligible_180d", .count, "满 180 天客户", "eligible (180 days)", "首购日 + 179 天不晚于截止日的首购客户", "first customers whose first purchase day + 179 is on or before the as-of date"),
            c("repeat_customers_180d", .count, "180 天内复购", "repeat within 180 days", "其中 1–179 天内有第二个购买日的客户", "eligible customers with a second purchase day within days 1–179"),
            c("repeat_rate_180d", .rate, "180 天复购率", "180-day repeat rate", "180 天内复购 ÷ 满 180 天客户", "repeat_customers_180d / eligible_180d"),
            c("next_product", .text, "第二次最常买", "next product", "这些客户第二个购买日最常买的商品", "the product most often on these customers' second purchase day"),
            c("next_product_customers", .count, "第二次买该商品的客户", "next product customers", "第二个购买日买了该商品的客户数", "how many bought it on their second purchase day"),
        ]),
        OutputInfo(name: "customer_summary", zh: "客户汇总（每位客户一行）", en: "Customer summary (one row per customer)", columns: [
            c("customer_key", .key, "客户编号", "customer key", "加盐哈希，不含任何个人信息", "salted hash; no personal data"),
            c("acquisition_platform", .platform, "获客平台", "acquisition platform", "第一笔有效订单的平台", "platform of the first qualifying order"),
            c("first_purchase_day", .day, "首购日", "first purchase day", "第一个购买日（业务时区）", "first purchase day (business time zone)"),
            c("frequency", .count, "复购天数", "frequency", "复购日的个数（lifetimes 约定）", "number of repeat purchase days (lifetimes convention)"),
            c("recency", .count, "首末购间隔天数", "recency", "首购日到最后一个购买日的天数", "days from the first to the last purchase day"),
            c("T", .count, "客龄天数", "T", "首购日到截止日的天数", "days from the first purchase day to the as-of date"),
            c("monetary_value", .yuanUnit, "复购日平均金额", "monetary value", "复购日净收入的平均值（元）；无复购为 0", "mean net paid of the repeat purchase days, yuan; 0 when none"),
            c("is_fan", .flag, "是粉丝", "is fan", "截止日前已关注公众号", "linked to a fan whose first follow is on or before the as-of date"),
        ]),
        OutputInfo(name: "customer_predictions", zh: "客户预测（每位客户一行）", en: "Customer predictions (one row per customer)", columns: [
            c("customer_key", .key, "客户编号", "customer key", "加盐哈希，不含任何个人信息；与 customer_summary 相同", "salted hash; no personal data; as in customer_summary"),
            c("p_alive", .rate, "仍活跃概率", "P(alive)", "BG/NBD 模型估计的客户在截止日仍活跃（未流失）的概率；只买过一次的客户为 1（模型如此）", "BG/NBD probability that the customer is still active (has not dropped out) at the as-of date; 1 for a one-time buyer, as the model gives"),
            expectedPurchases(90),
            c("expected_value", .yuanUnit, "预期单日金额", "expected value", "Gamma-Gamma 模型估计的该客户一个购买日的金额（元）；只买过一次的客户为总体平均；无法估计时为空", "Gamma-Gamma expected value of one of the customer's purchase days, yuan; the population mean for a one-time buyer; empty when it cannot be estimated"),
            c("predicted_value_365d", .yuanUnit, "未来 365 天预期价值", "predicted value (365 days)", "未来 365 天预期购买日数 × 预期单日金额（元，未折现，是收入不是利润）；预期单日金额为空时为空", "expected purchase days in the next 365 days × expected value, yuan, undiscounted (revenue, not profit); empty when expected_value is"),
        ]),
        OutputInfo(name: "prediction_check", zh: "预测检验（校准期对留出期）", en: "Prediction check (calibration vs holdout)", columns: [
            c("frequency", .text, "校准期复购天数", "calibration frequency", "截止日前移一个预测期（校准日）时客户的复购天数：0 … 6、7+", "repeat purchase days with the as-of date moved back by the horizon (the calibration date): 0 … 6, 7+"),
            c("customers", .count, "客户数", "customers", "校准日前已首购、校准期复购天数为该值的客户", "customers acquired by the calibration date with that calibration frequency"),
            c("predicted_mean", .number, "预测平均复购天数", "predicted mean", "在校准日拟合的 BG/NBD 对其后一个预测期内复购日数的平均预测；无客户时为空", "mean repeat purchase days in the horizon after the calibration date, as BG/NBD fitted there predicts; empty with no customers"),
            c("actual_mean", .number, "实际平均复购天数", "actual mean", "这些客户在同一期间实际的平均复购日数；无客户时为空", "mean repeat purchase days they actually made in those days; empty with no customers"),
        ]),
        OutputInfo(name: "model_fit", zh: "模型参数", en: "Model fit", columns: [
            c("model", .text, "模型", "model", "bgnbd（是否回来、何时回来）或 gamma_gamma（每次花多少）", "bgnbd (whether and when customers come back) or gamma_gamma (how much they spend)"),
            c("segment", .platform, "客群", "segment", "all 为全部客户，或客户数不少于 segment_min_customers（默认 500）的获客平台，单独拟合", "all: every customer; or an acquisition platform with at least segment_min_customers (500 by default), fitted on its own"),
            c("customers", .count, "客户数", "customers", "参与拟合的客户数（Gamma-Gamma 只含复购客户）", "customers in the fit (Gamma-Gamma: those who came back)"),
            c("parameter", .text, "参数", "parameter", "BG/NBD：r、alpha（购买频率，按天）、a、b（流失）；Gamma-Gamma：p、q、gamma（金额）；然后 log_likelihood", "BG/NBD: r, alpha (purchase rate, in days), a, b (dropout); Gamma-Gamma: p, q, gamma (spend); then log_likelihood"),
            c("value", .param, "值", "value", "估计值（六位有效数字）；空表示数据没有确定这个参数（例如 a、b 趋于无穷：人人流失概率相同）", "the estimate (six significant digits); empty: the data does not pin the parameter down (say a, b → ∞: everyone has the same dropout probability)"),
        ]),
        OutputInfo(name: "data_quality", zh: "数据质量", en: "Data quality", columns: [
            c("file", .text, "文件", "file", "输入文件名", "input file name"),
            c("sha256", .key, "SHA-256", "sha256", "文件内容的哈希（页面显示前 12 位）", "hash of the file's bytes (the page shows the first 12 digits)"),
            c("format", .text, "格式", "format", "按内容识别的格式；duplicate_of:… 为重复交付", "format detected from the content; duplicate_of:… a re-delivered file"),
            c("rows_read", .count, "读取行", "rows read", "读取的数据行；= 落地 + 隔离", "data rows read; = landed + quarantined"),
            c("rows_landed", .count, "落地行", "rows landed", "写入仓库的行", "rows written to the warehouse"),
            c("rows_quarantined", .count, "隔离行", "rows quarantined", "因错误被隔离的行（仍保存在仓库）", "rows set aside with a reason (kept in the warehouse)"),
            c("reason", .text, "隔离原因", "reason", "每个原因一行，列在文件行下面", "one row per reason, below the file's row"),
            c("count", .count, "行数", "count", "该原因隔离的行数", "rows quarantined for the reason"),
            c("orders", .count, "订单", "orders", "最新观察来自该文件的订单数", "orders whose newest observation came from the file"),
            c("orders_paid", .count, "已付款", "paid", "其中已付款的订单", "of them, paid orders"),
            c("orders_unpaid", .count, "未付款", "unpaid", "其中未付款的订单", "of them, unpaid orders"),
            c("orders_closed", .count, "已关闭", "closed", "其中付款前关闭的订单", "of them, orders closed before payment"),
            c("orders_refunded", .count, "全额退款", "refunded", "其中全额退款的订单", "of them, fully refunded orders"),
            c("orders_test", .count, "测试单", "test", "其中测试订单", "of them, test orders"),
            c("first_day", .day, "最早日期", "first day", "文件中最早的日期", "the earliest day in the file"),
            c("last_day", .day, "最晚日期", "last day", "文件中最晚的日期", "the latest day in the file"),
        ]),
    ]
}
