"""Writes .xlsx workbooks in the two shapes merchants have, with the standard library only.

- shape "qianniu": as the platform back offices write them (千牛 since 2020, Youzan, 京准通): a
  *stored* zip (no compression), every cell an inline string (`t="inlineStr"`), no styles part,
  and a `<dimension>` that does not cover the data (openpyxl's read-only mode needs it reset).
- shape "excel": as Excel writes the file back after the merchant opened and saved it: a deflated
  zip with `xl/sharedStrings.xml`, `xl/styles.xml`, numbers as numeric cells and dates as *date
  cells* (a serial number with a date number format, 1900 date system).

Cell values given to `write_xlsx`:
- `str`: a text cell (shared string in "excel", inline string in "qianniu");
- `int`, `float`: a numeric cell (`<v>` holds `repr`-like text);
- `Num("1234567890123456789")`: a numeric cell with exactly this `<v>` text (an id Excel made a
  number; more than 15 digits cannot survive a double);
- `datetime.datetime` / `datetime.date`: a date cell in "excel" (serial number, style
  `yyyy/m/d h:mm:ss` or `yyyy/m/d`), the text `yyyy-mm-dd HH:MM:SS` / `yyyy-mm-dd` in "qianniu";
- `None` or "": no cell at all.

A workbook is a list of sheets `(name, rows)`; `rows` may be any iterable (a generator streams:
the sheet is written as the rows come, shared strings after it).
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from xml.sax.saxutils import escape

__all__ = ["Num", "write_xlsx", "column_name", "excel_serial"]


class Num(str):
    """A numeric cell whose `<v>` text is given as is."""


def column_name(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


_COLUMNS = [column_name(i) for i in range(16384)]  # A .. XFD, the columns a sheet can have
_EPOCH = dt.datetime(1899, 12, 30)


def excel_serial(v) -> str:
    """The 1900-system serial of a date or datetime, as Excel stores it (days, fraction = time)."""
    if isinstance(v, dt.datetime):
        delta = v - _EPOCH
        days = delta.days + delta.seconds / 86400
        return repr(days) if delta.seconds else str(delta.days)
    return str((dt.datetime(v.year, v.month, v.day) - _EPOCH).days)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text_xml(s: str) -> str:
    # Control characters other than tab/newline are not allowed in XML 1.0: Excel escapes them as _xHHHH_.
    if _CONTROL.search(s):
        s = _CONTROL.sub(lambda m: "_x%04X_" % ord(m.group()), s)
    t = escape(s)
    space = ' xml:space="preserve"' if t != t.strip() or "\n" in t else ""
    return "<t%s>%s</t>" % (space, t)


_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
%s</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""

# cellXfs: 0 general, 1 date+time (custom 176 `yyyy/m/d h:mm:ss`), 2 date (builtin 14), 3 money (builtin 2, 0.00)
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy/m/d\\ h:mm:ss"/></numFmts>\
<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="176" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def _sheet_rows(rows, shape: str, strings: dict, out):
    """Writes `<row>` elements for `rows` to the binary stream `out`; returns the last row number."""
    excel = shape == "excel"
    r = 0
    buf = []
    for row in rows:
        r += 1
        rs = str(r)
        cells = []
        for c, v in enumerate(row):
            if v is None or v == "":
                continue
            ref = _COLUMNS[c] + rs
            if type(v) is str and not excel:  # the common case first (a Num is not exactly a str)
                cells.append('<c r="%s" t="inlineStr"><is>%s</is></c>' % (ref, _text_xml(v)))
            elif isinstance(v, Num):
                cells.append('<c r="%s"><v>%s</v></c>' % (ref, v))
            elif isinstance(v, bool):
                cells.append('<c r="%s" t="b"><v>%d</v></c>' % (ref, v))
            elif isinstance(v, (int, float)):
                style = ' s="3"' if excel and isinstance(v, float) else ""
                cells.append('<c r="%s"%s><v>%s</v></c>' % (ref, style, repr(v)))
            elif isinstance(v, (dt.datetime, dt.date)):
                if excel:
                    style = 1 if isinstance(v, dt.datetime) else 2
                    cells.append('<c r="%s" s="%d"><v>%s</v></c>' % (ref, style, excel_serial(v)))
                else:
                    text = v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime) else v.strftime("%Y-%m-%d")
                    cells.append('<c r="%s" t="inlineStr"><is>%s</is></c>' % (ref, _text_xml(text)))
            else:
                s = str(v)
                if excel:
                    k = strings.get(s)
                    if k is None:
                        k = strings[s] = len(strings)
                    cells.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, k))
                else:
                    cells.append('<c r="%s" t="inlineStr"><is>%s</is></c>' % (ref, _text_xml(s)))
        buf.append('<row r="%d">%s</row>' % (r, "".join(cells)))
        if len(buf) >= 2000:
            out.write("".join(buf).encode("utf-8"))
            buf.clear()
    out.write("".join(buf).encode("utf-8"))
    return r


def write_xlsx(path: str, sheets, shape: str = "qianniu") -> None:
    """Writes `sheets` (a list of `(name, rows)`) to `path` in `shape` ("qianniu" or "excel")."""
    if shape not in ("qianniu", "excel"):
        raise ValueError("shape must be 'qianniu' or 'excel'")
    excel = shape == "excel"
    compression = zipfile.ZIP_DEFLATED if excel else zipfile.ZIP_STORED
    strings: dict = {}
    with zipfile.ZipFile(path, "w", compression=compression, allowZip64=True) as z:
        def put(name: str, text: str):
            # A fixed time stamp: the same rows give byte-identical files.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, text)

        overrides = []
        wb_sheets, wb_rels = [], []
        for k, (name, rows) in enumerate(sheets, start=1):
            part = "xl/worksheets/sheet%d.xml" % k
            overrides.append('<Override PartName="/%s" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' % part)
            wb_sheets.append('<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (escape(name, {'"': "&quot;"}), k, k))
            wb_rels.append('<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>' % (k, k))
            with z.open(part, "w", force_zip64=True) as out:
                out.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                          b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                          b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">')
                # The platform writes a dimension that does not cover the data; Excel writes the real one.
                out.write(b'<dimension ref="A1"/>' if not excel else b"")
                if excel:
                    out.write(b'<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="14.25"/>')
                out.write(b"<sheetData>")
                _sheet_rows(rows, shape, strings, out)
                out.write(b"</sheetData></worksheet>")
        n = len(wb_sheets)
        if excel:
            wb_rels.append('<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>' % (n + 1))
            wb_rels.append('<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>' % (n + 2))
            overrides.append('<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>')
            overrides.append('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
            put("xl/styles.xml", _STYLES)
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
                out.write(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                           '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
                           % (len(strings), len(strings))).encode("utf-8"))
                buf = []
                for s in strings:   # dicts keep insertion order: index order
                    buf.append("<si>%s</si>" % _text_xml(s))
                    if len(buf) >= 5000:
                        out.write("".join(buf).encode("utf-8"))
                        buf.clear()
                out.write(("".join(buf) + "</sst>").encode("utf-8"))
        put("[Content_Types].xml", _CONTENT_TYPES % "".join(overrides))
        put("_rels/.rels", _ROOT_RELS)
        put("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   '<sheets>%s</sheets></workbook>' % "".join(wb_sheets))
        put("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">%s</Relationships>'
                   % "".join(wb_rels))


if __name__ == "__main__":   # a quick look: python3 sample-data/xlsxgen.py /tmp/x.xlsx excel
    import sys
    rows = [["订单编号", "买家实付金额", "订单付款时间"],
            [Num("1234567890123456789"), 99.9, dt.datetime(2025, 3, 1, 10, 0, 5)],
            ["2", "12.00", "2025-03-02 11:00:00"]]
    write_xlsx(sys.argv[1], [("订单报表", rows)], sys.argv[2] if len(sys.argv) > 2 else "qianniu")
