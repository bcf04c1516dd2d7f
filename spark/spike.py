#!/usr/bin/env python3
"""spark/spike.py: the Spark spike of issue 18 (driver side). NOT production code; see docs/spark-plan.md.

  python3 spark/spike.py --pipeline pipelines/sample.toml --siyu .build/debug/siyu \
      --reference /tmp/s.sqlite --master 'local[2]'

1. Takes the pipeline's files from `siyu _plan` (ingest order, re-deliveries, observation ranks).
2. Executors: `RDD.pipe` through spark/executor.py, which runs siyu's own ingest + clean on each
   file alone and prints its raw_files / quarantine / stg_* rows as JSON lines.
3. Driver (Spark SQL): the cross-file work of clean: re-deliveries (same sha256), newest
   observation wins for orders and for item lines, stg_order_counts.
4. Identity closure: nodes and links as Stages/Join/NodesAndLinks.swift makes them, connected
   components by alternating large-star / small-star with checkpoints and a star test.
5. With --reference (a warehouse of `siyu run` on the same pipeline): compares every cleaned table
   and the component partition (int_nodes) with siyu's, and prints the timings as JSON.
"""
import argparse
import collections
import json
import os
import sqlite3
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import components  # noqa: E402  (spark/components.py)


def unescape(v):
    """The inverse of SparkPlan.escape: \\ \t \n \r (a backslash before another character stands for it)."""
    if "\\" not in v:
        return v
    out, i = [], 0
    while i < len(v):
        c = v[i]
        if c == "\\" and i + 1 < len(v):
            i += 1
            c = {"t": "\t", "n": "\n", "r": "\r"}.get(v[i], v[i])
        out.append(c)
        i += 1
    return "".join(out)


