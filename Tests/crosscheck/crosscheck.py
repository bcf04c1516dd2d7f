#!/usr/bin/env python3
"""Independent cross-check of siyu's reports.

A second, separate reading of /work/shared/METRICS.md and docs/decisions.md: it computes every
CSV output straight from the raw export files named by a pipeline file, with nothing but the
Python 3.11 standard library (the customer models, in predictions.py, with numpy and scipy), and
can compare its results with the CSVs siyu wrote.

    python3 Tests/crosscheck/crosscheck.py --pipeline pipelines/sample.toml --out /tmp/cc
    python3 Tests/crosscheck/crosscheck.py --pipeline pipelines/sample.toml --out /tmp/cc \
        --compare build/sample/reports

It never reads siyu's code or warehouse. See Tests/crosscheck/README.md for the interpretations.
Workbooks (.xlsx) are read with zipfile and ElementTree.iterparse, written here from the Office Open
XML rules, not from any generator of this repository.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import glob
import hashlib
import io
import json
import os
import re
import sys
import tomllib
import zipfile
import zlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import predictions  # the customer models: numpy and scipy
except ImportError as e:  # pragma: no cover
    sys.exit(f"crosscheck: {e}: the model checks (predictions.py) need numpy and scipy: "
             f"python3 -m pip install numpy scipy (make crosscheck installs them when missing)")

# ----------------------------------------------------------------------------------------------
# Cells, numbers, times
# ----------------------------------------------------------------------------------------------

PLACEHOLDERS = {"——", "—", "N/A", "n/a", "null", "NULL"}  # plus a lone space: empty after strip


def clean(cell: str) -> str:
    """A raw cell as a value: ="…" unwrapped, a leading ' removed, placeholders made empty."""
    v = cell.strip()
    if len(v) >= 3 and v.startswith('="') and v.endswith('"'):
        v = v[2:-1]
    if v.startswith("'"):
        v = v[1:]
    v = v.strip()
    return "" if v in PLACEHOLDERS else v


_MONEY = re.compile(r"^(\()?(-)?(\d+(?:\.\d*)?|\.\d+)")


def money_fen(cell: str) -> int:
    """Money cell to integer fen. ￥ ¥ , 元 and spaces ignored; '-' or empty is 0; (x) is negative;
    trailing remarks ('499.00（系统计算中，该值仅供参考）') ignored; non-numeric text ('无退款申请') is 0."""
    s = cell
    for ch in ("￥", "¥", ",", "，", "元", " ", "\u3000"):
        s = s.replace(ch, "")
    if s in ("", "-", "--", "—", "——"):
        return 0
    m = _MONEY.match(s)
    if not m:
        return 0
    neg = bool(m.group(1)) or bool(m.group(2))
    q = Fraction(m.group(3)) * 100
    fen = half_up(q)
    return -fen if neg else fen


def half_up(x: Fraction) -> int:
    """Round to the nearest integer, halves away from zero (half up for the non-negative values here)."""
    if x < 0:
        return -half_up(-x)
    return (2 * x.numerator + x.denominator) // (2 * x.denominator)


def fmt_yuan(fen: int | Fraction) -> str:
    f = half_up(Fraction(fen))
    sign = "-" if f < 0 else ""
    f = abs(f)
    return f"{sign}{f // 100}.{f % 100:02d}"


def fmt_ratio(num, den) -> str:
    """Four decimals, half up, empty when the denominator is 0."""
    if den == 0:
        return ""
    q = half_up(Fraction(num) / Fraction(den) * 10000)
    return f"{q // 10000}.{q % 10000:04d}"


def fmt_bool(b: bool) -> str:
    return "true" if b else "false"


def guard(text: str) -> str:
    """CSV formula-injection guard for text cells."""
    return "'" + text if text and text[0] in "=+-@\t\r" else text


_TS = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)


class Clock:
    """Turns export timestamps into naive local datetimes in the business time zone."""

    def __init__(self, tz: str):
        self.zone = ZoneInfo(tz)

    def parse(self, s: str, unix_ok: bool = False) -> dt.datetime | None:
        """None for empty; raises ValueError for text that is not a time."""
        s = s.strip()
        if not s:
            return None
        if unix_ok and re.fullmatch(r"\d{9,10}", s):
            if int(s) == 0:
                return None
            return dt.datetime.fromtimestamp(int(s), self.zone).replace(tzinfo=None)
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
        if m:
            return dt.datetime(int(m[1]), int(m[2]), int(m[3]))
        m = _TS.fullmatch(s)
        if not m:
            raise ValueError(f"not a time: {s!r}")
        y, mo, d, h, mi, se, zone = m.groups()
        t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(se or 0))
        if zone:
            off = 0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (
                int(zone[1:3]) * 60 + int(zone[-2:]))
            t = t.replace(tzinfo=dt.timezone(dt.timedelta(minutes=off)))
            t = t.astimezone(self.zone).replace(tzinfo=None)
        return t


def phone_node(cell: str) -> str | None:
    """phone:<11 digits> for a full mainland mobile, None for masked / partial / landline values."""
    s = cell.strip().lstrip("'").replace(" ", "").replace("-", "").replace("\u3000", "")
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("86") and len(s) == 13:
        s = s[2:]
    if len(s) == 11 and s.isdigit() and s[0] == "1":
        return "phone:" + s
    return None


# ----------------------------------------------------------------------------------------------
# Periods
# ----------------------------------------------------------------------------------------------

