import XCTest
@testable import SiyuCore

final class ValuesTests: XCTestCase {
    func testCleanUnwrapsExcelGuards() {
        XCTAssertEqual(Values.clean("=\"1234567890123\""), "1234567890123")
        XCTAssertEqual(Values.clean("'18618486065"), "18618486065")
        XCTAssertEqual(Values.clean("  交易成功 \u{3000}"), "交易成功")
        XCTAssertNil(Values.text("——"))
        XCTAssertNil(Values.text("—"))
        XCTAssertNil(Values.text(" "))
        XCTAssertNil(Values.text("N/A"))
        XCTAssertNil(Values.text("null"))
        XCTAssertEqual(Values.text("门店"), "门店")
    }

    func testMoneyInFen() {
        XCTAssertEqual(Values.fen("199.00"), .value(19900))
        XCTAssertEqual(Values.fen("￥1,234.5"), .value(123450))
        XCTAssertEqual(Values.fen("0元"), .value(0))
        XCTAssertEqual(Values.fen("-"), .value(0))
        XCTAssertEqual(Values.fen("(12.00)"), .value(-1200))
        XCTAssertEqual(Values.fen("499.00（系统计算中，该值仅供参考）"), .value(49900))
        XCTAssertEqual(Values.fen("0.1"), .value(10))
        XCTAssertEqual(Values.fen("0.125"), .value(13))    // half up past two decimals
        XCTAssertEqual(Values.fen("0.124"), .value(12))
        XCTAssertEqual(Values.fen(""), .empty)
        XCTAssertEqual(Values.fen("——"), .empty)
        XCTAssertEqual(Values.fen("abc"), .invalid)
        XCTAssertEqual(Values.fen("NULL"), .empty)
        XCTAssertEqual(Values.fen("n/a"), .empty)
        XCTAssertEqual(Values.fen("1.2E+5"), .invalid)
    }

    func testLocalTimes() {
        let d = CivilDate.dayNumber(2016, 5, 23)
        XCTAssertEqual(Values.localTime("2016-05-23 22:02:07"), d * 86400 + 22 * 3600 + 2 * 60 + 7)
        XCTAssertEqual(Values.localTime("2016/5/23 22:02"), d * 86400 + 22 * 3600 + 2 * 60)
        XCTAssertEqual(Values.localTime("20160523"), d * 86400)
        XCTAssertEqual(Values.localTime("2016-05-23"), d * 86400)
        XCTAssertNil(Values.localTime("2016-02-30 10:00:00"))
        XCTAssertNil(Values.localTime("not a date"))
        XCTAssertNil(Values.localTime("23/05/2016"))
    }

    func testZonedTimestampsBecomeBusinessTime() {
        let shanghai = TimeZone(identifier: "Asia/Shanghai")!
        let local = Values.localTime("2025-03-01 18:00:00")!
        XCTAssertEqual(Values.businessTime("2025-03-01T10:00:00Z", zone: shanghai), local)
        XCTAssertEqual(Values.businessTime("2025-03-01T18:00:00+08:00", zone: shanghai), local)
        XCTAssertEqual(Values.businessTime("2025-03-01 11:00:00 +0100", zone: shanghai), local)
        XCTAssertEqual(Values.businessTime("2025-03-01 05:00:00-05:00", zone: shanghai), local)
        XCTAssertEqual(Values.businessTime("2025-03-01 18:00:00", zone: shanghai), local)   // no zone: local already
        XCTAssertNil(Values.businessTime("2025-03-01 18:00:00+8x", zone: shanghai))
        XCTAssertEqual(Values.businessTime("2025-03-01T10:00:00.000Z", zone: shanghai), local)
        XCTAssertEqual(Values.businessTime("2025-03-01 05:00:00 -0500", zone: shanghai), local)
        XCTAssertEqual(Values.businessTime("2025-03-01T10:00:00.5Z", zone: shanghai), local)
        XCTAssertEqual(Values.businessTime("2025-03-01 18:00:00.250", zone: shanghai), local)
        // Local time never swallows a zone.
        XCTAssertNil(Values.localTime("2025-03-01 10:00:00 -0500"))
        XCTAssertNil(Values.localTime("2025-03-01T10:00:00.000Z"))
    }

