import Foundation
import Logging

/// The columns of one order file that channel rules read: the format's promotion fields (by
/// default) and the headers rules name, each with its header name.
struct PromoColumns {
    var columns: [(name: String, index: Int, isDefault: Bool)] = []
    let named: Bool

    init(header: HeaderMap, cols: ResolvedColumns, extra: [String], named: Bool) {
        self.named = named
        for i in cols.multi["promo"] ?? [] { columns.append((header.names[i], i, true)) }
        if named {
            for n in extra where !columns.contains(where: { $0.name == n }) {
                if let i = header.index(n) { columns.append((n, i, false)) }
            }
        }
    }

    func text(_ row: RowCells) -> String {
        PromoText.encode(columns.map { RuleField(name: $0.name, value: Values.text(row.cell($0.index)), isDefault: $0.isDefault) }, named: named)
    }
}

/// The headers of a spend file that rules name (read besides the campaign).
struct SpendFields {
    var columns: [(name: String, index: Int)] = []
    init(header: HeaderMap, names: [String]) {
        for n in names { if let i = header.index(n) { columns.append((n, i)) } }
    }
    func fields(_ row: RowCells) -> [RuleField] {
        columns.map { RuleField(name: $0.name, value: Values.text(row.cell($0.index)), isDefault: false) }
    }
}