class Periods:
    """Integer period indexes for `month` or ISO `week`."""

    def __init__(self, kind: str):
        if kind not in ("month", "week"):
            raise SystemExit(f"unknown period {kind!r}")
        self.kind = kind

    def index(self, d: dt.date) -> int:
        if self.kind == "month":
            return d.year * 12 + d.month - 1
        return (d.toordinal() - d.weekday() - 1) // 7

    def start(self, i: int) -> dt.date:
        if self.kind == "month":
            return dt.date(i // 12, i % 12 + 1, 1)
        return dt.date.fromordinal(i * 7 + 1)

    def end(self, i: int) -> dt.date:
        return self.start(i + 1) - dt.timedelta(days=1)

    def label(self, i: int) -> str:
        if self.kind == "month":
            return f"{i // 12:04d}-{i % 12 + 1:02d}"
        y, w, _ = self.start(i).isocalendar()
        return f"{y:04d}-W{w:02d}"


# ----------------------------------------------------------------------------------------------
# Pipeline file and channel rules
# ----------------------------------------------------------------------------------------------

PLATFORM_OF_KIND = {"tmall": "tmall", "jd": "jd", "youzan": "microstore"}


@dataclass
class Rule:
    channel: str
    on: list[str]
    contains: list[str]
    equals: list[str]

    def matches(self, scope: str, fields: list[str]) -> bool:
        if scope not in self.on:
            return False
        for f in fields:
            if not f:  # placeholders were already made empty: they match nothing
                continue
            if f in self.equals or any(c and c in f for c in self.contains):
                return True
        return False


def first_rule(rules: list[Rule], scope: str, fields: list[str]) -> str | None:
    for r in rules:
        if r.matches(scope, fields):
            return r.channel
    return None


@dataclass
class Pipeline:
    tz: str
    period: str
    salt: str
    as_of: dt.date | None
    window_days: int
    loyal_threshold: int
    sources: list[dict]
    rules: list[Rule]


def load_pipeline(path: str) -> Pipeline:
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    p = cfg.get("pipeline", {})
    as_of = p.get("as_of")
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    rules = [Rule(r["channel"], list(r.get("on", [])), list(r.get("contains", [])),
                  list(r.get("equals", []))) for r in cfg.get("rule", [])]
    return Pipeline(p.get("timezone", "Asia/Shanghai"), p.get("period", "month"), p.get("salt", ""),
                    as_of, int(p.get("window_days", 90)), int(p.get("loyal_threshold", 3)),
                    cfg.get("source", []), rules)


def source_platform(src: dict) -> str:
    return PLATFORM_OF_KIND.get(src["kind"], src["name"])


# ----------------------------------------------------------------------------------------------
# Reading files
# ----------------------------------------------------------------------------------------------

def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")


class Table:
    """A header addressed by (stripped) name; duplicate names resolve to their first position."""

    def __init__(self, header: list[str]):
        self.names = [h.replace("\ufeff", "").strip() for h in header]
        self.pos: dict[str, int] = {}
        for i, h in enumerate(self.names):
            self.pos.setdefault(h, i)

    def has(self, *names: str) -> bool:
        return all(n in self.pos for n in names)

    def get(self, row: list[str], *names: str) -> str:
        """Cleaned value of the first of `names` the header holds."""
        for n in names:
            i = self.pos.get(n)
            if i is not None:
                return clean(row[i]) if i < len(row) else ""
        return ""


def detect_format(t: Table) -> str | None:
    """Recognise a file by a signature of headers, never by column position. Item reports are
    recognised before orders: they list item lines and never create an order."""
    if not t.has("买家会员名"):
        if t.has("主订单编号", "购买数量") and (t.has("子订单编号") or t.has("商品标题")):
            return "tmall_item_sheet"   # the item sheet of the .xlsx layout (2020)
        if t.has("订单编号", "标题", "购买数量"):
            return "tmall_item_report"  # 宝贝报表 CSV
    if t.has("订单编号", "买家会员名", "订单付款时间") and (
            t.has("买家实际支付金额") or t.has("买家实付金额")):
        return "tmall_orders"
    if t.has("订单号", "下单时间", "付款确认时间") and (t.has("下单帐号") or t.has("下单账号")) and (
            t.has("应付金额") or t.has("实付金额")):
        return "jd_orders"
    if t.has("订单号", "买家付款时间", "订单实付金额"):
        return "youzan_orders"
    if t.has("openid") and (t.has("subscribe_time") or t.has("subscribe")):
        return "wechat_followers"
    if t.has("日期", "主体名称", "花费"):
        return "spend_wanxiangtai"
    if t.has("日期", "花费") and (t.has("计划名称") or t.has("推广计划")):
        return "spend_jingzhuntong"
    if t.has("计划名称", "花费") and not t.has("日期"):
        return "spend_zhitongche"
    if t.has("date", "channel", "spend"):
        return "spend_plain"
    return None


def csv_rows(raw: bytes) -> list[tuple[int, list[str]]]:
    """Every CSV record with the line it ends on; a quoted value spanning lines is one record."""
    reader = csv.reader(io.StringIO(decode(raw), newline=""))
    return [(reader.line_num, row) for row in reader]


HEADER_SEARCH = 6  # the header is among the first 6 non-blank rows (decisions.md)


def split_header(rows: list[tuple[int, list[str]]]) -> tuple[Table | None, list[tuple[int, list[str]]]]:
    """Header and data records. The header is the first of the first 6 non-blank rows that a format
    signature recognises; rows above it (a report title, a date range, as 京准通 writes them) are not
    records. When none is recognised, the first non-blank row is the header (the file then has no
    format). After the header, blank lines are not records; a row of blank cells is."""
    nonblank = [k for k, (_, r) in enumerate(rows) if any(c.strip() for c in r)]
    if not nonblank:
        return None, []
    at = nonblank[0]
    for k in nonblank[:HEADER_SEARCH]:
        if detect_format(Table(rows[k][1])):
            at = k
            break
    return Table(rows[at][1]), [(line, r) for line, r in rows[at + 1:] if r]


def read_records(raw: bytes) -> tuple[Table | None, list[tuple[int, list[str]]]]:
    return split_header(csv_rows(raw))


# ----------------------------------------------------------------------------------------------
# Workbooks (.xlsx): the first sheet as rows of text, read independently of any writer
# ----------------------------------------------------------------------------------------------

_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Built-in number formats that show a date or a time (ECMA-376 18.8.30 and the CJK ids 27-36, 50-58).
_BUILTIN_DATE_FORMATS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text_of(elem) -> str:
    """Text of a shared string <si> or an inline <is>: its <t>, or the <t> of its rich-text runs
    <r>; phonetic hints (<rPh>) are not part of the text. Excel's _xHHHH_ escapes are decoded."""
    parts = []
    for child in elem:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), "".join(parts))


def is_date_format(code: str) -> bool:
    """A custom number format shows a date/time when, outside quoted text, escapes, fill/padding
    characters and [colour]/[locale] sections, its first section holds y, m, d, h or s."""
    s = re.sub(r'"[^"]*"|\\.|_.|\*.|\[[^\]]*\]', "", code).split(";")[0]
    return s.strip().lower() != "general" and re.search(r"[ymdhs]", s, re.IGNORECASE) is not None


def excel_general(v: str) -> str:
    """A numeric cell as Excel's General format shows it: at most 15 significant digits, whole
    numbers of up to 15 digits plain, larger ones (and tiny ones) in scientific notation with
    15 significant digits: 1234567890123456789 -> 1.23456789012346E+18."""
    try:
        d = Decimal(v.strip())
    except InvalidOperation:
        return v.strip()
    if not d.is_finite():
        return v.strip()
    if d == 0:
        return "0"
    sign = "-" if d < 0 else ""
    d = abs(d)
    if d == d.to_integral_value() and d < Decimal(10) ** 15:
        return sign + str(int(d))
    fifteen = Decimal("1.00000000000000")
    exp = d.adjusted()
    m = d.scaleb(-exp).quantize(fifteen, rounding=ROUND_HALF_UP)
    if m >= 10:
        exp += 1
        m = (m / 10).quantize(fifteen, rounding=ROUND_HALF_UP)
    if exp >= 15 or exp < -9:
        mant = format(m, "f").rstrip("0").rstrip(".")
        return f"{sign}{mant}E{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    text = format(m.scaleb(exp), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return sign + text


def excel_datetime(v: str, date1904: bool) -> str:
    """A date cell's serial number as the local wall time it stands for (no zone: business time),
    to the nearest second, `yyyy-mm-dd HH:MM:SS`."""
    x = Fraction(Decimal(v.strip()))
    if date1904:
        base = dt.datetime(1904, 1, 1)
    else:  # 1900 system: serial 1 = 1900-01-01, and Excel counts a 1900-02-29 that never was
        base = dt.datetime(1899, 12, 31) if x < 60 else dt.datetime(1899, 12, 30)
    return (base + dt.timedelta(seconds=half_up(x * 86400))).strftime("%Y-%m-%d %H:%M:%S")


