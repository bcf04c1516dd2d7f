#!/usr/bin/env python3
"""siyu benchmark: full rebuild, nightly increment, and two peers (DuckDB, pandas) on the same files.

    python3 bench/bench.py [--orders N] [--repeat K] [--seed S] [--regen] [--example] [--skip-pandas] [--skip-duckdb]
                           [--skip-xlsx]

Run from the repository root after `swift build -c release --product siyu` (bench/run.sh does
both). Steps:

1. Generates N order lines of real-shaped exports into build/bench/n<N>/year/ with
   sample-data/generate.py --orders N (cached: reused while N, the seed and generate.py are
   unchanged), and one more day of exports (tomorrow's delivery, --next-day 1) into
   build/bench/n<N>/day1/; and the same year's Tmall order reports once more as 千牛 workbooks
   (--tmall-format xlsx --tmall-only) into build/bench/n<N>/year-xlsx/.
2. Times, one after the other, each in its own child process:
   0. siyu ingest of the year's Tmall order reports, CSV and .xlsx (pipelines holding only them, a
                             fresh warehouse each): the workbook ingest rate next to the CSV one. It
                             stops the bench with a message when siyu rejects the workbooks or lands
                             another number of rows than from the CSVs (--skip-xlsx skips it)
   a. siyu full rebuild      siyu run --full on the year (pipeline year.toml)
   b. siyu nightly increment siyu run (no --full) on year + day (pipeline nightly.toml, which only
                             adds a second glob per source), on top of the warehouse of (a)
   c. DuckDB peer            bench/peer_duckdb.py on the year
   d. pandas peer            bench/peer_pandas.py on the year
   e. DuckDB peer on year + day: not a timing of interest but the correctness check of (b)
3. Checks that the peers' cohort_repurchase.csv and channel_cpa.csv are byte-identical to siyu's
   (exit 1 and a diff when not), and that (e) equals (b).
4. Prints a table (seconds, order lines per second, peak RSS of the child, siyu/peer ratios) and
   writes it to bench/results/<UTC timestamp>.md and .json (--example: also example.md/.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import hashlib
import json
import re
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIYU = os.path.join(ROOT, ".build", "release", "siyu")
GEN = os.path.join(ROOT, "sample-data", "generate.py")
XLSXGEN = os.path.join(ROOT, "sample-data", "xlsxgen.py")
# (source, kind, folder, file glob). Tmall: the order reports only; the item reports beside them
# (ExportOrderDetailList*) are for the product report, which the peers do not compute.
KINDS = [("tmall", "tmall", "tmall", "ExportOrderList*.csv"), ("jd", "jd", "jd", "*.csv"),
         ("microstore", "youzan", "youzan", "*.csv"), ("followers", "followers", "followers", "*.csv"),
         ("spend", "spend", "spend", "*.csv")]
XLSX_TARGET = 0.5  # workbook ingest: at least half the CSV ingest's order lines per second
CHECKED = ["cohort_repurchase.csv", "channel_cpa.csv"]


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def run(cmd: list, ok_codes=(0,), log_path: str | None = None) -> dict:
    """Runs cmd as a child process; returns wall seconds and the child's peak RSS (wait4 rusage,
    which covers the child and any descendants it waited for)."""
    out = open(log_path, "w") if log_path else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT if log_path else None)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if log_path:
        out.close()
    if p.returncode not in ok_codes:
        tail = ""
        if log_path and os.path.exists(log_path):
            with open(log_path, errors="replace") as f:
                tail = "".join(f.readlines()[-20:])
        raise SystemExit(f"bench: {' '.join(cmd)} exited {p.returncode}\n{tail}")
    return {"seconds": wall, "peak_rss_mb": ru.ru_maxrss / 1024, "exit_code": p.returncode,
            "user_seconds": ru.ru_utime, "sys_seconds": ru.ru_stime}


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def count_records(base: str) -> dict:
    """Order lines per platform directory (CSV records minus the header), the way siyu counts
    rows_read: quoted values may hold newlines. Item reports and workbooks are not counted."""
    import csv
    counts = {}
    for sub, enc in (("tmall", "gb18030"), ("jd", "gb18030"), ("youzan", "utf-8-sig")):
        n = 0
        d = os.path.join(base, sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            if name.endswith(" (1).csv"):  # the byte-identical re-delivery is skipped by sha256
                continue
            if not name.endswith(".csv") or name.startswith("ExportOrderDetailList"):
                continue
            with open(os.path.join(d, name), encoding=enc, newline="") as f:
                n += sum(1 for _ in csv.reader(f)) - 1
        counts[sub] = n
    return counts


def pipeline_toml(path: str, name: str, dirs: list) -> None:
    rel = [os.path.relpath(d, ROOT) for d in dirs]
    with open(os.path.join(ROOT, "pipelines", "sample.toml"), encoding="utf-8") as f:
        sample = f.read()
    rules = sample[sample.index("[[rule]]"):]  # the sample's channel rules, unchanged
    lines = ["# generated by bench/bench.py", "[pipeline]", f'name = "{name}"', 'timezone = "Asia/Shanghai"',
             'period = "month"', 'salt = "siyu-bench-salt"', "window_days = 90", "loyal_threshold = 3",
             'on_bad_file = "continue"', ""]
    defaults = {"tmall": "tmall", "jd": "jd", "microstore": "wechat_organic", "followers": "wechat_follow_other"}
    for src, kind, sub, pattern in KINDS:
        globs = ", ".join(f'"{r}/{sub}/{pattern}"' for r in rel)
        lines += ["[[source]]", f'name = "{src}"', f'kind = "{kind}"', f"files = [{globs}]"]
        if src in defaults:
            lines.append(f'default_channel = "{defaults[src]}"')
        lines.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n" + rules)


def ingest_toml(path: str, tmall_dir: str, pattern: str) -> None:
    """A pipeline that reads only the year's Tmall order reports (for the ingest rate)."""
    rel = os.path.relpath(tmall_dir, ROOT)
    with open(path, "w", encoding="utf-8") as f:
        f.write("# generated by bench/bench.py: siyu ingest of the Tmall order reports only\n"
                '[pipeline]\nname = "bench-ingest"\ntimezone = "Asia/Shanghai"\nperiod = "month"\n'
                'salt = "siyu-bench-salt"\non_bad_file = "continue"\n\n'
                f'[[source]]\nname = "tmall"\nkind = "tmall"\nfiles = ["{rel}/{pattern}"]\ndefault_channel = "tmall"\n')


