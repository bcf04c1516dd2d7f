#!/usr/bin/env python3
"""spark/siyu_job.py: the Spark side of `siyu run --engine spark` (docs/spark.md).

Submitted by siyu itself (`spark-submit --master M spark/siyu_job.py --plan … --staging …`); not a
tool to run by hand. siyu has already listed the files (`siyu _plan`: ingest order, re-delivered
copies, observation ranks, the run's instant). This job:

  E1  runs siyu's own ingest + clean on every file alone, on the executors (`siyu _clean-file`, the
      binary shipped with the job by SparkContext.addFile, fed one file per task as RDD.pipe would):
      every format rule, quirk and quarantine reason is siyu's code;
  D1  does the cross-file part of clean in Spark SQL: per (platform, order_id) the row of the
      newest observation, item lines of the newest export that lists the order (never mixed),
      orders per (file, platform, status); follow, spend and quarantined rows of every file;
  D2  the identity closure: nodes and links as siyu's join makes them, connected components by
      alternating large-star / small-star with a checkpoint per round and a star test
      (spark/components.py);

and writes to the staging folder, for the client to load into its warehouse:
  reports.tsv           every R/J/E line of the executors (stage reports, rejected files, errors)
  columns.tsv           every H line (each table's columns)
  <table>/part-*        the rows that count, as the executors printed them, in load order
  stg_order_counts/     task, platform, status, orders
  links/                node, root: every node of a component with more than one node, with its root
  summary.json          the application id, the master, the phases' seconds, counts, closure rounds

Nothing here reads a value's meaning beyond the keys above: the client (Swift) decodes the rows.
Exit 0 when the job finished (files that siyu rejected or stopped on are in reports.tsv), non-zero
when Spark failed.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import components  # noqa: E402  (spark/components.py)


def unescape(v):
    """The inverse of SparkPlan.escape: \\\\ \\t \\n \\r (a backslash before another character stands for it)."""
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


def read_plan(path):
    """`siyu _plan`'s TSV: (header fields, rows as dicts with escaped values; "" = absent)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = {k: unescape(v) for k, v in (f.split("=", 1) for f in lines[0].split("\t")[1:])}
    names = lines[1].split("\t")
    return header, [dict(zip(names, line.split("\t"))) for line in lines[2:]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plan", required=True, help="siyu _plan's output")
    ap.add_argument("--siyu", required=True, help="the siyu binary the executors run")
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--cwd", required=True, help="the folder relative paths start from")
    ap.add_argument("--staging", required=True)
    ap.add_argument("--partitions", type=int, default=0, help="spark.sql.shuffle.partitions (0: 2 x the default parallelism)")
    args = ap.parse_args()
    started = time.time()
    times = {}

    from pyspark.sql import SparkSession, Window, functions as F
    spark = SparkSession.builder.appName("siyu").getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    partitions = args.partitions or max(2, 2 * sc.defaultParallelism)
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    sc.setCheckpointDir(os.path.join(args.staging, "checkpoints"))
    times["session"] = round(time.time() - started, 2)
    staging = args.staging

    header, plan = read_plan(args.plan)
    # E1: one task per counting file (copies never count; an unreadable file is rejected by siyu)
    tasks = [r for r in plan if not r["copy_of"]]
    lines = ["%s\t%s\t%s" % (r["ingest_order"], r["source_index"], r["path"]) for r in tasks]
    # the siyu binary and the pipeline file travel with the job (SparkContext.addFile): an executor
    # runs the copy Spark fetched for it, the same bytes as the client's
    sc.addFile(args.siyu)
    sc.addFile(args.pipeline)
    siyu_name, pipeline_name, now, cwd = os.path.basename(args.siyu), os.path.basename(args.pipeline), header["now"], args.cwd

    def clean_files(task_lines):
        """siyu _clean-file on this partition's files (what RDD.pipe does, with the shipped binary)."""
        import subprocess
        import threading
        from pyspark import SparkFiles
        exe = SparkFiles.get(siyu_name)
        if not os.access(exe, os.X_OK):
            os.chmod(exe, 0o755)
        # the one-file scratch warehouses go to Spark's own per-application folder (removed with it)
        p = subprocess.Popen([exe, "_clean-file", "--pipeline", SparkFiles.get(pipeline_name), "--now", now, "--cwd", cwd,
                              "--scratch", SparkFiles.getRootDirectory()],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")

        def feed():
            for x in task_lines:
                p.stdin.write(x + "\n")
            p.stdin.close()
        threading.Thread(target=feed, daemon=True).start()
        for out in p.stdout:
            yield out.rstrip("\n")
        if p.wait() != 0:
            raise RuntimeError("siyu _clean-file exited %d on %s" % (p.returncode, exe))

    t = time.time()
    e1 = os.path.join(staging, "e1")
    sc.parallelize(lines, max(1, len(lines))).mapPartitions(clean_files).saveAsTextFile(e1)
    times["E1_clean_files"] = round(time.time() - t, 2)

    t = time.time()
    raw = spark.read.text(e1)
    parts = F.split("value", "\t", -1)
    recs = raw.select("value", parts.alias("p")).select("value", "p", F.col("p")[0].alias("kind")).cache()
    meta = [r.value for r in recs.where("kind IN ('R', 'J', 'E')").select("value").collect()]
    with open(os.path.join(staging, "reports.tsv"), "w", encoding="utf-8") as f:
        f.write("".join(x + "\n" for x in meta))
    columns = {}
    for r in recs.where("kind = 'H'").select("value").distinct().collect():
        f = r.value.split("\t")
        columns[f[1]] = f[2:]
    with open(os.path.join(staging, "columns.tsv"), "w", encoding="utf-8") as f:
        f.write("".join("\t".join([t] + c) + "\n" for t, c in sorted(columns.items())))

    ranks = spark.createDataFrame([(int(r["ingest_order"]), int(r["obs_rank"]) if r["obs_rank"] else None) for r in tasks],
                                  "task long, obs_rank long")
    data = (recs.where("kind = 'D'")
            .select("value", "p", F.col("p")[1].cast("long").alias("task"), F.col("p")[2].alias("table"), F.col("p")[3].cast("long").alias("n"))
            .join(F.broadcast(ranks), "task"))

    def table(name):
        return data.where(F.col("table") == name)

    def col(name, table_name):
        """A column of a D line, typed-encoded (`t…`, `i…`, `\\N`)."""
        return F.col("p")[4 + columns[table_name].index(name)]

    def text(name, table_name):
        """A text column decoded to its escaped text (NULL for `\\N`): equal texts stay equal."""
        c = col(name, table_name)
        return F.when(c == F.lit("\\N"), F.lit(None)).otherwise(c.substr(F.lit(2), F.length(c))).alias(name)

    def write(df, name, order):
        df.orderBy(*order).select("value").write.text(os.path.join(staging, name))

    # D1: newest observation wins (rank 1 = newest; the plan's ranks come from siyu's own order)
    o = table("stg_orders").select("*", text("platform", "stg_orders"), text("order_id", "stg_orders"),
                                         col("platform", "stg_orders").alias("platform_t"), col("status", "stg_orders").alias("status_t"))
    orders = (o.withColumn("r", F.row_number().over(Window.partitionBy("platform", "order_id").orderBy("obs_rank")))
              .where("r = 1").drop("r").cache())
    write(orders, "stg_orders", ["obs_rank", "n"])
    (orders.groupBy("task", "platform_t", "status_t").agg(F.count(F.lit(1)).alias("orders"))
     .select(F.concat_ws("\t", F.col("task").cast("string"), "platform_t", "status_t", F.col("orders").cast("string")).alias("value"))
     .write.text(os.path.join(staging, "stg_order_counts")))
    items = (table("stg_items").select("*", text("platform", "stg_items"), text("order_id", "stg_items"))
             .withColumn("newest", F.min("obs_rank").over(Window.partitionBy("platform", "order_id")))
             .where(F.col("obs_rank") == F.col("newest")))
    write(items, "stg_items", ["obs_rank", "n"])
    follows = table("stg_follow_records").cache()
    write(follows, "stg_follow_records", ["obs_rank", "n"])
    write(table("stg_spend"), "stg_spend", ["obs_rank", "n"])
    # quarantine: ingest's rows in ingest order, then clean's in its file order (newest first)
    q = table("raw_quarantine").withColumn("stage", col("stage", "raw_quarantine"))
    write(q.withColumn("s", F.when(F.col("stage") == "tingest", 0).otherwise(1))
           .withColumn("k", F.when(F.col("s") == 0, F.col("task")).otherwise(F.col("obs_rank"))), "raw_quarantine", ["s", "k", "n"])
    write(table("raw_files"), "raw_files", ["task", "n"])
    n_orders = orders.count()
    times["D1_newest_observation"] = round(time.time() - t, 2)

    # D2: the identity closure over the winning orders and every follow record
    t = time.time()
    ol = orders.select("platform", "order_id", text("buyer", "stg_orders"), text("phones", "stg_orders"))
    fl = follows.select(text("openid", "stg_follow_records"), text("unionid", "stg_follow_records"), text("mobile", "stg_follow_records"))
    edges, nodes = components.identity_links(ol, fl)
    labels, rounds, round_seconds = components.connected_components(spark, edges, nodes, checkpoint="reliable")
    roots = labels.groupBy("component").agg(F.min("node").alias("root"))
    links = labels.join(roots, "component").where("node != root")
    links.select(F.concat_ws("\t", "node", "root").alias("value")).write.text(os.path.join(staging, "links"))
    n_linked = spark.read.text(os.path.join(staging, "links")).count()
    times["D2_identity_closure"] = round(time.time() - t, 2)

    summary = {"application_id": sc.applicationId, "master": sc.master, "default_parallelism": sc.defaultParallelism,
               "shuffle_partitions": partitions, "spark_version": spark.version, "files": len(tasks),
               "copies": len(plan) - len(tasks), "orders": n_orders, "linked_nodes": n_linked,
               "closure_rounds": rounds, "closure_round_seconds": round_seconds, "seconds": times,
               "total_seconds": round(time.time() - started, 2)}
    with open(os.path.join(staging, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    spark.stop()


if __name__ == "__main__":
    main()