def _column_index(ref: str) -> int | None:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        elif "a" <= ch <= "z":
            n = n * 26 + ord(ch) - 96
        else:
            break
    return n - 1 if n else None


def xlsx_rows(raw: bytes) -> list[tuple[int, list[str]]]:
    """The first sheet of a workbook as (row number, cells as text). Shared strings, inline strings,
    formula results (t="str"), booleans (TRUE/FALSE) and errors are their text; numbers with a
    date/time number format (styles.xml) are local date-times; other numbers are shown as General.
    Cells a row leaves out are empty; rows the sheet leaves out are blank lines. The sheet is
    streamed with iterparse (its declared <dimension> is not trusted)."""
    z = zipfile.ZipFile(io.BytesIO(raw))
    names = set(z.namelist())

    def part(base_dir: str, target: str) -> str:
        if target.startswith("/"):
            return target[1:]
        parts = []
        for p in (base_dir + "/" + target).split("/"):
            if p == "..":
                parts.pop()
            elif p and p != ".":
                parts.append(p)
        return "/".join(parts)

    wb = ET.fromstring(z.read("xl/workbook.xml"))
    date1904 = any(_local(e.tag) == "workbookPr" and e.get("date1904") in ("1", "true") for e in wb.iter())
    first_rid = next((e.get(_REL_NS + "id") for e in wb.iter() if _local(e.tag) == "sheet"), None)
    targets, by_type = {}, {}
    if "xl/_rels/workbook.xml.rels" in names:
        for e in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")):
            targets[e.get("Id")] = part("xl", e.get("Target", ""))
            by_type[e.get("Type", "").rsplit("/", 1)[-1]] = targets[e.get("Id")]
    sheet = targets.get(first_rid) or "xl/worksheets/sheet1.xml"
    shared: list[str] = []
    sst = by_type.get("sharedStrings", "xl/sharedStrings.xml")
    if sst in names:
        with z.open(sst) as f:
            for _, e in ET.iterparse(f):
                if _local(e.tag) == "si":
                    shared.append(_text_of(e))
                    e.clear()
    date_styles: list[bool] = []
    styles = by_type.get("styles", "xl/styles.xml")
    if styles in names:
        root = ET.fromstring(z.read(styles))
        custom = {}
        for e in root.iter():
            if _local(e.tag) == "numFmt":
                custom[int(e.get("numFmtId"))] = e.get("formatCode", "")
        for e in root:
            if _local(e.tag) == "cellXfs":
                for xf in e:
                    fid = int(xf.get("numFmtId", "0"))
                    date_styles.append(is_date_format(custom[fid]) if fid in custom else fid in _BUILTIN_DATE_FORMATS)

    def value(c) -> str:
        t = c.get("t", "n")
        v = is_ = None
        for child in c:
            name = _local(child.tag)
            if name == "v":
                v = child.text or ""
            elif name == "is":
                is_ = child
        if t == "inlineStr":
            return _text_of(is_) if is_ is not None else ""
        if v is None:
            return ""
        if t == "s":
            return shared[int(v)]
        if t == "b":
            return "TRUE" if v.strip() == "1" else "FALSE"
        if t in ("str", "e"):
            return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), v)
        if t == "d":  # an ISO 8601 date cell
            return v.replace("T", " ")
        style = int(c.get("s", "0"))
        if style < len(date_styles) and date_styles[style]:
            return excel_datetime(v, date1904)
        return excel_general(v)

    rows: list[tuple[int, list[str]]] = []
    with z.open(sheet) as f:
        data = None
        for event, e in ET.iterparse(f, events=("start", "end")):
            name = _local(e.tag)
            if event == "start":
                if name == "sheetData":
                    data = e
                continue
            if name != "row":
                continue
            number = int(e.get("r")) if e.get("r") else (rows[-1][0] + 1 if rows else 1)
            while rows and rows[-1][0] + 1 < number or not rows and number > 1:
                rows.append(((rows[-1][0] + 1) if rows else 1, []))  # a row the sheet leaves out
            cells: list[str] = []
            for c in e:
                if _local(c.tag) != "c":
                    continue
                col = _column_index(c.get("r", "")) if c.get("r") else len(cells)
                if col is None:
                    col = len(cells)
                while len(cells) < col:
                    cells.append("")
                text = value(c)
                if col < len(cells):
                    cells[col] = text
                else:
                    cells.append(text)
            rows.append((number, cells))
            e.clear()
            if data is not None:
                data.remove(e)
    return rows


def read_workbook(raw: bytes) -> tuple[Table | None, list[tuple[int, list[str]]]]:
    return split_header(xlsx_rows(raw))


def read_jsonl(raw: bytes) -> tuple[Table, list[tuple[int, list[str]]]]:
    """Follower JSON lines (user/info objects) as a table of the same field names."""
    objs = [(n, json.loads(line)) for n, line in enumerate(decode(raw).splitlines(), 1) if line.strip()]
    names = ["subscribe", "openid", "unionid", "subscribe_time", "subscribe_scene", "qr_scene",
             "qr_scene_str", "mobile"]
    return Table(names), [(n, ["" if o.get(k) is None else str(o.get(k)) for k in names]) for n, o in objs]


def export_stamp(path: str) -> str:
    """Export time from a file name as 14 digits, '' when the name has none.
    Tmall ExportOrderList<12 digits>, else the last YYYYMMDD[HHMM[SS]] run in the name
    (a date range in a name ends at the export: decisions.md)."""
    name = os.path.basename(path)
    runs = re.findall(r"(?<!\d)(\d{14}|\d{12}|\d{8})(?!\d)", name)
    good = []
    for r in runs:
        try:
            dt.datetime(int(r[:4]), int(r[4:6]), int(r[6:8]),
                        int(r[8:10] or 0), int(r[10:12] or 0), int(r[12:14] or 0))
        except ValueError:
            continue
        good.append(r.ljust(14, "0"))
    return good[-1] if good else ""


# ----------------------------------------------------------------------------------------------
# Ingest
# ----------------------------------------------------------------------------------------------

@dataclass
class Order:
    platform: str
    order_id: str
    paid: int
    refunded: int
    pay_time: dt.datetime | None
    status: str
    is_test: bool
    promo: list[str]
    nodes: set[str] = field(default_factory=set)

    @property
    def net(self) -> int:
        return self.paid - self.refunded

    @property
    def qualifying(self) -> bool:
        return self.pay_time is not None and self.net > 0 and not self.is_test


@dataclass(frozen=True)
class ItemLine:
    """One item line of an order, for the product report (METRICS.md product_repurchase.csv)."""
    product: str   # the merchant's code (Tmall 商家编码, JD 货号, else JD 商家SKUID), else the title
    title: str
    quantity: int


SCIENTIFIC_ID = re.compile(r"[0-9.]+[eE][+-]?\d+")


@dataclass
class Follow:
    openid: str
    time: dt.datetime
    order: int  # ingest position, for ties
    scene: str
    qr_scene: str
    qr_scene_str: str
    default_channel: str


@dataclass
class Spend:
    day: dt.date
    fields: list[str]
    fen: int


UNPAID_STATUSES = {"等待买家付款", "等待付款", "待付款"}
CLOSED_STATUSES = {"交易关闭", "交易被淘宝关闭", "已取消", "已关闭"}
JD_PAID_STATUSES = {"等待出库", "等待确认收货", "完成", "已完成", "配送中", "已发货", "等待发货"}


