#!/usr/bin/env python3
"""Checks of crosscheck's own .xlsx reading on hand-written workbooks (no generator involved):

    python3 Tests/crosscheck/test_xlsx.py

Shared strings with rich-text runs and phonetic hints, inline strings, formula results, booleans,
cells and rows left out, date cells through built-in and custom number formats, the 1904 date
system, Excel's General rendering of numbers (an order id Excel turned into a number ends up in
scientific notation and is quarantined), preamble rows above the header and a 合计 row, item sheets
that create no orders.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck as cc  # noqa: E402

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def workbook(sheet_xml: str, shared: list[str] | None = None, styles: str | None = None,
             date1904: bool = False, sheet_path: str = "worksheets/data.xml") -> bytes:
    """A minimal workbook whose first sheet is `sheet_xml` (the <sheetData> content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml",
                   f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                   + ('<workbookPr date1904="1"/>' if date1904 else "")
                   + '<sheets><sheet name="S" sheetId="1" r:id="rId7"/></sheets></workbook>')
        rels = [f'<Relationship Id="rId7" Type="{REL}/worksheet" Target="{sheet_path}"/>']
        if shared is not None:
            rels.append(f'<Relationship Id="rId8" Type="{REL}/sharedStrings" Target="strings.xml"/>')
            z.writestr("xl/strings.xml", f'<sst xmlns="{MAIN}">' + "".join(shared) + "</sst>")
        if styles is not None:
            rels.append(f'<Relationship Id="rId9" Type="{REL}/styles" Target="styles.xml"/>')
            z.writestr("xl/styles.xml", f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   + "".join(rels) + "</Relationships>")
        z.writestr("xl/" + sheet_path, f'<worksheet xmlns="{MAIN}"><dimension ref="A1"/><sheetData>'
                   + sheet_xml + "</sheetData></worksheet>")
    return buf.getvalue()


STYLES = ('<numFmts count="2"><numFmt numFmtId="176" formatCode="yyyy/m/d\\ h:mm:ss"/>'
          '<numFmt numFmtId="177" formatCode="&quot;¥&quot;#,##0.00;[Red]\\-&quot;¥&quot;#,##0.00"/></numFmts>'
          '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="176"/><xf numFmtId="14"/><xf numFmtId="177"/>'
          '<xf numFmtId="2"/></cellXfs>')


class GeneralFormat(unittest.TestCase):
    def test_numbers(self):
        g = cc.excel_general
        self.assertEqual(g("199.0"), "199")
        self.assertEqual(g("158.80000000000001"), "158.8")
        self.assertEqual(g("0.30000000000000004"), "0.3")
        self.assertEqual(g("-12.5"), "-12.5")
        self.assertEqual(g("0"), "0")
        self.assertEqual(g("608112345601"), "608112345601")
        self.assertEqual(g("123456789012345"), "123456789012345")         # 15 digits: plain
        self.assertEqual(g("1234567890123456789"), "1.23456789012346E+18")  # Excel's float id
        self.assertEqual(g("1.2345678901234568E+18"), "1.23456789012346E+18")
        self.assertEqual(g("4000000000000000000"), "4E+18")
        self.assertEqual(g("9999999999999999"), "1E+16")
        self.assertEqual(g("45717.378472222219"), "45717.3784722222")
        self.assertEqual(g("1E-12"), "1E-12")

    def test_date_formats(self):
        self.assertTrue(cc.is_date_format("yyyy/m/d\\ h:mm:ss"))
        self.assertTrue(cc.is_date_format('[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy'))
        self.assertFalse(cc.is_date_format('"¥"#,##0.00;[Red]\\-"¥"#,##0.00'))
        self.assertFalse(cc.is_date_format("0.00_);[Red]\\(0.00\\)"))
        self.assertFalse(cc.is_date_format("General"))
        self.assertFalse(cc.is_date_format('"days"0'))


