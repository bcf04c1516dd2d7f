import Foundation

extension JoinStage {
    /// Links the orders and follows selected by the two conditions into components and writes their
    /// int_nodes, int_order_group, int_follow_group, int_groups, int_purchases, int_customers and int_fans
    /// rows. Per identity it keeps a few integers and the key bytes; per order and follow, integers.
    /// `keepGroups`: the rows read have groups already (an incremental run): only new rows, rows of
    /// groups that split and nodes whose group no longer leads to their component are written.
    /// `immutableReader`: the details reader opens the file immutable (a writer without the WAL).
    ///
    /// Memory, in order: the graph (arena, lookup table, union-find) and the rows' integers while
    /// reading; the lookup table freed after the last read; the graph's key bytes freed once
    /// int_nodes is written, and only then the details thread starts; the follows' and groups'
    /// integers freed after their groups are written. Each phase logs its seconds and memory.
    func link(orderWhere: String, followWhere: String, keepGroups: Bool, immutableReader: Bool, report: inout StageReport,
              phase: PhaseLog) throws -> (customers: Int, identities: Int) {
        let db = wh.db
        let orderCount = try db.scalarInt("SELECT count(*) FROM stg_orders WHERE \(orderWhere)")
        let followCount = try db.scalarInt("SELECT count(*) FROM stg_follow_records WHERE \(followWhere)")
        var input = LinkInput(orderCount: orderCount, followCount: followCount)
        input.unites = try !db.tableExists("spark_links")
        try input.readOrders(db, where: orderWhere, keepGroups: keepGroups)
        phase("read orders")
        try input.readFollows(wh, where: followWhere, keepGroups: keepGroups)
        report.rowsIn = orderCount + followCount
        phase("read follows")

        let nodeCount = input.graph.count
        let salt = Array(wh.pipeline.salt.utf8)
        let components = try Components(of: &input, base: Int(try wh.meta("next_component") ?? "0") ?? 0, salt: salt, db: db, phase: phase)
        // While this thread writes nodes, links and purchases, another reads what customers and
        // fans need from stg_* (committed by clean: a read connection sees the same rows).
        let details = DetailsFetch(dbPath: db.path, pipeline: wh.pipeline, salt: salt, input: input, components: components,
                                   immutable: immutableReader)
        defer { _ = details.wait() }

        var moves = GroupMoves(orders: input.orders, follows: input.follows, components: components)
        let writer = ComponentWriter(db: db, components: components, keepGroups: keepGroups)
        try writer.writeNodes(input.graph, moves: moves)
        input.graph = IdentityGraph(capacity: 0)   // key bytes are no longer needed
        // Started once the graph is gone, so that the two never take memory at the same time; it
        // still has the component and purchase writes to overlap with.
        details.start()
        try wh.setMeta("next_component", String(components.base + components.used))
        try writer.writeGroups(input.orders, input.follows, moves: moves)
        input.follows = FollowRows(); input.orders.group = []; moves = GroupMoves()
        phase("write nodes and links")

        let platformText = input.platforms.utf8
        report.rowsOut += try writer.writePurchases(input.orders, input.qualifying, platformText: platformText)
        phase("write purchases")

        let d = try details.wait().get()
        phase("read customers and fans")
        try writer.writeCustomers(input.qualifying, fanTs: input.fans.ts, platformText: platformText, details: d)
        phase("write customers")
        try writer.writeFans(input.fans, pipeline: wh.pipeline, details: d)
        phase("write fans")
        return (components.customerCount, nodeCount)
    }
}