def strip_status(s: str) -> str:
    for p in ("(删除)", "（删除）", "(锁定)", "（锁定）"):
        if s.startswith(p):
            s = s[len(p):]
    return s.strip()


class UnionFind:
    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, nodes) -> None:
        nodes = list(nodes)
        self.find(nodes[0])  # a lone node is still a node
        for n in nodes[1:]:
            a, b = self.find(nodes[0]), self.find(n)
            if a != b:
                self.parent[max(a, b)] = min(a, b)


def quality_row(path, sha, fmt, read, quarantined: dict[str, int]) -> dict:
    """One data_quality entry: rows_read = rows_landed + rows_quarantined."""
    q = sum(quarantined.values())
    return dict(file=path, sha256=sha, format=fmt, rows_read=read, rows_landed=read - q,
                rows_quarantined=q, reasons=dict(sorted(quarantined.items())))


class Ingest:
    def __init__(self, pipe: Pipeline):
        self.pipe = pipe
        self.clock = Clock(pipe.tz)
        self.uf = UnionFind()
        self.orders: dict[tuple[str, str], Order] = {}
        self.follows: list[Follow] = []
        self.spend: list[Spend] = []
        self.quality: list[dict] = []  # data_quality entries, ingest order
        # Item lines per order (platform, order id), from item reports and JD's per-SKU rows,
        # ready for the product report: the newest observation of each order's lines.
        self.items: dict[tuple[str, str], list[ItemLine]] = {}

    def run(self) -> None:
        files = []  # (ingest position, path, source)
        seen_paths = set()
        for src in self.pipe.sources:
            for pattern in src.get("files", []):
                # "X.csv" before its re-delivered copy "X (1).csv" (decisions.md).
                for path in sorted(glob.glob(pattern), key=lambda p: (os.path.splitext(p)[0], p)):
                    if path not in seen_paths:
                        seen_paths.add(path)
                        files.append((len(files), path, src))
        # A byte-identical re-delivery is skipped; the first file in ingest order keeps the data.
        by_sha: dict[str, str] = {}
        quality: dict[int, dict] = {}
        loaded = []
        for pos, path, src in files:
            with open(path, "rb") as f:
                raw = f.read()
            sha = hashlib.sha256(raw).hexdigest()
            if sha in by_sha:
                quality[pos] = quality_row(path, sha, f"duplicate_of:{by_sha[sha]}", 0, {})
                continue
            by_sha[sha] = path
            loaded.append((export_stamp(path), pos, path, src, raw, sha))
        # Newest observation wins: files are applied oldest export first (ties: ingest order).
        for _stamp, pos, path, src, raw, sha in sorted(loaded, key=lambda x: (x[0], x[1])):
            quality[pos] = self.load_file(pos, path, src, raw, sha)
        for o in self.orders.values():
            self.uf.union([f"~order:{o.platform}:{o.order_id}", *sorted(o.nodes)])
        self.quality = [quality[pos] for pos in sorted(quality)]

    def load_file(self, pos, path, src, raw, sha) -> dict:
        if path.lower().endswith((".jsonl", ".json")):
            table, records = read_jsonl(raw)
        elif raw.startswith(b"PK\x03\x04"):  # a zip: an .xlsx workbook, whatever its name says
            try:
                table, records = read_workbook(raw)
            except (zipfile.BadZipFile, zlib.error, ET.ParseError, KeyError, ValueError, IndexError, EOFError,
                    NotImplementedError, RuntimeError, OSError) as e:  # damaged, encrypted, odd compression
                print(f"crosscheck: {path}: not a readable workbook ({e!r})", file=sys.stderr)
                return quality_row(path, sha, "unreadable_workbook", 0, {})
        else:
            table, records = read_records(raw)
        fmt = detect_format(table) if table else None
        quarantined: dict[str, int] = {}

        def bad(reason):
            quarantined[reason] = quarantined.get(reason, 0) + 1

        if fmt is None:
            for _ in records:
                bad("unknown_format")
        elif fmt in ("tmall_item_report", "tmall_item_sheet"):
            self.load_items(fmt, src, table, records, bad)
        elif fmt in ("tmall_orders", "jd_orders", "youzan_orders"):
            self.load_orders(fmt, src, table, records, bad)
        elif fmt == "wechat_followers":
            self.load_followers(pos, src, table, records, bad)
        else:
            self.load_spend(fmt, path, table, records, bad)
        return quality_row(path, sha, fmt or "unknown", len(records), quarantined)

    # -- orders ---------------------------------------------------------------------------------

    def order_from_row(self, fmt: str, platform: str, t: Table, row: list[str]) -> Order:
        g = lambda *n: t.get(row, *n)  # noqa: E731
        if fmt == "tmall_orders":
            oid = g("订单编号")
            paid = money_fen(g("买家实际支付金额", "买家实付金额"))
            refunded = money_fen(g("退款金额"))
            status = g("订单状态")
            pay = self.clock.parse(g("订单付款时间"))
            buyer, phones, promo, test = g("买家会员名"), [g("联系手机"), g("联系电话"), g("买家手机号")], [], False
            ids = []
        elif fmt == "jd_orders":
            oid = g("订单号")
            paid = money_fen(g("实付金额") if t.has("实付金额") else g("应付金额"))
            refunded = 0
            status = g("订单状态")
            pay = self.clock.parse(g("付款确认时间"))
            if pay is None:
                s = strip_status(status)
                if s in JD_PAID_STATUSES:  # cash on delivery etc. (decisions.md)
                    pay = self.clock.parse(g("下单时间"))
            buyer, phones, promo, test = g("下单帐号", "下单账号"), [g("联系电话")], [g("订单来源"), g("订单渠道")], False
            ids = []
        else:  # youzan
            oid = g("订单号")
            paid = money_fen(g("订单实付金额"))
            refunded = money_fen(g("订单已退款金额"))
            status = g("订单状态")
            pay = self.clock.parse(g("买家付款时间"))
            buyer = g("买家昵称")
            phones = [g("买家手机号"), g("收货人手机号/提货人手机号")]
            promo = [g("推广方式"), g("订单来源")]
            test = "测试" in g("订单类型")
            ids = [("unionid:", g("unionid", "UnionID", "微信unionid")), ("openid:", g("openid", "OpenID", "微信openid"))]
        if pay is None:
            paid = 0  # an unpaid order's paid amount is 0
        o = Order(platform, oid, paid, refunded, pay, status, test, promo)
        if buyer:
            o.nodes.add(f"acct:{platform}:{buyer}")
        o.nodes.update(n for n in map(phone_node, phones) if n)
        o.nodes.update(p + v for p, v in ids if v)
        return o

    def load_orders(self, fmt, src, t: Table, records, bad) -> None:
        platform = source_platform(src)
        in_file: dict[str, Order] = {}
        file_items: dict[str, list[ItemLine]] = {}
        for _line, row in records:
            oid = t.get(row, "订单编号" if fmt == "tmall_orders" else "订单号")
            if not oid:
                bad("missing_order_id")
                continue
            if SCIENTIFIC_ID.fullmatch(oid):
                bad("order_id_scientific")
                continue
            try:
                o = self.order_from_row(fmt, platform, t, row)
            except ValueError:
                bad("bad_timestamp")
                continue
            if fmt == "jd_orders":  # one row per SKU: each row is an item line of the order
                title = t.get(row, "商品名称")
                qty = t.get(row, "订购数量")
                file_items.setdefault(oid, []).append(ItemLine(
                    t.get(row, "货号") or t.get(row, "商家SKUID") or title, title,
                    int(qty) if qty.isdigit() else 0))
            prev = in_file.get(oid)
            if prev is not None:
                # Item lines of one order (decisions.md): order-level fields from the first row.
                prev.nodes |= o.nodes
                continue
            in_file[oid] = o
        for oid, o in in_file.items():
            # Newest observation wins: an older observation is replaced whole, links included;
            # identities are linked after all files are loaded (link_orders).
            self.orders[(platform, oid)] = o
            if oid in file_items:
                self.items[(platform, oid)] = file_items[oid]

    # -- item lines -----------------------------------------------------------------------------

    def load_items(self, fmt, src, t: Table, records, bad) -> None:
        """Tmall item report (宝贝报表) or item sheet: item lines of orders, joined by 订单编号 /
        主订单编号. They create no order. An order's item lines come from the newest file that
        lists it (files are applied oldest export first), all of its rows there."""
        platform = source_platform(src)
        in_file: dict[str, list[ItemLine]] = {}
        for _line, row in records:
            oid = t.get(row, "主订单编号" if fmt == "tmall_item_sheet" else "订单编号")
            if not oid:
                bad("missing_order_id")
                continue
            if SCIENTIFIC_ID.fullmatch(oid):
                bad("order_id_scientific")
                continue
            qty = t.get(row, "购买数量")
            if not qty.isdigit():
                bad("bad_quantity")
                continue
            title = t.get(row, "商品标题", "标题", "宝贝标题")
            in_file.setdefault(oid, []).append(ItemLine(t.get(row, "商家编码") or title, title, int(qty)))
        for oid, lines in in_file.items():
            self.items[(platform, oid)] = lines

    # -- followers ------------------------------------------------------------------------------

    def load_followers(self, pos, src, t: Table, records, bad) -> None:
        default = src.get("default_channel", "unmapped")
        for _line, row in records:
            g = lambda *n: t.get(row, *n)  # noqa: E731
            openid = g("openid")
            if not openid:
                bad("missing_openid")
                continue
            try:
                when = self.clock.parse(g("subscribe_time"), unix_ok=True)
            except ValueError:
                bad("bad_timestamp")
                continue
            nodes = ["openid:" + openid]
            if g("unionid"):
                nodes.append("unionid:" + g("unionid"))
            m = phone_node(g("mobile"))
            if m:
                nodes.append(m)
            self.uf.union(nodes)
            if when is not None:
                self.follows.append(Follow(openid, when, pos, g("subscribe_scene"), g("qr_scene"),
                                           g("qr_scene_str"), default))

    # -- spend ----------------------------------------------------------------------------------

    def load_spend(self, fmt, path, t: Table, records, bad) -> None:
        file_day = None
        if fmt == "spend_zhitongche":  # no date column: the last day of the range in the file name
            runs = re.findall(r"(?<!\d)(\d{8})(?!\d)", os.path.basename(path))
            if runs:
                r = runs[-1]
                file_day = dt.date(int(r[:4]), int(r[4:6]), int(r[6:8]))
        for _line, row in records:
            g = lambda *n: t.get(row, *n)  # noqa: E731
            if fmt == "spend_wanxiangtai":
                fields, date_cell, fen_cell = [g("主体名称")], g("日期"), g("花费")
            elif fmt == "spend_jingzhuntong":
                fields, date_cell, fen_cell = [g("计划名称", "推广计划")], g("日期"), g("花费")
            elif fmt == "spend_zhitongche":
                fields, date_cell, fen_cell = [g("计划名称")], None, g("花费")
            else:
                fields, date_cell, fen_cell = [g("channel")], g("date"), g("spend")
            if any(c.strip() in ("合计", "汇总", "总计") for c in row[:2]):
                bad("total_row")
                continue
            if date_cell is None:
                if file_day is None:
                    bad("no_date")
                    continue
                day = file_day
            else:
                try:
                    when = self.clock.parse(date_cell)
                except ValueError:
                    when = None
                if when is None:
                    bad("bad_date")
                    continue
                day = when.date()
            self.spend.append(Spend(day, fields, money_fen(fen_cell)))


