import Foundation
import Logging

extension CleanStage {
    public static func mapStatus(_ raw: String, paidFen: Int, refundFen: Int, paid: Bool) -> String {
        mapStatus(normalized: Values.normalizedStatus(raw), paidFen: paidFen, refundFen: refundFen, paid: paid)
    }

    /// `mapStatus` of a status text already normalized (`Values.normalizedStatus`).
    static func mapStatus(normalized s: String, paidFen: Int, refundFen: Int, paid: Bool) -> String {
        if paidFen > 0 && refundFen >= paidFen { return "refunded" }
        if !paid {
            if Values.has(s, "关闭") || Values.has(s, "取消") { return "closed" }
            return "unpaid"
        }
        return "paid"
    }

    /// JD statuses that mean the buyer paid, for orders exported without 付款确认时间.
    static func jdStatusImpliesPaid(normalized s: String) -> Bool {
        return ["等待出库", "等待确认收货", "完成", "已完成", "配送中", "已发货", "等待发货"].contains(s)
    }

    func money(_ cols: ResolvedColumns, _ field: String, _ row: RowCells, textIsZero: Bool = false) throws -> Int {
        let raw = cols.value(field, row)
        switch Values.fen(raw) {
        case .empty: return 0
        case .value(let v):
            if v < 0 { throw Quarantine(reason: "bad_amount: \(field) is negative (\(Self.shown(raw)))", column: cols.column(field)) }
            return v
        case .tooLarge:
            throw Quarantine(reason: "bad_amount: \(field) is more than 1,000,000,000.00 yuan (\(Self.shown(raw)))", column: cols.column(field))
        case .invalid:
            // The sentences exports write in place of a refund amount mean none (`无退款申请`: no
            // refund asked for); any other text (`#VALUE!`, `退款中`) is no amount.
            if textIsZero, Self.noRefund.contains(Values.clean(raw)) { return 0 }
            throw Quarantine(reason: "bad_amount: \(field) is not a money amount (\(Self.shown(raw)))", column: cols.column(field))
        }
    }

    static let noRefund: Set<String> = ["无退款申请", "没有申请退款", "无退款", "无", "未退款", "没有退款"]

    /// A cell's text for a quarantine reason: short, control characters made visible.
    static func shown(_ raw: String) -> String {
        let s = Values.clean(raw)
        let t = String(s.unicodeScalars.prefix(40).map { $0.value < 0x20 || $0.value == 0x7F ? "\u{FFFD}" : Character($0) })
        return "`" + t + (s.unicodeScalars.count > 40 ? "…`" : "`")
    }

    /// A local time (wall seconds) checked against the plausible window of `kind`'s exports.
    func plausible(_ t: Int, _ field: String, kind: SourceKind, column: Int?) throws -> Int {
        let day = CivilDate.floorDiv(t, 86400)
        if day < kind.earliestDay {
            throw Quarantine(reason: "implausible_date: \(field) \(CivilDate.iso(day)) is before \(CivilDate.iso(kind.earliestDay)), when such exports began", column: column)
        }
        if t > latestTs {
            throw Quarantine(reason: "implausible_date: \(field) \(CivilDate.iso(day)) is after the day of this run (\(CivilDate.iso(latestTs / 86400)))", column: column)
        }
        return t
    }

    func time(_ cols: ResolvedColumns, _ field: String, _ row: RowCells, kind: SourceKind) throws -> Int? {
        let raw = cols.value(field, row)
        guard Values.text(raw) != nil else { return nil }
        guard let t = Values.businessTime(raw, zone: wh.pipeline.timeZone) else {
            throw Quarantine(reason: "bad_date: \(field) is not a date and time (\(Self.shown(raw)))", column: cols.column(field))
        }
        return try plausible(t, field, kind: kind, column: cols.column(field))
    }

    func orderID(_ cols: ResolvedColumns, _ row: RowCells) throws -> String {
        switch Values.orderID(cols.value("order_id", row)) {
        case .empty: throw Quarantine(reason: "missing_order_id", column: cols.column("order_id"))
        case .scientific: throw Quarantine(reason: "order_id_scientific: Excel turned the order number into 1.23E+18; export again without opening it in Excel", column: cols.column("order_id"))
        case .value(let v): return v
        }
    }

    /// The item line of a row, or nil when the format carries no item fields (or the row none).
    func parseItem(_ row: RowCells, cols: ResolvedColumns, orderID: String, line: Int) throws -> StagedItem? {
        let code = Values.text(cols.value("item_code", row)) ?? Values.text(cols.value("item_code2", row))
        let title = Values.text(cols.value("item_title", row))
        guard code != nil || title != nil else { return nil }
        var quantity = 1
        let q = Values.clean(cols.value("item_quantity", row))
        if !q.isEmpty {
            guard let n = Int(q), n >= 0, n <= 1_000_000 else {
                throw Quarantine(reason: "bad_quantity: item quantity is not a whole number from 0 to 1,000,000 (\(Self.shown(q)))", column: cols.column("item_quantity"))
            }
            quantity = n
        }
        let price = try money(cols, "item_price", row)
        return StagedItem(orderID: orderID, line: line, code: code, title: title, quantity: quantity, priceFen: price)
    }

