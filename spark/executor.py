#!/usr/bin/env python3
"""spark/executor.py: the executor side of the Spark spike (issue 18). NOT production code.

Runs siyu's own ingest + clean on ONE export file at a time and prints what siyu made of it as
JSON lines, so that a Spark job can call it through `RDD.pipe` (stdin: one task per line; stdout:
one record per line). The format knowledge (decoding, signatures, quirks, quarantine) stays in
siyu: this script only

  1. writes a one-file copy of the pipeline file (every [[source]] kept, in order, with its name,
     kind and settings; the file's own source reads just that file, the others an empty folder),
  2. runs `siyu ingest` and `siyu clean` on a scratch warehouse,
  3. dumps raw_files, raw_quarantine, stg_orders, stg_items, stg_follow_records, stg_spend.

Task (one JSON object per stdin line): {"task": n, "source": name, "path": file, "pipeline": toml,
"siyu": binary, "cwd": folder siyu runs in}.
Output lines: {"t": table, "task": n, "r": [columns...]}; a task's last line is
{"t": "_exit", "task": n, "r": [ingest_rc, clean_rc, stderr_tail, seconds]}.

The production form is a hidden Swift subcommand (`siyu _clean-file`) that does the same in one
process without the scratch SQLite file (see docs/spark-plan.md).
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

# The columns dumped, in order (file_id stays: it is always 1 in a one-file warehouse).
TABLES = {
    "raw_files": "SELECT source, kind, path, name, sha256, format, encoding, export_key, status, error, rows_read, "
                 "rows_landed, rows_quarantined, first_day, last_day, sheet FROM raw_files ORDER BY file_id",
    "raw_quarantine": "SELECT line, stage, reason, column_no, raw_text FROM raw_quarantine ORDER BY rowid",
    "stg_orders": "SELECT platform, order_id, source, line, buyer, phones, status_raw, status, paid_fen, refund_fen, "
                  "net_fen, created_ts, pay_ts, pay_day, promo, is_test, item_rows FROM stg_orders ORDER BY rowid",
    "stg_items": "SELECT platform, order_id, line, code, title, quantity, price_fen FROM stg_items ORDER BY rowid",
    "stg_follow_records": "SELECT line, openid, unionid, mobile, subscribe, follow_ts, scene, qr_scene, qr_scene_str "
                          "FROM stg_follow_records ORDER BY rowid",
    "stg_spend": "SELECT line, day, campaign, channel, spend_fen FROM stg_spend ORDER BY rowid",
}


def one_file_pipeline(text, source, path, empty):
    """The pipeline text with each [[source]]'s `files = [...]` replaced: `source` reads `path`
    only, every other source an empty folder. Only single-line `files` arrays are handled (the
    spike's limitation; the Swift subcommand will not need this rewrite)."""
    out, current = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            current = "" if stripped == "[[source]]" else None
        m = re.match(r'\s*name\s*=\s*"([^"]*)"', line)
        if current == "" and m:
            current = m.group(1)
        # ingest and clean never read the salt; the bundled sample's salt is refused outside
        # sample-data/, so the executor's copy gets a throwaway one
        if re.match(r"\s*salt\s*=", line):
            line = 'salt = "executor-%s"' % os.urandom(16).hex()
        if current is not None and re.match(r"\s*files\s*=", line):
            if not line.rstrip().endswith("]"):
                raise SystemExit("executor.py: a multi-line `files` array is not handled by the spike")
            target = path if current == source else os.path.join(empty, "*.none")
            line = "files = [%s]" % json.dumps(target, ensure_ascii=False)
        out.append(line)
    return "\n".join(out) + "\n"


def run_task(task):
    started = time.time()
    n = task["task"]
    work = tempfile.mkdtemp(prefix="siyu-exec-")
    try:
        empty = os.path.join(work, "empty")
        os.mkdir(empty)
        with open(task["pipeline"], encoding="utf-8") as f:
            text = f.read()
        toml = os.path.join(work, "one.toml")
        with open(toml, "w", encoding="utf-8") as f:
            f.write(one_file_pipeline(text, task["source"], os.path.abspath(os.path.join(task["cwd"], task["path"])), empty))
        wh = os.path.join(work, "w.sqlite")
        rcs, err = [], ""
        for stage in ("ingest", "clean"):
            p = subprocess.run([task["siyu"], stage, "--quiet", "--pipeline", toml, "--warehouse", wh],
                               cwd=task["cwd"], capture_output=True, text=True)
            rcs.append(p.returncode)
            err += p.stderr
            if p.returncode not in (0, 2):
                break
        if os.path.exists(wh):
            db = sqlite3.connect("file:%s?mode=ro" % wh, uri=True)
            for table, sql in TABLES.items():
                try:
                    rows = db.execute(sql)
                except sqlite3.OperationalError:
                    continue
                for r in rows:
                    yield {"t": table, "task": n, "r": list(r)}
            db.close()
        rcs += [None] * (2 - len(rcs))
        yield {"t": "_exit", "task": n, "r": rcs + [err[-2000:], round(time.time() - started, 3)]}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        for rec in run_task(json.loads(line)):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
