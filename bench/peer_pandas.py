#!/usr/bin/env python3
"""Benchmark peer: siyu's cohort_repurchase.csv and channel_cpa.csv computed with pandas.

    python3 bench/peer_pandas.py --pipeline P.toml --out DIR

Reads the same export files the pipeline file names (paths relative to the working directory):
Python lists the files, skips byte-identical re-deliveries (sha256) and decodes GBK / UTF-8-BOM
(bench/peer_common.py); each file is parsed by pandas.read_csv into a DataFrame. Everything
row-sized is pandas/numpy: cell cleaning (="…", ', placeholders), money to integer fen,
timestamps, mobiles, JD per-SKU folding with order-level amounts once, newest observation wins,
qualifying orders, identity linking (connected components by label propagation with groupby-min),
acquisition platform and first-touch channel, and both aggregations. Cell parsers run on each
column's distinct values and are mapped back (the usual pandas idiom for repetitive text).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as pc  # noqa: E402

TRIM = pc.TRIM_CHARS


# ----------------------------------------------------------------------------------------------
# Vectorised cell parsers (siyu Values), on Series of str
# ----------------------------------------------------------------------------------------------

def _clean(s: pd.Series) -> pd.Series:
    s = s.fillna("").astype(object).str.strip(TRIM)
    m = s.str.startswith('="') & s.str.endswith('"') & (s.str.len() >= 3)
    if m.any():
        s = s.where(~m, s.str[2:-1].str.strip(TRIM))
    m = s.str.startswith("'")
    if m.any():
        s = s.where(~m, s.str[1:].str.strip(TRIM))
    return s


def txt(s: pd.Series) -> pd.Series:
    """Values.text: None when empty or a placeholder."""
    return s.where(~s.isin([""] + pc.PLACEHOLDERS), None)


def on_uniques(fn):
    """Apply a vectorised parser to the distinct values of a column and map the results back."""
    def wrapped(s: pd.Series) -> pd.Series:
        codes, uniq = pd.factorize(s, use_na_sentinel=False)
        vals = fn(pd.Series(uniq, dtype=object))
        return pd.Series(np.asarray(vals, dtype=object)[codes], index=s.index)
    return wrapped


def clean(s: pd.Series) -> pd.Series:
    """Values.clean (trim, unwrap ="…", drop a leading '), on the column's distinct values."""
    return on_uniques(_clean)(s.fillna(""))


@on_uniques
def fen(v: pd.Series) -> pd.Series:
    """Values.fen on cleaned cells: fen as Python ints, None when not a money amount."""
    w = v
    for ch in ("￥", "¥", ",", "，"):
        w = w.str.replace(ch, "", regex=False)
    w = w.str.strip(TRIM)
    paren = w.str.startswith("(") & w.str.contains(")", regex=False)
    neg = paren | w.str.startswith("-")
    body = w.where(~(paren | w.str.startswith("-") | w.str.startswith("+")), w.str[1:])
    m = body.str.extract(r"^([0-9]*)(?:\.([0-9]*))?").fillna("")
    i, f = m[0], m[1]
    ival = pd.to_numeric(i.where(i != "", "0")).astype("int64")
    f1 = pd.to_numeric(f.str[0:1].where(f.str.len() >= 1, "0")).astype("int64")
    f2 = pd.to_numeric(f.str[1:2].where(f.str.len() >= 2, "0")).astype("int64")
    f3 = (f.str.len() >= 3) & (f.str[2:3] >= "5")
    val = ival * 100 + f1 * 10 + f2 + f3.astype("int64")
    val = val.where(~neg, -val)
    out = val.astype(object)
    out[(i == "") & (f == "")] = None
    out[w.str.contains("E+", regex=False) | w.str.contains("e+", regex=False)] = None
    out[v.isin(["", "——", "—", "N/A", "null", "-", "--"])] = 0
    return out


def days_from_civil(y, m, d):
    y = np.where(m <= 2, y - 1, y)
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


SEP = r"[-/: T.]"
TIME_RE = r"^" + SEP + r"*(\d+)" + "".join(r"(?:" + SEP + r"+(\d+))?" for _ in range(7))


@on_uniques
def ltime(v: pd.Series) -> pd.Series:
    """Values.localTime on text cells (None stays None): seconds since 1970-01-01 local wall time,
    None for 'not a time'."""
    out = pd.Series([None] * len(v), dtype=object)
    has = v.notna()
    if not has.any():
        return out
    s = v[has].astype(str)
    res = np.full(len(s), None, dtype=object)
    # fast path: the usual yyyy-MM-dd HH:mm:ss, parsed by pandas in C
    std = s.str.fullmatch(r"\d{4}-\d{2}-\d{2} [01]\d:[0-5]\d:[0-5]\d|\d{4}-\d{2}-\d{2} 2[0-3]:[0-5]\d:[0-5]\d").to_numpy().copy()
    if std.any():
        ts = pd.to_datetime(s[std], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        secs = ((ts - pd.Timestamp(0)) // pd.Timedelta(seconds=1)).to_numpy(dtype="float64", na_value=np.nan)
        yr = ts.dt.year.to_numpy(dtype="float64", na_value=np.nan)
        good = ~np.isnan(secs) & (yr >= 1990) & (yr <= 2100)
        idx = np.flatnonzero(std)
        res[idx[good]] = secs[good].astype("int64").astype(object)
        std[idx[~good]] = False     # e.g. a leap second or a bad date: the general path decides
    rest = ~std
    if rest.any():
        res[rest] = _ltime_general(s[rest])
    out[has.to_numpy()] = res
    return out


def _ltime_general(s: pd.Series) -> np.ndarray:
    """siyu's lenient grammar: up to 7 numbers separated by - / : space T or ., or yyyyMMdd."""
    ok = (s.str.fullmatch(r"[0-9/: T.\-]*") & ~s.str.contains(r"[0-9]{9}", regex=True)).to_numpy()
    parts = s.str.extract(TIME_RE)          # up to 8 numbers (more than 7 is not a time)
    n = parts.notna().sum(axis=1).to_numpy()
    num = [pd.to_numeric(parts[k], errors="coerce").fillna(0).astype("int64").to_numpy() for k in range(6)]
    y, mo, d, h, mi, sec = num
    first = parts[0].fillna("")
    e = ((n == 1) & (first.str.len() == 8)).to_numpy()   # yyyyMMdd
    if e.any():
        y = np.where(e, y // 10000, y)
        mo = np.where(e, num[0] // 100 % 100, mo)
        d = np.where(e, num[0] % 100, d)
        n = np.where(e, 3, n)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    dim = np.where(mo == 2, np.where(leap, 29, 28), np.where(np.isin(mo, [4, 6, 9, 11]), 30, 31))
    valid = (ok & (n >= 3) & (n <= 7) & (y >= 1990) & (y <= 2100) & (mo >= 1) & (mo <= 12)
             & (d >= 1) & (d <= dim) & (h < 24) & (mi < 60) & (sec < 61))
    mo_safe = np.where(valid, mo, 1)
    secs = days_from_civil(y, mo_safe, d) * 86400 + h * 3600 + mi * 60 + np.minimum(sec, 59)
    return np.where(valid, secs.astype(object), None)


@on_uniques
def mobile(v: pd.Series) -> pd.Series:
    dg = v.str.replace(r"[^0-9]", "", regex=True)
    ok = (v != "") & ~v.str.contains("*", regex=False) & v.str.fullmatch(r"[0-9+() \-]*")
    dg = dg.where(~((dg.str.len() == 13) & dg.str.startswith("86")), dg.str[2:])
    dg = dg.where(~((dg.str.len() == 15) & dg.str.startswith("0086")), dg.str[4:])
    good = ok & (dg.str.len() == 11) & dg.str.startswith("1")
    return dg.where(good, None)


def rule_channel(rules: list, target: str, fields: list) -> pd.Series:
    """First matching rule's channel per row (None when no rule matches)."""
    n = len(fields[0])
    out = pd.Series([None] * n, index=fields[0].index, dtype=object)
    todo = pd.Series(True, index=fields[0].index)
    for r in rules:
        if target not in r.on:
            continue
        hit = pd.Series(False, index=fields[0].index)
        for f in fields:
            fs = f.fillna("").astype(str)
            present = f.notna() & (fs != "")
            if r.equals:
                hit |= present & fs.isin(r.equals)
            for c in r.contains:
                if c:
                    hit |= present & fs.str.contains(c, regex=False)
        m = todo & hit
        out[m] = r.channel
        todo &= ~m
    return out


# ----------------------------------------------------------------------------------------------
# The peer
# ----------------------------------------------------------------------------------------------

class Peer:
    def __init__(self, pipe: pc.Pipeline):
        self.pipe = pipe
        self.per = pc.Periods(pipe.period)
        self.timings = {}

    def load(self):
        t0 = time.time()
        orders, follows, spend, files = [], [], [], []
        for inp in pc.iter_inputs(self.pipe):
            if inp.error:
                print(f"peer_pandas: skipped {inp.path}: {inp.error}", file=sys.stderr)
                continue
            files.append(inp)
            lay, src = inp.layout, inp.source
            df = pd.read_csv(io.StringIO(inp.text), header=None, skiprows=inp.header_lines, names=range(lay.ncols),
                             dtype=str, keep_default_na=False, na_filter=False, on_bad_lines="skip", engine="c",
                             skip_blank_lines=True)
            inp.text = None

            def single(k):
                return df[lay.single[k]] if k in lay.single else pd.Series([""] * len(df), dtype=object)

            def multi(k, i):
                m = lay.multi.get(k, [])
                return df[m[i]] if i < len(m) else pd.Series([""] * len(df), dtype=object)
            if src.kind in pc.ORDER_KINDS:
                part = pd.DataFrame({k: single(k).to_numpy() for k in
                                     ["order_id", "buyer", "status", "paid", "refund", "pay_time", "created_time",
                                      "order_type"]})
                for i in range(max(3, len(lay.multi.get("phone", [])))):
                    part[f"ph{i}"] = multi("phone", i).to_numpy()
                for i in range(max(2, len(lay.multi.get("promo", [])))):
                    part[f"pr{i}"] = multi("promo", i).to_numpy()
                part["kind"] = src.kind
                part["platform"] = src.platform
                orders.append((inp, part))
            elif src.kind == "followers":
                part = pd.DataFrame({k: single(k).to_numpy() for k in
                                     ["openid", "unionid", "subscribe_time", "scene", "qr_scene", "qr_scene_str",
                                      "mobile"]})
                follows.append((inp, part))
            else:
                part = pd.DataFrame({k: single(k).to_numpy() for k in ["date", "campaign", "spend"]})
                part["has_date"] = "date" in lay.single
                part["key_day"] = pc.key_day(inp.export_key)
                spend.append((inp, part))
        pc.assign_obs(files)

        def stack(parts):
            if not parts:
                return None
            out = []
            for inp, p in parts:
                p["file_id"] = inp.file_id
                p["obs"] = inp.obs
                out.append(p)
            d = pd.concat(out, ignore_index=True)
            d["rid"] = np.arange(len(d))
            return d
        self.raw_orders, self.raw_follows, self.raw_spend = stack(orders), stack(follows), stack(spend)
        self.timings["load"] = time.time() - t0

    def clean(self):
        t0 = time.time()
        r = self.raw_orders
        c = {k: clean(r[k]) for k in r.columns if k not in ("kind", "platform", "file_id", "obs", "rid")}
        o = pd.DataFrame({"rid": r["rid"], "file_id": r["file_id"], "obs": r["obs"], "platform": r["platform"],
                          "kind": r["kind"], "oid": c["order_id"]})
        o["buyer"] = txt(c["buyer"])
        phones = sorted(k for k in c if k.startswith("ph"))
        promos = sorted(k for k in c if k.startswith("pr"))
        for k in promos:
            o[k] = txt(c[k])
        ot = txt(c["order_type"])
        o["is_test"] = ot.fillna("").str.contains("测试", regex=False)
        paid0, refund0 = fen(c["paid"]), fen(c["refund"])
        pay_t, cr_t = txt(c["pay_time"]), txt(c["created_time"])
        pay0, cr_ts = ltime(pay_t), ltime(cr_t)
        for k in phones:
            o["m" + k] = mobile(c[k])
        status = c["status"].str.replace("，", ",", regex=False).str.replace(
            r"^(\(删除\))?(（删除）)?(\(锁定\))?(（锁定）)?", "", regex=True)
        jd_paid = status.isin(["等待出库", "等待确认收货", "完成", "已完成", "配送中", "已发货", "等待发货"])
        pay = pay0.where(~(pay0.isna() & (o["kind"] == "jd") & jd_paid), cr_ts)
        o["pay_ts"] = pay
        o["paid"] = paid0.where(pay.notna(), 0)
        o["refund"] = refund0.fillna(0)
        oid = o["oid"]
        up = oid.str.upper()
        scientific = (up.str.contains("E+", regex=False) & oid.str.contains(".", regex=False)) | \
            up.str.fullmatch(r"[0-9.]+E\+?[0-9]+")
        keep = ((oid != "") & ~scientific & paid0.notna()
                & (refund0.notna() | ~c["refund"].str.contains(r"[0-9]", regex=True))
                & (pay_t.isna() | pay0.notna()) & (cr_t.isna() | cr_ts.notna()))
        rows = o[keep.to_numpy()]
        self.timings["clean_rows"] = time.time() - t0
        # Fold item lines: the first row of each order in each file gives the order-level fields;
        # then the observation from the newest file wins.
        per_file = rows.drop_duplicates(["platform", "oid", "file_id"], keep="first")
        orders = per_file.sort_values("obs", kind="stable").drop_duplicates(["platform", "oid"], keep="last")
        orders = orders.sort_values("rid").reset_index(drop=True)
        orders["rec"] = np.arange(len(orders))
        orders["paid"] = orders["paid"].astype("int64")
        orders["refund"] = orders["refund"].astype("int64")
        # phones of the chosen observation: every item row of that order in that file
        ph = rows.merge(orders[["platform", "oid", "file_id", "rec"]], on=["platform", "oid", "file_id"])
        ph = ph.melt(id_vars=["rec"], value_vars=["m" + k for k in phones], value_name="m")[["rec", "m"]]
        self.order_phones = ph.dropna(subset=["m"]).drop_duplicates()
        self.orders = orders
        self.promos = promos

        # followers
        f = self.raw_follows
        fol = pd.DataFrame({"rid": f["rid"], "file_id": f["file_id"]})
        fc = {k: clean(f[k]) for k in ["openid", "unionid", "subscribe_time", "scene", "qr_scene", "qr_scene_str",
                                       "mobile"]}
        for k in ["openid", "unionid", "scene", "qr_scene", "qr_scene_str"]:
            fol[k] = txt(fc[k])
        fol["mobile"] = mobile(fc["mobile"])
        st = fc["subscribe_time"]
        v = st.where(txt(st).notna() & (st != "0"), None)
        is_unix = v.fillna("").str.fullmatch(r"[0-9]{1,11}")
        lt = ltime(v.where(~is_unix, None))
        unix = pd.to_numeric(v.where(is_unix, None), errors="coerce")
        if is_unix.any():
            offs = pc.tz_offsets(self.pipe.timezone, int(unix.min()), int(unix.max()))
            if isinstance(offs, int):
                local = unix + offs
            else:
                tab = dict(offs)
                local = unix + (unix // 3600).map(tab)
        else:
            local = unix
        fts = lt.where(~is_unix, local.astype("Int64").astype(object))
        fol["follow_ts"] = fts
        good = fol["openid"].notna() & (v.isna() | is_unix | lt.notna())
        fol = fol[good.to_numpy()].reset_index(drop=True)
        fol["rec"] = len(orders) + np.arange(len(fol))
        self.follows = fol

        # spend
        s = self.raw_spend
        sc = {k: clean(s[k]) for k in ["date", "campaign", "spend"]}
        camp = txt(sc["campaign"])
        fen_s = fen(sc["spend"])
        dts = ltime(sc["date"])
        day = pd.Series(np.where(s["has_date"], dts.map(lambda x: None if x is None else x // 86400), s["key_day"]),
                        dtype=object)
        d = sc["date"]
        total = (d.str.contains("合计", regex=False) | d.str.contains("汇总", regex=False)
                 | d.str.contains("总计", regex=False)
                 | camp.fillna("").str.startswith("合计") | camp.fillna("").str.startswith("汇总"))
        sp = pd.DataFrame({"day": day, "fen": fen_s, "campaign": camp})
        sp = sp[(~total & fen_s.notna() & day.notna()).to_numpy()].reset_index(drop=True)
        ch = rule_channel(self.pipe.rules, "spend", [sp["campaign"]])
        sp["channel"] = ch.fillna("unmapped")
        sp["day"] = sp["day"].astype("int64")
        sp["fen"] = sp["fen"].astype("int64")
        self.spend = sp
        self.timings["clean"] = time.time() - t0

    def link(self):
        t0 = time.time()
        o, f = self.orders, self.follows
        ob = o[o["buyer"].notna()]
        parts = [pd.DataFrame({"rec": ob["rec"], "node": "acct:" + ob["platform"] + ":" + ob["buyer"]}),
                 pd.DataFrame({"rec": self.order_phones["rec"], "node": "phone:" + self.order_phones["m"]})]
        have = pd.concat(parts)["rec"].unique()
        lonely = o[~o["rec"].isin(have)]
        parts.append(pd.DataFrame({"rec": lonely["rec"], "node": "order:" + lonely["platform"] + ":" + lonely["oid"]}))
        parts.append(pd.DataFrame({"rec": f["rec"], "node": "openid:" + f["openid"]}))
        u = f[f["unionid"].notna()]
        parts.append(pd.DataFrame({"rec": u["rec"], "node": "unionid:" + u["unionid"]}))
        m = f[f["mobile"].notna()]
        parts.append(pd.DataFrame({"rec": m["rec"], "node": "phone:" + m["mobile"]}))
        e = pd.concat(parts, ignore_index=True)
        nid, nodes = pd.factorize(e["node"])
        e_rec = e["rec"].to_numpy()
        e_nid = nid
        lab = np.arange(len(nodes))
        rounds = 0
        while True:
            rounds += 1
            rl = pd.Series(lab[e_nid]).groupby(e_rec).min()
            nl = pd.Series(rl.reindex(e_rec).to_numpy()).groupby(e_nid).min().sort_index().to_numpy()
            nl = np.minimum(nl, nl[nl])  # pointer jumping
            changed = int((nl != lab).sum())
            lab = nl
            if changed == 0:
                break
        self.rec_label = pd.Series(lab[e_nid]).groupby(e_rec).min()
        self.timings["link"] = time.time() - t0
        self.timings["link_rounds"] = rounds

    def customers(self):
        t0 = time.time()
        p = self.pipe
        o = self.orders
        o = o.assign(net=o["paid"] - o["refund"])
        q = o[o["pay_ts"].notna() & (o["net"] > 0) & ~o["is_test"]].copy()
        q["pay_ts"] = q["pay_ts"].astype("int64")
        q["day"] = q["pay_ts"] // 86400
        q["comp"] = self.rec_label.reindex(q["rec"]).to_numpy()
        if q.empty:
            raise SystemExit("peer_pandas: no qualifying orders")
        as_of = p.as_of if p.as_of is not None else int(q["day"].max())
        self.as_of = as_of
        f = self.follows
        fans = f[f["follow_ts"].notna()].copy()
        fans["follow_ts"] = fans["follow_ts"].astype("int64")
        fans = fans.sort_values(["openid", "follow_ts", "file_id", "rid"]).drop_duplicates("openid")
        fans["comp"] = self.rec_label.reindex(fans["rec"]).to_numpy()
        cf = fans.sort_values(["comp", "follow_ts", "openid"]).drop_duplicates("comp")[
            ["comp", "follow_ts", "scene", "qr_scene", "qr_scene_str"]]
        first = q.sort_values(["comp", "pay_ts", "platform", "oid"]).drop_duplicates("comp")
        c = first.merge(cf, on="comp", how="left")
        ch = rule_channel(p.rules, "order", [c[k] for k in self.promos])
        before = c["follow_ts"].notna() & (c["follow_ts"].fillna(0) < c["pay_ts"])
        fch = rule_channel(p.rules, "follow", [c["scene"], c["qr_scene"], c["qr_scene_str"]])
        ch = ch.where(ch.notna(), fch.where(before, None))
        default = c["platform"].map(lambda x: p.default_channel(x))
        c["channel"] = ch.where(ch.notna(), default)
        c["first_day"] = c["pay_ts"] // 86400
        cust = c[c["first_day"] <= as_of][["comp", "platform", "first_day", "channel"]].rename(
            columns={"platform": "acq"})
        self.q = q[q["day"] <= as_of][["comp", "platform", "day", "net"]]
        self.cust = cust
        self.timings["customers"] = time.time() - t0

    def period(self, days) -> np.ndarray:
        days = np.asarray(days, dtype="int64")
        if self.per.kind == "month":
            d = pd.to_datetime(days, unit="D")
            return (d.year * 12 + d.month - 1).to_numpy()
        return (days + 3) // 7

    def cohort(self):
        t0 = time.time()
        cust, q = self.cust, self.q
        cust = cust.assign(cohort=self.period(cust["first_day"]))
        cd = q.groupby(["comp", "day"], as_index=False)["net"].sum().merge(cust, on="comp")
        cd["k"] = self.period(cd["day"]) - cd["cohort"]
        cells = pc.CohortCells()
        per_cust_k = cd.groupby(["comp", "acq", "cohort", "k"], as_index=False)["net"].sum()
        sec = cd[cd["day"] > cd["first_day"]].groupby("comp")["day"].min()
        cs = cust.set_index("comp").join(sec.rename("second"))
        for plat, key in (("all", ["cohort"]), (None, ["acq", "cohort"])):
            for kk, n in cust.groupby(key).size().items():
                kk = kk if isinstance(kk, tuple) else (kk,)
                cells.members[(plat or kk[0], kk[-1])] = int(n)
            g = per_cust_k.groupby(key + ["k"])["net"].agg(["size", "sum"])
            for kk, row in g.iterrows():
                pl = plat or kk[0]
                cells.active[(pl, kk[-2], kk[-1])] = int(row["size"])
                cells.net[(pl, kk[-2], kk[-1])] = int(row["sum"])
            s2 = cs[cs["second"].notna()].copy()
            s2["k2"] = self.period(s2["second"].astype("int64")) - s2["cohort"]
            for kk, n in s2.groupby(key + ["k2"]).size().items():
                pl = plat or kk[0]
                cells.second[(pl, kk[-2], kk[-1])] = int(n)
        self.platforms = sorted(q["platform"].unique().tolist())
        first = int(cust["cohort"].min()) if len(cust) else None
        rows = pc.cohort_rows(self.per, self.as_of, self.platforms, first, cells)
        self.cd = cd
        self.timings["cohort"] = time.time() - t0
        return rows

    def cpa(self):
        t0 = time.time()
        w = self.pipe.window_days
        cd, cust = self.cd, self.cust
        first_net = cd[cd["day"] == cd["first_day"]].groupby("comp")["net"].sum()
        win_net = cd[cd["day"] - cd["first_day"] < w].groupby("comp")["net"].sum()
        second = cd[cd["day"] > cd["first_day"]].groupby("comp")["day"].min()
        c = cust.set_index("comp").join(first_net.rename("fnet")).join(win_net.rename("wnet")).join(
            second.rename("second")).fillna({"fnet": 0, "wnet": 0})
        c["per"] = self.period(c["first_day"])
        c["rep"] = (c["second"].notna() & (c["second"] - c["first_day"] < w)).astype("int64")
        cells = {}
        for (ch, per), row in c.groupby(["channel", "per"]).agg(n=("acq", "size"), f=("fnet", "sum"),
                                                                 r=("wnet", "sum"), k=("rep", "sum")).iterrows():
            cells[(ch, int(per))] = [0, int(row["n"]), int(row["f"]), int(row["r"]), int(row["k"])]
        sp = self.spend[self.spend["day"] <= self.as_of]
        sp = sp.assign(per=self.period(sp["day"]))
        for (ch, per), fen_ in sp.groupby(["channel", "per"])["fen"].sum().items():
            cells.setdefault((ch, int(per)), [0, 0, 0, 0, 0])[0] = int(fen_)
        channels = sorted({ch for ch, _ in cells})
        first = min((per for _, per in cells), default=None)
        rows = pc.cpa_rows(self.per, self.as_of, w, channels, first, {k: tuple(v) for k, v in cells.items()})
        self.timings["cpa"] = time.time() - t0
        return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    pipe = pc.load_pipeline(a.pipeline)
    peer = Peer(pipe)
    peer.load()
    peer.clean()
    peer.link()
    peer.customers()
    cohort = peer.cohort()
    cpa = peer.cpa()
    os.makedirs(a.out, exist_ok=True)
    pc.write_csv(os.path.join(a.out, "cohort_repurchase.csv"), pc.COHORT_COLUMNS, cohort)
    pc.write_csv(os.path.join(a.out, "channel_cpa.csv"), pc.CPA_COLUMNS, cpa)
    t = peer.timings
    print("peer_pandas: as_of=%s platforms=%s %s" % (pc.iso_day(peer.as_of), ",".join(peer.platforms),
          " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in t.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
