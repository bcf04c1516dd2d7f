import Foundation
import XCTest
import ZIPFoundation

/// Helpers shared by the tests: the package root, the built binary, fresh work directories.
enum TestSupport {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The siyu binary built by `swift build` (make test builds it before `swift test`).
    static var binary: URL {
        for config in ["debug", "release"] {
            let u = packageRoot.appendingPathComponent(".build/\(config)/siyu")
            if FileManager.default.isExecutableFile(atPath: u.path) { return u }
        }
        return packageRoot.appendingPathComponent(".build/debug/siyu")
    }

    static func tempDir(_ name: String = "siyu-test") throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    /// Copies a fixture folder into a fresh work directory.
    static func fixture(_ name: String) throws -> URL {
        let dir = try tempDir(name)
        let src = packageRoot.appendingPathComponent("Tests/Fixtures/\(name)")
        for item in try FileManager.default.contentsOfDirectory(atPath: src.path) {
            try FileManager.default.copyItem(at: src.appendingPathComponent(item), to: dir.appendingPathComponent(item))
        }
        return dir
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs the real binary, like swift-argument-parser's AssertExecuteCommand.
    @discardableResult
    static func siyu(_ args: [String], cwd: URL) throws -> Result {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = cwd
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// Writes `text` (UTF-8) to `rel` under `dir`, making the folders on the way.
    static func write(_ dir: URL, _ rel: String, _ text: String) throws {
        let u = dir.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: u)
    }

    /// The text an output file holds: the file itself, or for report.xlsx the text of every cell
    /// (inline and shared strings, numbers), so that a test looking for leaked personal data reads
    /// the workbook too.
    static func outputText(_ url: URL) throws -> String {
        guard url.pathExtension == "xlsx" else { return try read(url) }
        let archive = try Archive(url: url, accessMode: .read)
        var cells: [String] = []
        for entry in archive where entry.path.hasPrefix("xl/worksheets/") || entry.path == "xl/sharedStrings.xml" {
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            let xml = String(decoding: data, as: UTF8.self)
            let r = try NSRegularExpression(pattern: "<(t|v)(?: [^>]*)?>([^<]*)</\\1>")
            for m in r.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)) {
                if let g = Range(m.range(at: 2), in: xml) { cells.append(String(xml[g])) }
            }
        }
        return cells.joined(separator: "\n")
    }

    /// Parses our own CSV output (RFC 4180) into rows of cells.
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], cell = "", quoted = false
        var it = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? it.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = it.next() { if n == "\"" { cell.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else { cell.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(cell); cell = "" }
            else if c == "\r\n" || c == "\n" { row.append(cell); rows.append(row); row = []; cell = "" }
            else { cell.append(c) }
        }
        if !cell.isEmpty || !row.isEmpty { row.append(cell); rows.append(row) }
        return rows
    }
}