# ----------------------------------------------------------------------------------------------
# Customers
# ----------------------------------------------------------------------------------------------

@dataclass
class Customer:
    key: str
    first_order: Order
    day_net: dict[dt.date, int] = field(default_factory=dict)            # purchase day -> net fen
    day_platforms: dict[dt.date, set[str]] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    fans: list[Follow] = field(default_factory=list)                    # first follows, <= as-of
    channel: str = ""

    @property
    def days(self) -> list[dt.date]:
        return sorted(self.day_net)

    @property
    def first_day(self) -> dt.date:
        return self.days[0]

    @property
    def second_day(self) -> dt.date | None:
        d = self.days
        return d[1] if len(d) > 1 else None

    @property
    def platform(self) -> str:
        return self.first_order.platform

    @property
    def first_follow(self) -> Follow | None:
        return min(self.fans, key=lambda f: (f.time, f.order)) if self.fans else None


class Model:
    def __init__(self, pipe: Pipeline, ing: Ingest, as_of_flag: dt.date | None):
        self.pipe, self.ing = pipe, ing
        self.per = Periods(pipe.period)
        q_all = [o for o in ing.orders.values() if o.qualifying]
        if as_of_flag:
            self.as_of = as_of_flag
        elif pipe.as_of:
            self.as_of = pipe.as_of
        elif q_all:
            self.as_of = max(o.pay_time.date() for o in q_all)
        else:
            raise SystemExit("no qualifying orders: cannot choose an as-of date")
        self.orders = [o for o in q_all if o.pay_time.date() <= self.as_of]
        self.platforms = sorted({o.platform for o in self.orders})
        self.default_channel = {}
        for s in pipe.sources:
            if s["kind"] in ("tmall", "jd", "youzan", "generic"):
                self.default_channel.setdefault(source_platform(s), s.get("default_channel", source_platform(s)))
        self._fans()
        self._customers()

    def _fans(self) -> None:
        first: dict[str, Follow] = {}
        for f in self.ing.follows:
            cur = first.get(f.openid)
            if cur is None or (f.time, f.order) < (cur.time, cur.order):
                first[f.openid] = f
        self.fans = [f for f in first.values() if f.time.date() <= self.as_of]
        self.fan_channel = {}
        for f in self.fans:
            ch = first_rule(self.pipe.rules, "follow", [f.scene, f.qr_scene, f.qr_scene_str])
            self.fan_channel[f.openid] = ch or f.default_channel

    def _customers(self) -> None:
        uf = self.ing.uf
        members: dict[str, list[str]] = {}
        for n in list(uf.parent):
            members.setdefault(uf.find(n), []).append(n)
        by_root: dict[str, Customer] = {}
        for o in self.orders:
            root = uf.find(f"~order:{o.platform}:{o.order_id}")
            c = by_root.get(root)
            if c is None:
                nodes = [n for n in members[root] if not n.startswith("~")]
                # an order with no identity at all is its own customer, keyed order:<platform>:<id>
                node = min(nodes) if nodes else min(members[root])[1:]
                digest = hashlib.sha256((self.pipe.salt + "\x1f" + node).encode()).hexdigest()
                c = by_root[root] = Customer(digest[:16], o)
            c.orders.append(o)
            day = o.pay_time.date()
            c.day_net[day] = c.day_net.get(day, 0) + o.net
            c.day_platforms.setdefault(day, set()).add(o.platform)
            if (o.pay_time, o.platform, o.order_id) < (c.first_order.pay_time, c.first_order.platform,
                                                       c.first_order.order_id):
                c.first_order = o
        for f in self.fans:
            root = uf.find("openid:" + f.openid)
            if root in by_root:
                by_root[root].fans.append(f)
        self.customers = sorted(by_root.values(), key=lambda c: c.key)
        for c in self.customers:
            ch = first_rule(self.pipe.rules, "order", c.first_order.promo)
            ff = c.first_follow
            if ch is None and ff is not None and ff.time < c.first_order.pay_time:
                ch = first_rule(self.pipe.rules, "follow", [ff.scene, ff.qr_scene, ff.qr_scene_str])
            c.channel = ch or self.default_channel.get(c.platform, c.platform)
        self.fan_customer = {}
        for c in self.customers:
            for f in c.fans:
                self.fan_customer[f.openid] = c

    # -- helpers ----------------------------------------------------------------------------------

    def period_range(self, days) -> list[int]:
        days = list(days)
        if not days:
            return []
        return list(range(self.per.index(min(days)), self.per.index(self.as_of) + 1))

    def partial(self, i: int) -> str:
        return fmt_bool(self.per.end(i) > self.as_of)

    # -- outputs ------------------------------------------------------------------------------------

    def cohort_repurchase(self):
        cols = ["cohort", "acquisition_platform", "period_offset", "cohort_customers", "active_customers",
                "retention_rate", "repeat_customers", "cumulative_repeat_rate", "net_revenue", "partial"]
        cohorts = self.period_range(c.first_day for c in self.customers)
        last = self.per.index(self.as_of)
        rows = []
        for coh in cohorts:
            members = [c for c in self.customers if self.per.index(c.first_day) == coh]
            for plat in ["all"] + self.platforms:
                group = members if plat == "all" else [c for c in members if c.platform == plat]
                for k in range(0, last - coh + 1):
                    p = coh + k
                    end = self.per.end(p)
                    active = len(group) if k == 0 else sum(
                        any(self.per.index(d) == p for d in c.day_net) for c in group)
                    repeat = sum(1 for c in group if c.second_day and c.second_day <= end)
                    rev = sum(o.net for c in group for o in c.orders if self.per.index(o.pay_time.date()) == p)
                    rows.append([self.per.label(coh), guard(plat), k, len(group), active,
                                 fmt_ratio(active, len(group)), repeat, fmt_ratio(repeat, len(group)),
                                 fmt_yuan(rev), self.partial(p)])
        return cols, rows

    def repurchase_by_period(self):
        cols = ["period", "platform", "buyers", "new_buyers", "returning_buyers", "returning_share",
                "repeat_buyers", "period_repurchase_rate", "net_revenue", "partial"]
        rows = []
        for p in self.period_range(c.first_day for c in self.customers):
            for plat in ["all"] + self.platforms:
                buyers = new = repeat = rev = 0
                for c in self.customers:
                    days = {o.pay_time.date() for o in c.orders
                            if self.per.index(o.pay_time.date()) == p and (plat == "all" or o.platform == plat)}
                    rev += sum(o.net for o in c.orders
                               if self.per.index(o.pay_time.date()) == p and (plat == "all" or o.platform == plat))
                    if not days:
                        continue
                    buyers += 1
                    new += self.per.index(c.first_day) == p
                    repeat += len(days) >= 2
                rows.append([self.per.label(p), guard(plat), buyers, new, buyers - new,
                             fmt_ratio(buyers - new, buyers), repeat, fmt_ratio(repeat, buyers),
                             fmt_yuan(rev), self.partial(p)])
        return cols, rows

    def platform_migration(self):
        cols = ["acquisition_platform", "repurchase_platform", "acquired_customers",
                "customers_repurchasing_on", "share"]
        rows = []
        for acq in ["all"] + self.platforms:
            group = self.customers if acq == "all" else [c for c in self.customers if c.platform == acq]
            for rep in ["any"] + self.platforms:
                n = 0
                for c in group:
                    later = [c.day_platforms[d] for d in c.days[1:]]
                    n += bool(later) if rep == "any" else any(rep in s for s in later)
                rows.append([guard(acq), guard(rep), len(group), n, fmt_ratio(n, len(group))])
        return cols, rows

    def window_net(self, c: Customer, days: int) -> int:
        last = c.first_day + dt.timedelta(days=days - 1)
        return sum(v for d, v in c.day_net.items() if d <= last)

    def channel_cpa(self):
        cols = ["period", "channel", "spend", "new_customers", "cpa", "first_order_revenue", "revenue_90d",
                "ltv_cac", "window_complete", "repeat_customers", "cost_per_repeat_customer"]
        spend = []
        for s in self.ing.spend:
            if s.day <= self.as_of:
                spend.append((s.day, first_rule(self.pipe.rules, "spend", s.fields) or "unmapped", s.fen))
        channels = sorted({ch for _, ch, _ in spend} | {c.channel for c in self.customers})
        w = self.pipe.window_days
        rows = []
        periods = self.period_range([c.first_day for c in self.customers] + [d for d, _, _ in spend])
        for p in periods:
            complete = fmt_bool(self.per.end(p) + dt.timedelta(days=w - 1) <= self.as_of)
            for ch in channels + ["blended"]:
                sp = sum(f for d, c, f in spend if self.per.index(d) == p and (ch == "blended" or c == ch))
                new = [c for c in self.customers if self.per.index(c.first_day) == p
                       and (ch == "blended" or c.channel == ch)]
                first_rev = sum(c.day_net[c.first_day] for c in new)
                rev_w = sum(self.window_net(c, w) for c in new)
                cpa = fmt_yuan(Fraction(sp, len(new))) if new else ""
                ltv = fmt_ratio(rev_w, sp) if new and sp else ""
                # siyu's extra columns: the new customers with a second purchase day inside the
                # revenue window (days 1..w-1), and spend per such customer.
                reps = 0
                for c in new:
                    days = sorted(d for d in c.day_net if d <= self.as_of)
                    reps += len(days) > 1 and (days[1] - days[0]).days < w
                cost = fmt_yuan(Fraction(sp, reps)) if reps else ""
                rows.append([self.per.label(p), guard(ch), fmt_yuan(sp), len(new), cpa, fmt_yuan(first_rev),
                             fmt_yuan(rev_w), ltv, complete, reps, cost])
        return cols, rows

    def fan_conversion(self):
        cols = ["follow_period", "fan_channel", "fans", "already_customers", "prospects", "converted_7d",
                "converted_30d", "converted_90d", "conversion_rate_30d", "repeat_fans", "loyal_fans",
                "median_days_to_first_order", "window_complete_30d"]
        channels = sorted(set(self.fan_channel.values()))
        rows = []
        for p in self.period_range(f.time.date() for f in self.fans):
            complete = fmt_bool(self.per.end(p) + dt.timedelta(days=29) <= self.as_of)
            for ch in ["all"] + channels:
                fans = [f for f in self.fans if self.per.index(f.time.date()) == p
                        and (ch == "all" or self.fan_channel[f.openid] == ch)]
                already = conv7 = conv30 = conv90 = repeat = loyal = 0
                lags = []
                for f in fans:
                    day = f.time.date()
                    c = self.fan_customer.get(f.openid)
                    if c and c.first_day < day:
                        already += 1
                    elif c:
                        lag = (c.first_day - day).days
                        lags.append(lag)
                        conv7 += lag < 7
                        conv30 += lag < 30
                        conv90 += lag < 90
                    after = sum(1 for d in c.day_net if d >= day) if c else 0
                    repeat += after >= 2
                    loyal += after >= self.pipe.loyal_threshold
                prospects = len(fans) - already
                rows.append([self.per.label(p), guard(ch), len(fans), already, prospects, conv7, conv30, conv90,
                             fmt_ratio(conv30, prospects), repeat, loyal, median(lags), complete])
        return cols, rows

    def fan_lift(self):
        cols = ["cohort", "group", "customers", "repeat_customers_180d", "repeat_rate_180d", "window_complete"]
        rows = []
        for coh in self.period_range(c.first_day for c in self.customers):
            members = [c for c in self.customers if self.per.index(c.first_day) == coh]
            complete = fmt_bool(self.per.end(coh) + dt.timedelta(days=179) <= self.as_of)
            groups = {"fan": [], "non_fan": []}
            for c in members:
                ff = c.first_follow
                limit = c.second_day or self.as_of
                groups["fan" if ff and ff.time.date() <= limit else "non_fan"].append(c)
            for g, cs in groups.items():
                rep = sum(1 for c in cs if c.second_day and (c.second_day - c.first_day).days <= 179)
                rows.append([self.per.label(coh), g, len(cs), rep, fmt_ratio(rep, len(cs)), complete])
        return cols, rows

    def customer_summary(self):
        cols = ["customer_key", "acquisition_platform", "first_purchase_day", "frequency", "recency", "T",
                "monetary_value", "is_fan"]
        rows = []
        for c in self.customers:
            days = c.days
            repeat_vals = [c.day_net[d] for d in days[1:]]
            mv = Fraction(sum(repeat_vals), len(repeat_vals)) if repeat_vals else 0
            rows.append([c.key, guard(c.platform), days[0].isoformat(), len(days) - 1, (days[-1] - days[0]).days,
                         (self.as_of - days[0]).days, fmt_yuan(mv), fmt_bool(bool(c.fans))])
        return cols, rows

    def product_repurchase(self):
        """METRICS.md product_repurchase.csv, read on its own: a customer's first products are the
        distinct products on the item lines of the qualifying orders of the first purchase day
        (`(unknown)` when there is none); windows, next products and titles as the contract says,
        over the orders up to the as-of date. Rows: `all`, then the platforms by name; within one,
        first_customers descending, then product by code point, `(unknown)` last (decisions.md)."""
        cols = ["product", "title", "acquisition_platform", "first_customers", "eligible_90d", "repeat_customers_90d",
                "repeat_rate_90d", "eligible_180d", "repeat_customers_180d", "repeat_rate_180d", "next_product",
                "next_product_customers"]
        unknown = "(unknown)"

        def lines(orders):
            return [i for o in orders for i in self.ing.items.get((o.platform, o.order_id), []) if i.product]

        # title: the title on most item lines of the product, over every qualifying order (ties: smallest)
        votes: dict[str, dict[str, int]] = {}
        for i in lines(self.orders):
            if i.title:
                t = votes.setdefault(i.product, {})
                t[i.title] = t.get(i.title, 0) + 1
        title = {p: min(t.items(), key=lambda kv: (-kv[1], kv[0]))[0] for p, t in votes.items()}

        stats: dict[tuple[str, str], dict] = {}  # (platform or "all", product) -> sums
        for c in self.customers:
            first = c.first_day
            second = c.second_day
            firsts = {i.product for i in lines(o for o in c.orders if o.pay_time.date() == first)} or {unknown}
            nexts = {i.product for i in lines(o for o in c.orders if o.pay_time.date() == second)} if second else set()
            gap = (second - first).days if second else None
            e90 = first + dt.timedelta(days=89) <= self.as_of
            e180 = first + dt.timedelta(days=179) <= self.as_of
            for group in ("all", c.platform):
                for p in firsts:
                    s = stats.setdefault((group, p), {"n": 0, "e90": 0, "r90": 0, "e180": 0, "r180": 0, "next": {}})
                    s["n"] += 1
                    s["e90"] += e90
                    s["r90"] += e90 and gap is not None and 1 <= gap <= 89
                    s["e180"] += e180
                    s["r180"] += e180 and gap is not None and 1 <= gap <= 179
                    for q in nexts:
                        s["next"][q] = s["next"].get(q, 0) + 1
        rows = []
        groups = ["all"] + sorted({c.platform for c in self.customers})
        for g in groups:
            mine = [(p, s) for (gg, p), s in stats.items() if gg == g]
            mine.sort(key=lambda ps: (ps[0] == unknown, -ps[1]["n"], ps[0]))
            for p, s in mine:
                nxt = min(s["next"].items(), key=lambda kv: (-kv[1], kv[0])) if s["next"] else ("", 0)
                rows.append([guard(p), guard(title.get(p, "") if p != unknown else ""), guard(g), s["n"],
                             s["e90"], s["r90"], fmt_ratio(s["r90"], s["e90"]),
                             s["e180"], s["r180"], fmt_ratio(s["r180"], s["e180"]), guard(nxt[0]), nxt[1]])
        return cols, rows

    def data_quality(self):
        cols = ["file", "sha256", "format", "rows_read", "rows_landed", "rows_quarantined", "reason", "count"]
        rows = []
        for r in self.ing.quality:
            rows.append([guard(r["file"]), r["sha256"], r["format"], r["rows_read"], r["rows_landed"],
                         r["rows_quarantined"], "", ""])
            for reason, n in r["reasons"].items():
                rows.append([guard(r["file"]), r["sha256"], r["format"], "", "", "", reason, n])
        return cols, rows