def generate_xlsx(base: str, orders: int, seed: int, regen: bool, stamp: dict) -> dict:
    """The year's Tmall order reports as 千牛 workbooks (--tmall-format xlsx --tmall-only) in
    year-xlsx/, cached beside the CSV year (same orders, seed and generator)."""
    out = os.path.join(base, "year-xlsx")
    if not regen and stamp.get("xlsx_seconds") is not None and os.path.isdir(os.path.join(out, "tmall")):
        return stamp
    shutil.rmtree(out, ignore_errors=True)
    log(f"generating the same year's Tmall order reports as .xlsx into {os.path.relpath(out, ROOT)} …")
    x = run([sys.executable, GEN, "--orders", str(orders), "--seed", str(seed), "--out", out,
             "--tmall-format", "xlsx", "--tmall-only", "--quiet"])
    log(f"  {x['seconds']:.1f} s, peak {x['peak_rss_mb']:.0f} MB")
    stamp.update(xlsx_seconds=x["seconds"], xlsx_peak_rss_mb=x["peak_rss_mb"],
                 xlsx_bytes=sum(os.path.getsize(os.path.join(out, "tmall", n)) for n in os.listdir(os.path.join(out, "tmall"))))
    with open(os.path.join(base, "stamp.json"), "w") as f:
        json.dump({k: v for k, v in stamp.items() if k != "cached"}, f, indent=1)
    return stamp


def generate(base: str, orders: int, seed: int, regen: bool) -> dict:
    """Year and next-day data, cached by (orders, seed, generate.py and xlsxgen.py hashes)."""
    stamp_path = os.path.join(base, "stamp.json")
    want = {"orders": orders, "seed": seed, "generate_sha256": sha256_file(GEN), "xlsxgen_sha256": sha256_file(XLSXGEN)}
    if not regen and os.path.exists(stamp_path):
        with open(stamp_path) as f:
            stamp = json.load(f)
        if all(stamp.get(k) == v for k, v in want.items()):
            log(f"reusing generated data in {os.path.relpath(base, ROOT)} (generated in "
                f"{stamp['year_seconds']:.1f} s + {stamp['day_seconds']:.1f} s)")
            stamp["cached"] = True
            return stamp
    for sub in ("year", "day1", "year-xlsx"):
        shutil.rmtree(os.path.join(base, sub), ignore_errors=True)
    os.makedirs(base, exist_ok=True)
    log(f"generating {orders:,} order lines into {os.path.relpath(base, ROOT)}/year …")
    y = run([sys.executable, GEN, "--orders", str(orders), "--seed", str(seed), "--out",
             os.path.join(base, "year"), "--quiet"])
    log(f"  {y['seconds']:.1f} s, peak {y['peak_rss_mb']:.0f} MB; next day into day1/ …")
    d = run([sys.executable, GEN, "--orders", str(orders), "--seed", str(seed), "--out",
             os.path.join(base, "day1"), "--next-day", "1", "--quiet"])
    stamp = dict(want, year_seconds=y["seconds"], year_peak_rss_mb=y["peak_rss_mb"], day_seconds=d["seconds"],
                 day_lines=sum(count_records(os.path.join(base, "day1")).values()),
                 tmall_lines=count_records(os.path.join(base, "year"))["tmall"],
                 year_bytes=sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in
                                os.walk(os.path.join(base, "year")) for fn in fns))
    with open(stamp_path, "w") as f:
        json.dump(stamp, f, indent=1)
    stamp["cached"] = False
    return stamp


