import XCTest
@testable import SiyuCore

/// The compact structures behind a full rebuild at scale: they must keep the exact semantics of
/// the `String`-keyed dictionaries and sets they replace.
final class JoinScaleTests: XCTestCase {
    func testGraphInternsKeysByTheirExactText() {
        var g = IdentityGraph(capacity: 4)
        let composed = g.node(.acct, "youzan:Jos\u{E9}")
        XCTAssertEqual(g.node(.acct, "youzan:Jos\u{E9}"), composed)
        // Canonically equivalent but other code points: another account's text, as SQLite (and
        // a nightly run's stored nodes) see it. Each keeps its own spelling.
        let decomposed = g.node(.acct, "youzan:Jose\u{301}")
        XCTAssertNotEqual(decomposed, composed)
        XCTAssertEqual(Array(g.string(decomposed).utf8), Array("acct:youzan:Jose\u{301}".utf8))
        XCTAssertNotEqual(g.node(.acct, "tmall:\u{F900}"), g.node(.acct, "tmall:\u{8C48}"))
        // Same key, other kind: another node.
        XCTAssertNotEqual(g.node(.openid, "youzan:Jos\u{E9}"), composed)
        XCTAssertNotEqual(g.node(.acct, "youzan:jos\u{E9}"), composed)
    }

    func testGraphGrowsAndKeepsEveryNode() {
        var g = IdentityGraph(capacity: 0)
        var ids: [Int32] = []
        for i in 0..<50_000 { ids.append(g.node(.openid, "o\(i)")) }
        for i in 0..<50_000 { ids.append(g.phone(13_000_000_000 + UInt64(i))) }
        XCTAssertEqual(g.count, 100_000)
        XCTAssertEqual(Set(ids).count, 100_000)
        for i in stride(from: 0, to: 50_000, by: 997) {
            XCTAssertEqual(g.node(.openid, "o\(i)"), ids[i])
            XCTAssertEqual(g.phone(13_000_000_000 + UInt64(i)), ids[50_000 + i])
        }
        XCTAssertEqual(g.string(ids[50_001]), "phone:13000000001")
    }

    func testGraphOrdersNodesByCodePoints() {
        var g = IdentityGraph(capacity: 16)
        let nodes = [g.node(.acct, "jd:b"), g.node(.acct, "jd:ab"), g.node(.acct, "jd:a"), g.node(.acct, "tmall:a"),
                     g.node(.acct, "youzan:张三"), g.node(.acct, "youzan:Zoe"), g.node(.acct, "youzan:Ze\u{301}"),
                     g.node(.openid, "oA"), g.node(.order, "jd:1"), g.phone(13_900_000_000), g.phone(13_100_000_000),
                     g.node(.unionid, "u1"), g.node(.acct, "")]
        // By code points, as SQLite's BINARY collation and Python order text (Swift's `String`
        // would put "Ze\u{301}" after "Zoe": it compares normalised text).
        let byGraph = nodes.sorted { g.less($0, $1) }.map { g.string($0) }
        let byCodePoints = nodes.map { g.string($0) }.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        XCTAssertEqual(byGraph, byCodePoints)
        XCTAssertEqual(byGraph.firstIndex(of: "acct:youzan:Ze\u{301}")! + 1, byGraph.firstIndex(of: "acct:youzan:Zoe"))
    }

    func testUnionFindRoots() {
        var g = IdentityGraph(capacity: 8)
        let a = g.node(.acct, "jd:a"), b = g.phone(13_800_000_000), c = g.node(.openid, "o"), d = g.node(.unionid, "u")
        g.union(b, c)
        g.union(d, c)
        let roots = g.roots()
        XCTAssertEqual(roots[Int(a)], a)
        XCTAssertEqual(Set([roots[Int(b)], roots[Int(c)], roots[Int(d)]]), [b])
        let smallest = g.smallestNodes(roots: roots)
        XCTAssertEqual(g.string(smallest[Int(b)]), "openid:o")
    }

    func testCustomerKeyAsNumberMatchesTheHexKey() {
        let node = "acct:tmall:张三"
        let hex = JoinStage.customerKey(salt: "s", smallestNode: node)
        let v = Array(node.utf8).withUnsafeBufferPointer { JoinStage.customerKey64(salt: Array("s".utf8), node: $0) }
        XCTAssertEqual(JoinStage.hex16(v), hex)
        let keys = JoinStage.keys(count: 3, salt: Array("s".utf8)) { i, out in out.append(contentsOf: "openid:o\(i)".utf8) }
        XCTAssertEqual(keys.map(JoinStage.hex16), (0..<3).map { JoinStage.customerKey(salt: "s", smallestNode: "openid:o\($0)") })
    }

    func testOrderKeySetIsExactAndGrows() {
        var set = OrderKeySet(expected: ["tmall": 4])
        XCTAssertTrue(set.insert(platform: "tmall", orderID: "9999999999999999999"))   // the largest 19-digit id
        XCTAssertFalse(set.insert(platform: "tmall", orderID: "9999999999999999999"))
        XCTAssertTrue(set.insert(platform: "jd", orderID: "9999999999999999999"))
        XCTAssertTrue(set.insert(platform: "tmall", orderID: "0123"))                  // leading zero: kept as text
        XCTAssertTrue(set.insert(platform: "tmall", orderID: "123"))
        XCTAssertFalse(set.insert(platform: "tmall", orderID: "0123"))
        for i in 1...20_000 { XCTAssertTrue(set.insert(platform: "tmall", orderID: String(1_000_000 + i))) }
        for i in 1...20_000 { XCTAssertFalse(set.insert(platform: "tmall", orderID: String(1_000_000 + i))) }
        XCTAssertTrue(set.insert(platform: "tmall", orderID: "E-1"))
        XCTAssertFalse(set.insert(platform: "tmall", orderID: "E-1"))
    }
}
