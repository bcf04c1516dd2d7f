import Foundation
import Logging

/// What a Spark rebuild needs to know before it starts, computed by siyu's own code so that the
/// driver never re-implements Swift's ordering (`siyu _plan`, docs/spark.md): the
/// files in ingest order (`IngestStage.walk`), which of them are re-delivered copies (same
/// sha256), each counting file's observation key and its rank in a full clean's order
/// (`CleanStage.FileRow.observation`, `isNewer`), and the run's day for the plausible-date checks.
public struct SparkPlan {
    public struct File {
        /// 1-based position in the walk: a rebuild's ingest order (file_id order of the files that land).
        public var ingestOrder: Int
        public var sourceIndex: Int
        public var source: String
        public var kind: String
        public var path: String
        public var name: String
        /// Why ingest would reject the file unopened (not a regular file, unreadable), or nil.
        public var problem: String?
        public var sha256: String?
        /// The ingest order of the file with the same bytes that lands first (this one is a
        /// re-delivery: raw_redeliveries, its rows never count), or nil.
        public var copyOf: Int?
        /// The export time in the name (`IngestStage.exportKey`), "" when none.
        public var exportKey: String
        /// Counting files only (not copies, not unreadable): the observation key of "newest
        /// observation wins" (the file's export key and the first of its paths in delivery order)
        /// and its rank in a full clean (1 = newest, written first: its orders win).
        public var obs: String?
        public var obsRank: Int?
    }

    public var now: Date
    /// The run's day in the business time zone (days since 1970-01-01, `CleanStage.runDay`).
    public var day: Int
    public var timeZone: TimeZone
    public var pipelinePath: String
    public var files: [File]

    public static let columns = ["ingest_order", "source_index", "source", "kind", "path", "name", "problem", "sha256",
                                 "copy_of", "export_key", "obs", "obs_rank"]

    /// The plan of a rebuild of `pipeline` at `now` (reads every matched file once for its sha256).
    public static func make(_ pipeline: Pipeline, now: Date = Date(), logger: Logger) throws -> SparkPlan {
        let work = IngestStage.walk(pipeline, logger: logger).work
        if work.isEmpty {
            throw SiyuError.config(file: pipeline.path, message: "no input file matches any glob of the pipeline (relative globs are read from \(FileManager.default.currentDirectoryPath)); check the paths")
        }
        let sourceIndex = Dictionary(pipeline.sources.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var files: [File] = []
        var firstWithDigest: [String: Int] = [:]
        for (k, (path, source)) in work.enumerated() {
            let name = (path as NSString).lastPathComponent
            var f = File(ingestOrder: k + 1, sourceIndex: sourceIndex[source.name] ?? 0, source: source.name, kind: source.kind.rawValue,
                         path: path, name: name, problem: InputFile.problem(path), sha256: nil, copyOf: nil,
                         exportKey: IngestStage.exportKey(fileName: name) ?? "", obs: nil, obsRank: nil)
            if f.problem == nil {
                let digest = try IngestStage.sha256(of: path).0
                f.sha256 = digest
                if let first = firstWithDigest[digest] { f.copyOf = first } else { firstWithDigest[digest] = k + 1 }
            }
            files.append(f)
        }
        // A counting file's observation: its own export key, the first of all its paths (its
        // copies') in delivery order, as `Warehouse.currentPaths` gives clean.
        var paths: [Int: [String]] = [:]
        for f in files where f.problem == nil { paths[f.copyOf ?? f.ingestOrder, default: []].append(f.path) }
        var counting: [Int] = []
        for i in files.indices where files[i].problem == nil && files[i].copyOf == nil {
            let first = Pipeline.inDeliveryOrder(paths[files[i].ingestOrder] ?? [files[i].path]).first ?? files[i].path
            files[i].obs = CleanStage.FileRow.observation(exportKey: files[i].exportKey, path: first)
            counting.append(i)
        }
        counting.sort { CleanStage.FileRow.isNewer(files[$0].obs!, than: files[$1].obs!) }
        for (rank, i) in counting.enumerated() { files[i].obsRank = rank + 1 }
        return SparkPlan(now: now, day: CleanStage.runDay(now: now, timeZone: pipeline.timeZone), timeZone: pipeline.timeZone,
                         pipelinePath: pipeline.path, files: files)
    }

    /// The plan as TSV: a first line `#siyu-plan` with `key=value` fields (version, now, day,
    /// time zone, pipeline), the column names, one line per file in ingest order. Values escaped
    /// by `escape` (backslash, tab, LF, CR); an absent value is empty.
    public func tsv() -> String {
        var out = ["#siyu-plan", "version=1", "now=\(Warehouse.timestamp(now))", "day=\(CivilDate.iso(day))",
                   "time_zone=\(Self.escape(timeZone.identifier))", "pipeline=\(Self.escape(pipelinePath))"].joined(separator: "\t") + "\n"
        out += Self.columns.joined(separator: "\t") + "\n"
        for f in files {
            let cells: [String?] = [String(f.ingestOrder), String(f.sourceIndex), f.source, f.kind, f.path, f.name, f.problem, f.sha256,
                                    f.copyOf.map(String.init), f.exportKey, f.obs, f.obsRank.map(String.init)]
            out += cells.map { Self.escape($0 ?? "") }.joined(separator: "\t") + "\n"
        }
        return out
    }

    /// `\` → `\\`, tab → `\t`, LF → `\n`, CR → `\r`: a value never holds a raw tab or line break.
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return s }
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            switch c {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default: out.append(c)
            }
        }
        return String(out)
    }

    /// The inverse of `escape` (a backslash before any other character stands for that character).
    public static func unescape(_ s: Substring) -> String {
        guard s.contains("\\") else { return String(s) }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)
        bytes.withUnsafeMutableBufferPointer { unescape(bytes: UnsafeBufferPointer($0), into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `unescape` on UTF-8 bytes into `out` (the escapes are ASCII, so bytes and text agree).
    public static func unescape(bytes text: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = 0
        while i < text.count {
            var c = text[i]
            if c == 0x5C, i + 1 < text.count {
                i += 1
                switch text[i] {
                case 0x74: c = 0x09
                case 0x6E: c = 0x0A
                case 0x72: c = 0x0D
                default: c = text[i]
                }
            }
            out.append(c)
            i += 1
        }
    }

    /// Reads `tsv()` back: the header's fields and the rows as column name → value ("" = absent).
    public static func parse(_ text: String) -> (header: [String: String], rows: [[String: String]]) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard lines.count >= 2 else { return ([:], []) }
        var header: [String: String] = [:]
        for field in lines[0].split(separator: "\t", omittingEmptySubsequences: false).dropFirst() {
            guard let eq = field.firstIndex(of: "=") else { continue }
            header[String(field[..<eq])] = unescape(field[field.index(after: eq)...])
        }
        let names = lines[1].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let rows = lines.dropFirst(2).map { line in
            Dictionary(zip(names, line.split(separator: "\t", omittingEmptySubsequences: false).map(unescape)), uniquingKeysWith: { a, _ in a })
        }
        return (header, rows)
    }
}
