import Foundation

/// The line format between siyu and the Spark job (docs/spark.md, "Wire format"): what an
/// executor's `siyu _clean-file` prints for one export file, and what the client loads back
/// after the job has picked the rows that count. Fields are tab-separated; a text is escaped
/// with `SparkPlan.escape` (no raw tab or line break in a field); a typed value is `\N` (NULL),
/// `i<integer>` or `t<escaped text>`, so that a value comes back with its SQLite type.
///
/// Executor lines (first field):
/// - `H  table  column…`: the columns of a table's `D` lines (every task prints them);
/// - `D  task  table  n  value…`: row `n` (1, 2, … in the one-file warehouse's rowid order) of `table`;
/// - `R  task  stage  rows_in  rows_out  quarantined  files_ingested  files_skipped`: a stage's report;
/// - `J  task  message`: the file was rejected (the message of `StageReport.rejected`);
/// - `E  task  message`: siyu stopped on the file (`on_bad_file = "stop"`, a system error).
public enum SparkRows {
    /// The tables an executor dumps, in the order the client loads them.
    public static let tables = ["raw_files", "raw_quarantine", "stg_orders", "stg_items", "stg_follow_records", "stg_spend"]

    /// One typed value of a `D` line.
    public static func encode(_ v: SQLValue) -> String {
        switch v {
        case .null: return "\\N"
        case let .int(i): return "i\(i)"
        case let .text(s): return "t" + SparkPlan.escape(s)
        }
    }

    /// The inverse of `encode`; nil for a field that is no typed value.
    public static func decode(_ f: Substring) -> SQLValue? {
        guard let tag = f.first else { return nil }
        switch tag {
        case "\\": return f == "\\N" ? .null : nil
        case "i": return Int(f.dropFirst()).map { .int($0) }
        case "t": return .text(SparkPlan.unescape(f.dropFirst()))
        default: return nil
        }
    }

    /// The column's value at the statement's current row as a typed value (REAL and BLOB values
    /// do not occur in the dumped tables: refused rather than changed).
    static func value(_ st: Statement, _ col: Int32) throws -> SQLValue {
        switch st.columnType(col) {
        case .null: return .null
        case .integer: return .int(st.int(col))
        case .text: return .text(st.text(col))
        case .other: throw SiyuError.config(file: "spark", message: "column \(st.columnName(col)) holds a value that is neither integer nor text; the Spark engine cannot carry it")
        }
    }
}
