import Foundation

/// A known export layout, recognised by a signature of required headers, never by position.
public struct FormatSpec: Sendable {
    public var id: String
    public var kind: SourceKind
    /// Each inner list is a set of alternatives; one of each must be present.
    public var required: [[String]]
    /// Canonical field -> header names, in priority order (the first present wins).
    public var fields: [String: [String]]
    /// Canonical multi-valued fields (every present header is used).
    public var multi: [String: [String]] = [:]
    /// An export of item lines only (the Tmall item report): it lands items, never orders.
    public var itemsOnly = false
    /// The ad tool a spend export comes from, a value spend rules read besides the plan name
    /// (京准通 rows name plans, not the tool).
    public var tool: String? = nil
}

/// Header names with spaces trimmed and `="…"` removed; duplicates are kept by position.
public struct HeaderMap {
    public let names: [String]
    private var firstIndex: [String: Int] = [:]

    public init(_ raw: [String]) {
        names = raw.map { Values.clean($0.replacingOccurrences(of: "\u{FEFF}", with: "")) }
        for (i, n) in names.enumerated() where firstIndex[n] == nil { firstIndex[n] = i }
    }

    public func index(_ name: String) -> Int? { firstIndex[name] }
    public func has(_ name: String) -> Bool { firstIndex[name] != nil }
}

public enum Formats {
    static let tmall = FormatSpec(
        id: "tmall_orders", kind: .tmall,
        required: [["订单编号"], ["买家会员名"], ["订单状态"], ["订单付款时间"], ["买家实际支付金额", "买家实付金额"]],
        fields: [
            "order_id": ["订单编号"], "buyer": ["买家会员名"], "status": ["订单状态"],
            "paid": ["买家实际支付金额", "买家实付金额"], "refund": ["退款金额"],
            "pay_time": ["订单付款时间"], "created_time": ["订单创建时间"],
        ],
        multi: ["phone": ["联系手机", "联系电话", "买家手机号"], "promo": []])
    static let jd = FormatSpec(
        id: "jd_orders", kind: .jd,
        required: [["订单号"], ["下单帐号", "下单账号"], ["订单状态"], ["下单时间"], ["实付金额", "应付金额"]],
        fields: [
            "order_id": ["订单号"], "buyer": ["下单帐号", "下单账号"], "status": ["订单状态"],
            "paid": ["实付金额", "应付金额"], "refund": [], "pay_time": ["付款确认时间"], "created_time": ["下单时间"],
            // One row per SKU: each row is an item line (货号 is the merchant's code, else 商家SKUID).
            "item_code": ["货号"], "item_code2": ["商家SKUID"], "item_title": ["商品名称"], "item_quantity": ["订购数量"],
            "item_price": ["京东价"],
        ],
        multi: ["phone": ["联系电话"], "promo": ["订单来源", "订单渠道"]])
    static let youzan = FormatSpec(
        id: "youzan_orders", kind: .youzan,
        required: [["订单号"], ["订单状态"], ["买家付款时间"], ["订单实付金额"]],
        fields: [
            "order_id": ["订单号"], "buyer": ["买家昵称"], "status": ["订单状态"], "paid": ["订单实付金额"],
            "refund": ["订单已退款金额"], "pay_time": ["买家付款时间"], "created_time": ["订单创建时间"],
            "order_type": ["订单类型"],
        ],
        multi: ["phone": ["买家手机号", "收货人手机号/提货人手机号"], "promo": ["推广方式", "订单来源"]])
    /// 宝贝报表 (CSV): one row per item line, joined to its order by 订单编号.
    static let tmallItems = FormatSpec(
        id: "tmall_items", kind: .tmall,
        required: [["订单编号"], ["标题"], ["价格"], ["购买数量"]],
        fields: ["order_id": ["订单编号"], "item_code": ["商家编码"], "item_title": ["标题"], "item_quantity": ["购买数量"],
                 "item_price": ["价格"]],
        itemsOnly: true)
    /// The 2020 item sheet: 子订单编号 per line, 主订单编号 the order.
    static let tmallItems2020 = FormatSpec(
        id: "tmall_items_2020", kind: .tmall,
        required: [["主订单编号"], ["子订单编号"], ["商品标题"], ["购买数量"]],
        fields: ["order_id": ["主订单编号"], "item_code": ["商家编码"], "item_title": ["商品标题"], "item_quantity": ["购买数量"],
                 "item_price": ["商品价格"]],
        itemsOnly: true)
    static let followers = FormatSpec(
        id: "wechat_followers", kind: .followers,
        required: [["openid"], ["subscribe_time"]],
        fields: [
            "subscribe": ["subscribe"], "openid": ["openid"], "unionid": ["unionid"], "subscribe_time": ["subscribe_time"],
            "scene": ["subscribe_scene"], "qr_scene": ["qr_scene"], "qr_scene_str": ["qr_scene_str"], "mobile": ["mobile"],
        ])
    static let wanxiangtai = FormatSpec(
        id: "alimama_wanxiangtai", kind: .spend,
        required: [["日期"], ["主体名称"], ["花费", "花费(元)", "花费（元）", "消耗", "消耗(元)"]],
        fields: ["date": ["日期"], "campaign": ["主体名称"], "spend": ["花费", "花费(元)", "花费（元）", "消耗", "消耗(元)"]])
    /// 京准通 (JD ads): 展现数 / 点击数 / 全站… where Alimama writes 展现量 / 点击量.
    static let jingzhuntong = FormatSpec(
        id: "jd_jingzhuntong", kind: .spend,
        required: [["日期"], ["花费", "花费(元)", "花费（元）", "消耗"], ["展现数", "点击数", "全站交易额", "全站投产比", "全站ROI"]],
        fields: ["date": ["日期"], "campaign": ["计划名称", "推广计划", "计划", "单元名称", "推广单元"], "spend": ["花费", "花费(元)", "花费（元）", "消耗"]],
        tool: "京准通")
    static let ztc = FormatSpec(
        id: "alimama_ztc", kind: .spend,
        required: [["计划名称"], ["花费", "花费(元)", "花费（元）"]],
        fields: ["date": ["日期"], "campaign": ["计划名称"], "spend": ["花费", "花费(元)", "花费（元）"]])
    static let plainSpend = FormatSpec(
        id: "spend_plain", kind: .spend,
        required: [["date"], ["channel"], ["spend"]],
        fields: ["date": ["date"], "campaign": ["channel"], "spend": ["spend"]])