class Reading(unittest.TestCase):
    def test_cells(self):
        shared = ["<si><t>订单编号</t></si>",
                  "<si><r><t>思语</t></r><r><rPr/><t xml:space=\"preserve\"> 面膜</t></r>"
                  "<rPh sb=\"0\" eb=\"1\"><t>スー</t></rPh></si>",
                  "<si><t>a_x000D_b</t></si>"]
        sheet = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>标题</t></is></c>'
                 '<c r="D1" t="str"><f>1+1</f><v>2</v></c></row>'
                 '<row r="3"><c r="B3" t="s"><v>1</v></c><c r="C3" t="b"><v>1</v></c>'
                 '<c r="D3" s="1"><v>45717.411805555559</v></c><c r="E3" s="2"><v>45717</v></c>'
                 '<c r="F3" s="3"><v>1234.5</v></c><c r="G3" s="4"><v>0.1</v></c><c r="H3" t="s"><v>2</v></c>'
                 '<c r="I3"><v>1234567890123456789</v></c><c r="J3" t="e"><v>#N/A</v></c></row>'
                 '<row><c t="inlineStr"><is><t>x</t></is></c><c><v>7</v></c></row>')
        rows = cc.xlsx_rows(workbook(sheet, shared, STYLES))
        self.assertEqual(rows[0], (1, ["订单编号", "标题", "", "2"]))
        self.assertEqual(rows[1], (2, []))
        self.assertEqual(rows[2], (3, ["", "思语 面膜", "TRUE", "2025-03-01 09:53:00", "2025-03-01 00:00:00",
                                       "1234.5", "0.1", "a\rb", "1.23456789012346E+18", "#N/A"]))
        self.assertEqual(rows[3], (4, ["x", "7"]))

    def test_1904(self):
        rows = cc.xlsx_rows(workbook('<row r="1"><c r="A1" s="1"><v>1.5</v></c></row>', None, STYLES, date1904=True))
        self.assertEqual(rows, [(1, ["1904-01-02 12:00:00"])])

    def test_early_1900_serials(self):
        self.assertEqual(cc.excel_datetime("1", False), "1900-01-01 00:00:00")
        self.assertEqual(cc.excel_datetime("61", False), "1900-03-01 00:00:00")

    def test_preamble_and_total_row(self):
        sheet = ('<row r="1"><c r="A1" t="inlineStr"><is><t>京准通 推广计划报表</t></is></c></row>'
                 '<row r="2"><c r="A2" t="inlineStr"><is><t>时间范围：2025-01-01 至 2025-01-31</t></is></c></row>'
                 '<row r="4">' + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in
                                         ["日期", "推广计划", "花费", "展现数"]) + "</row>"
                 '<row r="5"><c t="inlineStr"><is><t>20250106</t></is></c><c t="inlineStr"><is><t>京准通-品牌词</t></is></c>'
                 '<c><v>123.45</v></c><c><v>1000</v></c></row>'
                 '<row r="6"><c t="inlineStr"><is><t>合计</t></is></c><c r="C6"><v>123.45</v></c></row>')
        t, recs = cc.read_workbook(workbook(sheet))
        self.assertEqual(cc.detect_format(t), "spend_jingzhuntong")
        self.assertEqual([line for line, _ in recs], [5, 6])
        ing, quality = self.ingest({"spend/jzt_20250131.xlsx": workbook(sheet)}, kind="spend")
        self.assertEqual([(s.day.isoformat(), s.fields, s.fen) for s in ing.spend],
                         [("2025-01-06", ["京准通-品牌词"], 12345)])
        self.assertEqual((quality["rows_read"], quality["rows_quarantined"]), (2, 1))

    def test_float_id_is_quarantined_and_items_make_no_orders(self):
        header = ["订单编号", "买家会员名", "买家实付金额", "订单付款时间", "退款金额"]
        head = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in header)
        orders = ('<row r="1">' + head + "</row>"
                  '<row r="2"><c t="inlineStr"><is><t>4000000012282383035</t></is></c><c t="inlineStr"><is><t>ann</t></is></c>'
                  '<c><v>99</v></c><c t="inlineStr"><is><t>2025-03-01 10:00:00</t></is></c></row>'
                  '<row r="3"><c><v>4000000012282383036</v></c><c t="inlineStr"><is><t>bob</t></is></c>'
                  '<c><v>99</v></c><c t="inlineStr"><is><t>2025-03-01 10:00:00</t></is></c></row>')
        items_header = ["子订单编号", "主订单编号", "商品标题", "购买数量", "商家编码", "买家实付金额", "订单付款时间"]
        items = ('<row r="1">' + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in items_header) + "</row>"
                 '<row r="2"><c t="inlineStr"><is><t>4000000012282383035</t></is></c>'
                 '<c t="inlineStr"><is><t>4000000012282383035</t></is></c><c t="inlineStr"><is><t>面膜</t></is></c>'
                 '<c><v>2</v></c><c t="inlineStr"><is><t> SY-MASK-10 </t></is></c><c><v>99</v></c></row>'
                 '<row r="3"><c t="inlineStr"><is><t>4000000012282383999</t></is></c>'
                 '<c t="inlineStr"><is><t>4000000012282383999</t></is></c><c t="inlineStr"><is><t>小样</t></is></c>'
                 '<c><v>1</v></c></row>')
        ing, _ = self.ingest({"tmall/ExportOrderList202503011200.xlsx": workbook(orders),
                              "tmall/ExportOrderDetailList202503011200.xlsx": workbook(items)})
        self.assertEqual(sorted(ing.orders), [("tmall", "4000000012282383035")])
        by_file = {os.path.basename(q["file"]): q for q in ing.quality}
        self.assertEqual(by_file["ExportOrderList202503011200.xlsx"]["reasons"], {"order_id_scientific": 1})
        self.assertEqual(by_file["ExportOrderDetailList202503011200.xlsx"]["format"], "tmall_item_sheet")
        self.assertEqual(ing.items[("tmall", "4000000012282383035")], [cc.ItemLine("SY-MASK-10", "面膜", 2)])
        self.assertEqual(ing.items[("tmall", "4000000012282383999")], [cc.ItemLine("小样", "小样", 1)])

    def ingest(self, files: dict[str, bytes], kind="tmall"):
        with tempfile.TemporaryDirectory() as d:
            for name, data in files.items():
                os.makedirs(os.path.join(d, os.path.dirname(name)), exist_ok=True)
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            sub = os.path.dirname(next(iter(files)))
            pipe = cc.Pipeline("Asia/Shanghai", "month", "s", None, 90, 3,
                               [{"name": kind, "kind": kind, "files": [os.path.join(d, sub, "*.xlsx")]}], [])
            ing = cc.Ingest(pipe)
            ing.run()
        return ing, ing.quality[0]


if __name__ == "__main__":
    unittest.main()