def median(values: list[int]) -> str:
    if not values:
        return ""
    v = sorted(values)
    n = len(v)
    if n % 2:
        return str(v[n // 2])
    s = v[n // 2 - 1] + v[n // 2]
    return str(s // 2) if s % 2 == 0 else f"{s // 2}.5"


# ----------------------------------------------------------------------------------------------
# Writing and comparing
# ----------------------------------------------------------------------------------------------

OUTPUTS = {  # file -> (method, key columns)
    "cohort_repurchase.csv": ("cohort_repurchase", ["cohort", "acquisition_platform", "period_offset"]),
    "repurchase_by_period.csv": ("repurchase_by_period", ["period", "platform"]),
    "platform_migration.csv": ("platform_migration", ["acquisition_platform", "repurchase_platform"]),
    "channel_cpa.csv": ("channel_cpa", ["period", "channel"]),
    "fan_conversion.csv": ("fan_conversion", ["follow_period", "fan_channel"]),
    "fan_lift.csv": ("fan_lift", ["cohort", "group"]),
    "customer_summary.csv": ("customer_summary", ["customer_key"]),
    "product_repurchase.csv": ("product_repurchase", ["product", "acquisition_platform"]),
    "data_quality.csv": ("data_quality", ["file", "reason"]),
}
# data_quality: quarantine reason names and format labels are each implementation's own words, so only
# the per-file counts and hashes are compared, and only rows_read/sha256 make the check fail.
DQ_STRICT = ["sha256", "rows_read"]
# The customer models (predictions.py, numpy and scipy): compared numerically, not as strings.
MODEL_OUTPUTS = {
    "model_fit.csv": "model_fit",
    "customer_predictions.csv": "customer_predictions",
    "prediction_check.csv": "prediction_check",
}
# Files whose row order is part of the contract (decisions.md) and compared too.
ORDERED = {"product_repurchase.csv"}
DQ_ADVISORY = ["rows_landed", "rows_quarantined"]


def write_csv(path: str, cols: list[str], rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows([[str(v) for v in r] for r in rows])


def read_csv(path: str) -> tuple[list[str], list[dict]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        header = next(r, [])
        return header, [dict(zip(header, row)) for row in r]


def compare(ours_dir: str, siyu_dir: str) -> int:
    outcome = {False: 0, True: 0}  # files equal / different
    failed = False
    for name, (_, keys) in OUTPUTS.items():
        mine_path, theirs_path = os.path.join(ours_dir, name), os.path.join(siyu_dir, name)
        if not os.path.exists(theirs_path):
            print(f"{name}: MISSING in {siyu_dir}")
            failed = True
            continue
        cols, mine = read_csv(mine_path)
        theirs_cols, theirs = read_csv(theirs_path)
        diffs, notes = [], []
        if theirs_cols[:len(cols)] != cols:
            diffs.append(f"header: expected {cols} first, got {theirs_cols[:len(cols)]}")
        if name == "data_quality.csv":
            mine = [r for r in mine if r["reason"] == ""]
            theirs = [r for r in theirs if r.get("reason", "") == ""]
            for r in mine + theirs:
                r["file"] = os.path.basename(r.get("file", ""))
            compared, advisory = DQ_STRICT, DQ_ADVISORY
        else:
            compared, advisory = [c for c in cols if c not in keys], []

        def index(rows, side):
            out = {}
            for r in rows:
                k = tuple(r.get(c, "") for c in keys)
                if k in out:
                    diffs.append(f"duplicate key {k} in {side}")
                out[k] = r
            return out

        a, b = index(mine, "crosscheck"), index(theirs, "siyu")
        if name in ORDERED and a.keys() == b.keys():
            order_a = [tuple(r.get(c, "") for c in keys) for r in mine]
            order_b = [tuple(r.get(c, "") for c in keys) for r in theirs]
            if order_a != order_b:
                at = next(i for i, (x, y) in enumerate(zip(order_a, order_b)) if x != y)
                diffs.append(f"row order differs from row {at + 1}: crosscheck {order_a[at]}, siyu {order_b[at]}")
        for k in sorted(a.keys() - b.keys()):
            diffs.append(f"row {dict(zip(keys, k))} only in crosscheck: {a[k]}")
        for k in sorted(b.keys() - a.keys()):
            diffs.append(f"row {dict(zip(keys, k))} only in siyu: { {c: b[k].get(c) for c in cols} }")
        for k in sorted(a.keys() & b.keys()):
            for c in compared + advisory:
                if a[k].get(c, "") != b[k].get(c, ""):
                    msg = f"{dict(zip(keys, k))} {c}: crosscheck={a[k].get(c, '')!r} siyu={b[k].get(c)!r}"
                    (notes if c in advisory else diffs).append(msg)
        status = "OK" if not diffs else "DIFFERENT"
        print(f"{name}: {len(a)} rows crosscheck, {len(b)} rows siyu, {len(diffs)} differences"
              + (f", {len(notes)} advisory notes" if notes else "") + f" — {status}")
        for d in diffs[:20]:
            print("  " + d)
        if len(diffs) > 20:
            print(f"  … {len(diffs) - 20} more")
        for n in notes[:20]:
            print("  note: " + n)
        failed |= bool(diffs)
        outcome[bool(diffs)] += 1
    print(f"crosscheck: {outcome[False]} passed, {outcome[True]} failed")
    return 1 if failed else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--out", required=True, help="directory for the crosscheck CSVs")
    ap.add_argument("--as-of", type=dt.date.fromisoformat)
    ap.add_argument("--compare", metavar="SIYU_DIR", help="compare with the CSVs siyu wrote there")
    ap.add_argument("--items-out", metavar="FILE",
                    help="also write every order's item lines (platform, order_id, product, title, quantity) "
                         "to FILE: what the product report will read (holds raw order ids: a check, not a report)")
    args = ap.parse_args(argv)

    pipe = load_pipeline(args.pipeline)
    ing = Ingest(pipe)
    ing.run()
    model = Model(pipe, ing, args.as_of)
    os.makedirs(args.out, exist_ok=True)
    for name, (method, _) in OUTPUTS.items():
        cols, rows = getattr(model, method)()
        write_csv(os.path.join(args.out, name), cols, rows)
    total = sum(o.net for o in model.orders)
    lines = sum(len(v) for v in ing.items.values())
    orphans = sum(1 for k in ing.items if k not in ing.orders)
    print(f"as_of={model.as_of} customers={len(model.customers)} qualifying_orders={len(model.orders)} "
          f"net_revenue={fmt_yuan(total)} fans={len(model.fans)} platforms={','.join(model.platforms)} "
          f"item_orders={len(ing.items)} item_lines={lines} item_orders_without_order={orphans}",
          file=sys.stderr)
    if args.items_out:
        write_csv(args.items_out, ["platform", "order_id", "product", "title", "quantity"],
                  [[guard(p), guard(oid), guard(i.product), guard(i.title), i.quantity]
                   for (p, oid), its in sorted(ing.items.items()) for i in its])
    pred = None
    settings = predictions.load_settings(args.pipeline)
    if settings.enabled:
        people = []
        for c in model.customers:
            days = c.days
            repeat = [c.day_net[d] for d in days[1:]]
            monetary = fmt_yuan(Fraction(sum(repeat), len(repeat))) if repeat else "0.00"
            people.append(predictions.Person(c.key, guard(c.platform), days, float(monetary)))
        pred = predictions.Predictions(people, model.as_of, settings)
        for name, method in MODEL_OUTPUTS.items():
            cols, rows = getattr(pred, method)()
            write_csv(os.path.join(args.out, name), cols, rows)
        print(pred.describe(), file=sys.stderr)
    if args.compare:
        failed = compare(args.out, args.compare)
        if pred is not None:
            model_failures = predictions.compare(pred, args.compare)
            print(f"crosscheck (models): {len(MODEL_OUTPUTS) - model_failures} passed, {model_failures} failed")
            failed |= 1 if model_failures else 0
        return failed
    return 0


if __name__ == "__main__":
    sys.exit(main())
