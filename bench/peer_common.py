"""What the two benchmark peers (peer_duckdb.py, peer_pandas.py) share: the pipeline file, the list of
input files in siyu's ingest order, decoding, format signatures, channel rules as data, period
arithmetic, and the printing of the two small result tables.

Everything row-sized (cleaning, folding, newest-observation-wins, identity linking, aggregation)
is NOT here: each peer does it in its own engine. This module only handles per-file and
per-output-row work (a few hundred output rows).

The semantics mirror siyu (Sources/SiyuCore) and docs/decisions.md; see bench/README.md for the
places where the peers read the rules more narrowly than siyu does.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import glob
import hashlib
import io
import os
import tomllib
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

PLATFORM_OF_KIND = {"tmall": "tmall", "jd": "jd", "youzan": "microstore"}
ORDER_KINDS = ("tmall", "jd", "youzan", "generic")

# Cell conventions (siyu Values): spaces trimmed, ="…" unwrapped, a leading ' dropped; these mean empty.
TRIM_CHARS = " \t\u3000\u00a0\r\n"
PLACEHOLDERS = ["——", "—", "N/A", "n/a", "null", "NULL", "-", "--"]
MONEY_EMPTY = ["——", "—", "N/A", "null"]   # money: empty (0); '-' and '--' are 0 as well


# ----------------------------------------------------------------------------------------------
# Pipeline file
# ----------------------------------------------------------------------------------------------

@dataclass
class Rule:
    channel: str
    on: set
    contains: list
    equals: list


@dataclass
class Source:
    name: str
    kind: str
    files: list
    default_channel: str
    platform: str
    columns: dict


@dataclass
class Pipeline:
    timezone: str
    period: str
    as_of: int | None          # day number (days since 1970-01-01) or None
    window_days: int
    loyal_threshold: int
    sources: list
    rules: list

    def default_channel(self, platform: str) -> str:
        for s in self.sources:
            if s.kind in ORDER_KINDS and s.platform == platform:
                return s.default_channel
        return platform

    def rules_on(self, target: str) -> list:
        return [r for r in self.rules if target in r.on]


def load_pipeline(path: str) -> Pipeline:
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    p = cfg.get("pipeline", {})
    as_of = p.get("as_of")
    if isinstance(as_of, dt.date):
        as_of = as_of.isoformat()
    as_of_day = day_number(dt.date.fromisoformat(as_of)) if as_of else None
    sources = []
    for s in cfg.get("source", []):
        kind = s["kind"]
        platform = PLATFORM_OF_KIND.get(kind, s.get("name", kind))
        files = s.get("files", [])
        if isinstance(files, str):
            files = [files]
        default = s.get("default_channel", "wechat_follow" if kind == "followers" else platform)
        sources.append(Source(s.get("name", kind), kind, list(files), default, platform, dict(s.get("columns", {}))))
    rules = []
    for r in cfg.get("rule", []):
        on = r.get("on", [])
        on = set([on] if isinstance(on, str) else on) or {"spend", "order", "follow"}

        def lst(k):
            v = r.get(k, [])
            return [v] if isinstance(v, str) else list(v)
        rules.append(Rule(r["channel"], on, lst("contains"), lst("equals")))
    return Pipeline(p.get("timezone", "Asia/Shanghai"), p.get("period", "month"), as_of_day,
                    int(p.get("window_days", 90)), int(p.get("loyal_threshold", 3)), sources, rules)


def match_rule(rules: list, target: str, values: list) -> str | None:
    """Scalar rule matching (small inputs only): first rule for `target` where any non-empty value
    equals one of `equals` or contains one of `contains`."""
    for r in rules:
        if target not in r.on:
            continue
        for v in values:
            if not v:
                continue
            if v in r.equals or any(c and c in v for c in r.contains):
                return r.channel
    return None


# ----------------------------------------------------------------------------------------------
# Input files: ingest order, export key, decoding, format signatures
# ----------------------------------------------------------------------------------------------

def source_files(src: Source) -> list:
    """siyu: the union of the source's glob matches, sorted, without duplicates."""
    out = set()
    for pattern in src.files:
        hits = glob.glob(pattern)
        if not hits and os.path.exists(pattern):
            hits = [pattern]
        out.update(hits)
    return sorted(out, key=lambda s: s.encode())


def export_key(name: str) -> str:
    """The last run of 8..14 ASCII digits that starts with 19 or 20, padded to 14 ('' if none)."""
    runs, cur = [], ""
    for ch in name:
        if "0" <= ch <= "9":
            cur += ch
        else:
            if cur:
                runs.append(cur)
            cur = ""
    if cur:
        runs.append(cur)
    good = [r for r in runs if 8 <= len(r) <= 14 and r[:2] in ("19", "20")]
    return good[-1].ljust(14, "0") if good else ""


