import Foundation
import XCTest

/// Random corruptions of the sample exports (truncation, byte flips, shuffled columns, injected
/// quotes) never crash siyu and never break the row accounting. Seeded: a failure names its seed.
final class FuzzTests: XCTestCase {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let sources: [(dir: String, file: String)] = [
        ("tmall", "ExportOrderList202503011200.csv"), ("jd", "jd_orders_20250201.csv"),
        ("youzan", "youzan_orders_2025Q1.csv"), ("followers", "followers_20250630.csv"), ("spend", "other_spend.csv"),
    ]

    static func corrupt(_ data: [UInt8], _ rng: inout SplitMix) -> (bytes: [UInt8], what: String) {
        var b = data
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            let cut = Int.random(in: 0..<max(1, b.count), using: &rng)
            return (Array(b[..<cut]), "truncated at \(cut)")
        case 1:
            let n = Int.random(in: 1...20, using: &rng)
            for _ in 0..<n { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            return (b, "\(n) bytes flipped")
        case 2:
            // The same permutation of comma-separated cells on every line (quoted commas split too).
            var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0.split(separator: 0x2C, omittingEmptySubsequences: false)) }
            let width = lines.first?.count ?? 1
            let perm = Array(0..<width).shuffled(using: &rng)
            lines = lines.map { cells in cells.count == width ? perm.map { cells[$0] } : cells }
            return (Array(lines.map { Array($0.joined(separator: [0x2C])) }.joined(separator: [0x0A])), "columns shuffled")
        case 3:
            let n = Int.random(in: 1...5, using: &rng)
            for _ in 0..<n { b.insert(0x22, at: Int.random(in: 0..<b.count, using: &rng)) }
            return (b, "\(n) quotes injected")
        default:
            let n = Int.random(in: 1...5, using: &rng)
            for _ in 0..<n {
                let at = Int.random(in: 0..<b.count, using: &rng)
                b.insert(contentsOf: [0x0D, 0x0A, 0x2C, 0x2C], at: at)
            }
            return (b, "\(n) line breaks injected")
        }
    }

    func testCorruptedExportsNeverCrashOrLoseRows() throws {
        let root = TestSupport.packageRoot
        let pipeline = try String(contentsOf: root.appendingPathComponent("pipelines/sample.toml"), encoding: .utf8)
        var runsWithFindings = 0
        for seed in UInt64(1)...UInt64(24) {
            var rng = SplitMix(state: seed)
            let work = try TestSupport.tempDir("fuzz")
            defer { try? FileManager.default.removeItem(at: work) }
            try pipeline.write(to: work.appendingPathComponent("p.toml"), atomically: true, encoding: .utf8)
            var notes: [String] = []
            for (dir, file) in Self.sources {
                let src = try [UInt8](Data(contentsOf: root.appendingPathComponent("sample-data/\(dir)/\(file)")))
                let dest = work.appendingPathComponent("sample-data/\(dir)")
                try FileManager.default.createDirectory(at: dest, withIntermediateDirectories: true)
                var bytes = src
                if Bool.random(using: &rng) {
                    let c = Self.corrupt(src, &rng)
                    bytes = c.bytes
                    notes.append("\(file): \(c.what)")
                }
                try Data(bytes).write(to: dest.appendingPathComponent(file))
            }
            let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "p.toml"], cwd: work)
            let context = "seed \(seed): \(notes.joined(separator: "; "))\n\(r.stderr.suffix(600))"
            XCTAssertTrue(r.status == 0 || r.status == 2, "exit \(r.status) — \(context)")
            if r.status == 2 { runsWithFindings += 1 }
            XCTAssertFalse(r.stderr.contains("internal error") || r.stderr.contains("Fatal error"), context)
            let dqURL = work.appendingPathComponent("build/sample/reports/data_quality.csv")
            guard let text = try? TestSupport.read(dqURL) else { XCTFail("no data_quality.csv — \(context)"); continue }
            let rows = TestSupport.csvRows(text).dropFirst().filter { !$0[3].isEmpty }
            XCTAssertEqual(rows.count, Self.sources.count, context)
            for f in rows { XCTAssertEqual(Int(f[3])!, Int(f[4])! + Int(f[5])!, "\(f[0]) — \(context)") }
        }
        // The corruptions bite: most runs quarantine rows or reject files.
        XCTAssertGreaterThan(runsWithFindings, 12)
    }
}