    public static let all: [FormatSpec] = [tmall, tmallItems, tmallItems2020, jd, youzan, followers, jingzhuntong, wanxiangtai, ztc, plainSpend]

    /// The generic format of a pipeline-declared source.
    static func generic(_ source: SourceConfig) -> FormatSpec {
        var fields: [String: [String]] = [:]
        for (k, v) in source.columns where k != "phone" && k != "promo" { fields[k == "quantity" ? "item_quantity" : k] = [v] }
        let required = ["order_id", "paid", "pay_time"].compactMap { source.columns[$0] }.map { [$0] }
        return FormatSpec(id: "generic:\(source.name)", kind: .generic, required: required, fields: fields,
                          multi: ["phone": source.columns["phone"].map { [$0] } ?? [], "promo": source.columns["promo"].map { [$0] } ?? []])
    }

    public enum Detection {
        case found(FormatSpec, layout: String)
        case unknown(nearest: FormatSpec?, missing: [String])
    }

    /// Recognises a header among the formats a source kind accepts.
    public static func detect(header: HeaderMap, source: SourceConfig) -> Detection {
        let candidates = source.kind == .generic ? [generic(source)] : all.filter { $0.kind == source.kind }
        var best: (FormatSpec, [String])?
        for spec in candidates {
            let missing = spec.required.filter { alts in !alts.contains(where: header.has) }.map { $0.joined(separator: "|") }
            if missing.isEmpty { return .found(spec, layout: layout(spec, header)) }
            // Nearest: the most required headers found (ties: the earlier format).
            if best == nil || spec.required.count - missing.count > best!.0.required.count - best!.1.count { best = (spec, missing) }
        }
        return .unknown(nearest: best?.0, missing: best?.1 ?? [])
    }

    /// A finer layout name for data quality (Tmall 2016 / 2018 / 2020, JD 30 / 48 columns).
    static func layout(_ spec: FormatSpec, _ h: HeaderMap) -> String {
        switch spec.id {
        case "tmall_orders":
            if h.has("买家实付金额") || h.has("商品标题") { return "tmall_orders_2020" }
            return h.names.count >= 50 ? "tmall_orders_2018" : "tmall_orders_2016"
        case "jd_orders":
            return h.has("实付金额") ? "jd_orders_48" : "jd_orders_30"
        default: return spec.id
        }
    }

    /// Column positions for a spec's fields on a header.
    public static func resolve(_ spec: FormatSpec, _ h: HeaderMap) -> ResolvedColumns {
        var single: [String: Int] = [:]
        for (k, alts) in spec.fields {
            if let i = alts.lazy.compactMap({ h.index($0) }).first { single[k] = i }
        }
        var multi: [String: [Int]] = [:]
        for (k, names) in spec.multi { multi[k] = names.compactMap { h.index($0) } }
        return ResolvedColumns(single: single, multi: multi)
    }
}

public struct ResolvedColumns {
    public var single: [String: Int]
    public var multi: [String: [Int]]

    public func value(_ field: String, _ row: RowCells) -> String {
        guard let i = single[field] else { return "" }
        return row.cell(i)
    }
    public func values(_ field: String, _ row: RowCells) -> [String] {
        (multi[field] ?? []).map { row.cell($0) }
    }
    public func column(_ field: String) -> Int? { single[field].map { $0 + 1 } }
}

/// The cells of one raw row (joined by U+001F), split without copying; a cell becomes a String
/// only when asked for. Reused from row to row.
public final class RowCells {
    public private(set) var bytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private var starts: [Int] = []

    public init() {}

    public func load(_ b: UnsafeBufferPointer<UInt8>) {
        bytes = b
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
        for (i, c) in b.enumerated() where c == 0x1F { starts.append(i + 1) }
        starts.append(b.count + 1)
    }

    public var count: Int { starts.count - 1 }

    public func cell(_ i: Int) -> String {
        guard i < count else { return "" }
        let a = starts[i], e = starts[i + 1] - 1
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[a..<e]), as: UTF8.self)
    }

    public var all: [String] { (0..<count).map(cell) }
}
