import Foundation
import XCTest
@testable import SiyuCore

/// Runs the built binary on sample-data/ (pipelines/sample.toml) and checks the invariants of
/// METRICS.md that hold for any data.
final class SampleDataTests: XCTestCase {
    func table(_ dir: URL, _ name: String) throws -> [[String]] {
        TestSupport.csvRows(try TestSupport.read(dir.appendingPathComponent("\(name).csv")))
    }

    func testInvariantsOnSampleData() throws {
        let work = try TestSupport.tempDir("sample")
        defer { try? FileManager.default.removeItem(at: work) }
        let out = work.appendingPathComponent("reports")
        let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "pipelines/sample.toml",
                                      "--warehouse", work.appendingPathComponent("w.sqlite").path, "--output", out.path],
                                     cwd: TestSupport.packageRoot)
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)

        // rows_read = rows_landed + rows_quarantined for every file.
        let dq = try table(out, "data_quality")
        XCTAssertGreaterThan(dq.count, 10)
        for f in dq.dropFirst() where !f[3].isEmpty {
            XCTAssertEqual(Int(f[3])!, Int(f[4])! + Int(f[5])!, f[0])
        }

        // Offset 0 retention is 1 for every non-empty cohort; `all` = sum over platforms.
        let cohort = try table(out, "cohort_repurchase")
        var sums: [String: [Int]] = [:]
        var alls: [String: [Int]] = [:]
        for row in cohort.dropFirst() {
            if row[2] == "0" && row[3] != "0" { XCTAssertEqual(row[5], "1.0000", "\(row)") }
            let key = row[0] + "/" + row[2]
            let values = [Int(row[3])!, Int(row[4])!, Int(row[6])!, fen(row[8])]
            if row[1] == "all" { alls[key] = values } else { sums[key] = zip(sums[key] ?? [0, 0, 0, 0], values).map { $0 + $1 } }
        }
        XCTAssertFalse(alls.isEmpty)
        for (k, v) in alls { XCTAssertEqual(v, sums[k] ?? [0, 0, 0, 0], "cohort \(k): all vs sum over platforms") }

        // repurchase_by_period: net revenue of `all` = sum over platforms.
        var byPeriod: [String: (all: Int, sum: Int)] = [:]
        for row in try table(out, "repurchase_by_period").dropFirst() {
            var v = byPeriod[row[0]] ?? (0, 0)
            if row[1] == "all" { v.all = fen(row[8]) } else { v.sum += fen(row[8]) }
            byPeriod[row[0]] = v
        }
        for (p, v) in byPeriod { XCTAssertEqual(v.all, v.sum, "period \(p)") }

        // platform_migration: acquired `all` = sum over platforms; channel_cpa: blended = sum over channels.
        let mig = try table(out, "platform_migration").dropFirst().filter { $0[1] == "any" }
        XCTAssertEqual(Int(mig.first { $0[0] == "all" }![2])!, mig.filter { $0[0] != "all" }.reduce(0) { $0 + Int($1[2])! })
        var cpa: [String: (blended: [Int], sum: [Int])] = [:]
        for row in try table(out, "channel_cpa").dropFirst() {
            let v = [fen(row[2]), Int(row[3])!, fen(row[5]), fen(row[6])]
            var c = cpa[row[0]] ?? ([0, 0, 0, 0], [0, 0, 0, 0])
            if row[1] == "blended" { c.blended = v } else { c.sum = zip(c.sum, v).map { $0 + $1 } }
            cpa[row[0]] = c
        }
        for (p, c) in cpa { XCTAssertEqual(c.blended, c.sum, "channel_cpa \(p)") }

        // customer_summary has one row per customer; the cohort table counts the same customers.
        let customers = try table(out, "customer_summary").count - 1
        XCTAssertEqual(customers, alls.filter { $0.key.hasSuffix("/0") }.values.reduce(0) { $0 + $1[0] })

        // No phone number from the inputs appears in any output file.
        let phones = try inputPhones()
        XCTAssertGreaterThan(phones.count, 100)
        for name in try FileManager.default.contentsOfDirectory(atPath: out.path) {
            let text = try TestSupport.outputText(out.appendingPathComponent(name))
            let found = Self.elevenDigitRuns(Array(text.utf8)).intersection(phones)
            XCTAssertTrue(found.isEmpty, "\(name) contains input phone numbers: \(found.prefix(3))")
        }
    }

    func fen(_ s: String) -> Int {
        let parts = s.split(separator: ".")
        return (Int(parts[0]) ?? 0) * 100 + (parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
    }

    /// Every mobile-like run of 11 digits in the sample files (CSV bytes: digits are ASCII in GBK
    /// too; a workbook's cells, whose zip may be compressed).
    func inputPhones() throws -> Set<String> {
        var out = Set<String>()
        let root = TestSupport.packageRoot.appendingPathComponent("sample-data")
        let e = FileManager.default.enumerator(atPath: root.path)!
        while let rel = e.nextObject() as? String {
            let path = root.appendingPathComponent(rel).path
            var bytes: [UInt8]
            if rel.hasSuffix(".csv") {
                bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            } else if rel.hasSuffix(".xlsx") {
                bytes = []
                let book = try XLSXReader(path: path)
                for k in book.sheetNames.indices {
                    try book.forEachRow(sheet: k) { _, cells in bytes.append(contentsOf: cells.joined); bytes.append(0x0A); return true }
                }
            } else { continue }
            out.formUnion(Self.elevenDigitRuns(bytes).filter { $0.hasPrefix("1") && $0.dropFirst().first.map { "3456789".contains($0) } == true })
        }
        return out
    }

    static func elevenDigitRuns(_ bytes: [UInt8]) -> Set<String> {
        var out = Set<String>()
        var run: [UInt8] = []
        for b in bytes + [0] {
            if b >= 0x30 && b <= 0x39 { run.append(b); continue }
            if run.count == 11 { out.insert(String(decoding: run, as: UTF8.self)) }
            if run.count == 13 && run.starts(with: [0x38, 0x36]) { out.insert(String(decoding: run.dropFirst(2), as: UTF8.self)) }
            run = []
        }
        return out
    }
}
