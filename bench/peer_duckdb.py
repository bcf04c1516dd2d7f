#!/usr/bin/env python3
"""Benchmark peer: siyu's cohort_repurchase.csv and channel_cpa.csv computed with DuckDB.

    python3 bench/peer_duckdb.py --pipeline P.toml --out DIR [--threads N] [--temp DIR]

Reads the same export files the pipeline file names (paths relative to the working directory).
Python only lists the files, hashes them (re-deliveries are skipped by sha256), decodes GBK /
UTF-8-BOM and detects each file's format from its header: DuckDB cannot read GBK without an
extension that has to be downloaded, so GBK files are re-encoded to UTF-8 temporary files. Every
row is then read by DuckDB's CSV reader, and all row-level work is SQL: cell cleaning (="…", ',
placeholders), money to integer fen, timestamps, mobiles, JD per-SKU folding with order-level
amounts once, newest observation wins, qualifying orders, identity linking (connected components
by label propagation over record-node edges), acquisition platform and first-touch channel, and
both aggregations. Python formats the few hundred output rows (bench/peer_common.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402


def lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


TRIM = "chr(32)||chr(9)||chr(12288)||chr(160)||chr(13)||chr(10)"


def one_of(expr: str, values: list) -> str:
    """expr = v1 OR expr = v2 …: an OR chain, because DuckDB 2.0 evaluates `x IN (constants)` in a
    projection over a stack of projections much more slowly (20x here)."""
    return "(" + " OR ".join(f"{expr} = {v if isinstance(v, int) else lit(v)}" for v in values) + ")"


class Layers:
    """Row-wise SQL built as stacked projections, so that every intermediate value is computed once
    (SQL macros would be expanded textually and repeat their arguments many times over)."""

    def __init__(self, base: str):
        self.base = base
        self.levels: list[list[tuple[str, str]]] = []

    def add(self, level: int, name: str, expr: str) -> str:
        while len(self.levels) <= level:
            self.levels.append([])
        self.levels[level].append((name, expr))
        return name

    def sql(self) -> str:
        q = self.base
        for cols in self.levels:
            if cols:
                q = f"SELECT *, {', '.join(f'{e} AS {n}' for n, e in cols)} FROM ({q})"
        return q

    # siyu Values.clean: trim, unwrap ="…", drop a leading ' (then trim again). Levels at..at+2.
    def clean(self, col: str, at: int = 0) -> str:
        t0 = self.add(at, f"{col}_t0", f"trim(coalesce({col}, ''), {TRIM})")
        t1 = self.add(at + 1, f"{col}_t1",
                      f"CASE WHEN length({t0}) >= 3 AND starts_with({t0}, '=\"') AND ends_with({t0}, '\"') "
                      f"THEN trim(substr({t0}, 3, length({t0}) - 3), {TRIM}) ELSE {t0} END")
        q = "''''"
        return self.add(at + 2, f"{col}_c",
                        f"CASE WHEN starts_with({t1}, {q}) THEN trim(substr({t1}, 2), {TRIM}) ELSE {t1} END")

    # Values.text: NULL when empty or a placeholder. One level.
    def txt(self, v: str, at: int) -> str:
        return self.add(at, f"{v}_x",
                        f"CASE WHEN {one_of(v, [''] + pc.PLACEHOLDERS)} THEN NULL ELSE {v} END")

    # Values.fen: money to fen; NULL when not a money amount. Levels at..at+3.
    def fen(self, v: str, at: int) -> str:
        w = self.add(at, f"{v}_w", f"trim(replace(replace(replace(replace({v}, '￥', ''), '¥', ''), ',', ''), '，', ''), {TRIM})")
        paren = f"(starts_with({w}, '(') AND contains({w}, ')'))"
        neg = self.add(at + 1, f"{v}_neg", f"({paren} OR starts_with({w}, '-'))")
        body = self.add(at + 1, f"{v}_body", f"CASE WHEN {paren} OR starts_with({w}, '-') OR starts_with({w}, '+') "
                                              f"THEN substr({w}, 2) ELSE {w} END")
        m = self.add(at + 2, f"{v}_m", f"regexp_extract({body}, '^([0-9]*)(?:\\.([0-9]*))?', ['i', 'f'])")
        val = (f"(coalesce(try_cast(nullif({m}.i, '') AS BIGINT), 0) * 100"
               f" + CASE WHEN length({m}.f) >= 1 THEN ascii({m}.f[1]) - 48 ELSE 0 END * 10"
               f" + CASE WHEN length({m}.f) >= 2 THEN ascii({m}.f[2]) - 48 ELSE 0 END"
               f" + CASE WHEN length({m}.f) >= 3 AND {m}.f[3] >= '5' THEN 1 ELSE 0 END)")
        return self.add(at + 3, f"{v}_fen",
                        f"CASE WHEN {one_of(v, ['', '——', '—', 'N/A', 'null', '-', '--'])} THEN 0 "
                        f"WHEN contains({v}, 'E+') OR contains({v}, 'e+') OR ({m}.i = '' AND {m}.f = '') THEN NULL "
                        f"WHEN {neg} THEN -{val} ELSE {val} END")

    # Values.localTime: seconds since 1970-01-01 local wall time; NULL when not a time. Levels at..at+4.
    def ltime(self, v: str, at: int) -> str:
        ok = self.add(at, f"{v}_ok",
                      f"(regexp_full_match({v}, '[0-9/: T.\\-]*') AND NOT regexp_matches({v}, '[0-9]{{9}}'))")
        parts = self.add(at, f"{v}_p", f"regexp_extract_all({v}, '[0-9]+')")
        n = self.add(at + 1, f"{v}_n", f"CASE WHEN len({parts}) = 1 AND length({parts}[1]) = 8 "
                                        f"THEN [{parts}[1][1:4], {parts}[1][5:6], {parts}[1][7:8]] ELSE {parts} END")
        names = ["y", "mo", "d", "h", "mi", "s"]
        for i, nm in enumerate(names):
            self.add(at + 2, f"{v}_{nm}", f"coalesce(try_cast({n}[{i + 1}] AS BIGINT), 0)")
        y, mo, d, h, mi, sec = (f"{v}_{nm}" for nm in names)
        leap = f"(({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0)"
        dim = (f"CASE WHEN {mo} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
               f"WHEN {one_of(mo, [4, 6, 9, 11])} THEN 30 ELSE 31 END")
        valid = self.add(at + 2, f"{v}_valid", f"({ok} AND len({n}) BETWEEN 3 AND 7)")
        valid2 = self.add(at + 3, f"{v}_valid2",
                          f"({valid} AND {y} BETWEEN 1990 AND 2100 AND {mo} BETWEEN 1 AND 12 AND {d} >= 1 "
                          f"AND {d} <= {dim} AND {h} < 24 AND {mi} < 60 AND {sec} < 61)")
        yy = self.add(at + 3, f"{v}_yy", f"CASE WHEN {mo} <= 2 THEN {y} - 1 ELSE {y} END")
        mp = self.add(at + 3, f"{v}_mp", f"(({mo} + 9) % 12)")
        # H. Hinnant's days_from_civil (years >= 1990 here, so no negative eras)
        days = (f"(({yy} // 400) * 146097 + ({yy} % 400) * 365 + ({yy} % 400) // 4 - ({yy} % 400) // 100"
                f" + (153 * {mp} + 2) // 5 + {d} - 1 - 719468)")
        return self.add(at + 4, f"{v}_ts", f"CASE WHEN {valid2} THEN {days} * 86400 + {h} * 3600 + {mi} * 60 "
                                           f"+ least({sec}, 59) END")

    # Values.mobile: 11 digits starting with 1, or NULL. Levels at..at+2.
    def mobile(self, v: str, at: int) -> str:
        dg = self.add(at, f"{v}_dg", f"regexp_replace({v}, '[^0-9]', '', 'g')")
        ok = self.add(at, f"{v}_mok",
                      f"({v} <> '' AND NOT contains({v}, '*') AND regexp_full_match({v}, '[0-9+() \\-]*'))")
        nm = self.add(at + 1, f"{v}_nm", f"CASE WHEN length({dg}) = 13 AND starts_with({dg}, '86') THEN substr({dg}, 3) "
                                          f"WHEN length({dg}) = 15 AND starts_with({dg}, '0086') THEN substr({dg}, 5) "
                                          f"ELSE {dg} END")
        return self.add(at + 2, f"{v}_mob",
                        f"CASE WHEN {ok} AND length({nm}) = 11 AND starts_with({nm}, '1') THEN {nm} END")


def rule_case(rules: list, target: str, fields: list, default: str = "NULL") -> str:
    whens = []
    for r in rules:
        if target not in r.on:
            continue
        conds = []
        for f in fields:
            if r.equals:
                conds.append(one_of(f, r.equals))
            conds += [f"contains({f}, {lit(c)})" for c in r.contains if c]
        if conds:
            whens.append(f"WHEN {' OR '.join('coalesce(' + c + ', false)' for c in conds)} THEN {lit(r.channel)}")
    if not whens:
        return default
    return f"CASE {' '.join(whens)} ELSE {default} END"


class Peer:
    def __init__(self, pipe: pc.Pipeline, threads: int | None, temp: str):
        self.pipe = pipe
        self.per = pc.Periods(pipe.period)
        self.con = duckdb.connect(config={"preserve_insertion_order": True})
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.temp = temp
        self.con.execute(f"SET temp_directory = {lit(os.path.join(temp, 'duckdb'))}")
        self.timings = {}

    def sql(self, q: str, *params):
        return self.con.execute(q, list(params) if params else None)

    # -- load ----------------------------------------------------------------------------------------

    def load(self):
        t0 = time.time()
        self.sql("""CREATE TABLE files(file_id INT, name VARCHAR, kind VARCHAR, platform VARCHAR, source VARCHAR,
                        export_key VARCHAR, key_day INT, has_date BOOLEAN, obs INT)""")
        oc = ["order_id", "buyer", "status", "paid", "refund", "pay_time", "created_time", "order_type",
              "ph1", "ph2", "ph3", "pr1", "pr2"]
        self.sql(f"CREATE TABLE raw_orders(file_id INT, {', '.join(c + ' VARCHAR' for c in oc)})")
        fc = ["openid", "unionid", "subscribe_time", "scene", "qr_scene", "qr_scene_str", "mobile"]
        self.sql(f"CREATE TABLE raw_follow(file_id INT, {', '.join(c + ' VARCHAR' for c in fc)})")
        sc = ["date", "campaign", "spend"]
        self.sql(f"CREATE TABLE raw_spend(file_id INT, {', '.join(c + ' VARCHAR' for c in sc)})")
        files = []
        for inp in pc.iter_inputs(self.pipe):
            if inp.error:
                print(f"peer_duckdb: skipped {inp.path}: {inp.error}", file=sys.stderr)
                continue
            files.append(inp)
            src, lay = inp.source, inp.layout
            path = inp.path
            if inp.encoding == "GB18030":  # DuckDB reads UTF-8 only: re-encode into a temporary file
                path = os.path.join(self.temp, f"f{inp.file_id}.csv")
                with open(path, "w", encoding="utf-8", newline="") as f:
                    f.write(inp.text)
            inp.text = None
            cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(lay.ncols)) + "}"
            reader = (f"read_csv({lit(path)}, header=false, skip={inp.header_lines}, columns={cols}, "
                      f"auto_detect=false, delim=',', quote='\"', escape='\"', parallel=false, "
                      f"ignore_errors=true, null_padding=false)")

            def single(k):
                return f"c{lay.single[k]}" if k in lay.single else "NULL"

            def multi(k, i):
                m = lay.multi.get(k, [])
                return f"c{m[i]}" if i < len(m) else "NULL"
            if src.kind in pc.ORDER_KINDS:
                table = "raw_orders"
                sel = [single(k) for k in oc[:8]] + [multi("phone", i) for i in range(3)] + \
                      [multi("promo", i) for i in range(2)]
                if len(lay.multi.get("phone", [])) > 3 or len(lay.multi.get("promo", [])) > 2:
                    raise SystemExit("peer_duckdb: more phone/promo columns than supported")
            elif src.kind == "followers":
                table = "raw_follow"
                sel = [single(k) for k in ["openid", "unionid", "subscribe_time", "scene", "qr_scene",
                                           "qr_scene_str", "mobile"]]
            else:
                table = "raw_spend"
                sel = [single(k) for k in sc]
            self.sql(f"INSERT INTO {table} SELECT {inp.file_id}, {', '.join(sel)} FROM {reader}")
            if path != inp.path:
                os.remove(path)
            self.sql("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                     inp.file_id, inp.name, src.kind, src.platform, src.name, inp.export_key,
                     pc.key_day(inp.export_key), "date" in lay.single)
        pc.assign_obs(files)
        self.sql("CREATE TABLE obs_rank(file_id INT, obs INT)")
        self.con.executemany("INSERT INTO obs_rank VALUES (?, ?)", [(f.file_id, f.obs) for f in files])
        self.sql("UPDATE files SET obs = obs_rank.obs FROM obs_rank WHERE files.file_id = obs_rank.file_id")
        self.timings["load"] = time.time() - t0

    # -- clean: orders, follows, spend ------------------------------------------------------------------

    def clean(self):
        t0 = time.time()
        jd_paid = one_of("status_n", ["等待出库", "等待确认收货", "完成", "已完成", "配送中", "已发货", "等待发货"])
        # One row per order line, typed; rows siyu would quarantine (bad id, amount, time) are dropped.
        L = Layers("SELECT r.rowid AS rid, r.*, f.obs, f.kind, f.platform FROM raw_orders r JOIN files f USING (file_id)")
        c = {col: L.clean(col) for col in ["order_id", "buyer", "status", "paid", "refund", "pay_time", "created_time",
                                           "order_type", "ph1", "ph2", "ph3", "pr1", "pr2"]}
        buyer, pr1, pr2, otype = (L.txt(c[k], 3) for k in ("buyer", "pr1", "pr2", "order_type"))
        pay_t, cr_t = L.txt(c["pay_time"], 3), L.txt(c["created_time"], 3)
        paid0, refund0 = L.fen(c["paid"], 3), L.fen(c["refund"], 3)
        pay0, cr_ts = L.ltime(pay_t, 4), L.ltime(cr_t, 4)
        m1, m2, m3 = (L.mobile(c[k], 3) for k in ("ph1", "ph2", "ph3"))
        oid, status, refund_c = c["order_id"], c["status"], c["refund"]
        L.add(3, "status_n", f"regexp_replace(replace({status}, '，', ','), "
                             "'^(\\(删除\\))?(（删除）)?(\\(锁定\\))?(（锁定）)?', '')")
        L.add(9, "pay_ts", f"CASE WHEN {pay0} IS NULL AND kind = 'jd' AND {jd_paid} "
                           f"THEN {cr_ts} ELSE {pay0} END")
        self.sql(f"""
        CREATE TABLE ord_rows AS
        SELECT rid, file_id, obs, platform, {oid} AS oid, {buyer} AS buyer, {pr1} AS pr1, {pr2} AS pr2,
               coalesce(contains({otype}, '测试'), false) AS is_test, {m1} AS m1, {m2} AS m2, {m3} AS m3,
               pay_ts, CASE WHEN pay_ts IS NULL THEN 0 ELSE {paid0} END AS paid, coalesce({refund0}, 0) AS refund
        FROM ({L.sql()})
        WHERE {oid} <> ''
          AND NOT ((contains(upper({oid}), 'E+') AND contains({oid}, '.'))
                   OR regexp_full_match(upper({oid}), '[0-9.]+E\\+?[0-9]+'))
          AND {paid0} IS NOT NULL
          AND ({refund0} IS NOT NULL OR NOT regexp_matches({refund_c}, '[0-9]'))
          AND ({pay_t} IS NULL OR {pay0} IS NOT NULL)
          AND ({cr_t} IS NULL OR {cr_ts} IS NOT NULL)
        """)
        self.timings["clean_rows"] = time.time() - t0
        # Fold item lines: per (order, file) the first row gives the order-level fields; then the
        # newest observation (file with the highest obs rank) wins.
        self.sql("""
        CREATE TABLE orders AS
        WITH per_file AS (
            SELECT platform, oid, file_id, obs,
                   arg_min({'buyer': buyer, 'pr1': pr1, 'pr2': pr2, 'is_test': is_test, 'pay_ts': pay_ts,
                            'paid': paid, 'refund': refund}, rid) AS o
            FROM ord_rows GROUP BY platform, oid, file_id, obs)
        SELECT row_number() OVER () AS rec, platform, oid, w.file_id AS file_id, w.o.buyer AS buyer,
               w.o.pr1 AS pr1, w.o.pr2 AS pr2, w.o.is_test AS is_test, w.o.pay_ts AS pay_ts,
               w.o.paid AS paid, w.o.refund AS refund
        FROM (SELECT platform, oid, arg_max({'file_id': file_id, 'o': o}, obs) AS w
              FROM per_file GROUP BY platform, oid)
        """)
        n_orders = self.sql("SELECT count(*) FROM orders").fetchone()[0]
        # Follower records: every landed record links identity; one with a follow time is a follow.
        offs = self.follow_offsets()
        L = Layers("SELECT r.rowid AS rid, r.* FROM raw_follow r")
        c = {col: L.clean(col) for col in ["openid", "unionid", "subscribe_time", "scene", "qr_scene",
                                           "qr_scene_str", "mobile"]}
        x = {col: L.txt(c[col], 3) for col in ["openid", "unionid", "scene", "qr_scene", "qr_scene_str",
                                               "subscribe_time"]}
        mob = L.mobile(c["mobile"], 3)
        st = c["subscribe_time"]
        v = L.add(4, "v", f"CASE WHEN {x['subscribe_time']} IS NULL OR {st} = '0' THEN NULL ELSE {st} END")
        L.add(5, "is_unix", "regexp_full_match(v, '[0-9]{1,11}')")
        lt = L.ltime(v, 5)
        if isinstance(offs, int):
            unix_local = f"(v::BIGINT + {offs})"
        else:
            unix_local = "(v::BIGINT + (SELECT off FROM tzo WHERE tzo.h = v::BIGINT // 3600))"
        self.sql(f"""
        CREATE TABLE follows AS
        SELECT rid, file_id, {n_orders} + row_number() OVER (ORDER BY rid) AS rec,
               {x['openid']} AS openid, {x['unionid']} AS unionid, {mob} AS mobile, {x['scene']} AS scene,
               {x['qr_scene']} AS qr_scene, {x['qr_scene_str']} AS qr_scene_str,
               CASE WHEN v IS NULL THEN NULL WHEN is_unix THEN {unix_local} ELSE {lt} END AS follow_ts
        FROM ({L.sql()})
        WHERE {x['openid']} IS NOT NULL AND (v IS NULL OR is_unix OR {lt} IS NOT NULL)
        """)
        # Spend: dated rows, or 直通车 rows dated by the file name; total rows are not spend.
        spend_ch = rule_case(self.pipe.rules, "spend", ["campaign"], "'unmapped'")
        L = Layers("SELECT r.*, f.has_date, f.key_day FROM raw_spend r JOIN files f USING (file_id)")
        c = {col: L.clean(col) for col in ["date", "campaign", "spend"]}
        camp = L.txt(c["campaign"], 3)
        fen = L.fen(c["spend"], 3)
        dts = L.ltime(c["date"], 3)
        d = c["date"]
        self.sql(f"""
        CREATE TABLE spend AS
        SELECT day, {spend_ch} AS channel, fen FROM (
            SELECT CASE WHEN has_date THEN {dts} // 86400 ELSE key_day END AS day, {camp} AS campaign, {fen} AS fen
            FROM ({L.sql()})
            WHERE NOT (contains({d}, '合计') OR contains({d}, '汇总') OR contains({d}, '总计')
                       OR coalesce(starts_with({camp}, '合计') OR starts_with({camp}, '汇总'), false))
              AND {fen} IS NOT NULL)
        WHERE day IS NOT NULL
        """)
        self.timings["clean"] = time.time() - t0

    def follow_offsets(self):
        lo, hi = self.sql("""SELECT min(v), max(v) FROM (SELECT try_cast(trim(subscribe_time) AS BIGINT) v FROM raw_follow)
                             WHERE v IS NOT NULL""").fetchone()
        if lo is None:
            return 0
        offs = pc.tz_offsets(self.pipe.timezone, lo, hi)
        if isinstance(offs, list):
            self.sql("CREATE TABLE tzo(h BIGINT, off BIGINT)")
            self.con.executemany("INSERT INTO tzo VALUES (?, ?)", offs)
        return offs

    # -- identity ---------------------------------------------------------------------------------------

    def link(self):
        """Customers: connected components of records (orders, follower records) and identity nodes
        (platform account, full mobile, unionid, openid), by min-label propagation."""
        t0 = time.time()
        self.sql("""
        CREATE TABLE edges_s AS
        WITH phones AS (
            SELECT DISTINCT o.rec, m FROM orders o
            JOIN ord_rows r ON r.platform = o.platform AND r.oid = o.oid AND r.file_id = o.file_id,
            LATERAL (SELECT unnest([r.m1, r.m2, r.m3]) AS m)
            WHERE m IS NOT NULL),
        order_nodes AS (
            SELECT rec, 'acct:' || platform || ':' || buyer AS node FROM orders WHERE buyer IS NOT NULL
            UNION ALL SELECT rec, 'phone:' || m FROM phones),
        lonely AS (
            SELECT rec, 'order:' || platform || ':' || oid AS node FROM orders
            WHERE rec NOT IN (SELECT rec FROM order_nodes)),
        fol AS (SELECT rec, openid, unionid, mobile FROM follows)
        SELECT * FROM order_nodes UNION ALL SELECT * FROM lonely
        UNION ALL SELECT rec, 'openid:' || openid FROM fol
        UNION ALL SELECT rec, 'unionid:' || unionid FROM fol WHERE unionid IS NOT NULL
        UNION ALL SELECT rec, 'phone:' || mobile FROM fol WHERE mobile IS NOT NULL
        """)
        self.sql("CREATE TABLE nodes AS SELECT node, row_number() OVER () AS nid FROM (SELECT DISTINCT node FROM edges_s)")
        self.sql("CREATE TABLE edges AS SELECT e.rec, n.nid FROM edges_s e JOIN nodes n USING (node)")
        self.sql("CREATE TABLE lab AS SELECT nid, nid AS l FROM nodes")
        rounds = 0
        while True:
            rounds += 1
            self.sql("CREATE OR REPLACE TABLE rl AS SELECT e.rec, min(lab.l) AS l FROM edges e JOIN lab USING (nid) GROUP BY e.rec")
            # pointer jumping: a node's new label is the smallest label of its records, then of that label's node
            self.sql("""CREATE OR REPLACE TABLE lab2 AS
                        WITH m AS (SELECT e.nid, min(rl.l) AS l FROM edges e JOIN rl USING (rec) GROUP BY e.nid)
                        SELECT m.nid, least(m.l, coalesce(j.l, m.l)) AS l FROM m LEFT JOIN m j ON j.nid = m.l""")
            changed = self.sql("SELECT count(*) FROM lab2 JOIN lab USING (nid) WHERE lab2.l <> lab.l").fetchone()[0]
            self.sql("DROP TABLE lab; ALTER TABLE lab2 RENAME TO lab")
            if changed == 0:
                break
        self.sql("CREATE OR REPLACE TABLE rl AS SELECT e.rec, min(lab.l) AS l FROM edges e JOIN lab USING (nid) GROUP BY e.rec")
        self.timings["link"] = time.time() - t0
        self.timings["link_rounds"] = rounds

    # -- customers and outputs -------------------------------------------------------------------------

    def customers(self):
        t0 = time.time()
        p = self.pipe
        self.sql("""CREATE TABLE q AS
                    SELECT o.platform, o.oid, o.pay_ts, o.pay_ts // 86400 AS day, o.paid - o.refund AS net, rl.l AS comp,
                           o.pr1, o.pr2
                    FROM orders o JOIN rl USING (rec)
                    WHERE o.pay_ts IS NOT NULL AND o.paid - o.refund > 0 AND NOT o.is_test""")
        as_of = p.as_of if p.as_of is not None else self.sql("SELECT max(day) FROM q").fetchone()[0]
        if as_of is None:
            raise SystemExit("peer_duckdb: no qualifying orders")
        self.as_of = as_of
        order_ch = rule_case(p.rules, "order", ["pr1", "pr2"])
        follow_ch = rule_case(p.rules, "follow", ["scene", "qr_scene", "qr_scene_str"])
        plats = [r[0] for r in self.sql("SELECT DISTINCT platform FROM q").fetchall()]
        default_ch = "CASE " + " ".join(f"WHEN platform = {lit(x)} THEN {lit(p.default_channel(x))}"
                                        for x in plats) + " END"
        # First follow per openid (ties: ingest order); then the earliest fan of each component.
        self.sql("""CREATE TABLE fans AS
                    SELECT openid, arg_min({'ts': follow_ts, 'scene': scene, 'qr_scene': qr_scene,
                                            'qr_scene_str': qr_scene_str, 'rec': rec}, (follow_ts, file_id, rid)) AS f
                    FROM follows WHERE follow_ts IS NOT NULL GROUP BY openid""")
        self.sql("""CREATE TABLE comp_follow AS
                    SELECT comp, ff.ts AS follow_ts, ff.scene AS scene, ff.qr_scene AS qr_scene,
                           ff.qr_scene_str AS qr_scene_str
                    FROM (SELECT rl.l AS comp, arg_min(fans.f, (fans.f.ts, fans.openid)) AS ff
                          FROM fans JOIN rl ON rl.rec = fans.f.rec GROUP BY rl.l)""")
        # Acquisition: the first qualifying order (payment time, platform, order id); channel:
        # order rules, else follow rules for a follow strictly before it, else the platform default.
        self.sql(f"""CREATE TABLE cust AS
                    WITH first AS (
                        SELECT comp, f.platform AS platform, f.pay_ts AS pay_ts, f.pr1 AS pr1, f.pr2 AS pr2
                        FROM (SELECT comp, arg_min({{'platform': platform, 'pay_ts': pay_ts, 'pr1': pr1, 'pr2': pr2}},
                                                   (pay_ts, platform, oid)) AS f
                              FROM q GROUP BY comp))
                    SELECT comp, platform AS acq, pay_ts // 86400 AS first_day,
                           coalesce({order_ch},
                                    CASE WHEN follow_ts < pay_ts THEN {follow_ch} END,
                                    {default_ch}) AS channel
                    FROM first LEFT JOIN comp_follow USING (comp)""")
        self.sql(f"DELETE FROM cust WHERE first_day > {as_of}")
        self.sql(f"DELETE FROM q WHERE day > {as_of}")
        self.timings["customers"] = time.time() - t0

    def period_sql(self, day: str) -> str:
        if self.per.kind == "month":
            return f"(year(DATE '1970-01-01' + {day}::INTEGER) * 12 + month(DATE '1970-01-01' + {day}::INTEGER) - 1)"
        return f"(({day} + 3) // 7)"

    def cohort(self):
        t0 = time.time()
        P = self.period_sql
        self.sql(f"""CREATE TABLE cdays AS
                     SELECT c.comp, c.acq, {P('c.first_day')} AS cohort, c.first_day, q.day, sum(q.net) AS net
                     FROM cust c JOIN q USING (comp) GROUP BY ALL""")
        cells = pc.CohortCells()
        for plat, coh, n in self.sql("""SELECT coalesce(acq, 'all'), cohort, count(*) FROM
                                        (SELECT comp, acq, cohort FROM cdays GROUP BY ALL)
                                        GROUP BY GROUPING SETS ((acq, cohort), (cohort))""").fetchall():
            cells.members[(plat, coh)] = n
        for plat, coh, k, act, net in self.sql(f"""
                SELECT coalesce(acq, 'all'), cohort, k, count(*), sum(net) FROM
                  (SELECT comp, acq, cohort, {P('day')} - cohort AS k, sum(net) AS net FROM cdays GROUP BY ALL)
                GROUP BY GROUPING SETS ((acq, cohort, k), (cohort, k))""").fetchall():
            cells.active[(plat, coh, k)] = act
            cells.net[(plat, coh, k)] = int(net)
        for plat, coh, k, n in self.sql(f"""
                SELECT coalesce(acq, 'all'), cohort, {P('second')} - cohort AS k, count(*) FROM
                  (SELECT comp, acq, cohort, min(day) FILTER (WHERE day > first_day) AS second FROM cdays GROUP BY ALL)
                WHERE second IS NOT NULL
                GROUP BY GROUPING SETS ((acq, cohort, k), (cohort, k))""").fetchall():
            cells.second[(plat, coh, k)] = n
        self.platforms = sorted(r[0] for r in self.sql("SELECT DISTINCT platform FROM q").fetchall())
        first = self.sql("SELECT min(cohort) FROM cdays").fetchone()[0]
        rows = pc.cohort_rows(self.per, self.as_of, self.platforms, first, cells)
        self.timings["cohort"] = time.time() - t0
        return rows

    def cpa(self):
        t0 = time.time()
        P = self.period_sql
        w = self.pipe.window_days
        cells = {}
        for ch, per, new, first, rev, rep in self.sql(f"""
                SELECT c.channel, {P('c.first_day')}, count(*), sum(d.first_net), sum(d.win_net),
                       count(*) FILTER (WHERE d.second - c.first_day < {w}) FROM cust c JOIN
                  (SELECT comp, sum(net) FILTER (WHERE day = first_day) AS first_net,
                          sum(net) FILTER (WHERE day - first_day < {w}) AS win_net,
                          min(day) FILTER (WHERE day > first_day) AS second FROM cdays GROUP BY comp) d USING (comp)
                GROUP BY ALL""").fetchall():
            cells[(ch, per)] = [0, new, int(first or 0), int(rev or 0), int(rep or 0)]
        for ch, per, fen in self.sql(f"""SELECT channel, {P('day')}, sum(fen) FROM spend WHERE day <= {self.as_of}
                                          GROUP BY ALL""").fetchall():
            cells.setdefault((ch, per), [0, 0, 0, 0, 0])[0] = int(fen)
        channels = sorted({ch for ch, _ in cells})
        first = min((per for _, per in cells), default=None)
        rows = pc.cpa_rows(self.per, self.as_of, w, channels, first, {k: tuple(v) for k, v in cells.items()})
        self.timings["cpa"] = time.time() - t0
        return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ap.add_argument("--temp", help="directory for re-encoded files and DuckDB spill (default: a new temp dir)")
    a = ap.parse_args(argv)
    pipe = pc.load_pipeline(a.pipeline)
    temp = tempfile.mkdtemp(prefix="peer_duckdb_", dir=a.temp)
    try:
        peer = Peer(pipe, a.threads, temp)
        peer.load()
        peer.clean()
        peer.link()
        peer.customers()
        cohort = peer.cohort()
        cpa = peer.cpa()
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    os.makedirs(a.out, exist_ok=True)
    pc.write_csv(os.path.join(a.out, "cohort_repurchase.csv"), pc.COHORT_COLUMNS, cohort)
    pc.write_csv(os.path.join(a.out, "channel_cpa.csv"), pc.CPA_COLUMNS, cpa)
    t = peer.timings
    print("peer_duckdb: as_of=%s platforms=%s %s" % (pc.iso_day(peer.as_of), ",".join(peer.platforms),
          " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in t.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
