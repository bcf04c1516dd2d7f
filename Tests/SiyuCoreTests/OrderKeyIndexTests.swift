import XCTest
@testable import SiyuCore

/// The in-memory join of item lines to orders (`OrderKeyIndex`) must keep keys exactly as SQLite's
/// `platform = ? AND order_id = ?` does: byte for byte.
final class OrderKeyIndexTests: XCTestCase {
    func add(_ index: inout OrderKeyIndex, _ platform: String, _ id: String) -> Int {
        Array(platform.utf8).withUnsafeBufferPointer { p in Array(id.utf8).withUnsafeBufferPointer { index.add(platform: p, orderID: $0) } }
    }

    func find(_ index: inout OrderKeyIndex, _ platform: String, _ id: String) -> Int? {
        Array(platform.utf8).withUnsafeBufferPointer { p in Array(id.utf8).withUnsafeBufferPointer { index.index(platform: p, orderID: $0) } }
    }

    func testKeysAreExact() {
        var index = OrderKeyIndex()
        let ids = [("tmall", "123"), ("tmall", "0123"), ("jd", "123"), ("tmall", "9999999999999999999"), ("tmall", "99999999999999999999"),
                   ("microstore", "E20250101"), ("microstore", "Caf\u{e9}"), ("microstore", "Cafe\u{301}"), ("tmall", "12 3")]
        for (i, (p, id)) in ids.enumerated() { XCTAssertEqual(add(&index, p, id), i, "\(p) \(id) is a key of its own") }
        for (i, (p, id)) in ids.enumerated() { XCTAssertEqual(add(&index, p, id), i, "added again: the same index") }
        XCTAssertEqual(index.count, ids.count)
        XCTAssertNil(find(&index, "jd", "0123"))
        XCTAssertNil(find(&index, "tmall", "124"))
        XCTAssertNil(find(&index, "youzan", "123"))
        XCTAssertEqual(find(&index, "microstore", "Cafe\u{301}"), 7)
    }

    /// Past the first table size (65,536 slots), and numbers beside strings.
    func testManyKeys() {
        var index = OrderKeyIndex()
        for i in 0..<200_000 { XCTAssertEqual(add(&index, i % 2 == 0 ? "tmall" : "jd", i % 3 == 0 ? "E\(i)" : "\(i + 1)"), i) }
        for i in stride(from: 0, to: 200_000, by: 997) {
            XCTAssertEqual(find(&index, i % 2 == 0 ? "tmall" : "jd", i % 3 == 0 ? "E\(i)" : "\(i + 1)"), i)
        }
        XCTAssertNil(find(&index, "tmall", "200002"))
    }
}