def landed(wh: str) -> dict:
    """What an ingest landed, from the warehouse's raw_files: rows landed and files rejected."""
    import sqlite3
    con = sqlite3.connect(wh)
    try:
        rows = con.execute("SELECT path, status, rows_landed, coalesce(error, '') FROM raw_files").fetchall()
    finally:
        con.close()
    return {"rows_landed": sum(r[2] for r in rows if r[1] == "landed"),
            "files_landed": sum(1 for r in rows if r[1] == "landed"),
            "rejected": [(r[0], r[3]) for r in rows if r[1] == "rejected"]}


def same(a_dir: str, b_dir: str, label: str) -> list:
    """Byte comparison of the checked outputs; returns problems (with a short diff)."""
    problems = []
    for name in CHECKED:
        a, b = os.path.join(a_dir, name), os.path.join(b_dir, name)
        if not os.path.exists(a) or not os.path.exists(b):
            problems.append(f"{label}: {name} missing ({a if not os.path.exists(a) else b})")
            continue
        with open(a, "rb") as f:
            x = f.read()
        with open(b, "rb") as f:
            y = f.read()
        if x != y:
            diff = list(difflib.unified_diff(y.decode().splitlines(), x.decode().splitlines(), "siyu/" + name,
                                             label + "/" + name, lineterm="", n=0))
            problems.append(f"{label}: {name} differs from siyu's\n" + "\n".join(diff[:30]))
    return problems


def same_all(a_dir: str, b_dir: str, label: str) -> list:
    """Every CSV of two report folders byte for byte (the Spark engine against the embedded one)."""
    names = sorted(f for f in os.listdir(b_dir) if f.endswith(".csv")) if os.path.isdir(b_dir) else []
    problems = [] if names else [f"{label}: no CSV in {b_dir}"]
    for name in names:
        a, b = os.path.join(a_dir, name), os.path.join(b_dir, name)
        if not os.path.exists(a):
            problems.append(f"{label}: {name} missing")
        elif sha256_file(a) != sha256_file(b):
            problems.append(f"{label}: {name} differs from the embedded engine's")
    return problems


def shuffle_of(events_dir: str) -> dict:
    """Shuffle bytes written and read, records written and the tasks' peak execution memory, over the tasks of the Spark
    event log(s) in `events_dir` (spark.eventLog.enabled)."""
    tot = {"shuffle_write_bytes": 0, "shuffle_read_bytes": 0, "shuffle_records_written": 0, "tasks": 0, "peak_execution_memory": 0}
    logs = [os.path.join(d, n) for d, _, names in os.walk(events_dir) for n in names if n.startswith(("events_", "local-", "app-"))]
    for name in sorted(logs):
        # Spark 4 writes rolling event logs, zstd-compressed unless spark.eventLog.compress=false
        text = (subprocess.run(["zstd", "-dc", name], capture_output=True, text=True, errors="replace").stdout
                if name.endswith(".zstd") else open(name, encoding="utf-8", errors="replace").read())
        for line in text.splitlines():
            if '"SparkListenerTaskEnd"' not in line:
                continue
            m = json.loads(line).get("Task Metrics") or {}
            w, r = m.get("Shuffle Write Metrics") or {}, m.get("Shuffle Read Metrics") or {}
            tot["tasks"] += 1
            tot["shuffle_write_bytes"] += w.get("Shuffle Bytes Written", 0)
            tot["shuffle_records_written"] += w.get("Shuffle Records Written", 0)
            tot["shuffle_read_bytes"] += r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)
            tot["peak_execution_memory"] = max(tot["peak_execution_memory"], m.get("Peak Execution Memory", 0))
    return tot