def decode(data: bytes) -> tuple[str, str]:
    """siyu's rule: a UTF-8 BOM means UTF-8; else valid UTF-8 in the first 256 KiB stays UTF-8;
    else GB18030 (a superset of GBK/GB2312). Raises UnicodeDecodeError for damaged bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8-BOM"
    head = data[: 1 << 18]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(data) <= len(head))
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("gb18030"), "GB18030"


def clean_cell(raw: str) -> str:
    s = raw.strip(TRIM_CHARS)
    if len(s) >= 3 and s.startswith('="') and s.endswith('"'):
        s = s[2:-1].strip(TRIM_CHARS)
    if s.startswith("'"):
        s = s[1:].strip(TRIM_CHARS)
    return s


# Format signatures (siyu Input/Formats.swift): required headers (one of each inner list),
# single fields (first present alternative wins), multi fields (every present header).
FORMATS = {
    "tmall": [("tmall_orders",
               [["订单编号"], ["买家会员名"], ["订单状态"], ["订单付款时间"], ["买家实际支付金额", "买家实付金额"]],
               {"order_id": ["订单编号"], "buyer": ["买家会员名"], "status": ["订单状态"],
                "paid": ["买家实际支付金额", "买家实付金额"], "refund": ["退款金额"],
                "pay_time": ["订单付款时间"], "created_time": ["订单创建时间"]},
               {"phone": ["联系手机", "联系电话", "买家手机号"], "promo": []})],
    "jd": [("jd_orders",
            [["订单号"], ["下单帐号", "下单账号"], ["订单状态"], ["下单时间"], ["实付金额", "应付金额"]],
            {"order_id": ["订单号"], "buyer": ["下单帐号", "下单账号"], "status": ["订单状态"],
             "paid": ["实付金额", "应付金额"], "refund": [], "pay_time": ["付款确认时间"], "created_time": ["下单时间"]},
            {"phone": ["联系电话"], "promo": ["订单来源", "订单渠道"]})],
    "youzan": [("youzan_orders",
                [["订单号"], ["订单状态"], ["买家付款时间"], ["订单实付金额"]],
                {"order_id": ["订单号"], "buyer": ["买家昵称"], "status": ["订单状态"], "paid": ["订单实付金额"],
                 "refund": ["订单已退款金额"], "pay_time": ["买家付款时间"], "created_time": ["订单创建时间"],
                 "order_type": ["订单类型"]},
                {"phone": ["买家手机号", "收货人手机号/提货人手机号"], "promo": ["推广方式", "订单来源"]})],
    "followers": [("wechat_followers", [["openid"], ["subscribe_time"]],
                   {"subscribe": ["subscribe"], "openid": ["openid"], "unionid": ["unionid"],
                    "subscribe_time": ["subscribe_time"], "scene": ["subscribe_scene"], "qr_scene": ["qr_scene"],
                    "qr_scene_str": ["qr_scene_str"], "mobile": ["mobile"]}, {})],
    "spend": [("alimama_wanxiangtai", [["日期"], ["主体名称"], ["花费"]],
               {"date": ["日期"], "campaign": ["主体名称"], "spend": ["花费"]}, {}),
              ("alimama_ztc", [["计划名称"], ["花费"]],
               {"date": ["日期"], "campaign": ["计划名称"], "spend": ["花费"]}, {}),
              ("spend_plain", [["date"], ["channel"], ["spend"]],
               {"date": ["date"], "campaign": ["channel"], "spend": ["spend"]}, {})],
}


def generic_format(src: Source):
    fields = {k: [v] for k, v in src.columns.items() if k not in ("phone", "promo")}
    required = [[src.columns[k]] for k in ("order_id", "paid", "pay_time") if k in src.columns]
    multi = {"phone": [src.columns["phone"]] if "phone" in src.columns else [],
             "promo": [src.columns["promo"]] if "promo" in src.columns else []}
    return ("generic:" + src.name, required, fields, multi)


@dataclass
class Layout:
    format: str
    ncols: int
    single: dict            # field -> 0-based column
    multi: dict             # field -> [0-based columns]


def detect(src: Source, header: list) -> Layout | None:
    names = [clean_cell(h.replace("\ufeff", "")) for h in header]
    first = {}
    for i, n in enumerate(names):
        first.setdefault(n, i)
    cands = [generic_format(src)] if src.kind == "generic" else FORMATS.get(src.kind, [])
    for fid, required, fields, multi in cands:
        if all(any(a in first for a in alts) for alts in required):
            single = {}
            for k, alts in fields.items():
                for a in alts:
                    if a in first:
                        single[k] = first[a]
                        break
            mult = {k: [first[n] for n in ns if n in first] for k, ns in multi.items()}
            return Layout(fid, len(names), single, mult)
    return None


@dataclass
class InputFile:
    file_id: int            # ingest order: sources in pipeline order, files sorted by path
    path: str
    name: str
    source: Source
    sha256: str
    export_key: str
    encoding: str = ""
    text: str | None = None   # decoded text (UTF-8 str); None when rejected
    layout: Layout | None = None
    header_lines: int = 0     # physical lines up to and including the header record
    obs: int = 0              # rank in "newest observation wins" order (export key, then file_id)
    error: str = ""


def iter_inputs(pipe: Pipeline, keep_text=True):
    """Yields every input file once, in ingest order, skipping byte-identical re-deliveries
    (sha256 seen before). Decodes and detects the format; .text is the decoded content."""
    seen = set()
    fid = 0
    for src in pipe.sources:
        for path in source_files(src):
            with open(path, "rb") as f:
                data = f.read()
            sha = hashlib.sha256(data).hexdigest()
            if sha in seen:
                continue
            seen.add(sha)
            fid += 1
            name = os.path.basename(path)
            inp = InputFile(fid, path, name, src, sha, export_key(name))
            try:
                text, inp.encoding = decode(data)
            except UnicodeDecodeError as e:
                inp.error = f"undecodable: {e}"
                yield inp
                continue
            del data
            header, n = first_record(text)
            if header is None:
                inp.error = "no header"
            else:
                inp.layout = detect(src, header)
                inp.header_lines = n
                if inp.layout is None:
                    inp.error = "unknown format"
            if keep_text and not inp.error:
                inp.text = text
            yield inp


def first_record(text: str):
    """The header: the first record with a non-empty cell; and how many physical lines it and any
    blank lines before it take."""
    r = csv.reader(io.StringIO(text[: 1 << 16], newline=""))
    for row in r:
        if row and any(clean_cell(c) for c in row):
            return row, r.line_num
    return None, 0


def assign_obs(files: list) -> None:
    """Newest observation wins: files ordered by export key ('' first), then ingest order."""
    for rank, f in enumerate(sorted(files, key=lambda f: (f.export_key, f.file_id)), 1):
        f.obs = rank


def key_day(key: str) -> int | None:
    """Day number of the first 8 digits of an export key (直通车 rows are dated by it)."""
    if not key:
        return None
    try:
        return day_number(dt.date(int(key[:4]), int(key[4:6]), int(key[6:8])))
    except ValueError:
        return None


# ----------------------------------------------------------------------------------------------
# Time zone and periods (day numbers: days since 1970-01-01 in local time)
# ----------------------------------------------------------------------------------------------

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def tz_offsets(tz: str, unix_min: int, unix_max: int):
    """Offset (seconds) of the business zone for Unix times in [unix_min, unix_max]: an int when it
    is constant over the span, else a list of (unix hour, offset) rows, one per hour."""
    zone = ZoneInfo(tz)
    h0, h1 = unix_min // 3600, unix_max // 3600 + 1
    def off(h):
        return int(dt.datetime.fromtimestamp(h * 3600, zone).utcoffset().total_seconds())
    step = 24 * 7
    probes = {off(h) for h in range(h0, h1 + 1, step)} | {off(h1)}
    if len(probes) == 1:
        return probes.pop()
    return [(h, off(h)) for h in range(h0, h1 + 1)]


class Periods:
    def __init__(self, kind: str):
        if kind not in ("month", "week"):
            raise SystemExit(f"period must be month or week, not {kind!r}")
        self.kind = kind

    def index(self, day: int) -> int:
        if self.kind == "month":
            d = EPOCH + dt.timedelta(days=day)
            return d.year * 12 + d.month - 1
        return (day + 3) // 7

    def first_day(self, i: int) -> int:
        if self.kind == "month":
            return day_number(dt.date(i // 12, i % 12 + 1, 1))
        return i * 7 - 3

    def last_day(self, i: int) -> int:
        return self.first_day(i + 1) - 1

    def label(self, i: int) -> str:
        if self.kind == "month":
            return f"{i // 12:04d}-{i % 12 + 1:02d}"
        y, w, _ = (EPOCH + dt.timedelta(days=self.first_day(i))).isocalendar()
        return f"{y:04d}-W{w:02d}"


# ----------------------------------------------------------------------------------------------
# Printing (METRICS.md): yuan from fen, rates half up with four decimals, CSV like siyu's writer
# ----------------------------------------------------------------------------------------------

def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    a = abs(fen)
    return f"{sign}{a // 100}.{a % 100:02d}"


def rate(num: int, den: int) -> str:
    if den == 0:
        return ""
    neg = (num < 0) != (den < 0) and num != 0
    n, d = abs(num), abs(den)
    v = (n * 20000 + d) // (2 * d)
    return f"{'-' if neg else ''}{v // 10000}.{v % 10000:04d}"


def yuan_per(fen: int, count: int) -> str:
    if count == 0:
        return ""
    v = (abs(fen) * 2 + count) // (2 * count)
    return yuan(-v if fen < 0 else v)


def fbool(b: bool) -> str:
    return "true" if b else "false"


def _is_number(s: str) -> bool:
    u = s[1:] if s.startswith("-") else s
    if not u or not u[0].isdigit() or u.endswith("."):
        return False
    return u.count(".") <= 1 and all(c.isdigit() or c == "." for c in u) and u.isascii()


def safe_cell(s: str) -> str:
    if s and s[0] in "=+-@\t\r" and not _is_number(s):
        s = "'" + s
    if any(c in s for c in ',"\n\r'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def write_csv(path: str, columns: list, rows: list) -> None:
    """As siyu writes with its default csv_bom = true: a UTF-8 BOM, CRLF, guarded cells."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\ufeff")
        for r in [columns] + rows:
            f.write(",".join(safe_cell(str(v)) for v in r) + "\r\n")


