import Foundation
import XCTest
@testable import SiyuCore

/// product_repurchase.csv (METRICS.md, issue 16) on Tests/Fixtures/products (written by
/// make_fixtures.py; README.md there lists the cases), every number worked out by hand below and
/// checked against the independent Python reading (`crosscheck.py --pipeline products.toml`).
///
/// Orders are 10.00 each, business time. Item lines: Tmall from the item report (宝贝报表: 商家编码,
/// 标题), JD from its SKU rows (货号, else 商家SKUID); Youzan has none. Day n counts from the first
/// purchase day (day 0). As-of = the latest purchase day, 2025-06-30 (`last`).
///   tmall three         2024-10-05 T01 [A100 "Alpha 面霜", B200 "Beta b"], T02 [C300 "Gamma 精华", A100 "Alpha 面霜"];
///                       2024-10-20 T03 [D400]                   -> first {A100, B200, C300}, next {D400}, day 15
///         refund_day    2024-10-06 T04 [A100 "Alpha 旧标题" ×5 pieces], T05 refunded in full [E500] -> first {A100}
///         title_only    2024-10-07 T06 [no code, "试用装小样"]; 12-01 T07 [C300]   -> first {试用装小样}, next {C300}
///         code_vs_title 2024-10-08 T08 [no code, "Gamma 精华"]            -> first {Gamma 精华} (not C300)
///         unknown_t     2024-10-11 T09 (not in the item report); 10-12 T10 [A100] -> first (unknown), next {A100}
///         a_fan         2024-10-14 T11 [A100]; 10-30 T12 [D400, D400], T13 [D400] -> next {D400} (counted once)
///         cafe          2024-10-15 T14 [F700 "Cafe\u{301}" (NFD)]; 10-16 T15 [F700 "Caf\u{e9}" (NFC)]
///         t_old         2024-10-17 T16 [T600 "T old"];   last 2025-06-30 T27 [T600 "T new", T600 "T new"]
///         r89/r90/r179/r180  first 2024-11-01/02/03/04 [R89/R90/R179/R180], back (no item lines) on day 89/90/179/180
///         e90           2025-04-02 T25 [E90] (+ 89 = the as-of date), back on 2025-06-30 T26 [T600 "T new"] (day 89)
///   jd    jd_a          2024-10-09 J01 [A100 "Alpha 面霜（京东）"]; 11-09 J02 [货号 empty, 商家SKUID SKU-9]
///         jd_b          2024-10-10 J03 [A100 "…（京东）", B200 "Beta a"]; 10-11 J04 [A100 "…（京东）"]
///         e180          2025-01-02 J05 [E180] (+ 179 = the as-of date); 2025-06-29 J06 [C300] (day 178)
///   microstore yz1      2024-10-12, 11-12 (no item lines);  yz2  2024-10-13
///         mixed         2024-10-18 09:00 Y04 (no item lines) and, with the same phone, Tmall mixed_t 20:00 T29 [M900]:
///                       one customer acquired on the micro-store, first products {M900}, not (unknown)
/// Titles (item lines of qualifying orders up to the as-of date): A100 "Alpha 面霜" 4 lines (T01, T02, T10,
/// T11), "Alpha 面霜（京东）" 3, "Alpha 旧标题" 1 (one line, whatever its quantity); B200 "Beta b" 1 and "Beta a" 1:
/// tie, "Beta a" is smaller; F700's two spellings of Café are two titles, 1 each: the NFD one ("e" U+0065 before
/// U+00E9) is smaller; T600 "T new" 3 (all on the as-of date: T27 ×2, T26), "T old" 1.
final class ProductRepurchaseTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try TestSupport.fixture("products") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    static let header = ["product", "title", "acquisition_platform", "first_customers", "eligible_90d", "repeat_customers_90d",
                         "repeat_rate_90d", "eligible_180d", "repeat_customers_180d", "repeat_rate_180d", "next_product",
                         "next_product_customers"]

    /// product_repurchase.csv of a run (as of `asOf`, else the latest purchase day), header included.
    func table(asOf: String? = nil) throws -> [[String]] {
        let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "products.toml"] + (asOf.map { ["--as-of", $0] } ?? []), cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        return TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("out/reports/product_repurchase.csv")))
    }

    /// Every row as of the latest purchase day, 2025-06-30.
    static let asOfLatest: [[String]] = [
        // all: first_customers descending, then product by code point, (unknown) last.
        // A100: three, refund_day, a_fan (tmall), jd_a, jd_b (jd): one product on both platforms. All eligible
        // (first days in October 2024); back within 89 and 179 days: three (15), a_fan (16), jd_a (31), jd_b (1);
        // not refund_day (T05 was refunded: no purchase, and its E500 is no product). Next: D400 (three, a_fan) 2,
        // SKU-9 (jd_a) 1, A100 (jd_b) 1.
        ["A100", "Alpha 面霜", "all", "5", "5", "4", "0.8000", "5", "4", "0.8000", "D400", "2"],
        // B200: three and jd_b; next D400 1, A100 1: a tie, A100 is smaller.
        ["B200", "Beta a", "all", "2", "2", "2", "1.0000", "2", "2", "1.0000", "A100", "1"],
        // T600: t_old (eligible, never back) and last (first day = as-of date: in no window).
        ["T600", "T new", "all", "2", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["C300", "Gamma 精华", "all", "1", "1", "1", "1.0000", "1", "1", "1.0000", "D400", "1"],
        // e180: eligible for 180 days exactly on the as-of date; back on day 178 (not within 89).
        ["E180", "E180 title", "all", "1", "1", "0", "0.0000", "1", "1", "1.0000", "C300", "1"],
        // e90: eligible for 90 days exactly on the as-of date, back on day 89 (on the as-of date) with T600.
        ["E90", "E90 title", "all", "1", "1", "1", "1.0000", "0", "0", "", "T600", "1"],
        ["F700", "Cafe\u{301}", "all", "1", "1", "1", "1.0000", "1", "1", "1.0000", "F700", "1"],
        // The title-only product that shares C300's title is its own product.
        ["Gamma 精华", "Gamma 精华", "all", "1", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["M900", "M900 title", "all", "1", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["R179", "R179 title", "all", "1", "1", "0", "0.0000", "1", "1", "1.0000", "", "0"],
        ["R180", "R180 title", "all", "1", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["R89", "R89 title", "all", "1", "1", "1", "1.0000", "1", "1", "1.0000", "", "0"],
        ["R90", "R90 title", "all", "1", "1", "0", "0.0000", "1", "1", "1.0000", "", "0"],
        ["试用装小样", "试用装小样", "all", "1", "1", "1", "1.0000", "1", "1", "1.0000", "C300", "1"],
        // unknown_t (back on day 1 with A100), yz1 (back on day 31, no item lines: no next product), yz2.
        ["(unknown)", "", "all", "3", "3", "2", "0.6667", "3", "2", "0.6667", "A100", "1"],
        // jd: jd_a, jd_b, e180. A100's next: SKU-9 1, A100 1: A100.
        ["A100", "Alpha 面霜", "jd", "2", "2", "2", "1.0000", "2", "2", "1.0000", "A100", "1"],
        ["B200", "Beta a", "jd", "1", "1", "1", "1.0000", "1", "1", "1.0000", "A100", "1"],
        ["E180", "E180 title", "jd", "1", "1", "0", "0.0000", "1", "1", "1.0000", "C300", "1"],
        // microstore: mixed's first day has a Youzan order without item lines and a Tmall one with M900.
        ["M900", "M900 title", "microstore", "1", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["(unknown)", "", "microstore", "2", "2", "1", "0.5000", "2", "1", "0.5000", "", "0"],
        // tmall: A100 three, refund_day, a_fan (back: three, a_fan; next D400 for both).
        ["A100", "Alpha 面霜", "tmall", "3", "3", "2", "0.6667", "3", "2", "0.6667", "D400", "2"],
        ["T600", "T new", "tmall", "2", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["B200", "Beta a", "tmall", "1", "1", "1", "1.0000", "1", "1", "1.0000", "D400", "1"],
        ["C300", "Gamma 精华", "tmall", "1", "1", "1", "1.0000", "1", "1", "1.0000", "D400", "1"],
        ["E90", "E90 title", "tmall", "1", "1", "1", "1.0000", "0", "0", "", "T600", "1"],
        ["F700", "Cafe\u{301}", "tmall", "1", "1", "1", "1.0000", "1", "1", "1.0000", "F700", "1"],
        ["Gamma 精华", "Gamma 精华", "tmall", "1", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["R179", "R179 title", "tmall", "1", "1", "0", "0.0000", "1", "1", "1.0000", "", "0"],
        ["R180", "R180 title", "tmall", "1", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"],
        ["R89", "R89 title", "tmall", "1", "1", "1", "1.0000", "1", "1", "1.0000", "", "0"],
        ["R90", "R90 title", "tmall", "1", "1", "0", "0.0000", "1", "1", "1.0000", "", "0"],
        ["试用装小样", "试用装小样", "tmall", "1", "1", "1", "1.0000", "1", "1", "1.0000", "C300", "1"],
        ["(unknown)", "", "tmall", "1", "1", "1", "1.0000", "1", "1", "1.0000", "A100", "1"],
    ]

    func testEveryRowAsOfTheLatestPurchaseDay() throws {
        let rows = try table()
        XCTAssertEqual(rows.first, Self.header)
        XCTAssertEqual(Array(rows.dropFirst()), Self.asOfLatest)
        // Swift's == calls the two spellings of Café equal: the bytes say which title won.
        let cafe = try XCTUnwrap(rows.first { $0[0] == "F700" })
        XCTAssertEqual(Array(cafe[1].unicodeScalars), Array("Cafe\u{301}".unicodeScalars), "the NFD title, smallest by code point")
    }

    /// Eligibility (first purchase day + 89 / + 179 ≤ as-of) exactly on the as-of date and one day
    /// either side; purchases and item lines after the as-of date are ignored.
    func testWindowsAroundTheAsOfDate() throws {
        func rows(_ asOf: String) throws -> [String: [String]] {
            var out: [String: [String]] = [:]
            for r in try table(asOf: asOf).dropFirst() where r[2] == "all" { out[r[0]] = r }
            return out
        }
        // 2025-06-29: e90 (2025-04-02 + 89 = 06-30) and e180 (2025-01-02 + 179 = 06-30) are not eligible yet; e90's
        // return on 06-30 is after the as-of date (no next product either); e180's on 06-29 is not. `last` (06-30)
        // is no customer yet, so T600 has t_old only, and its title is the one of the lines up to 06-29 ("T old"
        // 1; e90's "T new" line is on 06-30).
        let before = try rows("2025-06-29")
        XCTAssertEqual(before["E90"], ["E90", "E90 title", "all", "1", "0", "0", "", "0", "0", "", "", "0"])
        XCTAssertEqual(before["E180"], ["E180", "E180 title", "all", "1", "1", "0", "0.0000", "0", "0", "", "C300", "1"])
        XCTAssertEqual(before["T600"], ["T600", "T old", "all", "1", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"])
        // 2025-06-30: both eligible, both back in time.
        let on = try rows("2025-06-30")
        XCTAssertEqual(on["E90"], ["E90", "E90 title", "all", "1", "1", "1", "1.0000", "0", "0", "", "T600", "1"])
        XCTAssertEqual(on["E180"], ["E180", "E180 title", "all", "1", "1", "0", "0.0000", "1", "1", "1.0000", "C300", "1"])
        XCTAssertEqual(on["T600"], ["T600", "T new", "all", "2", "1", "0", "0.0000", "1", "0", "0.0000", "", "0"])
        // 2025-07-01: still eligible; `last` (06-30 + 89 > 07-01) is not.
        let after = try rows("2025-07-01")
        XCTAssertEqual(after["E90"], on["E90"])
        XCTAssertEqual(after["E180"], on["E180"])
        XCTAssertEqual(after["T600"], on["T600"])
    }

    /// Nights equal a rebuild: the orders first; the item report a night later (the orders' first
    /// products change although no order did: the join takes their components out and adds them
    /// again); then a later order, and a newer item report that gives T04 other lines (newest wins),
    /// with the as-of date moving a day.
    func testNightsEqualARebuild() throws {
        let fm = FileManager.default
        let items = "tmall/ExportOrderDetailList202507011200.csv"
        try fm.moveItem(at: dir.appendingPathComponent(items), to: dir.appendingPathComponent("held.csv"))
        let night1 = try nightEqualsFull()
        // Without the item report only JD's lines are known: every Tmall customer's first product is (unknown).
        XCTAssertEqual(night1.filter { $0[2] == "all" }.map { [$0[0], $0[3]] }, [["A100", "2"], ["B200", "1"], ["E180", "1"], ["(unknown)", "17"]])
        try fm.moveItem(at: dir.appendingPathComponent("held.csv"), to: dir.appendingPathComponent(items))
        let night2 = try nightEqualsFull(aggregate: "incremental")
        XCTAssertEqual(night2, Self.asOfLatest)
        for name in ["ExportOrderList202507021200.csv", "ExportOrderDetailList202507021200.csv"] {
            try fm.moveItem(at: dir.appendingPathComponent("later/tmall/\(name)"), to: dir.appendingPathComponent("tmall/\(name)"))
        }
        let night3 = try nightEqualsFull(aggregate: "incremental")
        // refund_day's T04 now holds A100 and G800; it came back on 2025-07-01 (day 268) with C300.
        XCTAssertEqual(night3.first { $0[0] == "G800" && $0[2] == "all" },
                       ["G800", "G800 title", "all", "1", "1", "0", "0.0000", "1", "0", "0.0000", "C300", "1"])
    }

    /// Runs the night in the test's warehouse and a rebuild beside it; every CSV must be the same
    /// bytes. Returns the night's product_repurchase rows (header dropped).
    @discardableResult
    func nightEqualsFull(aggregate mode: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [[String]] {
        let night = try TestSupport.siyu(["run", "--quiet", "--pipeline", "products.toml"], cwd: dir)
        XCTAssertEqual(night.status, 0, night.stderr, file: file, line: line)
        if let mode {
            let status = try TestSupport.siyu(["status", "--pipeline", "products.toml"], cwd: dir).stdout
            let stage = status.split(separator: "\n").first { $0.hasPrefix("  aggregate ") } ?? ""
            XCTAssertTrue(stage.contains("\(mode) components="), status, file: file, line: line)
        }
        let full = try TestSupport.siyu(["run", "--quiet", "--full", "--pipeline", "products.toml", "--warehouse", "full.sqlite", "--output", "full"], cwd: dir)
        XCTAssertEqual(full.status, 0, full.stderr, file: file, line: line)
        let nightDir = dir.appendingPathComponent("out/reports"), fullDir = dir.appendingPathComponent("full")
        let names = try FileManager.default.contentsOfDirectory(atPath: fullDir.path).filter { $0.hasSuffix(".csv") }
        XCTAssertTrue(names.contains("product_repurchase.csv"), file: file, line: line)
        for name in names {
            XCTAssertEqual(try Data(contentsOf: nightDir.appendingPathComponent(name)), try Data(contentsOf: fullDir.appendingPathComponent(name)),
                           "\(name) differs between the night and a rebuild", file: file, line: line)
        }
        return TestSupport.csvRows(try TestSupport.read(nightDir.appendingPathComponent("product_repurchase.csv"))).dropFirst().map { $0 }
    }
}