    func testMobiles() {
        XCTAssertEqual(Values.mobile("'18618486065"), "18618486065")
        XCTAssertEqual(Values.mobile("+86 138-1234-5678"), "13812345678")
        XCTAssertEqual(Values.mobile("8613812345678"), "13812345678")
        XCTAssertNil(Values.mobile("138****1234"))
        XCTAssertNil(Values.mobile("1******6198"))
        XCTAssertNil(Values.mobile("021-12345678"))
        XCTAssertNil(Values.mobile(""))
    }

    func testOrderIDs() {
        XCTAssertEqual(Values.orderID("=\"1234567890123\""), .value("1234567890123"))
        XCTAssertEqual(Values.orderID("1.23456789012346E+18"), .scientific)
        XCTAssertEqual(Values.orderID("1.23E+18"), .scientific)
        XCTAssertEqual(Values.orderID(" "), .empty)
        XCTAssertEqual(Values.orderID("E20250101"), .value("E20250101"))
    }

    func testStatusNormalization() {
        XCTAssertEqual(Values.normalizedStatus("(删除)完成"), "完成")
        XCTAssertEqual(Values.normalizedStatus("(锁定)等待出库"), "等待出库")
        XCTAssertEqual(Values.normalizedStatus("买家已付款，等待卖家发货"), "买家已付款,等待卖家发货")
        XCTAssertEqual(CleanStage.mapStatus("交易关闭", paidFen: 6000, refundFen: 6000, paid: true), "refunded")
        XCTAssertEqual(CleanStage.mapStatus("交易关闭", paidFen: 0, refundFen: 0, paid: false), "closed")
        XCTAssertEqual(CleanStage.mapStatus("等待买家付款", paidFen: 0, refundFen: 0, paid: false), "unpaid")
        XCTAssertEqual(CleanStage.mapStatus("(锁定)等待出库", paidFen: 100, refundFen: 0, paid: true), "paid")
    }

    func testExportKeyFromFileName() {
        XCTAssertEqual(IngestStage.exportKey(fileName: "ExportOrderList201805011200.csv"), "20180501120000")
        XCTAssertEqual(IngestStage.exportKey(fileName: "ztc_20250101_20250131.csv"), "20250131000000")
        XCTAssertNil(IngestStage.exportKey(fileName: "youzan_orders_2025Q1.csv"))
    }
}

final class FormatTests: XCTestCase {
    func testRatesHalfUpFromIntegers() {
        XCTAssertEqual(Fmt.rate(1, 3), "0.3333")
        XCTAssertEqual(Fmt.rate(2, 3), "0.6667")
        XCTAssertEqual(Fmt.rate(1, 8), "0.1250")
        XCTAssertEqual(Fmt.rate(1, 20000), "0.0001")      // 0.00005 rounds half up
        XCTAssertEqual(Fmt.rate(1, 20001), "0.0000")
        XCTAssertEqual(Fmt.rate(5, 5), "1.0000")
        XCTAssertEqual(Fmt.rate(0, 0), "")
        XCTAssertEqual(Fmt.rate(42000, 30000), "1.4000")
    }

    func testMoney() {
        XCTAssertEqual(Fmt.yuan(123450), "1234.50")
        XCTAssertEqual(Fmt.yuan(5), "0.05")
        XCTAssertEqual(Fmt.yuan(0), "0.00")
        XCTAssertEqual(Fmt.yuanPer(10000, 3), "33.33")    // 3333.33 fen -> 3333
        XCTAssertEqual(Fmt.yuanPer(20000, 3), "66.67")    // 6666.67 fen -> 6667
        XCTAssertEqual(Fmt.yuanPer(5, 2), "0.03")         // 2.5 fen -> 3, half up
        XCTAssertEqual(Fmt.yuanPer(100, 0), "")
    }

    func testMedian() {
        XCTAssertEqual(Fmt.median([9]), "9")
        XCTAssertEqual(Fmt.median([3, 1, 2]), "2")
        XCTAssertEqual(Fmt.median([10, 25]), "17.5")
        XCTAssertEqual(Fmt.median([]), "")
    }