COHORT_COLUMNS = ["cohort", "acquisition_platform", "period_offset", "cohort_customers", "active_customers",
                  "retention_rate", "repeat_customers", "cumulative_repeat_rate", "net_revenue", "partial"]
CPA_COLUMNS = ["period", "channel", "spend", "new_customers", "cpa", "first_order_revenue", "revenue_90d",
               "ltv_cac", "window_complete", "repeat_customers", "cost_per_repeat_customer"]


@dataclass
class CohortCells:
    """Aggregates an engine computed, keyed by (platform or 'all', cohort period index[, offset k])."""
    members: dict = field(default_factory=dict)      # (plat, cohort) -> customers
    active: dict = field(default_factory=dict)       # (plat, cohort, k) -> customers with a purchase day in cohort+k
    second: dict = field(default_factory=dict)       # (plat, cohort, k) -> customers whose 2nd purchase day is in cohort+k
    net: dict = field(default_factory=dict)          # (plat, cohort, k) -> net fen


def cohort_rows(per: Periods, as_of: int, platforms: list, first_cohort: int | None, c: CohortCells) -> list:
    rows = []
    if first_cohort is None:
        return rows
    last = per.index(as_of)
    for plat in ["all"] + platforms:
        for coh in range(first_cohort, last + 1):
            n = c.members.get((plat, coh), 0)
            cum = 0
            for k in range(0, last - coh + 1):
                cum += c.second.get((plat, coh, k), 0)
                act = n if k == 0 else c.active.get((plat, coh, k), 0)
                rows.append([per.label(coh), plat, str(k), str(n), str(act), rate(act, n), str(cum), rate(cum, n),
                             yuan(c.net.get((plat, coh, k), 0)), fbool(per.last_day(coh + k) > as_of)])
    return rows


def cpa_rows(per: Periods, as_of: int, window_days: int, channels: list, first_period: int | None,
             cells: dict) -> list:
    """cells: (channel, period) -> (spend fen, new customers, first-day net fen, window net fen,
    customers with a second purchase day within the window)."""
    rows = []
    if first_period is None:
        return rows

    def row(p, name, v):
        sp, new, first, rev, rep = v
        return [per.label(p), name, yuan(sp), str(new), yuan_per(sp, new), yuan(first), yuan(rev),
                "" if new == 0 or sp == 0 else rate(rev, sp), fbool(per.last_day(p) + window_days - 1 <= as_of),
                str(rep), yuan_per(sp, rep)]
    for p in range(first_period, per.index(as_of) + 1):
        tot = [0, 0, 0, 0, 0]
        for ch in channels:
            v = cells.get((ch, p), (0, 0, 0, 0, 0))
            tot = [a + b for a, b in zip(tot, v)]
            rows.append(row(p, ch, v))
        rows.append(row(p, "blended", tot))
    return rows


def iso_day(day: int) -> str:
    return (EPOCH + dt.timedelta(days=day)).isoformat()