def read_plan(text):
    """`siyu _plan`'s TSV: (the header's key=value fields, the rows as dicts; "" = absent)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = dict(f.split("=", 1) for f in lines[0].split("\t")[1:])
    header = {k: unescape(v) for k, v in header.items()}
    names = lines[1].split("\t")
    return header, [dict(zip(names, map(unescape, line.split("\t")))) for line in lines[2:]]


def plan_files(pipeline, siyu, cwd):
    """The files in a rebuild's ingest order with their re-deliveries and observation ranks, from
    `siyu _plan` (IngestStage.walk, CleanStage's observation order): no ordering code here."""
    import subprocess
    out = subprocess.run([siyu, "_plan", "--pipeline", pipeline], cwd=cwd, check=True, capture_output=True, text=True).stdout
    header, rows = read_plan(out)
    tasks = [{"task": int(r["ingest_order"]) - 1, "source_index": int(r["source_index"]), "source": r["source"], "kind": r["kind"],
              "path": r["path"], "copy_of": int(r["copy_of"]) - 1 if r["copy_of"] else None,
              "obs_rank": int(r["obs_rank"]) if r["obs_rank"] else None} for r in rows]
    return header, tasks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--siyu", required=True)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--reference", help="warehouse of `siyu run` on the same pipeline, to compare with")
    ap.add_argument("--partitions", type=int, default=4, help="spark.sql.shuffle.partitions")
    ap.add_argument("--checkpoint", choices=["reliable", "local", "none"], default="reliable")
    ap.add_argument("--json", help="write the measurements here")
    ap.add_argument("--driver-memory", default="2g")
    args = ap.parse_args()
    cwd = os.getcwd()
    times = {}
    t = time.time()

    from pyspark.sql import SparkSession, Window, functions as F, types as T
    spark = (SparkSession.builder.master(args.master).appName("siyu-spark-spike")
             .config("spark.sql.shuffle.partitions", str(args.partitions))
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", args.driver_memory)
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    sc = spark.sparkContext
    times["session_start_s"] = round(time.time() - t, 2)

    # 1. the files, in a rebuild's ingest order
    t = time.time()
    siyu = os.path.abspath(args.siyu)
    plan_header, tasks = plan_files(args.pipeline, siyu, cwd)
    times["plan_s"] = round(time.time() - t, 2)
    t = time.time()
    lines = [json.dumps({"task": x["task"], "source": x["source"], "path": x["path"], "pipeline": os.path.abspath(args.pipeline),
                         "siyu": siyu, "cwd": cwd}, ensure_ascii=False) for x in tasks]
    # 2. executors: siyu on each file, one task per file (a file is the unit of parallelism)
    recs = sc.parallelize(lines, len(lines)).pipe("%s %s" % (sys.executable, os.path.join(HERE, "executor.py"))).map(json.loads).cache()
    nrec = recs.count()
    exits = recs.filter(lambda r: r["t"] == "_exit").map(lambda r: [r["task"]] + r["r"]).collect()
    times["executors_s"] = round(time.time() - t, 2)
    bad = [e for e in exits if e[1] not in (0, 2) or e[2] not in (0, 2)]
    if bad:
        print("siyu failed on some files:", json.dumps(bad, ensure_ascii=False)[:3000], file=sys.stderr)
    file_seconds = sorted(e[4] for e in exits)

    S, L = T.StringType(), T.LongType()
    schemas = {
        "raw_files": [("source", S), ("kind", S), ("abspath", S), ("name", S), ("sha256", S), ("format", S), ("encoding", S),
                      ("export_key", S), ("status", S), ("error", S), ("rows_read", L), ("rows_landed", L), ("rows_quarantined", L),
                      ("first_day", L), ("last_day", L), ("sheet", S)],
        "raw_quarantine": [("line", L), ("stage", S), ("reason", S), ("column_no", L), ("raw_text", S)],
        "stg_orders": [("platform", S), ("order_id", S), ("source", S), ("line", L), ("buyer", S), ("phones", S), ("status_raw", S),
                       ("status", S), ("paid_fen", L), ("refund_fen", L), ("net_fen", L), ("created_ts", L), ("pay_ts", L),
                       ("pay_day", L), ("promo", S), ("is_test", L), ("item_rows", L)],
        "stg_items": [("platform", S), ("order_id", S), ("line", L), ("code", S), ("title", S), ("quantity", L), ("price_fen", L)],
        "stg_follow_records": [("line", L), ("openid", S), ("unionid", S), ("mobile", S), ("subscribe", L), ("follow_ts", L),
                               ("scene", S), ("qr_scene", S), ("qr_scene_str", S)],
        "stg_spend": [("line", L), ("day", L), ("campaign", S), ("channel", S), ("spend_fen", L)],
    }

    def frame(name):
        schema = T.StructType([T.StructField("task", L)] + [T.StructField(c, ty) for c, ty in schemas[name]])
        return spark.createDataFrame(recs.filter(lambda r, n=name: r["t"] == n).map(lambda r: [r["task"]] + r["r"]), schema)

    t = time.time()
    df = {name: frame(name) for name in schemas}
    # 3. cross-file clean work
    # the order comes from `siyu _plan`: obs_rank 1 = the newest observation; copies (same bytes as
    # a file earlier in ingest order) and unreadable files have no rank
    plan = spark.createDataFrame([(x["task"], x["source_index"], x["path"], x["obs_rank"]) for x in tasks],
                                 "task long, source_index long, path string, obs_rank long")
    files = (df["raw_files"].join(plan, "task")
             .withColumn("copy", F.when(F.col("obs_rank").isNotNull(), F.lit(1)).otherwise(F.lit(2))))
    counting = files.where((F.col("copy") == 1) & (F.col("status") == "landed")).select("task", "path", "obs_rank").cache()
    # newest observation wins: per order the row of the file with the smallest rank
    orders = (df["stg_orders"].join(counting, "task")
              .withColumn("rank", F.row_number().over(Window.partitionBy("platform", "order_id").orderBy("obs_rank")))
              .where("rank = 1").drop("rank").cache())
    # item lines: all of them from the newest export that lists the order, never mixed
    items = (df["stg_items"].join(counting, "task")
             .withColumn("newest", F.min("obs_rank").over(Window.partitionBy("platform", "order_id")))
             .where(F.col("obs_rank") == F.col("newest")).drop("newest"))
    order_counts = orders.groupBy("path", "platform", "status").agg(F.count(F.lit(1)).alias("orders"))
    follows = df["stg_follow_records"].join(counting, "task").cache()
    spend = df["stg_spend"].join(counting, "task")
    quarantine = df["raw_quarantine"].join(counting, "task")
    n_orders = orders.count()
    times["crossfile_clean_s"] = round(time.time() - t, 2)

    # 4. identity closure
    t = time.time()
    edges, nodes = components.identity_links(orders, follows)
    labels, rounds, cc_seconds = components.connected_components(spark, edges, nodes, checkpoint=args.checkpoint)
    node_labels = labels.collect() if args.reference else None
    n_components = labels.select("component").distinct().count()
    times["identity_s"] = round(time.time() - t, 2)

    result = {"master": args.master, "plan": plan_header, "files": len(tasks), "records": nrec, "orders": n_orders, "nodes": labels.count(),
              "components": n_components, "cc_rounds": rounds, "cc_round_seconds": cc_seconds, "times": times,
              "per_file_seconds": {"min": file_seconds[0], "median": file_seconds[len(file_seconds) // 2], "max": file_seconds[-1],
                                   "sum": round(sum(file_seconds), 2)},
              "siyu_failures": len(bad)}

    # 5. the comparison with siyu's own warehouse
    if args.reference:
        t = time.time()
        ref = sqlite3.connect("file:%s?mode=ro" % os.path.abspath(args.reference), uri=True)
        cmp = {}

        def compare(name, ours, sql, cols):
            theirs = collections.Counter(tuple(r) for r in ref.execute(sql))
            mine = collections.Counter(tuple(r[c] for c in cols) for r in ours.select(*cols).collect())
            cmp[name] = {"siyu": sum(theirs.values()), "spark": sum(mine.values()), "equal": theirs == mine}
            if theirs != mine:
                cmp[name]["only_siyu"] = [list(x) for x in list((theirs - mine).elements())[:3]]
                cmp[name]["only_spark"] = [list(x) for x in list((mine - theirs).elements())[:3]]

        fp = "(SELECT path FROM raw_files f WHERE f.file_id = t.file_id)"
        ocols = [c for c, _ in schemas["stg_orders"]]
        compare("stg_orders", orders, "SELECT %s, %s FROM stg_orders t" % (fp, ", ".join(ocols)), ["path"] + ocols)
        icols = [c for c, _ in schemas["stg_items"]]
        compare("stg_items", items, "SELECT %s, %s FROM stg_items t" % (fp, ", ".join(icols)), ["path"] + icols)
        fcols = [c for c, _ in schemas["stg_follow_records"]]
        compare("stg_follow_records", follows, "SELECT %s, %s FROM stg_follow_records t" % (fp, ", ".join(fcols)), ["path"] + fcols)
        scols = [c for c, _ in schemas["stg_spend"]]
        compare("stg_spend", spend, "SELECT %s, %s FROM stg_spend t" % (fp, ", ".join(scols)), ["path"] + scols)
        qcols = [c for c, _ in schemas["raw_quarantine"]]
        compare("raw_quarantine", quarantine, "SELECT %s, %s FROM raw_quarantine t" % (fp, ", ".join(qcols)), ["path"] + qcols)
        compare("stg_order_counts", order_counts, "SELECT %s, platform, status, orders FROM stg_order_counts t" % fp,
                ["path", "platform", "status", "orders"])
        rf = ["path", "sha256", "format", "rows_read", "rows_landed", "rows_quarantined", "first_day", "last_day"]
        compare("raw_files", files.where("copy = 1"), "SELECT %s FROM raw_files" % ", ".join(rf), rf)
        # the component partition: the same nodes, and grp <-> component a bijection
        theirs = dict(ref.execute("SELECT node, grp FROM int_nodes"))
        mine = {r["node"]: r["component"] for r in node_labels}
        pairs = {(theirs.get(n), mine.get(n)) for n in set(theirs) | set(mine)}
        cmp["components"] = {"siyu_nodes": len(theirs), "spark_nodes": len(mine), "same_nodes": set(theirs) == set(mine),
                             "siyu_components": len(set(theirs.values())), "spark_components": len(set(mine.values())),
                             "same_partition": set(theirs) == set(mine) and len(pairs) == len(set(theirs.values())) == len(set(mine.values()))}
        # the smallest node of each customer component (customer_key's input): Spark's label is the
        # smallest node id, and ids are given in code point order
        result["compare"] = cmp
        times["compare_s"] = round(time.time() - t, 2)

    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    spark.stop()
    ok = not bad and all(v.get("equal", v.get("same_partition")) for v in result.get("compare", {}).values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
