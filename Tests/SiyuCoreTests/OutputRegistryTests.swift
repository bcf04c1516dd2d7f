import Foundation
import Logging
import XCTest
@testable import SiyuCore

/// An output is a type and a line in a list: one that needs a fact beyond a component's customer,
/// purchases and fans brings its own `FactCollector`, and nothing else changes. The test output
/// here sums each component's qualifying orders, counted by its collector from int_purchases (not
/// from the facts every output gets), over two nights: the night with retired components takes them
/// out with the counts stored in agg_facts, and every out_ table equals a full rebuild's.
final class OutputRegistryTests: XCTestCase {
    struct OrderCount: ByteCodable {
        var n: Int
        init(n: Int) { self.n = n }
        init(from r: inout ByteReader) { n = r.int() }
        func write(to w: inout ByteWriter) { w.int(n) }
    }

    /// Qualifying orders per customer, in component order (a customer's id is its component's).
    struct OrderCounter: FactCollector {
        static let key = "test_order_count"
        let st: Statement
        var has: Bool
        init(_ db: Database, from: Int) throws {
            st = try db.prepare("SELECT customer_id, count(*) FROM int_purchases WHERE customer_id >= ? GROUP BY customer_id ORDER BY customer_id")
            try st.bind([.int(from)])
            has = try st.step()
        }
        mutating func collect(_ facts: ComponentFacts) throws -> OrderCount? {
            while has, st.int(0) < facts.component { has = try st.step() }
            guard has, st.int(0) == facts.component else { return nil }
            return OrderCount(n: st.int(1))
        }
    }

    struct QualifyingOrders: TableOutput {
        static let name = "test_qualifying_orders"
        static let columns = ["customers", "orders"]
        static var collectors: [any FactCollector.Type] { [OrderCounter.self] }
        var customers = 0, orders = 0
        mutating func add(_ c: ComponentView, sign: Int, context: OutputContext) {
            guard c.customer != nil, let count = c.facts.extra(OrderCounter.self) else { return }
            customers += sign
            orders += sign * count.n
        }
        func table(_ context: OutputContext) -> OutputTable {
            OutputTable(name: Self.name, columns: Self.columns, rows: [[String(customers), String(orders)]])
        }
    }

    var work: URL!
    override func setUpWithError() throws {
        work = try TestSupport.tempDir("registry")
        try FileManager.default.copyItem(at: TestSupport.packageRoot.appendingPathComponent("pipelines"), to: work.appendingPathComponent("pipelines"))
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    /// Delivers the first `share` of each sample folder's files (by name, as they were exported),
    /// then runs ingest, clean and join with the real binary.
    func deliver(_ share: Double) throws {
        let root = TestSupport.packageRoot.appendingPathComponent("sample-data")
        for dir in ["tmall", "jd", "youzan", "followers", "spend"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path).filter { $0.hasSuffix(".csv") }.sorted()
            let dest = work.appendingPathComponent("sample-data/\(dir)")
            try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
            for name in names.prefix(Int(Double(names.count) * share)) where !FileManager.default.fileExists(atPath: dest.appendingPathComponent(name).path) {
                try FileManager.default.copyItem(at: root.appendingPathComponent("\(dir)/\(name)"), to: dest.appendingPathComponent(name))
            }
        }
        for stage in ["ingest", "clean", "join"] {
            let r = try TestSupport.siyu([stage, "--quiet", "--pipeline", "pipelines/sample.toml", "--warehouse", "w.sqlite"], cwd: work)
            XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)
        }
    }

    /// The aggregate with the test output added to the registry; every out_ table and the mode.
    func aggregate() throws -> (tables: [String: [[String]]], detail: String) {
        let pipeline = try Pipeline.load(path: work.appendingPathComponent("pipelines/sample.toml").path)
        let wh = try Warehouse(pipeline: pipeline, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                               path: work.appendingPathComponent("w.sqlite").path)
        let outputs = Outputs.all + [QualifyingOrders.self]
        _ = try AggregateStage(wh, outputs: outputs).run(runID: "test")
        var tables: [String: [[String]]] = [:]
        for o in outputs { tables[o.name] = try AggregateStage.load(o.name, from: wh.db)?.rows }
        let counted = try [wh.db.scalarInt("SELECT count(DISTINCT customer_id) FROM int_purchases"), wh.db.scalarInt("SELECT count(*) FROM int_purchases")]
        XCTAssertEqual(tables[QualifyingOrders.name], [counted.map(String.init)], "the collector's counts, summed, are int_purchases'")
        return (tables, try wh.db.scalarText("SELECT detail FROM siyu_stages WHERE stage='aggregate'") ?? "")
    }

    func testAnOutputWithItsOwnFactsPlugsIn() throws {
        try deliver(0.5)
        XCTAssertTrue(try aggregate().detail.hasPrefix("full "))
        try deliver(1)
        let retired = try Database(path: work.appendingPathComponent("w.sqlite").path).scalarInt("SELECT count(*) FROM int_retired")
        XCTAssertGreaterThan(retired, 0, "the second night retires components, taken out with their stored facts")
        let nightly = try aggregate()
        XCTAssertTrue(nightly.detail.hasPrefix("incremental "), nightly.detail)
        try Database(path: work.appendingPathComponent("w.sqlite").path).execute("DELETE FROM agg_state")
        let full = try aggregate()
        XCTAssertTrue(full.detail.hasPrefix("full "), full.detail)
        XCTAssertEqual(Set(nightly.tables.keys), Set(Outputs.names + [QualifyingOrders.name]))
        for (name, rows) in full.tables { XCTAssertEqual(nightly.tables[name], rows, "\(name): nightly and full rebuild differ") }
    }
}
