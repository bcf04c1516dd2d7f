"""The tiny fixture's Tmall orders delivered as workbooks, and Tmall item reports for them.

WorkbookIngestTests swaps these in for Tests/Fixtures/tiny/tmall/*.csv and expects every output
except data_quality.csv to be byte-identical to the CSV run (same orders, other containers):
- ExportOrderList202502011200.xlsx: 千牛's 2020 layout as the platform writes it (inline strings,
  stored zip; renamed columns 买家实付金额 / 商品标题);
- ExportOrderList202503151200.xlsx: the newer export after the merchant opened and saved it in
  Excel (shared strings, dates as date cells, money as numbers, a second sheet that is no export).
Item reports (not orders; they land item lines):
- ExportOrderDetailList202502011200.csv: 宝贝报表, GBK, `="…"` order numbers;
- ExportOrderDetailList202503151200.xlsx: the 2020 item sheet (子订单编号 / 主订单编号), Excel-saved;
  it lists order 1001 again with other lines: the newer export's lines replace the older ones.
Run: python3 Tests/Fixtures/tiny-xlsx/make_fixtures.py
"""
import csv
import datetime as dt
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "sample-data"))
from xlsxgen import Num, write_xlsx  # noqa: E402

tiny = os.path.join(here, "..", "tiny", "tmall")


def read(name):
    return list(csv.reader(open(os.path.join(tiny, name), encoding="gb18030", newline="")))


def renamed(header):
    return [{"买家实际支付金额": "买家实付金额", "宝贝标题 ": "商品标题"}.get(h, h) for h in header]


def unwrap(v):
    return v[2:-1] if v.startswith('="') and v.endswith('"') else v.lstrip("'")


def as_time(v):
    for f in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return dt.datetime.strptime(v, f)
        except ValueError:
            pass
    return v   # "not a date" stays text: quarantined as in the CSV


os.makedirs(os.path.join(here, "tmall"), exist_ok=True)

# As the platform writes it: every cell text.
rows = read("ExportOrderList202502011200.csv")
write_xlsx(os.path.join(here, "tmall", "ExportOrderList202502011200.xlsx"),
           [("订单报表", [renamed(rows[0])] + [[unwrap(c) for c in r] for r in rows[1:]])], "qianniu")

# As Excel writes it back: dates are date cells, money numbers, ids text.
rows = read("ExportOrderList202503151200.csv")
h = renamed(rows[0])
out = [h]
for r in rows[1:]:
    cells = []
    for name, v in zip(h, r):
        v = unwrap(v)
        if name.strip() in ("订单创建时间", "订单付款时间"):
            cells.append(as_time(v))
        elif name in ("买家实付金额", "退款金额"):
            cells.append(float(v))
        else:
            cells.append(v)
    out.append(cells)
# An order number Excel made a number: 19 digits no double holds (quarantined, as in a CSV).
out.append([Num("1234567890123456789"), "zed", 10.0, "交易成功", "", dt.datetime(2025, 2, 1, 9, 0), dt.datetime(2025, 2, 1, 9, 1), 0.0, "x"])
write_xlsx(os.path.join(here, "tmall", "ExportOrderList202503151200.xlsx"),
           [("说明", [["本表由千牛导出"], ["导出时间", dt.datetime(2025, 3, 15, 12, 0)]]), ("订单报表", out)], "excel")

# 宝贝报表 (CSV, GBK): order 1001 has two lines, one without a merchant code (the title is the product).
items = [["订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注", "订单状态", "商家编码"],
         ['="1001"', "连衣裙 夏季款", "60.00", "1", "", "颜色:红", "", "", "交易成功", "SY-DRESS"],
         ['="1001"', "腰带", "40.00", "1", "", "", "", "", "交易成功", ""],
         ['="1002"', "T恤", "50.00", "1", "", "", "", "", "买家已付款，等待卖家发货", "SY-TEE"],
         ['="1003"', "多行标题", "55.00", "x", "", "", "", "", "交易成功", "SY-X"]]   # a quantity that is no number
with open(os.path.join(here, "tmall", "ExportOrderDetailList202502011200.csv"), "w", encoding="gb18030", newline="") as f:
    csv.writer(f, lineterminator="\r\n").writerows(items)

# The 2020 item sheet, saved by Excel: the newer export lists 1001 with one line only.
sheet = [["子订单编号", "主订单编号", "商品标题", "商品价格", "购买数量", "商品属性", "订单状态", "商家编码", "买家应付货款", "买家实付金额",
          "退款状态", "退款金额", "订单创建时间", "订单付款时间", "商品ID", "发货时间"],
         [Num("3001"), "1001", "连衣裙 新款", 100.0, 1, "", "交易成功", " SY-DRESS ", 100.0, 100.0, "退款成功", 20.0,
          dt.datetime(2025, 1, 5, 10, 0), dt.datetime(2025, 1, 5, 10, 5), Num("9001"), ""]]
write_xlsx(os.path.join(here, "tmall", "ExportOrderDetailList202503151200.xlsx"), [("宝贝报表", sheet)], "excel")
