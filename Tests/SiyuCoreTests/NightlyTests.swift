import Foundation
import XCTest

/// Nightly operation: incremental runs equal a full rebuild byte for byte; killed runs leave the
/// warehouse as it was and the next run finishes with the same outputs.
final class NightlyTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = try TestSupport.tempDir("nightly")
        try FileManager.default.copyItem(at: TestSupport.packageRoot.appendingPathComponent("pipelines"), to: work.appendingPathComponent("pipelines"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    /// Sample files grouped per source folder, in the order they were downloaded: by name, a
    /// re-delivered copy "X (1).csv" after its original "X.csv" (as siyu's own glob order).
    func sampleFiles() throws -> [String: [String]] {
        let root = TestSupport.packageRoot.appendingPathComponent("sample-data")
        var out: [String: [String]] = [:]
        for dir in ["tmall", "jd", "youzan", "followers", "spend"] {
            out[dir] = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path).filter { $0.hasSuffix(".csv") }
                .sorted { (($0 as NSString).deletingPathExtension, $0) < (($1 as NSString).deletingPathExtension, $1) }
        }
        return out
    }

    func deliver(_ dir: String, _ name: String) throws {
        let dest = work.appendingPathComponent("sample-data/\(dir)")
        try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TestSupport.packageRoot.appendingPathComponent("sample-data/\(dir)/\(name)"), to: dest.appendingPathComponent(name))
    }

    func outputs(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name != "manifest.json" {
            out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return out
    }

    func run(_ args: [String]) throws -> TestSupport.Result {
        let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "pipelines/sample.toml"] + args, cwd: work)
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)
        return r
    }

    func testThreeNightsEqualAFullRebuild() throws {
        let files = try sampleFiles()
        for night in 0..<3 {
            for (dir, names) in files {
                let share = names.count * (night + 1) / 3
                for name in names[(names.count * night / 3)..<share] { try deliver(dir, name) }
            }
            _ = try run([])
        }
        let nightly = try outputs(work.appendingPathComponent("build/sample/reports"))
        let status = try TestSupport.siyu(["status", "--pipeline", "pipelines/sample.toml"], cwd: work)
        XCTAssertTrue(status.stdout.contains("clean      ") && status.stdout.contains("incremental files="), status.stdout)
        XCTAssertTrue(status.stdout.contains("incremental components="), "join ran incrementally: \(status.stdout)")

        _ = try run(["--full", "--warehouse", "build/full.sqlite", "--output", "build/full"])
        let full = try outputs(work.appendingPathComponent("build/full"))
        XCTAssertEqual(Set(nightly.keys), Set(full.keys))
        XCTAssertEqual(nightly.count, 9)
        for (name, data) in full { XCTAssertEqual(nightly[name], data, "\(name) differs between nightly and full rebuild") }
    }

    /// A later export changes an order's phone: the link it made must go (only the newest
    /// observation links), splitting one customer into two, exactly as a full rebuild sees it.
    func testReplacedObservationSplitsACustomerIncrementally() throws {
        let header = "订单编号,买家会员名,买家实际支付金额,订单状态,联系手机,订单付款时间 ,退款金额\n"
        try """
            [pipeline]
            warehouse = "w.sqlite"
            output = "reports"
            [[source]]
            kind = "tmall"
            files = ["t/*.csv"]
            """.write(to: work.appendingPathComponent("p.toml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("t"), withIntermediateDirectories: true)
        try (header + "1,ann,10.00,交易成功,'13900000001,2025-01-05 10:00:00,0\n2,bob,20.00,交易成功,'13900000001,2025-02-05 10:00:00,0\n")
            .write(to: work.appendingPathComponent("t/ExportOrderList202502281200.csv"), atomically: true, encoding: .utf8)
        func summary(_ args: [String]) throws -> [[String]] {
            let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "p.toml"] + args, cwd: work)
            XCTAssertEqual(r.status, 0, r.stderr)
            let out = args.contains("--output") ? args[args.firstIndex(of: "--output")! + 1] : "reports"
            return TestSupport.csvRows(try TestSupport.read(work.appendingPathComponent("\(out)/customer_summary.csv"))).dropFirst().map { $0 }
        }
        // Night 1: ann and bob share a phone: one customer with two purchase days.
        let night1 = try summary([])
        XCTAssertEqual(night1.count, 1)
        XCTAssertEqual(night1[0][3], "1")
        // Night 2: bob's order re-exported with another phone.
        try (header + "2,bob,20.00,交易成功,'13900000002,2025-02-05 10:00:00,0\n")
            .write(to: work.appendingPathComponent("t/ExportOrderList202503311200.csv"), atomically: true, encoding: .utf8)
        let night2 = try summary([])
        XCTAssertEqual(night2.count, 2)
        XCTAssertEqual(night2.map { $0[3] }, ["0", "0"])
        let full = try summary(["--full", "--warehouse", "full.sqlite", "--output", "full"])
        XCTAssertEqual(night2, full)
    }

    func testKilledRunsLeaveTheWarehouseConsistent() throws {
        for (dir, names) in try sampleFiles() { for n in names { try deliver(dir, n) } }
        // Reference: one uninterrupted run in a separate warehouse.
        _ = try run(["--warehouse", "build/ref.sqlite", "--output", "build/ref"])
        let reference = try outputs(work.appendingPathComponent("build/ref"))

        var rng = SystemRandomNumberGenerator()
        for _ in 0..<8 {
            let p = Process()
            p.executableURL = TestSupport.binary
            p.arguments = ["run", "--quiet", "--pipeline", "pipelines/sample.toml"]
            p.currentDirectoryURL = work
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            usleep(UInt32.random(in: 20_000...900_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        _ = try run([])
        let after = try outputs(work.appendingPathComponent("build/sample/reports"))
        XCTAssertEqual(after.count, reference.count)
        for (name, data) in reference { XCTAssertEqual(after[name], data, "\(name) differs after killed runs") }
        // And no leftover temporary files.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("build/sample/reports").path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }
}
