"""spark/components.py: identity links and connected components in plain Spark SQL DataFrames.

No package is downloaded at run time (no GraphFrames): alternating large-star / small-star
(Kiveris et al., "Connected Components in MapReduce and Beyond", SoCC 2014), each round
checkpointed (the lineage stays one round long), until the edges form a star forest (every edge
points from a node to a root, every node has at most one parent): then the stars are the
components, and each star's root is its smallest node.

Node ids are ranks in code point order of the node strings (Spark compares strings as UTF-8 bytes,
which is code point order), so a component's label is the id of its smallest node: the node whose
string gives customer_key (docs/decisions.md) without a second pass.
"""
import time

from pyspark.sql import functions as F


def identity_links(orders, follows):
    """(edges: src, dst strings; nodes: node string) as Stages/Join/NodesAndLinks.swift links them.

    Orders (newest observation of every landed order, qualifying or not): its buyer account
    `acct:<platform>:<buyer>` when the buyer is not empty, its full mobiles `phone:<11 digits>`
    (stg_orders.phones, comma-separated), the first of these linked to each other; an order
    with neither is its own node `order:<platform>:<order_id>`. Follow records (every record of
    every counting file, subscribe = 0 too): `openid:<id>` linked to `unionid:<id>` when there
    is one and to the mobile when it is a full one.
    """
    def phone(x):
        # NodesAndLinks.phoneNumber: 11 ASCII digits, printed back from the integer
        return F.concat(F.lit("phone:"), x.cast("bigint").cast("string"))

    acct = F.when(F.col("buyer").isNotNull() & (F.length("buyer") > 0), F.concat(F.lit("acct:"), "platform", F.lit(":"), "buyer"))
    phones = F.transform(F.filter(F.split(F.coalesce("phones", F.lit("")), ","), lambda x: x.rlike("^[0-9]{11}$")), phone)
    ids = F.filter(F.concat(F.array(acct), phones), lambda x: x.isNotNull())
    order_node = F.concat(F.lit("order:"), "platform", F.lit(":"), "order_id")
    o = orders.select(ids.alias("ids"), order_node.alias("own"))
    o = o.select(F.when(F.size("ids") > 0, F.col("ids")).otherwise(F.array("own")).alias("ids"))
    order_edges = (o.select(F.col("ids")[0].alias("src"), F.posexplode("ids").alias("pos", "dst"))
                   .where("pos > 0").select("src", "dst"))
    order_nodes = o.select(F.col("ids")[0].alias("node"))

    openid = F.concat(F.lit("openid:"), "openid")
    f = follows.select(openid.alias("src"),
                       F.when(F.col("unionid").isNotNull(), F.concat(F.lit("unionid:"), "unionid")).alias("u"),
                       F.when(F.col("mobile").rlike("^[0-9]{11}$"), phone(F.col("mobile"))).alias("m"))
    follow_edges = (f.where("u IS NOT NULL").select("src", F.col("u").alias("dst"))
                    .unionByName(f.where("m IS NOT NULL").select("src", F.col("m").alias("dst"))))
    edges = order_edges.unionByName(follow_edges)
    nodes = order_nodes.unionByName(f.select(F.col("src").alias("node")))
    return edges, nodes


def _both_ways(e):
    return e.select(F.col("a").alias("u"), F.col("b").alias("v")).unionByName(e.select(F.col("b").alias("u"), F.col("a").alias("v")))


def large_star(e):
    """Every node's larger neighbours are attached to the smallest of its closed neighbourhood."""
    n = _both_ways(e)
    m = n.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return n.where("v > u").join(m, "u").select(F.col("v").alias("a"), F.col("m").alias("b")).distinct()


def small_star(e):
    """Every node and its smaller neighbours are attached to the smallest of them."""
    n = _both_ways(e).where("v < u")
    m = n.groupBy("u").agg(F.min("v").alias("m"))
    out = (n.join(m, "u").select(F.col("v").alias("a"), F.col("m").alias("b")).where("a != b")
           .unionByName(m.select(F.col("u").alias("a"), F.col("m").alias("b"))))
    return out.distinct()


def connected_components(spark, edges, nodes, checkpoint="reliable", max_rounds=64):
    """(labels: node string, component long; rounds; seconds per round). Singletons included."""
    sc = spark.sparkContext
    if checkpoint == "reliable" and not sc.getCheckpointDir():
        import tempfile
        sc.setCheckpointDir(tempfile.mkdtemp(prefix="siyu-spark-ckpt-"))

    def fix(df):
        if checkpoint == "reliable":
            return df.checkpoint(eager=True)
        if checkpoint == "local":
            return df.localCheckpoint(eager=True)
        df = df.cache()
        df.count()
        return df

    every = nodes.select("node").unionByName(edges.select(F.col("src").alias("node"))).unionByName(
        edges.select(F.col("dst").alias("node"))).distinct()
    # ids in code point order: the global sort is a range partitioning, zipWithIndex keeps it
    ids = spark.createDataFrame(every.orderBy("node").rdd.zipWithIndex().map(lambda p: (p[0][0], p[1])), "node string, id long")
    ids = fix(ids)
    src, dst = ids.withColumnRenamed("node", "src").withColumnRenamed("id", "a"), ids.withColumnRenamed("node", "dst").withColumnRenamed("id", "b")
    e = edges.join(src, "src").join(dst, "dst").where("a != b").select(F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b")).distinct()
    e = fix(e)
    seconds, rounds = [], 0
    while True:
        t = time.time()
        rounds += 1
        e = fix(small_star(large_star(e)))
        n_edges = e.count()
        children = e.select("a").distinct().count()
        parents_that_are_children = e.select("b").intersect(e.select("a")).count()
        seconds.append(round(time.time() - t, 2))
        if children == n_edges and parents_that_are_children == 0:
            break
        if rounds >= max_rounds:
            raise RuntimeError("connected components did not converge in %d rounds" % max_rounds)
    labels = (ids.join(e, ids.id == e.a, "left")
              .select("node", F.coalesce("b", "id").alias("component")))
    return labels, rounds, seconds