    func testCSVCellsAreSpreadsheetSafe() {
        XCTAssertEqual(CSVWriter.safeCell("=HYPERLINK(\"http://x\",\"y\")"), "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")
        XCTAssertEqual(CSVWriter.safeCell("+cmd"), "'+cmd")
        XCTAssertEqual(CSVWriter.safeCell("@SUM(A1)"), "'@SUM(A1)")
        XCTAssertEqual(CSVWriter.safeCell("-12.50"), "-12.50")     // a number stays a number
        XCTAssertEqual(CSVWriter.safeCell("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVWriter.safeCell("line\nbreak"), "\"line\nbreak\"")
    }

    func testHTMLEscaping() {
        XCTAssertEqual(HTMLReport.escape("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;")
        XCTAssertEqual(HTMLReport.escape("\"'&"), "&quot;&#39;&amp;")
    }
}

final class CalendarTests: XCTestCase {
    func testDayNumbersRoundTrip() {
        XCTAssertEqual(CivilDate.dayNumber(1970, 1, 1), 0)
        XCTAssertEqual(CivilDate.dayNumber(2024, 3, 1) - CivilDate.dayNumber(2024, 2, 28), 2)   // leap year
        for d in stride(from: -1000, to: 30000, by: 37) {
            let (y, m, dd) = CivilDate.civil(d)
            XCTAssertEqual(CivilDate.dayNumber(y, m, dd), d)
        }
        XCTAssertEqual(CivilDate.iso(CivilDate.dayNumber(2025, 3, 10)), "2025-03-10")
    }

    func testMonths() {
        let p = PeriodKind.month
        let d = CivilDate.dayNumber(2024, 12, 31)
        XCTAssertEqual(p.label(p.index(ofDay: d)), "2024-12")
        XCTAssertEqual(p.index(ofDay: CivilDate.dayNumber(2025, 1, 1)) - p.index(ofDay: d), 1)
        XCTAssertEqual(p.lastDay(p.index(ofDay: CivilDate.dayNumber(2024, 2, 10))), CivilDate.dayNumber(2024, 2, 29))
    }

    func testISOWeeks() {
        let p = PeriodKind.week
        // 2024-02-26 is the Monday of ISO week 2024-W09; 2024-03-03 its Sunday.
        XCTAssertEqual(p.label(p.index(ofDay: CivilDate.dayNumber(2024, 2, 26))), "2024-W09")
        XCTAssertEqual(p.label(p.index(ofDay: CivilDate.dayNumber(2024, 3, 3))), "2024-W09")
        XCTAssertEqual(p.firstDay(p.index(ofDay: CivilDate.dayNumber(2024, 3, 3))), CivilDate.dayNumber(2024, 2, 26))
        // ISO year boundaries: 2021-01-03 is in 2020-W53; 2024-12-30 is in 2025-W01.
        XCTAssertEqual(p.label(p.index(ofDay: CivilDate.dayNumber(2021, 1, 3))), "2020-W53")
        XCTAssertEqual(p.label(p.index(ofDay: CivilDate.dayNumber(2024, 12, 30))), "2025-W01")
    }
}

final class SHA256Tests: XCTestCase {
    override func tearDown() { SHA256.forceSoftware = false }

    /// The FIPS vectors on both paths: the CPU's SHA instructions (when present) and the Swift rounds.
    func testKnownVectors() {
        for software in [false, true] {
            SHA256.forceSoftware = software
            vectors()
        }
    }

    /// Both paths agree on every length around the block size and on large inputs fed in odd pieces.
    func testHardwareAndSoftwareAgree() throws {
        try XCTSkipUnless(SHA256.hardware, "no SHA instructions on this CPU")
        var rng = FuzzTests.SplitMix(state: 7)
        let data = (0..<(1 << 20) + 77).map { _ in UInt8.random(in: 0...255, using: &rng) }
        func digest(_ n: Int, piece: Int, software: Bool) -> String {
            SHA256.forceSoftware = software
            var s = SHA256()
            var i = 0
            while i < n { let j = min(n, i + piece); s.update(data[i..<j]); i = j }
            return SHA256.hex(s.finalize())
        }
        for n in Array(0...200) + [1 << 20, (1 << 20) + 77] {
            for piece in [1, 63, 64, 65, 4096] where n < 300 || piece == 4096 {
                XCTAssertEqual(digest(n, piece: piece, software: false), digest(n, piece: piece, software: true), "length \(n), pieces of \(piece)")
            }
        }
    }

    func vectors() {
        // FIPS 180-4 examples.
        XCTAssertEqual(SHA256.hexDigest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hexDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var s = SHA256()
        for _ in 0..<1000 { s.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        XCTAssertEqual(SHA256.hex(s.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
