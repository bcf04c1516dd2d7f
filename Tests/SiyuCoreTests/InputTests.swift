import Foundation
import XCTest
@testable import SiyuCore

final class InputTests: XCTestCase {
    struct Rec { var line: Int; var fields: [String] }

    /// Records copied out of the callback (its bytes are only valid inside it).
    func parse(_ bytes: [UInt8]) throws -> [Rec] {
        var out: [Rec] = []
        let p = try CSVParser { out.append(Rec(line: $0.line, fields: $0.fields)) }
        try bytes.withUnsafeBufferPointer { try p.feed($0) }
        try p.finish()
        return out
    }

    func testLineNumbersWithQuotedNewlinesCRLFAndBlankLines() throws {
        let text = "a,b\r\n1,\"x\r\ny\"\r\n\r\n2,\"t\tab\"\r\n3,last"
        let recs = try parse(Array(text.utf8))
        XCTAssertEqual(recs.map(\.line), [1, 2, 5, 6])
        XCTAssertEqual(recs[1].fields, ["1", "x\r\ny"])
        XCTAssertEqual(recs[2].fields, ["2", "t\tab"])
        XCTAssertEqual(recs[3].fields, ["3", "last"])
    }

    func testExcelEqualsQuotedCell() throws {
        let recs = try parse(Array("\"=\"\"123\"\"\",'186\n".utf8))
        XCTAssertEqual(recs[0].fields, ["=\"123\"", "'186"])
        XCTAssertEqual(Values.clean(recs[0].fields[0]), "123")
    }

    func decode(_ bytes: [UInt8], chunk: Int = 1 << 20) throws -> (String, TextEncoding) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dec-\(UUID().uuidString).csv")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let r = try UTF8ChunkReader(path: url.path, chunkSize: chunk)
        var out: [UInt8] = []
        try r.forEachChunk { out.append(contentsOf: $0) }
        return (String(decoding: out, as: UTF8.self), r.encoding)
    }

    func testGBKDecodes() throws {
        // "中文,订单" in GBK: D6 D0 CE C4 2C B6 A9 B5 A5
        let (s, enc) = try decode([0xD6, 0xD0, 0xCE, 0xC4, 0x2C, 0xB6, 0xA9, 0xB5, 0xA5])
        XCTAssertEqual(s, "中文,订单")
        XCTAssertEqual(enc, .gb18030)
    }

    func testGBKAcrossChunkBoundaries() throws {
        var bytes: [UInt8] = []
        for _ in 0..<5000 { bytes += [0xD6, 0xD0, 0x41] }   // 中A, odd chunk sizes split the 2-byte character
        let (s, _) = try decode(bytes, chunk: 7)
        XCTAssertEqual(s, String(repeating: "中A", count: 5000))
    }

    func testUTF8WithAndWithoutBOM() throws {
        let (a, ea) = try decode([0xEF, 0xBB, 0xBF] + Array("订单号,x".utf8))
        XCTAssertEqual(a, "订单号,x")
        XCTAssertEqual(ea, .utf8BOM)
        let (b, eb) = try decode(Array("订单号,x".utf8), chunk: 2)
        XCTAssertEqual(b, "订单号,x")
        XCTAssertEqual(eb, .utf8)
    }

    func testHeaderSignatures() {
        let tmall = SourceConfig(name: "t", kind: .tmall, files: [], defaultChannel: "tmall", platform: "tmall", columns: [:])
        let h = HeaderMap(["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单付款时间 ", "收货地址 "])
        guard case .found(_, let layout) = Formats.detect(header: h, source: tmall) else { return XCTFail("not recognised") }
        XCTAssertEqual(layout, "tmall_orders_2016")
        let bad = HeaderMap(["订单编号", "买家会员名"])
        guard case .unknown(let nearest, let missing) = Formats.detect(header: bad, source: tmall) else { return XCTFail("recognised") }
        XCTAssertEqual(nearest?.id, "tmall_orders")
        XCTAssertEqual(missing, ["订单状态", "订单付款时间", "买家实际支付金额|买家实付金额"])
        // Duplicate headers are addressed by position: the first 分销员 wins for lookups.
        let yz = HeaderMap(["订单号", "分销员", "分销员", "分销员手机号"])
        XCTAssertEqual(yz.index("分销员"), 1)
    }

    func testLayoutsOfOnePlatformAreRecognisedBySignature() {
        let tmall = SourceConfig(name: "t", kind: .tmall, files: [], defaultChannel: "tmall", platform: "tmall", columns: [:])
        let jd = SourceConfig(name: "j", kind: .jd, files: [], defaultChannel: "jd", platform: "jd", columns: [:])
        func layout(_ names: [String], _ source: SourceConfig) -> String? {
            if case .found(_, let l) = Formats.detect(header: HeaderMap(names), source: source) { return l }
            return nil
        }
        let core = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单付款时间 "]
        XCTAssertEqual(layout(core + (0..<37).map { "列\($0)" }, tmall), "tmall_orders_2016")          // ~42 columns
        XCTAssertEqual(layout(core + (0..<51).map { "列\($0)" }, tmall), "tmall_orders_2018")          // 56 columns
        XCTAssertEqual(layout(["订单编号", "买家会员名", "买家实付金额", "订单状态", "订单付款时间", "商品标题"], tmall), "tmall_orders_2020")
        let jd30 = ["订单号", "商品ID", "下单时间", "应付金额", "订单状态", "下单帐号", "付款确认时间"]
        XCTAssertEqual(layout(jd30, jd), "jd_orders_30")
        XCTAssertEqual(layout(jd30 + ["实付金额", "送装服务", "仓库id"], jd), "jd_orders_48")
        XCTAssertNil(layout(jd30, tmall))
    }

    func testPipelineFileErrors() throws {
        XCTAssertThrowsError(try Pipeline.parse("[pipeline]\nperiod = \"day\"\n", path: "p.toml")) { e in
            XCTAssertTrue("\(e)".contains("period must be"), "\(e)")
        }
        XCTAssertThrowsError(try Pipeline.parse("[pipeline\n", path: "p.toml")) { e in
            XCTAssertTrue("\(e)".hasPrefix("p.toml:1:"), "\(e)")
        }
        let p = try Pipeline.parse("""
            [[source]]
            kind = "jd"
            files = ["x/*.csv"]
            [[rule]]
            channel = "live"
            contains = ["直播"]
            """, path: "p.toml")
        XCTAssertEqual(p.sources[0].platform, "jd")
        XCTAssertEqual(p.channel(for: .order, values: [nil, "抖音直播间"]), "live")
        XCTAssertNil(p.channel(for: .order, values: ["京东APP"]))
        XCTAssertEqual(p.timeZone.identifier, "Asia/Shanghai")
    }
}