def environment() -> dict:
    def out(cmd):
        try:
            return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60).stdout.strip()
        except Exception:  # noqa: BLE001
            return ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = out([sys.executable, "-c", "import duckdb, pandas, numpy; "
                    "print(duckdb.__version__, pandas.__version__, numpy.__version__)"]).split()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "swift": out(["swift", "--version"]).splitlines()[0] if out(["swift", "--version"]) else "",
            "python": platform.python_version(),
            "duckdb": versions[0] if versions else "", "pandas": versions[1] if len(versions) > 1 else "",
            "numpy": versions[2] if len(versions) > 2 else "",
            # dirty: uncommitted changes outside bench/ (the bench's own files do not change siyu)
            "git": out(["git", "rev-parse", "--short", "HEAD"])
            + (" (dirty)" if out(["git", "status", "--porcelain", "--", ".", ":(exclude)bench"]) else "")}


def fmt_int(n) -> str:
    return f"{n:,}"


def table(res: dict) -> str:
    runs = res["runs"]
    full, night = runs.get("siyu_full"), runs.get("siyu_nightly")
    head = ("| run | order lines | seconds | order lines/s | peak RSS MB | CPU s | siyu/peer time | siyu/peer memory |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for key, label in (("siyu_full", "siyu full rebuild"), ("siyu_nightly", "siyu nightly increment (+1 day)"),
                       ("duckdb", "DuckDB peer"), ("pandas", "pandas peer"),
                       ("duckdb_nightly", "DuckDB peer, year + day (recomputes all)"),
                       ("spark_local1", "siyu run --engine spark, local[1]"),
                       ("spark_local2", "siyu run --engine spark, local[2]"),
                       ("ingest_csv", "siyu ingest, Tmall order reports as CSV"),
                       ("ingest_xlsx", "siyu ingest, Tmall order reports as .xlsx (千牛 workbooks)")):
        r = runs.get(key)
        if not r:
            continue
        base = night if key == "duckdb_nightly" else full
        ratio_t = ratio_m = ""
        if key in ("duckdb", "pandas", "duckdb_nightly") and base:
            ratio_t = f"{base['seconds'] / r['seconds']:.2f}"
            ratio_m = f"{base['peak_rss_mb'] / r['peak_rss_mb']:.2f}"
        secs = f"{r['seconds']:.1f}"
        if len(r.get("samples", [])) > 1:
            secs += f" ({r['min_seconds']:.1f}–{r['max_seconds']:.1f})"
        rows.append(f"| {label} | {fmt_int(r['order_lines'])} | {secs} | "
                    f"{fmt_int(round(r['order_lines'] / r['seconds']))} | {r['peak_rss_mb']:.0f} | "
                    f"{r['user_seconds'] + r['sys_seconds']:.1f} | {ratio_t} | {ratio_m} |")
    return head + "\n" + "\n".join(rows)


def targets(res: dict) -> list:
    """The targets of issue 5, each with what this run measured and whether it is met."""
    runs = res["runs"]
    full, night = runs.get("siyu_full"), runs.get("siyu_nightly")
    if not full:
        return []
    rows = []

    def add(name, value, ok):
        rows.append(f"| {name} | {value} | {'met' if ok else 'NOT met'} |")

    for peer, limit in (("pandas", 1.0), ("duckdb", 1.5)):
        r = runs.get(peer)
        if r:
            q = full["seconds"] / r["seconds"]
            add(f"full rebuild / {'pandas' if peer == 'pandas' else 'DuckDB'} peer time "
                f"{'< 1' if peer == 'pandas' else '≤ 1.5'}", f"{q:.2f}", q < limit if peer == "pandas" else q <= limit)
    add("peak memory < 1 GiB (the target is set at 10M order lines)", f"{full['peak_rss_mb']:.0f} MB"
        f" at {res['orders']:,}", full["peak_rss_mb"] < 1024)
    if night:
        q = night["seconds"] / full["seconds"]
        add("nightly increment < 5 % of the full rebuild", f"{100 * q:.1f} % ({night['seconds']:.1f} s)", q < 0.05)
    ic, ix = runs.get("ingest_csv"), runs.get("ingest_xlsx")
    if ic and ix:
        rc, rx = ic["order_lines"] / ic["seconds"], ix["order_lines"] / ix["seconds"]
        add(f"workbook ingest ≥ {XLSX_TARGET} × CSV ingest (Tmall order lines/s)",
            f"{rx / rc:.2f} (.xlsx {rx:,.0f}/s, CSV {rc:,.0f}/s)", rx >= XLSX_TARGET * rc)
    return ["| target | this run | |", "| --- | ---: | --- |"] + rows + [""]


