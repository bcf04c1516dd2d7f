#!/usr/bin/env python3
"""Writes the small workbooks Tests/SiyuCoreTests/WorkbookReaderTests.swift reads (and, with
--bench, two large Tmall-like sheets to time the reader). Standard library only.

Run: python3 make_workbooks.py (the output is deterministic: the same bytes every time).

Every expected cell text in the tests is worked out by hand from what is written here; the
test's comments give the arithmetic.

Timing (the bench files are not committed):
    python3 make_workbooks.py --bench /tmp/xlsx-bench 200000
    SIYU_XLSX_BENCH=/tmp/xlsx-bench swift test -c release -Xswiftc -enable-testing \
        --disable-swift-testing --filter WorkbookReaderTests/testThroughput
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
import struct
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "sample-data"))
from xlsxgen import Num, write_xlsx  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Bench data: the 56-column Tmall order report of sample-data/, cycled, in both shapes.

_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
_MONEY = re.compile(r"^\d+\.\d\d$")
_INT = re.compile(r"^\d{1,9}$")


def _bench_rows(n: int, excel: bool):
    path = os.path.join(ROOT, "sample-data", "tmall", "ExportOrderList202503011200.csv")
    with open(path, encoding="gbk", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    yield header
    for i in range(n):
        row = list(body[i % len(body)])
        oid = '="%019d"' % (1000000000000000000 + i)   # every order id distinct (many shared strings)
        row[0] = row[54] = oid
        if excel:
            out = []
            for c in row:
                if _DATETIME.match(c):
                    out.append(dt.datetime.strptime(c, "%Y-%m-%d %H:%M:%S"))
                elif _MONEY.match(c):
                    out.append(float(c))
                elif _INT.match(c):
                    out.append(int(c))
                else:
                    out.append(c)
            row = out
        yield row


def write_bench(out_dir: str, n: int) -> None:
    os.makedirs(out_dir, exist_ok=True)
    for shape in ("qianniu", "excel"):
        p = os.path.join(out_dir, "tmall-%s-%d.xlsx" % (shape, n))
        write_xlsx(p, [("订单报表", _bench_rows(n, shape == "excel"))], shape=shape)
        print(p, os.path.getsize(p))


# ---------------------------------------------------------------------------------------------
# Hand-made parts.

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def sheet_xml(rows_xml: str) -> str:
    return HEAD + '<worksheet xmlns="%s" xmlns:r="%s"><sheetData>%s</sheetData></worksheet>' % (MAIN, REL, rows_xml)


def sst_xml(items) -> str:
    return HEAD + '<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>' % (
        MAIN, len(items), len(items), "".join("<si>%s</si>" % i for i in items))


def styles_xml(num_fmts, xf_ids) -> str:
    fmts = "".join('<numFmt numFmtId="%d" formatCode="%s"/>' % (i, c.replace("&", "&amp;").replace('"', "&quot;"))
                   for i, c in num_fmts)
    # A numFmt inside a dxf (conditional formatting) must not count as a cell format.
    return HEAD + ('<styleSheet xmlns="%s"><numFmts count="%d">%s</numFmts>'
                   '<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs>'
                   '<cellXfs count="%d">%s</cellXfs>'
                   '<dxfs count="1"><dxf><numFmt numFmtId="200" formatCode="yyyy"/></dxf></dxfs></styleSheet>') % (
        MAIN, len(num_fmts), fmts, len(xf_ids), "".join('<xf numFmtId="%d" xfId="0"/>' % i for i in xf_ids))


def write_package(path, sheets, shared=None, styles=None, workbook_pr="", compression=zipfile.ZIP_DEFLATED,
                  extra_parts=None, level=None):
    """sheets: [(name, xml or None, target)]; a None xml leaves the part out (a missing part)."""
    parts = {
        "[Content_Types].xml": HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": HEAD + '<Relationships xmlns="%s"><Relationship Id="rId1" Type="%s/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>' % (PKG_REL, REL),
    }
    wb, rels = [], []
    for k, (name, xml, target) in enumerate(sheets, start=1):
        wb.append('<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (name.replace("&", "&amp;"), k, k))
        rels.append('<Relationship Id="rId%d" Type="%s/worksheet" Target="%s"/>' % (k, REL, target))
        if xml is not None:
            parts[target[1:] if target.startswith("/") else "xl/" + target] = xml
    n = len(sheets)
    if shared is not None:
        rels.append('<Relationship Id="rId%d" Type="%s/sharedStrings" Target="sharedStrings.xml"/>' % (n + 1, REL))
        parts["xl/sharedStrings.xml"] = shared
    if styles is not None:
        rels.append('<Relationship Id="rId%d" Type="%s/styles" Target="styles.xml"/>' % (n + 2, REL))
        parts["xl/styles.xml"] = styles
    parts["xl/workbook.xml"] = HEAD + '<workbook xmlns="%s" xmlns:r="%s">%s<sheets>%s</sheets></workbook>' % (
        MAIN, REL, workbook_pr, "".join(wb))
    parts["xl/_rels/workbook.xml.rels"] = HEAD + '<Relationships xmlns="%s">%s</Relationships>' % (PKG_REL, "".join(rels))
    parts.update(extra_parts or {})
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            data = text.encode("utf-8") if isinstance(text, str) else text
            if level is not None:
                z.writestr(info, data, compresslevel=level)
            else:
                z.writestr(info, data)


def inline(ref, text, attrs=""):
    return '<c r="%s" t="inlineStr"%s><is><t>%s</t></is></c>' % (ref, attrs, text)


# ---------------------------------------------------------------------------------------------
# The fixtures.

def make_xlsxgen_fixtures():
    # 千牛 shape: stored zip, inline strings, no styles. Expected texts: see WorkbookReaderTests.
    write_xlsx("qianniu.xlsx", [("订单报表", [
        ["订单编号", "买家会员名", "买家实付金额", "订单付款时间", "联系手机", "商品标题", "备注"],
        ["1618157441617890214", "小A", "69.00", "2024-11-01 22:21:01", "'13119283036", "思语润唇膏2支装", "a\x1fb"],
        [Num("1234567890123456789"), "leo_sr", 49.5, dt.datetime(2025, 3, 1, 10, 0, 5), None, " 两端空格 ", "第一行\n第二行"],
        ["3"],
        [],
        [None, None, "x\x01y"],
    ])], shape="qianniu")
    # Excel re-save shape: deflated, shared strings, styles, date cells; two sheets.
    write_xlsx("excel.xlsx", [
        ("订单报表", [
            ["订单编号", "买家会员名", "买家实付金额", "订单付款时间", "下单日期", "数量", "备注"],
            [Num("1234567890123456789"), "alice", 99.9, dt.datetime(2025, 3, 1, 10, 0, 5), dt.date(2025, 3, 2), 3, "a\x1fb"],
            [Num("99.899999999999991"), "bob", Num("0.30000000000000004"), dt.datetime(2024, 2, 29, 23, 59, 59), None, True, "alice"],
            [Num("1234567890123"), "carol", 1e-10, None, None, 1234567.125, Num("-0.5")],
        ]),
        ("汇总", [["合计", 12345.678], ["日期", dt.datetime(1900, 3, 1)]]),
    ], shape="excel")


SHARED = [
    "<t>plain</t>",                                                                    # 0 plain
    '<r><t xml:space="preserve">rich </t></r><r><rPr><b/></rPr><t>text</t></r>'
    '<rPh sb="0" eb="1"><t>ルビ</t></rPh><phoneticPr fontId="1"/>',                    # 1 rich text
    "<t>line1_x000D_&#10;line2</t>",                                                   # 2 line1\r\nline2
    "<t>_x005F_x0041_ and _x0041_ and _xD83D__xDE00_ and _xD800_!</t>",                # 3
    "<t>a&amp;b &lt;c&gt; &quot;q&quot;</t>",                                          # 4 a&b <c> "q"
    '<t xml:space="preserve">  </t>',                                                  # 5 two spaces
    "<t/>",                                                                            # 6 empty
    "<t>sep_x001F_here</t>",                                                           # 7 sep here
]

STRINGS_SHEET = sheet_xml(
    '<row r="1">' + "".join('<c r="%s1" t="s"><v>%d</v></c>' % (c, i) for i, c in enumerate("ABCDE")) + "</row>"
    '<row r="2">'
    '<c r="A2" t="inlineStr"><is><r><t>in</t></r><r><rPr><i/></rPr><t>line</t></r><rPh><t>x</t></rPh></is></c>'
    '<c r="C2" t="str"><f>A1&amp;"!"</f><v>plain!</v></c>'
    '<c r="D2" t="b"><v>1</v></c><c r="E2" t="b"><v>0</v></c>'
    '<c r="F2" t="e"><f>NA()</f><v>#N/A</v></c><c r="H2" t="e"><v>#DIV/0!</v></c></row>'
    '<row r="5"><c t="s"><v>5</v></c><c/><c t="s"><v>7</v></c><c t="s"><v>6</v></c></row>'
    '<row><c r="B6"><v>7</v></c></row>'
    '<row r="8"/>'
    '<row r="9">' + inline("A9", "x_x000D_y") + '<c r="B9" t="str"><v>1_x005F_2</v></c><c r="C9"><v></v></c>'
    '<c r="D9" t="n"><v>12</v></c><c r="E9" t="d"><v>2025-03-01T10:00:05Z</v></c><c r="F9" s="1" t="s"><v>0</v></c></row>')

# cellXfs index -> numFmtId (see styles_xml): which are dates is worked out by hand in the test.
NUM_FMTS = [(176, 'yyyy"年"m"月"d"日"'), (177, "yyyy/m/d\\ h:mm:ss"), (178, '#,##0.00"days"'),
            (179, "[Red]#,##0;[Blue]-#,##0"), (180, "[h]:mm:ss"), (181, "#,##0_);[Red]\\(#,##0\\)")]
XF_IDS = [0, 14, 22, 176, 177, 178, 179, 180, 2, 49, 181]


def num(ref, v, s=None):
    return '<c r="%s"%s><v>%s</v></c>' % (ref, ' s="%d"' % s if s is not None else "", v)


DATES_SHEET = sheet_xml(
    '<row r="1">' + num("A1", "45717.41672453703", 1) + num("B1", "45717.41672453703", 4) + num("C1", "45717", 3)
    + num("D1", "45717.99999999", 2) + num("E1", "45717.5", 7) + "</row>"
    '<row r="2">' + num("A2", "60", 1) + num("B2", "59", 1) + num("C2", "61", 1) + num("D2", "1", 1)
    + num("E2", "0.5", 7) + num("F2", "-1", 1) + num("G2", "3000000", 1) + "</row>"
    '<row r="3">' + num("A3", "1.5", 5) + num("B3", "-1234", 6) + num("C3", "99.899999999999991", 8)
    + num("D3", "7", 9) + num("E3", "0.30000000000000004", 10) + num("F3", "45717.41672453703", 0) + "</row>"
    '<row r="4">' + num("A4", "1234567890123") + num("B4", "1234567890123456789") + num("C4", "123456789012345")
    + num("D4", "1000000000000000") + num("E4", "1E-10") + num("F4", "0.000000001") + num("G4", "-0")
    + num("H4", "1.0E3") + num("I4", "2.50") + num("J4", "123456789012345.67") + num("K4", "-5.5E-3")
    + num("L4", "0012.50") + "</row>")

# The Open XML SDK writes prefixed elements; some writers pretty-print.
PREFIXED_SHEET = HEAD + ('<x:worksheet xmlns:x="%s">\n  <x:sheetData>\n    <x:row r="1">\n'
                         '      <x:c r="A1" t="inlineStr"><x:is><x:t>hello</x:t></x:is></x:c>\n'
                         '      <x:c r="B1"><x:v>42</x:v></x:c>\n    </x:row>\n  </x:sheetData>\n</x:worksheet>\n') % MAIN


def make_handmade():
    write_package("handmade.xlsx", [
        ("Strings & Co", STRINGS_SHEET, "worksheets/sheet1.xml"),
        ("日期", DATES_SHEET, "worksheets/sheet2.xml"),
        ("prefixed", PREFIXED_SHEET, "/xl/worksheets/sheet3.xml"),
    ], shared=sst_xml(SHARED), styles=styles_xml(NUM_FMTS, XF_IDS))
    styles = styles_xml([], [0, 14])
    rows = '<row r="1">' + num("A1", "0", 1) + num("B1", "45717.41672453703", 1) + num("C1", "1.5") + "</row>"
    write_package("date1904.xlsx", [("1904", sheet_xml(rows), "worksheets/sheet1.xml")],
                  styles=styles, workbook_pr='<workbookPr date1904="1"/>')
    write_package("date1904-true.xlsx", [("1904", sheet_xml(rows), "worksheets/sheet1.xml")],
                  styles=styles, workbook_pr='<workbookPr date1904="true"/>')


def make_error_workbooks():
    sheets = [
        ("columns", sheet_xml('<row r="1">' + inline("XFD1", "last") + '</row><row r="2"><c r="XFE2"><v>1</v></c></row>'),
         "worksheets/sheet1.xml"),
        ("rows", sheet_xml('<row r="1048576"><c r="A1048576"><v>1</v></c></row><row r="1048577"><c r="A1048577"><v>2</v></c></row>'),
         "worksheets/sheet2.xml"),
        ("backwards", sheet_xml('<row r="5"><c r="A5"><v>1</v></c></row><row r="3"><c r="A3"><v>2</v></c></row>'),
         "worksheets/sheet3.xml"),
        ("order", sheet_xml('<row r="1"><c r="C1"><v>1</v></c><c r="B1"><v>2</v></c></row>'), "worksheets/sheet4.xml"),
        ("malformed", sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></row>'),
         "worksheets/sheet5.xml"),
        ("truncated", HEAD + '<worksheet xmlns="%s"><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2' % MAIN,
         "worksheets/sheet6.xml"),
        ("missing", None, "worksheets/sheet7.xml"),
        ("badshared", sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>5</v></c></row>'), "worksheets/sheet8.xml"),
        # An external entity (XXE) and nested internal ones (billion laughs): neither is expanded.
        ("entities", HEAD + '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
         '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
         '<worksheet xmlns="%s"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;&b;</t></is></c></row>'
         '</sheetData></worksheet>' % MAIN, "worksheets/sheet9.xml"),
    ]
    write_package("errors.xlsx", sheets, shared=sst_xml(["<t>only</t>"]))

    # Zip bombs: a few KB of deflated spaces inflating to 8 MiB.
    big = " " * (8 << 20)
    bomb_sheet = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve">%s</t></is></c></row>' % big)
    write_package("bomb.xlsx", [("bomb", bomb_sheet, "worksheets/sheet1.xml")], level=9)
    write_package("bomb-strings.xlsx", [("s", sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), "worksheets/sheet1.xml")],
                  shared=sst_xml(['<t xml:space="preserve">%s</t>' % big]), level=9)
    # The same bomb declaring (in both headers) that the sheet inflates to 100 bytes.
    write_package("bomb-lying.xlsx", [("bomb", bomb_sheet, "worksheets/sheet1.xml")], level=9)
    data = bytearray(open("bomb-lying.xlsx", "rb").read())
    name = b"xl/worksheets/sheet1.xml"
    real = struct.pack("<I", len(bomb_sheet.encode()))
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while True:
            at = data.find(sig, at)
            if at < 0:
                break
            name_at = at + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                assert data[at + size_at:at + size_at + 4] == real
                data[at + size_at:at + size_at + 4] = struct.pack("<I", 100)
            at += 4
    open("bomb-lying.xlsx", "wb").write(bytes(data))


def patch_part(src, dst, part, change):
    """Copies src to dst with `change(offset, length, data)` applied to the stored bytes of `part`."""
    data = bytearray(open(src, "rb").read())
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(part)
    at = info.header_offset
    n, m = struct.unpack("<HH", data[at + 26:at + 30])
    start = at + 30 + n + m
    change(start, info.compress_size, data)
    open(dst, "wb").write(bytes(data))


def make_damaged():
    # A stored sheet with one byte of a cell text changed: still well-formed XML, fails its CRC.
    def flip_text(start, length, data):
        i = data.find("思语润唇膏".encode(), start, start + length)
        data[i + 1] ^= 0x01   # another CJK character, same length
    patch_part("qianniu.xlsx", "damaged-crc.xlsx", "xl/worksheets/sheet1.xml", flip_text)

    # A deflated sheet with bytes overwritten in the middle of its compressed stream.
    def smash(start, length, data):
        for k in range(length // 3, length // 3 + 16):
            data[start + k] = 0xFF
    patch_part("excel.xlsx", "damaged-deflate.xlsx", "xl/worksheets/sheet1.xml", smash)

    # The sheet as the last entry, its deflate stream cut short (sizes patched to match): inflating
    # runs on into the central directory and to the end of the file, where ZIPFoundation's extract
    # waited for ever (as it did for 24 of 48 cut points tried; this is one of them).
    write_package("cut-stream.xlsx", [("s", None, "worksheets/sheet1.xml")])
    rows = "".join('<row r="%d"><c r="A%d" t="inlineStr"><is><t>value %d</t></is></c></row>' % (i, i, i) for i in range(1, 1001))
    with zipfile.ZipFile("cut-stream.xlsx", "a", compression=zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, sheet_xml(rows))
    data = bytearray(open("cut-stream.xlsx", "rb").read())
    with zipfile.ZipFile("cut-stream.xlsx") as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    at = info.header_offset
    n, m = struct.unpack("<HH", data[at + 26:at + 30])
    start = at + 30 + n + m
    keep = info.compress_size * 45 // 100
    cut = len(data[start + keep:start + info.compress_size])
    data = data[:start + keep] + data[start + info.compress_size:]
    data[at + 18:at + 22] = struct.pack("<I", keep)
    eocd = data.rfind(b"PK\x05\x06")
    cd = struct.unpack("<I", data[eocd + 16:eocd + 20])[0] - cut
    data[eocd + 16:eocd + 20] = struct.pack("<I", cd)
    p = cd
    while data[p:p + 4] == b"PK\x01\x02":
        fn, ex, cm = struct.unpack("<HHH", data[p + 28:p + 34])
        if data[p + 46:p + 46 + fn] == b"xl/worksheets/sheet1.xml":
            data[p + 20:p + 24] = struct.pack("<I", keep)
        p += 46 + fn + ex + cm
    open("cut-stream.xlsx", "wb").write(bytes(data))

    zip64_directory("qianniu.xlsx", "zip64.xlsx")

    whole = open("excel.xlsx", "rb").read()
    open("truncated.xlsx", "wb").write(whole[:len(whole) * 6 // 10])   # a download cut short
    open("not-a-zip.xlsx", "w", encoding="utf-8").write("订单编号,金额\n1,2\n")
    with zipfile.ZipFile("no-workbook.xlsx", "w") as z:
        z.writestr(zipfile.ZipInfo("hello.txt", date_time=(1980, 1, 1, 0, 0, 0)), "not a workbook")
    open("zip-named.csv", "wb").write(open("qianniu.xlsx", "rb").read())   # a workbook renamed .csv


def zip64_directory(src, dst):
    """Copies src with a ZIP64 central directory, as some writers make even for small files: a
    ZIP64 end record and locator, local-header offsets in ZIP64 extra fields (not the one at
    offset 0: ZIPFoundation 0.9.20 takes a ZIP64 offset of 0 for "none" and finds no entries)."""
    data = open(src, "rb").read()
    eocd = data.rfind(b"PK\x05\x06")
    count, size, start = struct.unpack("<HII", data[eocd + 10:eocd + 20])
    records, p = [], start
    for _ in range(count):
        fn, ex, cm = struct.unpack("<HHH", data[p + 28:p + 34])
        rec = bytearray(data[p:p + 46 + fn + ex + cm])
        offset = struct.unpack("<I", rec[42:46])[0]
        if offset > 0:
            rec[42:46] = struct.pack("<I", 0xFFFFFFFF)
            extra = struct.pack("<HHQ", 1, 8, offset)
            rec[30:32] = struct.pack("<H", ex + len(extra))
            rec = rec[:46 + fn] + extra + rec[46 + fn:]
        records.append(bytes(rec))
        p += 46 + fn + ex + cm
    cd = b"".join(records)
    zip64_end = start + len(cd)
    out = data[:start] + cd
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(cd), start)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    open(dst, "wb").write(out)


# ---------------------------------------------------------------------------------------------
# OLE compound files (MS-CFB v3, 512-byte sectors), only as much as the sniffer reads.

FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def dir_entry(name, kind, child=FREE, left=FREE, right=FREE):
    if name is None:
        return b"\0" * 128
    raw = name.encode("utf-16-le") + b"\0\0"
    return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1) + struct.pack("<III", left, right, child)
            + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<I", END) + struct.pack("<Q", 0))


def write_ole(path, names):
    """A compound file whose root storage holds streams `names`; the directory takes as many
    sectors as it needs (4 entries each), chained through the FAT."""
    entries = [dir_entry("Root Entry", 5, child=1)]
    for k, n in enumerate(names, start=1):
        entries.append(dir_entry(n, 2, right=k + 1 if k < len(names) else FREE))
    while len(entries) % 4:
        entries.append(dir_entry(None, 0))
    dir_sectors = len(entries) // 4
    fat = [FATSECT] + [k + 2 for k in range(dir_sectors - 1)] + [END]
    fat += [FREE] * (128 - len(fat))
    header = (bytes([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, END, 0, END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", FREE) * 108)
    assert len(header) == 512
    with open(path, "wb") as f:
        f.write(header)
        f.write(struct.pack("<128I", *fat))
        f.write(b"".join(entries))


def make_ole():
    write_ole("encrypted.xlsx", ["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"])
    # Workbook in the directory's second sector: the sniffer follows the chain.
    write_ole("legacy.xls", ["\x05SummaryInformation", "\x05DocumentSummaryInformation", "CompObj", "Ctls", "Workbook"])
    write_ole("other.doc", ["WordDocument", "1Table"])


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--bench":
        write_bench(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200000)
        sys.exit(0)
    os.chdir(HERE)
    make_xlsxgen_fixtures()
    make_handmade()
    make_error_workbooks()
    make_damaged()
    make_ole()
