import Foundation
import Logging
import XCTest
@testable import SiyuCore

/// The Spark engine's Swift side, without Spark (docs/spark.md): the wire values, the executor's
/// rows against an embedded ingest + clean, the join on external links, the guards on a
/// Spark-built warehouse and the settings. `make spark-test` runs the real job.
final class SparkEngineTests: XCTestCase {
    var work: URL!
    var logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .error
        return l
    }()

    override func setUpWithError() throws { work = try TestSupport.fixture("tiny") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    func pipeline(_ edit: (String) -> String = { $0 }) throws -> Pipeline {
        let text = edit(try TestSupport.read(work.appendingPathComponent("tiny.toml")))
        return try Pipeline.parse(text, path: "tiny.toml")
    }

    func inWork<T>(_ body: () throws -> T) throws -> T {
        let before = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(work.path)
        defer { FileManager.default.changeCurrentDirectoryPath(before) }
        return try body()
    }

    // MARK: wire format

    func testTypedValuesAreWrittenByHandAndReadBack() {
        XCTAssertEqual(SparkRows.encode(.null), "\\N")
        XCTAssertEqual(SparkRows.encode(.int(-42)), "i-42")
        XCTAssertEqual(SparkRows.encode(.text("")), "t")
        XCTAssertEqual(SparkRows.encode(.text("a\tb\nc\\d\re")), "ta\\tb\\nc\\\\d\\re")
        // A text that spells NULL is not NULL.
        XCTAssertEqual(SparkRows.encode(.text("\\N")), "t\\\\N")
        for v: SQLValue in [.null, .int(0), .int(Int.max), .int(Int.min), .text(""), .text("\\N"), .text("天猫\t旗舰\n店\\"), .text("0012")] {
            let back = SparkRows.decode(SparkRows.encode(v)[...])
            XCTAssertEqual(back.map { "\($0)" }, "\(v)")
        }
        XCTAssertNil(SparkRows.decode("x1"))
        XCTAssertNil(SparkRows.decode("i1.5"))
        XCTAssertNil(SparkRows.decode(""))
    }

    /// The loader reads the bytes the executor wrote: integers (Int.min and Int.max too, never a
    /// wrapped overflow) and escaped texts.
    func testTheLoaderReadsWhatTheExecutorWrote() {
        func int(_ s: String) -> Int? { Array(s.utf8).withUnsafeBufferPointer { SparkLoad.integer($0[...]) } }
        XCTAssertEqual(int("0"), 0)
        XCTAssertEqual(int("-17"), -17)
        XCTAssertEqual(int(String(Int.max)), Int.max)
        XCTAssertEqual(int(String(Int.min)), Int.min)
        XCTAssertNil(int("9223372036854775808"))
        XCTAssertNil(int(""))
        XCTAssertNil(int("-"))
        XCTAssertNil(int("1e3"))
        for text in ["plain", "", "a\\tb", "tab\there", "line\nfeed\r", "\\\\", "天猫\\旗舰店\t", "end\\"] {
            var out: [UInt8] = []
            Array(SparkPlan.escape(text).utf8).withUnsafeBufferPointer { SparkPlan.unescape(bytes: $0, into: &out) }
            XCTAssertEqual(String(decoding: out, as: UTF8.self), text)
        }
    }

    func testALiteralGlobMatchesOnlyItsFile() throws {
        let names = ["x[1].csv", "x1.csv", "a*b.csv", "ab.csv", "q?.csv", "qq.csv", "back\\slash.csv"]
        for n in names { FileManager.default.createFile(atPath: work.appendingPathComponent(n).path, contents: Data()) }
        for n in names {
            let path = work.appendingPathComponent(n).path
            XCTAssertEqual(Pipeline.matches(SparkExecutor.literalGlob(path)), [path], n)
        }
        XCTAssertEqual(SparkExecutor.parseTask("7\t2\tsample-data/a\\tb.csv"), SparkExecutor.Task(task: 7, sourceIndex: 2, path: "sample-data/a\tb.csv"))
        XCTAssertNil(SparkExecutor.parseTask("7\tx\tpath"))
    }

    // MARK: the executor (siyu _clean-file) against the embedded engine

    /// Every file of the tiny fixture through `SparkExecutor.run`, one at a time; the rows must be
    /// those an embedded ingest + clean of all files keeps (follows, spend, quarantine, files: all
    /// of them; orders: the embedded row of each order is the executor's row of the same file).
    func testExecutorRowsAreTheEmbeddedIngestAndCleanRows() throws {
        let p = try pipeline()
        let now = Date()
        let (plan, lines) = try inWork { () -> (SparkPlan, [String]) in
            let plan = try SparkPlan.make(p, now: now, logger: logger)
            var lines: [String] = []
            for f in plan.files where f.copyOf == nil {
                SparkExecutor.run(SparkExecutor.Task(task: f.ingestOrder, sourceIndex: f.sourceIndex, path: f.path), pipeline: p, now: now,
                                  scratch: work.appendingPathComponent("scratch").path, logger: logger) { lines.append($0) }
            }
            return (plan, lines)
        }
        XCTAssertFalse(lines.contains { $0.hasPrefix("E\t") }, lines.filter { $0.hasPrefix("E\t") }.joined(separator: "\n"))
        // The embedded engine on the same files.
        let r = try TestSupport.siyu(["clean", "--quiet", "--pipeline", "tiny.toml", "--warehouse", "e.sqlite"], cwd: work)
        XCTAssertEqual(r.status, 1, "clean needs ingest first")
        for stage in ["ingest", "clean"] {
            let s = try TestSupport.siyu([stage, "--quiet", "--pipeline", "tiny.toml", "--warehouse", "e.sqlite"], cwd: work)
            XCTAssertTrue(s.status == 0 || s.status == 2, s.stderr)
        }
        let db = try Database(path: work.appendingPathComponent("e.sqlite").path, readOnly: true)

        var columns: [String: [String]] = [:]
        var rows: [String: [[String]]] = [:]   // table → rows with file_id as the file's path
        let path = Dictionary(uniqueKeysWithValues: plan.files.map { (String($0.ingestOrder), $0.path) })
        for line in lines {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if f[0] == "H" { columns[f[1]] = Array(f.dropFirst(2)) }
            guard f[0] == "D", let cols = columns[f[2]] else { continue }
            var values = f.dropFirst(4).map { v -> String in
                switch SparkRows.decode(v[...]) { case .int(let i)?: return String(i); case .text(let s)?: return s; default: return "NULL" }
            }
            if let k = cols.firstIndex(of: "file_id") { values[k] = path[f[1]]! }
            rows[f[2], default: []].append(values)
        }
        XCTAssertEqual(Set(columns.keys), Set(SparkRows.tables))
        func embedded(_ table: String, _ cols: [String]) throws -> [[String]] {
            let list = cols.map { $0 == "file_id" ? "(SELECT path FROM raw_files f WHERE f.file_id = t.file_id)" : "COALESCE(CAST(\($0) AS TEXT), 'NULL')" }
            return try db.prepare("SELECT \(list.joined(separator: ", ")) FROM \(table) t").rows { st in (0..<Int32(cols.count)).map { st.text($0) } }
        }
        func sorted(_ r: [[String]]) -> [[String]] { r.sorted { $0.joined(separator: "\u{1}") < $1.joined(separator: "\u{1}") } }
        for table in ["stg_follow_records", "stg_spend", "raw_quarantine"] {
            let cols = columns[table]!
            XCTAssertEqual(sorted(rows[table] ?? []), sorted(try embedded(table, cols)), table)
        }
        XCTAssertEqual(try embedded("raw_quarantine", ["file_id"]).count, 2, "tiny has two quarantined rows")
        // raw_files: what a file is (not when it was read)
        let fileCols = ["source", "kind", "path", "name", "sha256", "size", "format", "encoding", "header", "export_key", "status", "error",
                        "rows_read", "rows_landed", "rows_quarantined", "first_day", "last_day", "sheet", "clean_path"]
        let idx = fileCols.map { columns["raw_files"]!.firstIndex(of: $0)! }
        XCTAssertEqual(sorted(rows["raw_files"]!.map { r in idx.map { r[$0] } }), sorted(try embedded("raw_files", fileCols)))
        // orders: each embedded row is its file's executor row, value for value
        let oc = columns["stg_orders"]!
        let mine = Set(rows["stg_orders"]!.map { $0.joined(separator: "\u{1}") })
        let theirs = try embedded("stg_orders", oc)
        XCTAssertGreaterThan(theirs.count, 10)
        for row in theirs { XCTAssertTrue(mine.contains(row.joined(separator: "\u{1}")), row.prefix(2).joined(separator: " ")) }
        // items likewise
        let ic = columns["stg_items"]!
        let myItems = Set((rows["stg_items"] ?? []).map { $0.joined(separator: "\u{1}") })
        for row in try embedded("stg_items", ic) { XCTAssertTrue(myItems.contains(row.joined(separator: "\u{1}"))) }
        // the reports: ingest's rows read and quarantined add up as one ingest counts them
        let reports = lines.filter { $0.hasPrefix("R\t") }.map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(reports.count, 2 * plan.files.filter { $0.copyOf == nil }.count)
        let ingestRead = reports.filter { $0[2] == "ingest" }.reduce(0) { $0 + Int($1[3])! }
        XCTAssertEqual(ingestRead, try db.scalarInt("SELECT sum(rows_read) FROM raw_files"))
    }

    /// A file siyu cannot read is a `J` line (rejected, counted), a file it stops on an `E` line.
    func testRejectedAndStoppedFilesAreReported() throws {
        try TestSupport.write(work, "tmall/not-an-export.csv", "hello\nworld\n")
        let now = Date()
        func lines(_ p: Pipeline) throws -> [String] {
            try inWork {
                let plan = try SparkPlan.make(p, now: now, logger: logger)
                let f = plan.files.first { $0.name == "not-an-export.csv" }!
                var out: [String] = []
                SparkExecutor.run(SparkExecutor.Task(task: f.ingestOrder, sourceIndex: f.sourceIndex, path: f.path), pipeline: p, now: now,
                                  scratch: work.appendingPathComponent("scratch").path, logger: logger) { out.append($0) }
                return out
            }
        }
        let cont = try lines(try pipeline())
        XCTAssertEqual(cont.filter { $0.hasPrefix("J\t") }.count, 1)
        XCTAssertTrue(cont.contains { $0.hasPrefix("D\t") && $0.contains("\traw_files\t") && $0.contains("\ttrejected\t") })
        let stop = try lines(try pipeline { $0.replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\non_bad_file = \"stop\"\n") })
        let e = stop.filter { $0.hasPrefix("E\t") }
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e[0].contains("not-an-export.csv") && e[0].contains("on_bad_file"), e[0])
        XCTAssertFalse(stop.contains { $0.hasPrefix("D\t") })
        let scratch = work.appendingPathComponent("scratch").path
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? [], [], "scratch warehouses are removed")
    }

    // MARK: the join on the job's links

    /// The join with `spark_links` (the components computed elsewhere) makes the same customers as
    /// its own union-find: links taken from an embedded run's int_nodes give byte-identical
    /// outputs; a link naming a node the rows do not have stops the join.
    func testJoinOnExternalLinksMakesTheSameCustomers() throws {
        for stage in ["run"] {
            let s = try TestSupport.siyu([stage, "--quiet", "--pipeline", "tiny.toml", "--warehouse", "a.sqlite", "--output", "out-a"], cwd: work)
            XCTAssertEqual(s.status, 2, s.stderr)
        }
        for stage in ["ingest", "clean"] {
            let s = try TestSupport.siyu([stage, "--quiet", "--pipeline", "tiny.toml", "--warehouse", "b.sqlite"], cwd: work)
            XCTAssertTrue(s.status == 0 || s.status == 2, s.stderr)
        }
        let a = try Database(path: work.appendingPathComponent("a.sqlite").path, readOnly: true)
        let nodes = try a.prepare("SELECT node, grp FROM int_nodes n").rows { ($0.text(0), $0.int(1)) }
        let groups = Dictionary(try a.prepare("SELECT grp, component FROM int_groups").rows { ($0.int(0), $0.int(1)) }, uniquingKeysWith: { x, _ in x })
        var byComponent: [Int: [String]] = [:]
        for (n, g) in nodes { byComponent[groups[g] ?? g, default: []].append(n) }
        // roots: the largest node of each component (the job's root is its smallest: any member works)
        var links: [(String, String)] = []
        for members in byComponent.values where members.count > 1 {
            let root = members.max()!
            for m in members where m != root { links.append((m, root)) }
        }
        XCTAssertGreaterThan(links.count, 5)
        let b = try Database(path: work.appendingPathComponent("b.sqlite").path)
        try b.execute("CREATE TABLE spark_links(node TEXT NOT NULL, root TEXT NOT NULL)")
        for (n, r) in links { try b.prepare("INSERT INTO spark_links VALUES(?,?)").run([.text(SparkPlan.escape(n)), .text(SparkPlan.escape(r))]) }
        let s = try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml", "--warehouse", "b.sqlite", "--output", "out-b"], cwd: work)
        XCTAssertEqual(s.status, 0, s.stderr)   // quarantined rows were reported by the first clean
        for f in try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("out-a").path) where f.hasSuffix(".csv") {
            XCTAssertEqual(try Data(contentsOf: work.appendingPathComponent("out-b/\(f)")), try Data(contentsOf: work.appendingPathComponent("out-a/\(f)")), f)
        }
        XCTAssertEqual(try b.scalarInt("SELECT count(*) FROM int_customers"), try a.scalarInt("SELECT count(*) FROM int_customers"))

        try b.execute("INSERT INTO spark_links VALUES('acct:tmall:nobody-has-this', 'phone:13800000000'); UPDATE siyu_meta SET value='1' WHERE key='join_full'")
        let bad = try TestSupport.siyu(["join", "--quiet", "--pipeline", "tiny.toml", "--warehouse", "b.sqlite"], cwd: work)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("engines disagree") && bad.stderr.contains("acct node"), bad.stderr)
        XCTAssertFalse(bad.stderr.contains("nobody-has-this"), "no identity in the message")
    }

    // MARK: operations without Spark

    /// A warehouse a Spark run built: an embedded `siyu run` rebuilds it in full, `siyu ingest`
    /// alone is refused with that advice, join/aggregate/report run.
    func testASparkBuiltWarehouseIsRebuiltNotAddedTo() throws {
        let s = try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml", "--warehouse", "w.sqlite", "--output", "out"], cwd: work)
        XCTAssertEqual(s.status, 2, s.stderr)
        let db = try Database(path: work.appendingPathComponent("w.sqlite").path)
        try db.execute("INSERT OR REPLACE INTO siyu_meta VALUES('engine', 'spark')")
        let status = try TestSupport.siyu(["status", "--pipeline", "tiny.toml", "--warehouse", "w.sqlite"], cwd: work)
        XCTAssertTrue(status.stdout.contains("engine: spark"), status.stdout)
        let ingest = try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "tiny.toml", "--warehouse", "w.sqlite"], cwd: work)
        XCTAssertEqual(ingest.status, 1)
        XCTAssertTrue(ingest.stderr.contains("built by the Spark engine") && ingest.stderr.contains("siyu run"), ingest.stderr)
        let report = try TestSupport.siyu(["aggregate", "--quiet", "--pipeline", "tiny.toml", "--warehouse", "w.sqlite"], cwd: work)
        XCTAssertEqual(report.status, 0, report.stderr)
        let run = try TestSupport.siyu(["run", "--pipeline", "tiny.toml", "--warehouse", "w.sqlite", "--output", "out"], cwd: work)
        XCTAssertEqual(run.status, 2, "a rebuild ingests the quarantined rows again: " + run.stderr)
        XCTAssertTrue(run.stderr.contains("rebuilds it in full"), run.stderr)
        let after = try Database(path: work.appendingPathComponent("w.sqlite").path, readOnly: true)
        XCTAssertNil(try after.scalarText("SELECT value FROM siyu_meta WHERE key='engine'"))
    }

    /// spark-submit that cannot be started: exit 1 with what to install, nothing changed.
    func testAMissingSparkSaysWhatToInstallAndChangesNothing() throws {
        let s = try TestSupport.siyu(["run", "--quiet", "--pipeline", "tiny.toml", "--warehouse", "w.sqlite", "--output", "out"], cwd: work)
        XCTAssertEqual(s.status, 2, s.stderr)
        let before = try Data(contentsOf: work.appendingPathComponent("out/customer_summary.csv"))
        // the pipeline chooses the engine: [pipeline] engine = "spark"
        let text = try TestSupport.read(work.appendingPathComponent("tiny.toml")).replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\nengine = \"spark\"\n")
            + "\n[spark]\nsubmit = \"/nonexistent/spark-submit\"\n"
        try TestSupport.write(work, "spark.toml", text)
        let r = try TestSupport.siyu(["run", "--quiet", "--pipeline", "spark.toml", "--warehouse", "w.sqlite", "--output", "out"], cwd: work)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("make spark-deps"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: work.appendingPathComponent("out/customer_summary.csv")), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("w.sqlite.rebuild").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("w.sqlite.rebuild.spark").path))
        let db = try Database(path: work.appendingPathComponent("w.sqlite").path, readOnly: true)
        XCTAssertEqual(try db.scalarInt("SELECT exit_code FROM siyu_runs ORDER BY started_at DESC, rowid DESC LIMIT 1"), 1)
        // one stage by hand runs on the embedded engine, whatever the pipeline's engine
        let one = try TestSupport.siyu(["ingest", "--quiet", "--pipeline", "spark.toml", "--warehouse", "x.sqlite"], cwd: work)
        XCTAssertTrue(one.status == 0 || one.status == 2, one.stderr)
        XCTAssertGreaterThan(try Database(path: work.appendingPathComponent("x.sqlite").path, readOnly: true).scalarInt("SELECT count(*) FROM raw_files"), 3)
        // --engine embedded overrides the pipeline
        let emb = try TestSupport.siyu(["run", "--quiet", "--engine", "embedded", "--pipeline", "spark.toml", "--warehouse", "x.sqlite", "--output", "out-x"], cwd: work)
        XCTAssertTrue(emb.status == 0 || emb.status == 2, emb.stderr)
        let engine = try TestSupport.siyu(["run", "--quiet", "--engine", "sparkle", "--pipeline", "tiny.toml"], cwd: work)
        XCTAssertEqual(engine.status, 64)
        XCTAssertTrue(engine.stderr.contains("--engine must be embedded or spark"), engine.stderr)
    }

    func testSparkSettings() throws {
        let p = try pipeline { $0.replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\nengine = \"spark\"\n") +
            "\n[spark]\nmaster = \"yarn\"\ndriver_memory = \"8g\"\npartitions = 64\n[spark.conf]\n\"spark.executor.memory\" = \"4g\"\n" }
        XCTAssertEqual(p.engine, .spark)
        XCTAssertEqual(p.spark.master, "yarn")
        XCTAssertEqual(p.spark.driverMemory, "8g")
        XCTAssertEqual(p.spark.partitions, 64)
        XCTAssertEqual(p.spark.conf, ["spark.executor.memory": "4g"])
        let d = try pipeline()
        XCTAssertEqual(d.engine, .embedded)
        XCTAssertEqual(d.spark, SparkSettings())
        XCTAssertEqual(d.spark.master, "local[2]")
        func error(_ extra: String) -> String {
            do { _ = try pipeline { $0 + extra }; return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(error("\n[spark]\nmastr = \"yarn\"\n").contains("did you mean `master`"))
        XCTAssertTrue(error("\n[spark]\nmaster = \"\"\n").contains("`master` is empty"))
        XCTAssertTrue(error("\n[spark]\npartitions = -1\n").contains("partitions"))
        XCTAssertTrue(try { () -> String in
            do { _ = try pipeline { $0.replacingOccurrences(of: "[pipeline]\n", with: "[pipeline]\nengine = \"hadoop\"\n") }; return "" } catch { return "\(error)" }
        }().contains("engine must be \"embedded\""))
    }
}