    /// `statuses`: status texts normalized so far (a file has a handful of distinct ones).
    func parseOrder(_ row: RowCells, cols: ResolvedColumns, source: SourceConfig, fileID: Int, line: Int,
                    statuses: inout [String: String], promo: PromoColumns) throws -> StagedOrder {
        let id = try orderID(cols, row)
        let paid = try money(cols, "paid", row)
        let refund = try money(cols, "refund", row, textIsZero: true)
        if refund > paid {
            throw Quarantine(reason: "refund_above_paid: refund \(Fmt.yuan(refund)) is more than paid \(Fmt.yuan(paid))", column: cols.column("refund"))
        }
        let created = try time(cols, "created_time", row, kind: source.kind)
        var payTs = try time(cols, "pay_time", row, kind: source.kind)
        let statusRaw = Values.clean(cols.value("status", row))
        let normalized: String
        if let known = statuses[statusRaw] { normalized = known } else {
            normalized = Values.normalizedStatus(statusRaw)
            statuses[statusRaw] = normalized
        }
        if source.kind == .jd, payTs == nil, Self.jdStatusImpliesPaid(normalized: normalized) { payTs = created }
        let isTest = Values.has(Values.text(cols.value("order_type", row)) ?? "", "测试")
        let paidFen = payTs == nil ? 0 : paid
        var phones: [String] = []
        for c in cols.values("phone", row) { if let m = Values.mobile(c), !phones.contains(m) { phones.append(m) } }
        return StagedOrder(
            platform: source.platform, orderID: id, source: source.name, fileID: fileID, line: line,
            buyer: Values.text(cols.value("buyer", row)), phones: phones, statusRaw: statusRaw,
            paidFen: paidFen, refundFen: refund, createdTs: created, payTs: payTs,
            promo: promo.text(row), isTest: isTest, itemRows: 1,
            status: isTest ? "test" : Self.mapStatus(normalized: normalized, paidFen: paidFen, refundFen: refund, paid: payTs != nil))
    }

    func parseFollow(_ row: RowCells, cols: ResolvedColumns, fileID: Int, line: Int) throws -> [SQLValue] {
        guard let openid = Values.text(cols.value("openid", row)) else {
            throw Quarantine(reason: "missing_openid", column: cols.column("openid"))
        }
        var followTs: Int?
        let rawTime = Values.clean(cols.value("subscribe_time", row))
        let column = cols.column("subscribe_time")
        if let t = Values.text(rawTime), t != "0" {
            if let local = try followTime(t, column: column) {
                followTs = try plausible(local, "subscribe_time", kind: .followers, column: column)
            }
        }
        let subscribe = Values.text(cols.value("subscribe", row)).flatMap { $0 == "true" ? 1 : $0 == "false" ? 0 : Int($0) }
        return [.int(fileID), .int(line), .text(openid), .optText(Values.text(cols.value("unionid", row))),
                .optText(Values.mobile(cols.value("mobile", row))), .optInt(subscribe), .optInt(followTs),
                .optText(Values.text(cols.value("scene", row))), .optText(Values.text(cols.value("qr_scene", row))),
                .optText(Values.text(cols.value("qr_scene_str", row)))]
    }