def report_md(res: dict) -> str:
    e, g = res["environment"], res["generation"]
    checks = res["checks"]
    lines = [f"# siyu benchmark, {res['orders']:,} order lines", "",
             f"Run {res['started']} (UTC) on {e['cpu']}, {e['cores']} cores, {e['memory']}; {e['os']}; "
             f"load average {e.get('load_before', 0):.2f} at the start.",
             f"siyu {e['git']}, {e['swift']}; Python {e['python']}, DuckDB {e['duckdb']}, pandas {e['pandas']}, "
             f"numpy {e['numpy']}.", "",
             table(res), "",
             "- *order lines*: Tmall rows + JD SKU rows + Youzan rows that `generate.py --orders N` writes "
             "(the year's exports also hold a re-export of June-July Tmall orders, a re-delivered file, follower "
             f"and spend files: siyu read {fmt_int(res['rows_read'])} rows in all). The nightly increment adds "
             f"{fmt_int(res['day_lines'])} order lines (one day) to the year already in the warehouse; its "
             "order lines/s counts only those new lines.",
             "- *siyu/peer*: siyu's seconds (or peak RSS) divided by the peer's: above 1 means siyu takes longer "
             "(or more memory). The last row compares siyu's increment with the DuckDB peer, which has no "
             "incremental mode and recomputes everything from the files.",
             (f"- Each run was repeated {res['repeat']} times: seconds are the median run's, with the fastest and "
              "slowest in parentheses; its RSS and CPU are shown." if res["repeat"] > 1 else
              "- Each number is from a single run (`--repeat K` reports the median of K)."),
             "- *peak RSS*: maximum resident set size of the child process; *CPU s*: its user + system "
             "seconds (both from wait4 rusage). DuckDB uses every core by default; siyu and pandas mostly one.",
             f"- Checks: {'; '.join(checks['messages']) if checks['messages'] else 'all passed'}.",
             f"- Data: generated in {g['year_seconds']:.1f} s (year, peak {g['year_peak_rss_mb']:.0f} MB) + "
             f"{g['day_seconds']:.1f} s (next day)"
             + (f" + {g['xlsx_seconds']:.1f} s (the Tmall order reports again as .xlsx, peak "
                f"{g['xlsx_peak_rss_mb']:.0f} MB, {g.get('xlsx_bytes', 0) / 1e6:.0f} MB)" if g.get("xlsx_seconds") and "ingest_xlsx" in res["runs"] else "")
             + f"{' (cached from an earlier run)' if g.get('cached') else ''}; "
             f"{g.get('year_bytes', 0) / 1e6:.0f} MB of CSV.",
             "- *siyu ingest* rows: `siyu ingest` alone on a pipeline holding only the year's Tmall order reports "
             "(a fresh warehouse each time), once as the CSVs and once as the same orders in 千牛 workbooks "
             "(`generate.py --tmall-format xlsx`); order lines/s of the two give the workbook target below."
             if "ingest_xlsx" in res["runs"] else "", ""]
    lines += targets(res)
    stages = res["runs"].get("siyu_full", {}).get("stages")
    if stages:
        lines.append("siyu stage seconds (manifest.json): full " +
                     ", ".join(f"{k} {v:.1f}" for k, v in stages.items()) + "; nightly " +
                     ", ".join(f"{k} {v:.1f}" for k, v in res["runs"].get("siyu_nightly", {}).get("stages", {}).items()))
        lines.append("")
    for key, label in (("siyu_full", "full rebuild"), ("siyu_nightly", "nightly increment")):
        m = res["runs"].get(key, {}).get("models")
        if m:
            lines.append(f"customer models, {label}: {m.get('fits_fitted', 0):.0f} fits made and {m.get('fits_reused', 0):.0f} reused "
                         f"in {m.get('fits_fit_seconds', 0):.2f} s (reading the summary {m.get('fits_read_seconds', 0):.2f} s, "
                         f"prediction_check {m.get('fits_check_seconds', 0):.2f} s); predictions for "
                         f"{m.get('predictions_customers', 0):,.0f} customers ({m.get('predictions_patterns', 0):,.0f} distinct histories) "
                         f"in {m.get('predictions_seconds', 0):.2f} s")
    for key in sorted(k for k in res["runs"] if k.startswith("spark_")):
        sm = res["runs"][key]
        sp = sm.get("spark") or {}
        if sp:
            secs = ", ".join(f"{k} {v:.1f}" for k, v in sp.get("seconds", {}).items())
            lines.append(f"Spark engine, {sm.get('master', key)}: job {sp.get('job_seconds', 0):.1f} s ({secs}; identity closure "
                         f"{sp.get('closure_rounds', '?')} rounds), load into the client warehouse {sp.get('load_seconds', 0):.1f} s; "
                         f"stages after it: " + ", ".join(f"{k} {v:.1f}" for k, v in (sm.get("stages") or {}).items()
                                                          if k not in ("ingest", "clean")) +
                         f"; {sp.get('files', 0)} files, {sp.get('orders', 0):,} orders, {sp.get('linked_nodes', 0):,} linked identities"
                         + (f"; shuffle written {sm['shuffle']['shuffle_write_bytes'] / 1e6:,.0f} MB ({sm['shuffle']['shuffle_records_written']:,} records), "
                            f"read {sm['shuffle']['shuffle_read_bytes'] / 1e6:,.0f} MB over {sm['shuffle']['tasks']:,} tasks"
                            if sm.get("shuffle", {}).get("tasks") else "") + ". "
                         "Its peak RSS is the largest single process of the run (wait4: siyu, spark-submit's JVM or a worker).")
    lines.append("")
    return "\n".join(lines)


