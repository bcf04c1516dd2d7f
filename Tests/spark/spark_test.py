#!/usr/bin/env python3
"""Tests/spark/spark_test.py: the Spark engine against the embedded one (make spark-test, part of make test).

For each case, in a fresh copy of its files: `siyu run` (embedded) and `siyu run --engine spark
--master M` on the same pipeline; the exit codes must be equal and every output CSV, index.html
and report.xlsx byte-identical. Cases:

  sample      pipelines/sample.toml on sample-data/ (a re-delivered copy, .xlsx workbooks, GBK files)
  messy       the sample plus: a newer re-export of a JD order file with changed amounts and a new
              order, a Tmall file with bad rows (quarantined), a file that is no export (rejected),
              a folder matched by a glob (rejected, unreadable), a second source whose glob matches the
              first one's files: exit 2 on both engines
  tiny        Tests/Fixtures/tiny (the hand-worked dataset; two quarantined rows: exit 2)
  edges       Tests/Fixtures/edges (window edges, refunds, followers)
  products    Tests/Fixtures/products (item reports, JD SKUs)

and the operations: a Spark job that fails (an unknown master) exits 1, keeps the previous
report and warehouse byte for byte, and records the failure; `on_bad_file = "stop"` with a
rejected file exits 1 on both engines.

  python3 Tests/spark/spark_test.py --siyu .build/debug/siyu [--master 'local[2]'] [--only sample]
"""
import argparse
import filecmp
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(siyu, cwd, pipeline, warehouse, output, extra=()):
    t = time.time()
    p = subprocess.run([siyu, "run", "--quiet", "--pipeline", pipeline, "--warehouse", warehouse, "--output", output, *extra],
                       cwd=cwd, capture_output=True, text=True)
    return p.returncode, p.stderr, time.time() - t


def outputs(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".csv")) if os.path.isdir(folder) else []


def compare(siyu, master, cwd, pipeline, name, expect_exit):
    print("%s (%s)" % (name, pipeline), flush=True)
    e = run(siyu, cwd, pipeline, "w-embedded.sqlite", "out-embedded")
    s = run(siyu, cwd, pipeline, "w-spark.sqlite", "out-spark", ["--engine", "spark", "--master", master])
    check(e[0] == expect_exit, "embedded exit %d (expected %d) %s" % (e[0], expect_exit, e[1].strip()[-300:] if e[0] != expect_exit else ""))
    check(s[0] == e[0], "spark exit %d = embedded exit %d %s" % (s[0], e[0], s[1].strip()[-600:] if s[0] != e[0] else ""))
    a, b = os.path.join(cwd, "out-embedded"), os.path.join(cwd, "out-spark")
    csvs = outputs(a)
    check(len(csvs) >= 10 and csvs == outputs(b), "the same %d CSV files" % len(csvs))
    for f in csvs + ["index.html", "report.xlsx"]:
        same = os.path.exists(os.path.join(b, f)) and filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False)
        check(same, "%s byte-identical" % f)
    db = sqlite3.connect(os.path.join(cwd, "w-spark.sqlite"))
    engine = db.execute("SELECT value FROM siyu_meta WHERE key='engine'").fetchone()
    check(engine == ("spark",), "the Spark run's warehouse says engine=spark")
    print("  embedded %.1f s, spark %.1f s" % (e[2], s[2]), flush=True)


def copy_case(tmp, src, dst_name):
    dst = os.path.join(tmp, dst_name)
    shutil.copytree(src, dst)
    return dst


def sample_workdir(tmp, name):
    """A folder with sample-data/ and pipelines/sample.toml as in the repository (relative globs)."""
    cwd = os.path.join(tmp, name)
    os.makedirs(os.path.join(cwd, "pipelines"))
    shutil.copytree(os.path.join(ROOT, "sample-data"), os.path.join(cwd, "sample-data"),
                    ignore=shutil.ignore_patterns("*.py", "README.md"))
    shutil.copy(os.path.join(ROOT, "pipelines", "sample.toml"), os.path.join(cwd, "pipelines", "sample.toml"))
    return cwd


def make_messy(cwd):
    """The sample's own files plus the quirks a nightly folder collects."""
    jd = os.path.join(cwd, "sample-data", "jd")
    # a newer re-export of the oldest JD order file: the same orders, some amounts changed, one more order
    first = sorted(f for f in os.listdir(jd) if f.endswith(".csv"))[0]
    raw = open(os.path.join(jd, first), "rb").read()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text, used = raw.decode(enc), enc
            break
        except UnicodeDecodeError:
            continue
    lines = text.split("\n")
    header, rows = lines[0], [x for x in lines[1:] if x.strip()]
    changed = []
    for k, row in enumerate(rows):
        if k % 7 == 0:
            # a refund-like change: swap the last two digits of any number-looking cell (a plausible re-export)
            cells = row.split(",")
            for i, c in enumerate(cells):
                v = c.strip('="')
                if v.replace(".", "", 1).isdigit() and "." in v:
                    cells[i] = c.replace(v, "%.2f" % (float(v) * 0.5))
                    break
            row = ",".join(cells)
        changed.append(row)
    stem = first.rsplit(".", 1)[0]
    digits = "".join(ch for ch in stem if ch.isdigit())
    newer = stem.replace(digits, "20991231235959") if len(digits) >= 8 else stem + "_20991231235959"
    with open(os.path.join(jd, newer + ".csv"), "wb") as f:
        f.write("\n".join([header] + changed + [""]).encode(used))
    # bad rows: a Tmall file's copy with two broken rows (wrong cell count, an impossible amount)
    tm = os.path.join(cwd, "sample-data", "tmall")
    src = sorted(f for f in os.listdir(tm) if f.endswith(".csv"))[0]
    raw = open(os.path.join(tm, src), "rb").read()
    text = raw.decode("gb18030")
    lines = text.split("\n")
    bad = lines[:3] + ["only,three,cells"] + [lines[3].replace(",", ",abc,", 1) if len(lines) > 3 else "x"] + lines[3:]
    with open(os.path.join(tm, "ExportOrderDetailList202501010000.csv"), "wb") as f:
        f.write("\n".join(bad).encode("gb18030"))
    # a file that is no export, and a folder the glob matches
    with open(os.path.join(tm, "ExportOrderDetailList_notes.csv"), "w", encoding="utf-8") as f:
        f.write("this is not an order export\nat all\n")
    os.makedirs(os.path.join(tm, "ExportOrderDetailList_folder.csv"))
    # a second source whose glob matches files the first one has: ingest sees them once
    with open(os.path.join(cwd, "pipelines", "sample.toml"), "a", encoding="utf-8") as f:
        f.write('\n[[source]]\nname = "tmall_again"\nkind = "tmall"\nfiles = ["sample-data/tmall/ExportOrderDetailList2025*.csv"]\n'
                'default_channel = "tmall"\n')


