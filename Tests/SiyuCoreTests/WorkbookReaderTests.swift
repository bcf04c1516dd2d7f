import Foundation
import XCTest
@testable import SiyuCore

/// The .xlsx reader on the workbooks of Tests/Fixtures/workbooks (written by make_workbooks.py,
/// which says what each cell holds). Every expected text is worked out by hand from those cells:
/// the comments give the arithmetic.
final class WorkbookReaderTests: XCTestCase {
    static let dir = TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/workbooks")
    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Every row of a sheet: its number and cell texts.
    func rows(_ file: String, sheet: Int = 0, limits: XLSXLimits = .standard) throws -> [(Int, [String])] {
        var out: [(Int, [String])] = []
        try XLSXReader(path: Self.path(file), limits: limits).forEachRow(sheet: sheet) { r, cells in
            XCTAssertEqual(cells.strings.joined(separator: "\u{1F}"), String(decoding: cells.joined, as: UTF8.self))
            out.append((r, cells.strings))
            return true
        }
        return out
    }

    func assertRows(_ got: [(Int, [String])], _ want: [(Int, [String])], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map(\.0), want.map(\.0), "row numbers", file: file, line: line)
        for (g, w) in zip(got, want) { XCTAssertEqual(g.1, w.1, "row \(w.0)", file: file, line: line) }
    }

    /// Asserts that `body` throws a WorkbookError whose message holds each of `parts`.
    func assertWorkbookError(_ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("no error; expected one saying \(parts)", file: file, line: line)
        } catch let e as WorkbookError {
            for p in parts { XCTAssertTrue(e.message.contains(p), "“\(e.message)” lacks “\(p)”", file: file, line: line) }
            XCTAssertFalse(e.message.contains(Self.dir.path), "the message names no path", file: file, line: line)
        } catch {
            XCTFail("not a WorkbookError: \(error)", file: file, line: line)
        }
    }

    // MARK: The two shapes of sample-data/xlsxgen.py

    func testQianniuShape() throws {
        // Stored zip, inline strings; dates are text already. The 0x1F in "a\x1fb" was written as
        // _x001F_ and comes back as a space; "x\x01y" as _x0001_ and comes back as U+0001.
        // The Num cell 1234567890123456789 has 19 integer digits: Excel's scientific form.
        assertRows(try rows("qianniu.xlsx"), [
            (1, ["订单编号", "买家会员名", "买家实付金额", "订单付款时间", "联系手机", "商品标题", "备注"]),
            (2, ["1618157441617890214", "小A", "69.00", "2024-11-01 22:21:01", "'13119283036", "思语润唇膏2支装", "a b"]),
            (3, ["1.23456789012346E+18", "leo_sr", "49.5", "2025-03-01 10:00:05", "", " 两端空格 ", "第一行\n第二行"]),
            (4, ["3"]),
            (5, []),
            (6, ["", "", "x\u{01}y"]),
        ])
        XCTAssertEqual(try XLSXReader(path: Self.path("qianniu.xlsx")).sheetNames, ["订单报表"])
    }

    func testExcelShape() throws {
        let reader = try XLSXReader(path: Self.path("excel.xlsx"))
        XCTAssertEqual(reader.sheetNames, ["订单报表", "汇总"])
        // Dates: style 1 (yyyy/m/d\ h:mm:ss) and 2 (builtin 14); 2025-03-01 10:00:05 is serial
        // 45717 + 36005/86400 = 45717.41672453703. 99.9 has style 3 (0.00): General shows 99.9.
        // 99.899999999999991 and 0.30000000000000004 rounded to 15 significant digits: 99.9, 0.3.
        assertRows(try rows("excel.xlsx"), [
            (1, ["订单编号", "买家会员名", "买家实付金额", "订单付款时间", "下单日期", "数量", "备注"]),
            (2, ["1.23456789012346E+18", "alice", "99.9", "2025-03-01 10:00:05", "2025-03-02 00:00:00", "3", "a b"]),
            (3, ["99.9", "bob", "0.3", "2024-02-29 23:59:59", "", "TRUE", "alice"]),
            (4, ["1234567890123", "carol", "1E-10", "", "", "1234567.125", "-0.5"]),
        ])
        // Serial 61 is 1900-03-01 (60 being Excel's fictitious 1900-02-29).
        assertRows(try rows("excel.xlsx", sheet: 1), [(1, ["合计", "12345.678"]), (2, ["日期", "1900-03-01 00:00:00"])])
    }

    // MARK: Hand-made parts

    func testStringsEscapesAndCellKinds() throws {
        let reader = try XLSXReader(path: Self.path("handmade.xlsx"))
        XCTAssertEqual(reader.sheetNames, ["Strings & Co", "日期", "prefixed"])
        assertRows(try rows("handmade.xlsx"), [
            // Rich-text runs joined, the phonetic run (ルビ) left out; _x000D_ + &#10; = CR LF;
            // _x005F_ is a literal underscore, so _x005F_x0041_ reads _x0041_; a surrogate pair of
            // escapes is one emoji, a lone surrogate U+FFFD; entities resolved.
            (1, ["plain", "rich text", "line1\r\nline2", "_x0041_ and A and 😀 and \u{FFFD}!", "a&b <c> \"q\""]),
            // Inline rich text; B2 a gap; a formula string; booleans; errors as written; G2 a gap.
            (2, ["inline", "", "plain!", "TRUE", "FALSE", "#N/A", "", "#DIV/0!"]),
            // Cells without r: two spaces, an empty <c/>, "sep here" (_x001F_ -> space), and an
            // empty shared string that is not counted.
            (5, ["  ", "", "sep here"]),
            // A row without r follows row 5.
            (6, ["", "7"]),
            (8, []),
            // An escape in an inline string and in a formula string; an empty <v>; t="n"; an ISO
            // date cell; a shared string with a date style stays text.
            (9, ["x\ry", "1_2", "", "12", "2025-03-01 10:00:05", "plain"]),
        ])
        assertRows(try rows("handmade.xlsx", sheet: 2), [(1, ["hello", "42"])])
    }

    func testDateCellsAndGeneralNumbers() throws {
        // Cell formats (styles.xml): 1 builtin 14, 2 builtin 22, 3 yyyy"年"m"月"d"日", 4 yyyy/m/d\ h:mm:ss,
        // 7 [h]:mm:ss are dates; 5 #,##0.00"days" (letters quoted), 6 [Red]#,##0;[Blue]-#,##0 (in
        // brackets), 8 builtin 2, 9 builtin 49 (@), 10 #,##0_);[Red]\(#,##0\) and 0 General are not.
        assertRows(try rows("handmade.xlsx", sheet: 1), [
            // 45717 days after 1899-12-30 is 2025-03-01; .41672453703 d = 36005.0000 s = 10:00:05.
            // 45717.99999999: 86399.999 s rounds to the next midnight. 45717.5: noon.
            (1, ["2025-03-01 10:00:05", "2025-03-01 10:00:05", "2025-03-01 00:00:00", "2025-03-02 00:00:00", "2025-03-01 12:00:00"]),
            // 60 is the fictitious 1900-02-29, 59 and 61 its neighbours, 1 the first day, 0.5 a
            // time on day 0 (Excel shows 1900-01-00); -1 and 3000000 are no dates: General.
            (2, ["1900-02-29 00:00:00", "1900-02-28 00:00:00", "1900-03-01 00:00:00", "1900-01-01 00:00:00",
                 "1900-01-00 12:00:00", "-1", "3000000"]),
            // Not dates: General. 45717.41672453703 to 15 significant digits: 45717.4167245370 -> 45717.416724537.
            (3, ["1.5", "-1234", "99.9", "7", "0.3", "45717.416724537"]),
            // 16+ integer digits -> scientific; 1E-10 is below 1E-9 -> scientific; 0.000000001 is not;
            // -0 -> 0; 1.0E3 -> 1000; 2.50 -> 2.5; 123456789012345.67 -> 15 digits 123456789012346;
            // -5.5E-3 -> -0.0055; 0012.50 -> 12.5.
            (4, ["1234567890123", "1.23456789012346E+18", "123456789012345", "1E+15", "1E-10", "0.000000001", "0",
                 "1000", "2.5", "123456789012346", "-0.0055", "12.5"]),
        ])
    }

    func testDate1904() throws {
        // 1904 system: serial 0 is 1904-01-01; 45717 days later is 2029-03-02 (1462 days after the
        // 1900 system's 2025-03-01). Both spellings of the flag.
        for file in ["date1904.xlsx", "date1904-true.xlsx"] {
            assertRows(try rows(file), [(1, ["1904-01-01 00:00:00", "2029-03-02 10:00:05", "1.5"])])
        }
    }

    // MARK: Streaming

    func testStopEarlyAndReadAnotherSheet() throws {
        let reader = try XLSXReader(path: Self.path("handmade.xlsx"))
        var seen: [Int] = []
        try reader.forEachRow(sheet: 0) { r, _ in
            seen.append(r)
            return r < 2
        }
        XCTAssertEqual(seen, [1, 2])
        var cells: [String] = []
        try reader.forEachRow(sheet: 2) { _, row in
            cells = row.strings
            XCTAssertEqual(row.count, 2)
            XCTAssertEqual(row.cell(1), "42")
            XCTAssertEqual(row.cell(5), "")
            return true
        }
        XCTAssertEqual(cells, ["hello", "42"])
    }

    func testErrorFromTheCallbackComesOut() throws {
        struct Boom: Error {}
        XCTAssertThrowsError(try XLSXReader(path: Self.path("qianniu.xlsx")).forEachRow(sheet: 0) { r, _ in
            if r == 3 { throw Boom() }
            return true
        }) { XCTAssertTrue($0 is Boom, "\($0)") }
    }

    // MARK: Errors

    func testSheetErrors() throws {
        let reader = try XLSXReader(path: Self.path("errors.xlsx"))
        XCTAssertEqual(reader.sheetNames, ["columns", "rows", "backwards", "order", "malformed", "truncated", "missing", "badshared", "entities"])
        func read(_ sheet: Int) throws -> [Int] {
            var seen: [Int] = []
            try reader.forEachRow(sheet: sheet) { r, row in
                if sheet == 0 { XCTAssertEqual(row.count, 16384); XCTAssertEqual(row.cell(16383), "last") }   // XFD is column 16384
                seen.append(r)
                return true
            }
            return seen
        }
        assertWorkbookError(["row 2 has a cell in column 16385", "16384 columns", "download the export again"]) { _ = try read(0) }
        assertWorkbookError(["row number 1048577 is beyond the 1048576 rows", "download the export again"]) { _ = try read(1) }
        assertWorkbookError(["row 3 comes after row 5", "backwards", "download the export again"]) { _ = try read(2) }
        assertWorkbookError(["row 1 has its cells out of order (column 2 after column 3)"]) { _ = try read(3) }
        assertWorkbookError(["malformed in row 2", "download the export again"]) { _ = try read(4) }
        assertWorkbookError(["malformed in row 2", "cut short"]) { _ = try read(5) }
        assertWorkbookError(["damaged", "part is missing", "download the export again"]) { _ = try read(6) }
        assertWorkbookError(["row 1 refers to shared string `5`, but the workbook has 1"]) { _ = try read(7) }
        // Entities declared in the document are never expanded (no XXE, no billion laughs): an
        // undeclared-entity error before row 1 is handed over, nothing of /etc/passwd.
        assertWorkbookError(["malformed in row 1", "Entity 'xxe' not defined"]) { _ = try read(8) }
    }

    func testZipBombsAreRefusedWhileStreaming() throws {
        // bomb.xlsx: ~9 KB deflating to 8 MiB of spaces in one cell, ratio ~860:1.
        assertWorkbookError(["compressed more than 500:1", "zip bomb"]) { _ = try rows("bomb.xlsx") }
        let small = XLSXLimits(maxSheetBytes: 1 << 20, maxCompressionRatio: 1 << 20)
        assertWorkbookError(["the sheet inflates to more than 1 MiB", "refused"]) { _ = try rows("bomb.xlsx", limits: small) }
        // The zip declares the sheet inflates to 100 bytes: the counted bytes decide.
        assertWorkbookError(["the sheet inflates to more than 1 MiB"]) { _ = try rows("bomb-lying.xlsx", limits: small) }
        // Shared strings are refused when the workbook opens.
        let smallStrings = XLSXLimits(maxSharedStringsBytes: 1 << 20, maxCompressionRatio: 1 << 20)
        assertWorkbookError(["shared strings", "inflates to more than 1 MiB"]) {
            _ = try XLSXReader(path: Self.path("bomb-strings.xlsx"), limits: smallStrings)
        }
    }

    func testDamagedAndWrongFiles() throws {
        assertWorkbookError(["damaged", "fails its checksum", "download the export again"]) { _ = try rows("damaged-crc.xlsx") }
        assertWorkbookError(["damaged", "download the export again"]) { _ = try rows("damaged-deflate.xlsx") }
        // A deflate stream cut short with only the central directory after it: inflating runs on to
        // the end of the file, where ZIPFoundation's Archive.extract waits for ever. An error here.
        assertWorkbookError(["damaged", "download the export again"]) { _ = try rows("cut-stream.xlsx") }
        assertWorkbookError(["damaged", "zip directory cannot be read", "download the export again"]) {
            _ = try XLSXReader(path: Self.path("truncated.xlsx"))
        }
        assertWorkbookError(["it has no xl/workbook.xml", "xl/workbook.xml", "download the export again"]) {
            _ = try XLSXReader(path: Self.path("no-workbook.xlsx"))
        }
        assertWorkbookError(["not an .xlsx workbook"]) { _ = try XLSXReader(path: Self.path("not-a-zip.xlsx")) }
        assertWorkbookError(["password-protected", "remove the password"]) { _ = try XLSXReader(path: Self.path("encrypted.xlsx")) }
        assertWorkbookError(["Excel 97-2003", ".xls", "save it as"]) { _ = try XLSXReader(path: Self.path("legacy.xls")) }
        assertWorkbookError(["OLE", "not an Excel workbook"]) { _ = try XLSXReader(path: Self.path("other.doc")) }
        assertWorkbookError(["not an .xlsx workbook"]) { _ = try XLSXReader(path: Self.dir.path) }
    }

    func testZipCRC32() {
        // The standard check value of CRC-32/ISO-HDLC, and one from Python's zlib.crc32 over
        // 771 bytes (bytes(range(256)) * 3 + b"abc"), fed whole and in pieces of odd sizes.
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { ZipCRC32.update(0, $0) }, 0xCBF4_3926)
        let data = (0..<3).flatMap { _ in (0..<256).map { UInt8($0) } } + Array("abc".utf8)
        XCTAssertEqual(data.withUnsafeBytes { ZipCRC32.update(0, $0) }, 0x9D3A_9924)
        var crc: UInt32 = 0
        var i = 0
        for size in [1, 7, 8, 9, 100, 646] {
            data[i..<(i + size)].withUnsafeBytes { crc = ZipCRC32.update(crc, $0) }
            i += size
        }
        XCTAssertEqual(i, data.count)
        XCTAssertEqual(crc, 0x9D3A_9924)
    }

    // MARK: Sniffing

    func testSniff() throws {
        XCTAssertEqual(Workbook.sniff(path: Self.path("qianniu.xlsx")), .xlsx)
        XCTAssertEqual(Workbook.sniff(path: Self.path("zip-named.csv")), .xlsx)   // the name does not matter
        XCTAssertEqual(Workbook.sniff(path: Self.path("encrypted.xlsx")), .encrypted)
        XCTAssertEqual(Workbook.sniff(path: Self.path("legacy.xls")), .xls)        // Workbook in the 2nd directory sector
        XCTAssertEqual(Workbook.sniff(path: Self.path("other.doc")), .unknownOLE)
        XCTAssertEqual(Workbook.sniff(path: Self.path("not-a-zip.xlsx")), .notWorkbook)
        XCTAssertEqual(Workbook.sniff(path: Self.path("no-such-file.xlsx")), .notWorkbook)
        XCTAssertEqual(Workbook.sniff(path: Self.dir.path), .notWorkbook)
        // A FIFO is never opened (opening one for reading would wait for a writer).
        let tmp = try TestSupport.tempDir("sniff")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let fifo = tmp.appendingPathComponent("export.xlsx").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertEqual(Workbook.sniff(path: fifo), .notWorkbook)
        // The renamed workbook reads like the original; so does one with a ZIP64 central directory
        // (every entry's offset in a ZIP64 extra field).
        assertRows(try rows("zip-named.csv"), try rows("qianniu.xlsx"))
        assertRows(try rows("zip64.xlsx"), try rows("qianniu.xlsx"))
    }

    // MARK: Throughput (not a check: run by hand, see make_workbooks.py --bench)

    /// python3 Tests/Fixtures/workbooks/make_workbooks.py --bench /tmp/xlsx-bench 200000, then
    /// SIYU_XLSX_BENCH=/tmp/xlsx-bench swift test -c release -Xswiftc -enable-testing \
    ///     --disable-swift-testing --filter WorkbookReaderTests/testThroughput
    func testThroughput() throws {
        guard let dir = ProcessInfo.processInfo.environment["SIYU_XLSX_BENCH"] else { throw XCTSkip("set SIYU_XLSX_BENCH") }
        /// Resident memory now, in MiB (Linux).
        func rss() -> Int {
            // /proc files claim size 0, so read(2) rather than Foundation's file readers.
            var buf = [UInt8](repeating: 0, count: 128)
            let fd = open("/proc/self/statm", O_RDONLY)
            let n = fd < 0 ? 0 : read(fd, &buf, buf.count)
            if fd >= 0 { close(fd) }
            let statm = String(decoding: buf.prefix(max(n, 0)), as: UTF8.self)
            let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return (pages * 4096) >> 20
        }
        /// CPU seconds of this process, or of this thread (the machine may be shared: wall time
        /// alone says little; the calling thread parses while another inflates, so on two idle
        /// cores the wall time is about the thread's CPU time).
        func cpu(_ clock: clockid_t = CLOCK_PROCESS_CPUTIME_ID) -> Double {
            var t = timespec()
            clock_gettime(clock, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".xlsx") }.sorted()
        for f in files {
            let start = Date(), cpuStart = cpu(), threadStart = cpu(CLOCK_THREAD_CPUTIME_ID)
            var rows = 0, bytes = 0, early = 0
            let reader = try XLSXReader(path: dir + "/" + f)
            let opened = Date().timeIntervalSince(start)
            try reader.forEachRow(sheet: 0) { _, row in
                rows += 1
                bytes += row.joined.count
                if rows == 10000 { early = rss() }
                return true
            }
            let t = Date().timeIntervalSince(start), c = cpu() - cpuStart, ct = cpu(CLOCK_THREAD_CPUTIME_ID) - threadStart
            print(String(format: "xlsx bench %@: %d rows; %.2f s wall (open %.2f s) = %.0f rows/s; CPU %.2f s in all = %.0f rows/s, %.2f s on the parsing thread = %.0f rows/s; %d MiB of cell text; RSS %d MiB at row 10000, %d MiB at the end",
                         f, rows, t, opened, Double(rows) / t, c, Double(rows) / c, ct, Double(rows) / ct, bytes >> 20, early, rss()))
        }
    }
}