    /// A follow time in local wall seconds: Unix seconds (10 digits, as the API gives them), Unix
    /// milliseconds (13 digits), a `YYYYMMDD` day (8 digits), or a date and time text. Other digit
    /// runs are not a time in any unit siyu can tell (`20241201` is not 1970-08-23).
    func followTime(_ t: String, column: Int?) throws -> Int? {
        let zone = wh.pipeline.timeZone
        if t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            func local(_ unix: Int) -> Int { unix + zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(unix))) }
            switch t.utf8.count {
            case 10: return local(Int(t)!)
            case 13: return local(Int(t)! / 1000)
            case 8:
                if let day = Values.localTime(t) { return day }
            default: break
            }
            throw Quarantine(reason: "bad_date: subscribe_time \(Self.shown(t)) is neither Unix seconds (10 digits), milliseconds (13) nor a YYYYMMDD day", column: column)
        }
        if t == "true" || t == "false" {
            throw Quarantine(reason: "bad_date: subscribe_time is a true/false value, not a time", column: column)
        }
        guard let local = Values.businessTime(t, zone: zone) else {
            throw Quarantine(reason: "bad_date: subscribe_time is neither Unix seconds nor a date (\(Self.shown(t)))", column: column)
        }
        return local
    }

    func parseSpend(_ row: RowCells, cols: ResolvedColumns, source: String, tool: String?, fields: SpendFields, fileName: String, fileID: Int, line: Int) throws -> [SQLValue] {
        let campaign = Values.text(cols.value("campaign", row))
        let rawDate = Values.clean(cols.value("date", row))
        if Values.has(rawDate, "合计") || Values.has(rawDate, "汇总") || Values.has(rawDate, "总计")
            || (campaign ?? "").hasPrefix("合计") || (campaign ?? "").hasPrefix("汇总") {
            throw Quarantine(reason: "summary_row: a total row, not spend", column: nil)
        }
        var day: Int?
        if cols.single["date"] != nil {
            guard let t = Values.localTime(rawDate) else { throw Quarantine(reason: "bad_date: date is not a date (\(Self.shown(rawDate)))", column: cols.column("date")) }
            day = try plausible(t, "date", kind: .spend, column: cols.column("date")) / 86400
        } else if let key = IngestStage.exportKey(fileName: fileName), let t = Values.localTime(String(key.prefix(8))) {
            day = try plausible(t, "the date in the file name", kind: .spend, column: nil) / 86400   // no date column (直通车)
        }
        guard let day else { throw Quarantine(reason: "no_date: the export has no date column and its file name carries no date", column: nil) }
        let spend = try money(cols, "spend", row)
        let channel = wh.pipeline.channel(for: .spend, source: source, platform: nil,
                                          fields: [RuleField(name: "", value: campaign), RuleField(name: "", value: tool)] + fields.fields(row)) ?? "unmapped"
        return [.int(fileID), .int(line), .int(day), .optText(campaign), .text(channel), .int(spend)]
    }

    func parseFile(_ f: FileRow, db: Database, emit: (CleanedFile) -> Void) throws {
        var out = CleanedFile(file: f)
        var firstDay = Int.max, lastDay = Int.min
        func day(_ d: Int) { if d < firstDay { firstDay = d }; if d > lastDay { lastDay = d } }
        var items: [StagedItem] = []
        // The last piece only on success: after an error the worker sends the failure instead.
        func finish() {
            out.last = true
            out.items = items
            out.itemPlatform = wh.pipeline.sources.first { $0.name == f.source }?.platform ?? f.kind.platform ?? f.source
            if firstDay <= lastDay { out.firstDay = firstDay; out.lastDay = lastDay }
            emit(out)
        }
        let source = wh.pipeline.sources.first { $0.name == f.source }
            ?? SourceConfig(name: f.source, kind: f.kind, files: [], defaultChannel: f.source, platform: f.kind.platform ?? f.source, columns: [:])
        guard case let .found(spec, _) = Formats.detect(header: f.header, source: source) else { return finish() }
        let cols = Formats.resolve(spec, f.header)
        let promo = PromoColumns(header: f.header, cols: cols, extra: wh.pipeline.ruleFieldNames(.order),
                                 named: wh.pipeline.rulesNameFields(.order))
        let spendFields = SpendFields(header: f.header, names: wh.pipeline.ruleFieldNames(.spend))
        let rows = try db.prepare("SELECT line, cells FROM \(Warehouse.rawTables[f.kind]!) WHERE rowid BETWEEN ? AND ? ORDER BY rowid")
        try rows.bind([.int(f.firstRowID), .int(f.lastRowID)])
        // Rows of one order in one file are its item lines: order-level amounts count once.
        var index: [String: Int] = [:]
        var statuses: [String: String] = [:]
        index.reserveCapacity(f.lastRowID - f.firstRowID + 1)
        let row = RowCells()
        while try rows.step() {
            let line = rows.int(0)
            row.load(rows.bytes(1))
            out.rowsIn += 1
            do {
                if spec.itemsOnly {
                    if let item = try parseItem(row, cols: cols, orderID: try orderID(cols, row), line: line) { items.append(item) }
                    continue
                }
                switch f.kind {
                case .tmall, .jd, .youzan, .generic:
                    let o = try parseOrder(row, cols: cols, source: source, fileID: f.fileID, line: line, statuses: &statuses, promo: promo)
                    if let item = try parseItem(row, cols: cols, orderID: o.orderID, line: line) { items.append(item) }
                    if let t = o.payTs { day(CivilDate.floorDiv(t, 86400)) }
                    if let i = index[o.orderID] {
                        out.orders[i].itemRows += 1
                        for p in o.phones where !out.orders[i].phones.contains(p) { out.orders[i].phones.append(p) }
                    } else {
                        index[o.orderID] = out.orders.count
                        out.orders.append(o)
                    }
                case .followers:
                    let v = try parseFollow(row, cols: cols, fileID: f.fileID, line: line)
                    if case let .int(t) = v[6] { day(CivilDate.floorDiv(t, 86400)) }
                    out.follows.append(v)
                case .spend:
                    let v = try parseSpend(row, cols: cols, source: f.source, tool: spec.tool, fields: spendFields, fileName: f.name, fileID: f.fileID, line: line)
                    if case let .int(d) = v[2] { day(d) }
                    out.spends.append(v)
                }
            } catch let q as Quarantine {
                out.quarantined.append((line, q.reason, q.column, IngestStage.rawText(row.all)))
            }
            if out.follows.count + out.spends.count >= CleanedFile.pieceRows {
                emit(out)
                out = CleanedFile(file: f)
            }
        }
        rows.reset()
        finish()
    }
}