def failed_job_keeps_report(siyu, cwd, pipeline):
    print("a failed Spark job keeps the previous report", flush=True)
    out = os.path.join(cwd, "out-spark")
    before = {f: hashlib.sha256(open(os.path.join(out, f), "rb").read()).hexdigest() for f in os.listdir(out)}
    wh = os.path.join(cwd, "w-spark.sqlite")
    runs_before = sqlite3.connect(wh).execute("SELECT count(*) FROM siyu_runs").fetchone()[0]
    rc, err, _ = run(siyu, cwd, pipeline, "w-spark.sqlite", "out-spark", ["--engine", "spark", "--master", "nonsense://nowhere:1"])
    check(rc == 1, "exit 1 when spark-submit fails (got %d)" % rc)
    check("Spark job failed" in err and "previous report stays" in err, "the error says the job failed and the report stays: %s" % err.strip()[:200])
    after = {f: hashlib.sha256(open(os.path.join(out, f), "rb").read()).hexdigest() for f in os.listdir(out)}
    check(before == after, "every file of the previous report unchanged")
    db = sqlite3.connect(wh)
    runs = db.execute("SELECT exit_code, manifest FROM siyu_runs ORDER BY started_at").fetchall()
    check(len(runs) == runs_before + 1 and runs[-1][0] == 1 and "Spark job failed" in runs[-1][1], "the failed run is recorded (exit 1, its error)")
    check(not os.path.exists(wh + ".rebuild") and not os.path.exists(wh + ".rebuild.spark"), "no half-built warehouse or staging left")


def stop_on_bad_file(siyu, master, cwd, pipeline):
    print("on_bad_file = \"stop\" with a rejected file", flush=True)
    text = open(os.path.join(cwd, pipeline), encoding="utf-8").read()
    stop = pipeline.replace(".toml", "-stop.toml")
    with open(os.path.join(cwd, stop), "w", encoding="utf-8") as f:
        f.write(re.sub(r'(?m)^on_bad_file *=.*$', 'on_bad_file = "stop"', text) if re.search(r'(?m)^on_bad_file', text)
                else text.replace("[pipeline]\n", "[pipeline]\non_bad_file = \"stop\"\n", 1))
    e = run(siyu, cwd, stop, "w-stop-e.sqlite", "out-stop-e")
    s = run(siyu, cwd, stop, "w-stop-s.sqlite", "out-stop-s", ["--engine", "spark", "--master", master])
    check(e[0] == 1 and s[0] == 1, "exit 1 on both engines (embedded %d, spark %d)" % (e[0], s[0]))
    check("ExportOrderDetailList_" in s[1] and "stop" in s[1], "the Spark run names the file it stopped on: %s" % s[1].strip()[-300:])
    check(not os.path.exists(os.path.join(cwd, "out-stop-s", "index.html")), "no report published")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--siyu", default=os.path.join(ROOT, ".build", "debug", "siyu"))
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--only", action="append", help="run only these cases (sample, messy, tiny, edges, products, operations)")
    args = ap.parse_args()
    siyu = os.path.abspath(args.siyu)
    want = lambda c: not args.only or c in args.only  # noqa: E731
    tmp = tempfile.mkdtemp(prefix="siyu-spark-test-")
    try:
        if want("sample"):
            cwd = sample_workdir(tmp, "sample")
            compare(siyu, args.master, cwd, "pipelines/sample.toml", "sample", 0)
            if want("operations"):
                failed_job_keeps_report(siyu, cwd, "pipelines/sample.toml")
        if want("messy"):
            cwd = sample_workdir(tmp, "messy")
            make_messy(cwd)
            compare(siyu, args.master, cwd, "pipelines/sample.toml", "messy", 2)
            if want("operations"):
                stop_on_bad_file(siyu, args.master, cwd, "pipelines/sample.toml")
        # tiny has two quarantined rows by design (exit 2)
        for name, code in (("tiny", 2), ("edges", 0), ("products", 0)):
            if want(name):
                cwd = copy_case(tmp, os.path.join(ROOT, "Tests", "Fixtures", name), name)
                compare(siyu, args.master, cwd, name + ".toml", name, code)
    finally:
        if not failures:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept for inspection: " + tmp)
    print("spark-test: %s" % ("%d failure(s)" % len(failures) if failures else "all passed"))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
