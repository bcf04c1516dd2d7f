import Foundation
import Logging

/// Stage 3: customers across platforms and fans (transitive links of METRICS.md), salted opaque
/// customer_key, first purchase, acquisition platform and channel; fans with their first follow.
///
/// The rooms of the join (all in `Stages/Join/`):
/// - here: full or incremental, the bulk-load settings, the stage's bookkeeping;
/// - `JoinStage+Incremental`: which components a nightly run re-links (seeds, groups, j_* tables);
/// - `JoinStage+Link`: the link, phase by phase, and where each big array is freed;
/// - `LinkRows` and `NodesAndLinks`: the rows read and the graph their nodes and links build;
/// - `IdentityGraph`: interned nodes and union-find; `Components`: what the union found;
/// - `GroupMoves`, `ComponentWriter` (+`Customers`): what is written; `DetailsFetch`: the
///   second read connection's thread; `CustomerKeys`, `IntColumn`, `Unchecked`, `JoinStage+Memory`.
public struct JoinStage {
    let wh: Warehouse
    public init(_ wh: Warehouse) { self.wh = wh }

    /// What join's output depends on besides stg_*: when it changes, join runs in full.
    var fingerprint: String {
        let p = wh.pipeline
        var parts = ["join-v1", p.salt, p.fanDefaultChannel]
        for s in p.sources { parts.append("\(s.name)|\(s.platform)|\(s.defaultChannel)") }
        for r in p.rules { parts.append(r.fingerprint) }
        return SHA256.hexDigest(parts.joined(separator: "\n"))
    }

    /// Incremental: only the components (customers) that new or replaced rows touch are rebuilt:
    /// their nodes, orders and follows are gathered through int_nodes and their groups, re-linked, and
    /// their int_* rows replaced. A first run, a full clean, or a changed salt or rule set rebuilds all.
    public func run(runID: String) throws -> StageReport {
        let started = Date()
        var report = StageReport(stage: "join")
        try wh.requireUpstream("join", upstream: "clean")
        let db = wh.db
        let phase = PhaseLog(wh.logger)
        // A rebuild's first join (always full) writes without the WAL; the thread that reads
        // customers' and fans' details beside the writer opens the file immutable, which is safe
        // because nothing it reads (stg_*) changes and the schema changes are committed before.
        let noWAL = try wh.scratch && wh.meta("join_seq") == nil
        if noWAL { try db.transaction { try dropForFullJoin() } }
        // Sorts (follows in file order, the secondary indexes of a full rebuild) spill to temp files.
        try wh.bulk(when: noWAL) { try db.withTempFiles { try db.transaction {
            try join(runID: runID, started: started, noWAL: noWAL, report: &report, phase: phase)
        } } }
        phase("commit")
        Self.releaseFreedMemory()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// The join inside its transaction: full or incremental, the link, the bookkeeping.
    private func join(runID: String, started: Date, noWAL: Bool, report: inout StageReport, phase: PhaseLog) throws {
        let cleanSeq = Int(try wh.meta("clean_seq") ?? "0") ?? 0
        let lastSeq = try wh.meta("join_seq").flatMap { Int($0) }
        let joinFull = try wh.meta("join_full"), joinFingerprint = try wh.meta("join_fingerprint")
        let full = lastSeq == nil || joinFull == "1" || joinFingerprint != fingerprint
        var orderWhere = "1", followWhere = "1"
        var affected = 0   // components rebuilt by an incremental run
        if full {
            if !noWAL { try dropForFullJoin() }
        } else {
            try selectAffectedComponents(since: lastSeq!)
            orderWhere = "rowid IN (SELECT ref FROM j_orders)"
            followWhere = "rowid IN (SELECT ref FROM j_follows)"
            affected = try wh.db.scalarInt("SELECT count(*) FROM j_comp")
        }
        phase(full ? "full rebuild" : "affected components")

        let rebuilt = try link(orderWhere: orderWhere, followWhere: followWhere, keepGroups: !full, immutableReader: noWAL,
                               report: &report, phase: phase)
        if full { try wh.createSchema() }   // the secondary indexes dropped for the bulk load
        phase("indexes")
        try wh.db.execute("DELETE FROM stg_replaced")
        try wh.setMeta("join_seq", String(cleanSeq))
        try wh.setMeta("join_full", "0")
        try wh.setMeta("join_fingerprint", fingerprint)
        let totalCustomers = try wh.db.scalarInt("SELECT count(*) FROM int_customers")
        try wh.recordStage("join", runID: runID, started: started, rowsIn: report.rowsIn, rowsOut: report.rowsOut,
                           detail: full ? "full customers=\(totalCustomers)" : "incremental components=\(affected) customers=\(totalCustomers)")
        wh.logger.info("joined", metadata: ["mode": "\(full ? "full" : "incremental")", "customers": "\(totalCustomers)", "customers.rebuilt": "\(rebuilt.customers)", "identities": "\(rebuilt.identities)"])
    }
}