def summarize(samples: list) -> dict:
    """The median run by wall seconds (its RSS, CPU and stages), with every sample kept."""
    order = sorted(samples, key=lambda r: r["seconds"])
    med = dict(order[(len(order) - 1) // 2])
    med["samples"] = [{k: r[k] for k in ("seconds", "peak_rss_mb", "user_seconds", "sys_seconds")} for r in samples]
    med["min_seconds"], med["max_seconds"] = order[0]["seconds"], order[-1]["seconds"]
    return med


def models_of(log_path: str) -> dict:
    """The customer models' timings from a run's log ("customer models" and "customer
    predictions" lines: fits made and reused, seconds to read, fit, check and predict)."""
    out = {}
    try:
        with open(log_path, errors="replace") as f:
            for line in f:
                if "customer models" in line or "customer predictions" in line:
                    kind = "fits" if "customer models" in line else "predictions"
                    for k, v in re.findall(r"(\w+)=([0-9.]+)", line):
                        if k in ("fitted", "reused", "customers", "patterns") or k.endswith("seconds"):
                            out[f"{kind}_{k}"] = float(v)
    except OSError:
        pass
    return out


def stages_of(out_dir: str) -> dict:
    try:
        with open(os.path.join(out_dir, "manifest.json")) as f:
            m = json.load(f)
        return {s["stage"]: s["seconds"] for s in m.get("stages", [])}
    except (OSError, ValueError, KeyError):
        return {}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=int(os.environ.get("BENCH_ORDERS", "1000000")))
    ap.add_argument("--seed", type=int, default=20241101)
    ap.add_argument("--regen", action="store_true", help="generate the data again even if cached")
    ap.add_argument("--example", action="store_true", help="also write bench/results/example.md and .json")
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "1")),
                    help="run every measurement this many times and report the median (default 1)")
    ap.add_argument("--skip-duckdb", action="store_true")
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--skip-spark", action="store_true", help="do not run the Spark engine (siyu run --engine spark)")
    ap.add_argument("--spark-masters", default=os.environ.get("BENCH_SPARK_MASTERS", "local[2]"),
                    help="comma-separated Spark masters to run the year on (e.g. local[1],local[2]); each is compared with the full rebuild")
    ap.add_argument("--spark-driver-memory", default=os.environ.get("BENCH_SPARK_DRIVER_MEMORY", "4g"))
    ap.add_argument("--skip-xlsx", action="store_true",
                    help="do not generate the Tmall workbooks nor time their ingest (the workbook target is not reported)")
    a = ap.parse_args(argv)
    if not os.path.exists(SIYU):
        raise SystemExit(f"bench: {SIYU} is missing: swift build -c release --product siyu (or bash bench/run.sh)")
    started = dt.datetime.now(dt.timezone.utc)
    env = environment()  # now: the build that run.sh just made is this commit (+ working tree)
    env["load_before"] = os.getloadavg()[0]
    base = os.path.join(ROOT, "build", "bench", f"n{a.orders}")
    gen = generate(base, a.orders, a.seed, a.regen)
    if not a.skip_xlsx:
        gen = generate_xlsx(base, a.orders, a.seed, a.regen, gen)
    year, day = os.path.join(base, "year"), os.path.join(base, "day1")
    year_toml, night_toml = os.path.join(base, "year.toml"), os.path.join(base, "nightly.toml")
    pipeline_toml(year_toml, "bench", [year])
    pipeline_toml(night_toml, "bench", [year, day])
    lines = a.orders  # generate.py writes exactly this many order lines (plus the re-exported months)
    day_lines = gen.get("day_lines") or sum(count_records(day).values())
    rel = lambda p: os.path.relpath(p, ROOT)  # noqa: E731
    wdir = os.path.join(base, "siyu")
    shutil.rmtree(wdir, ignore_errors=True)
    os.makedirs(wdir)
    wh = os.path.join(wdir, "warehouse.sqlite")
    py = sys.executable

    samples: dict[str, list] = {}

    def measure(key, label, cmd, n_lines, ok_codes=(0,), log_path=None, out_dir=None):
        log(f"{label} …")
        r = run(cmd, ok_codes=ok_codes, log_path=log_path)
        r["order_lines"] = n_lines
        if out_dir and key.startswith(("siyu", "spark")):
            r["stages"] = stages_of(out_dir)
        if log_path and key.startswith("siyu"):
            r["models"] = models_of(log_path)
        samples.setdefault(key, []).append(r)
        log(f"  {r['seconds']:.1f} s, {r['peak_rss_mb']:.0f} MB")

    def ingest_rate(tag):
        """siyu ingest of the Tmall order reports as CSV and as .xlsx, each into a fresh warehouse;
        stops the bench when the workbooks are not landed like the CSVs."""
        tmall_lines = gen.get("tmall_lines") or count_records(year)["tmall"]
        got = {}
        for key, toml, label in (("ingest_csv", csv_toml, "CSV"), ("ingest_xlsx", xlsx_toml, ".xlsx")):
            wh_i = os.path.join(wdir, key + ".sqlite")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(wh_i + suffix):
                    os.remove(wh_i + suffix)
            measure(key, f"siyu ingest of the Tmall order reports ({label}){tag}",
                    [SIYU, "ingest", "--quiet", "--pipeline", rel(toml), "--warehouse", rel(wh_i)],
                    tmall_lines, (0, 2), os.path.join(wdir, key + ".log"))
            got[key] = landed(wh_i)
        c, x = got["ingest_csv"], got["ingest_xlsx"]
        if c["rejected"] or c["rows_landed"] != tmall_lines:
            raise SystemExit(f"bench: siyu ingest of the Tmall CSVs landed {c['rows_landed']:,} rows, expected "
                             f"{tmall_lines:,} ({len(c['rejected'])} files rejected; see {rel(wdir)}/ingest_csv.log)")
        if x["rejected"] or x["rows_landed"] != c["rows_landed"]:
            first = f"; first: {x['rejected'][0][0]}: {x['rejected'][0][1]}" if x["rejected"] else ""
            raise SystemExit(
                f"bench: siyu did not ingest the Tmall order reports as .xlsx like the same orders as CSV: "
                f"{x['rows_landed']:,} rows landed from {x['files_landed']} workbooks, {len(x['rejected'])} "
                f"rejected{first} (CSV: {c['rows_landed']:,} rows). Does this siyu read .xlsx yet (the "
                f"workbook reader must be merged)? Run the bench with --skip-xlsx to measure the rest; "
                f"log: {rel(wdir)}/ingest_xlsx.log")

    if not a.skip_xlsx:
        csv_toml, xlsx_toml = os.path.join(base, "ingest-csv.toml"), os.path.join(base, "ingest-xlsx.toml")
        ingest_toml(csv_toml, os.path.join(year, "tmall"), "ExportOrderList*.csv")
        ingest_toml(xlsx_toml, os.path.join(base, "year-xlsx", "tmall"), "ExportOrderList*.xlsx")

    problems = []
    peers = [] if a.skip_duckdb else [("duckdb", "peer_duckdb.py")]
    peers += [] if a.skip_pandas else [("pandas", "peer_pandas.py")]
    for rep in range(1, a.repeat + 1):
        tag = f" [{rep}/{a.repeat}]" if a.repeat > 1 else ""
        if not a.skip_xlsx:
            ingest_rate(tag)  # first: a siyu that cannot read workbooks stops the bench at once
        full_out, night_out = os.path.join(wdir, "full"), os.path.join(wdir, "nightly")
        measure("siyu_full", f"siyu full rebuild on {lines:,} order lines{tag}",
                [SIYU, "run", "--full", "--pipeline", rel(year_toml), "--warehouse", rel(wh),
                 "--output", rel(full_out)], lines, (0, 2), os.path.join(wdir, "full.log"), full_out)
        measure("siyu_nightly", f"siyu nightly increment (+{day_lines:,} order lines){tag}",
                [SIYU, "run", "--pipeline", rel(night_toml), "--warehouse", rel(wh),
                 "--output", rel(night_out)], day_lines, (0, 2), os.path.join(wdir, "nightly.log"), night_out)
        for key, script in peers:
            out = os.path.join(base, key)
            shutil.rmtree(out, ignore_errors=True)
            measure(key, f"{key} peer{tag}", [py, os.path.join(ROOT, "bench", script), "--pipeline", rel(year_toml),
                                               "--out", rel(out)], lines, log_path=out + ".log")
            if rep == 1:
                problems += same(out, full_out, key)
        if not a.skip_spark and rep == 1:
            for master in [m.strip() for m in a.spark_masters.split(",") if m.strip()]:
                key = "spark_" + re.sub(r"[^a-z0-9]+", "", master.lower())
                out = os.path.join(wdir, key)
                toml = os.path.join(wdir, key + ".toml")
                with open(year_toml, encoding="utf-8") as f:
                    text = f.read()
                events = os.path.join(wdir, key + "-events")
                shutil.rmtree(events, ignore_errors=True)
                os.makedirs(events)
                with open(toml, "w", encoding="utf-8") as f:
                    f.write(text + f'\n[spark]\ndriver_memory = "{a.spark_driver_memory}"\n[spark.conf]\n'
                            f'"spark.eventLog.enabled" = "true"\n"spark.eventLog.dir" = "file://{events}"\n'
                            '"spark.eventLog.compress" = "false"\n')
                measure(key, f"siyu run --engine spark --master {master} on {lines:,} order lines",
                        [SIYU, "run", "--engine", "spark", "--master", master, "--pipeline", rel(toml),
                         "--warehouse", rel(os.path.join(wdir, key + ".sqlite")), "--output", rel(out)],
                        lines, (0, 2), os.path.join(wdir, key + ".log"), out)
                samples[key][-1]["master"] = master
                try:
                    with open(os.path.join(out, "manifest.json")) as f:
                        samples[key][-1]["spark"] = json.load(f).get("spark", {})
                except (OSError, ValueError):
                    pass
                samples[key][-1]["shuffle"] = shuffle_of(events)
                problems += same_all(out, full_out, f"spark {master}")
        if not a.skip_duckdb:
            out = os.path.join(base, "duckdb_nightly")
            shutil.rmtree(out, ignore_errors=True)
            measure("duckdb_nightly", f"duckdb peer on year + day (checks the increment){tag}",
                    [py, os.path.join(ROOT, "bench", "peer_duckdb.py"), "--pipeline", rel(night_toml), "--out", rel(out)],
                    lines + day_lines, log_path=out + ".log")
            if rep == 1:
                problems += same(out, night_out, "duckdb on year + day vs siyu nightly")
    runs = {k: summarize(v) for k, v in samples.items()}

    if problems:
        messages = ["FAILED: " + p.splitlines()[0] for p in problems]
    else:
        compared = [k for k in ("duckdb", "pandas") if k in runs]
        ok = (f"{' and '.join(compared)}: cohort_repurchase.csv and channel_cpa.csv byte-identical to siyu's "
              "full rebuild" if compared else "no peer ran")
        sparks = [runs[k].get("master", k) for k in runs if k.startswith("spark_")]
        if sparks:
            ok += f"; the Spark engine ({', '.join(sparks)}): every CSV byte-identical to the embedded full rebuild"
        if "duckdb_nightly" in runs:
            ok += "; DuckDB on year + day byte-identical to siyu's nightly increment"
        messages = [ok]
    rows_read = 0
    try:
        with open(os.path.join(wdir, "full", "manifest.json")) as f:
            rows_read = next(s["rows_in"] for s in json.load(f)["stages"] if s["stage"] == "ingest")
    except (OSError, ValueError, KeyError, StopIteration):
        pass
    res = {"orders": a.orders, "seed": a.seed, "repeat": a.repeat, "rows_read": rows_read, "started": started.strftime("%Y-%m-%d %H:%M:%S"),
           "day_lines": day_lines, "order_lines": lines, "environment": env, "generation": gen,
           "runs": runs, "checks": {"passed": not problems, "messages": messages, "details": problems}}
    md = report_md(res)
    print(md)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    names = [stamp] + (["example"] if a.example else [])
    for n in names:
        with open(os.path.join(ROOT, "bench", "results", n + ".md"), "w", encoding="utf-8") as f:
            f.write(md)
        with open(os.path.join(ROOT, "bench", "results", n + ".json"), "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1, ensure_ascii=False)
    log(f"results: bench/results/{stamp}.md and .json" + (" (and example.*)" if a.example else ""))
    if problems:
        print("\nBENCH CHECK FAILED: a peer disagrees with siyu\n", file=sys.stderr)
        for p in problems:
            print(p, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
