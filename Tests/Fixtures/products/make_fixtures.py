#!/usr/bin/env python3
"""Writes the product-repurchase dataset used by Tests/SiyuCoreTests/ProductRepurchaseTests.swift.
Each buyer id is one customer placed on one rule of METRICS.md's product_repurchase.csv (README.md
beside this file lists them; the test's comments work out every expected number). Headers are the
tiny fixture's and FORMATS.md's. Run from this directory: python3 make_fixtures.py"""
import os, shutil

for d in ["tmall", "jd", "youzan", "later"]:
    shutil.rmtree(d, ignore_errors=True)
os.makedirs("tmall"); os.makedirs("jd"); os.makedirs("youzan"); os.makedirs("later/tmall")

TMALL_HEADER = '订单编号,买家会员名,买家实际支付金额,订单状态,联系手机,订单创建时间,订单付款时间 ,退款金额,宝贝标题 \r\n'
ITEM_HEADER = '订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码\r\n'

# Tmall orders (GBK): order id, buyer, payment time (business time); 10.00 each, T05 refunded in full.
tmall = [
    ("T01", "three", "2024-10-05 10:00:00"), ("T02", "three", "2024-10-05 15:00:00"),   # first day: two orders
    ("T03", "three", "2024-10-20 10:00:00"),
    ("T04", "refund_day", "2024-10-06 10:00:00"), ("T05", "refund_day", "2024-10-06 11:00:00"),
    ("T06", "title_only", "2024-10-07 10:00:00"), ("T07", "title_only", "2024-12-01 10:00:00"),
    ("T08", "code_vs_title", "2024-10-08 10:00:00"),
    ("T09", "unknown_t", "2024-10-11 10:00:00"), ("T10", "unknown_t", "2024-10-12 10:00:00"),
    ("T11", "a_fan", "2024-10-14 10:00:00"), ("T12", "a_fan", "2024-10-30 10:00:00"), ("T13", "a_fan", "2024-10-30 18:00:00"),
    ("T14", "cafe", "2024-10-15 10:00:00"), ("T15", "cafe", "2024-10-16 10:00:00"),
    ("T16", "t_old", "2024-10-17 10:00:00"),
    # Repeat windows: second purchase day 89 / 90 / 179 / 180 days after the first (no item lines on it).
    ("T17", "r89", "2024-11-01 10:00:00"), ("T18", "r89", "2025-01-29 10:00:00"),
    ("T19", "r90", "2024-11-02 10:00:00"), ("T20", "r90", "2025-01-31 10:00:00"),
    ("T21", "r179", "2024-11-03 10:00:00"), ("T22", "r179", "2025-05-01 10:00:00"),
    ("T23", "r180", "2024-11-04 10:00:00"), ("T24", "r180", "2025-05-03 10:00:00"),
    # Eligible for 90 days exactly on the as-of date 2025-06-30 (2025-04-02 + 89); back on day 89, the as-of date, with T600.
    ("T25", "e90", "2025-04-02 10:00:00"), ("T26", "e90", "2025-06-30 09:00:00"),
    ("T27", "last", "2025-06-30 20:00:00"),   # the latest purchase: the as-of date
    # Shares its phone with the Youzan buyer `mixed`, who paid earlier that day: one customer, acquired on the
    # micro-store, whose first day has one order with item lines and one without.
    ("T29", "mixed_t", "2024-10-18 20:00:00"),
]
PHONES = {"T29": "13900000009"}
REFUNDED = {"T05"}


def write_orders(path, rows):
    with open(path, "w", encoding="gbk", newline="") as f:
        f.write(TMALL_HEADER)
        for oid, buyer, pay in rows:
            status, refund = ("交易关闭", "10.00") if oid in REFUNDED else ("交易成功", "0.00")
            phone = "'" + PHONES[oid] if oid in PHONES else ""   # Tmall writes phones with a leading '
            f.write(f'"=""{oid}""",{buyer},10.00,{status},{phone},{pay},{pay},{refund},商品\r\n')


write_orders("tmall/ExportOrderList202507011200.csv", tmall)

# Tmall item report (宝贝报表), UTF-8 with a BOM (F700's titles are one NFD and one NFC spelling of
# "Café", which GBK cannot write): order id, 商家编码 (empty: the title is the product), 标题, 购买数量.
items = [
    ("T01", "A100", "Alpha 面霜", 1), ("T01", "B200", "Beta b", 1),
    ("T02", "C300", "Gamma 精华", 1), ("T02", "A100", "Alpha 面霜", 1),
    ("T03", "D400", "Delta 乳液", 1),
    ("T04", "A100", "Alpha 旧标题", 5),        # one line of 5 pieces: one vote for its title
    ("T05", "E500", "Epsilon 礼盒", 1),        # refunded order: not a product anyone bought
    ("T06", "", "试用装小样", 1),
    ("T07", "C300", "Gamma 精华", 1),
    ("T08", "", "Gamma 精华", 1),              # no code: the product is its title, not C300
    ("T10", "A100", "Alpha 面霜", 1),
    ("T11", "A100", "Alpha 面霜", 1),
    ("T12", "D400", "Delta 乳液", 1), ("T12", "D400", "Delta 乳液", 1),
    ("T13", "D400", "Delta 乳液", 1),
    ("T14", "F700", "Cafe\u0301", 1), ("T15", "F700", "Caf\u00e9", 1),
    ("T16", "T600", "T old", 1),
    ("T17", "R89", "R89 title", 1), ("T19", "R90", "R90 title", 1),
    ("T21", "R179", "R179 title", 1), ("T23", "R180", "R180 title", 1),
    ("T25", "E90", "E90 title", 1),
    ("T26", "T600", "T new", 1),               # e90's return on the as-of date: a third "T new" line
    ("T27", "T600", "T new", 1), ("T27", "T600", "T new", 1),
    ("T29", "M900", "M900 title", 1),
]


def write_items(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        f.write(ITEM_HEADER)
        for oid, code, title, qty in rows:
            f.write(f'"=""{oid}""",{title},10.00,{qty},,,,,交易成功,{code}\r\n')


write_items("tmall/ExportOrderDetailList202507011200.csv", items)

# JD (GBK), one row per SKU: 货号, else 商家SKUID, is the product.
jd = [
    ("J01", "jd_a", "2024-10-09 10:00:00", "A100", "", "Alpha 面霜（京东）"),
    ("J02", "jd_a", "2024-11-09 10:00:00", "", "SKU-9", "Nine 套装"),
    ("J03", "jd_b", "2024-10-10 10:00:00", "A100", "", "Alpha 面霜（京东）"),
    ("J03", "jd_b", "2024-10-10 10:00:00", "B200", "", "Beta a"),
    ("J04", "jd_b", "2024-10-11 10:00:00", "A100", "", "Alpha 面霜（京东）"),
    # Eligible for 180 days exactly on the as-of date (2025-01-02 + 179 = 2025-06-30); back on day 178.
    ("J05", "e180", "2025-01-02 10:00:00", "E180", "", "E180 title"),
    ("J06", "e180", "2025-06-29 10:00:00", "C300", "", "Gamma 精华"),
]
with open("jd/jd_orders_20250701.csv", "w", encoding="gbk", newline="") as f:
    f.write('订单号,商品ID,商品名称,订购数量,下单时间,应付金额,订单状态,下单帐号,联系电话,付款确认时间,订单来源,货号,商家SKUID\r\n')
    for oid, buyer, pay, code, sku, title in jd:
        f.write(f'{oid},9{oid[1:]},{title},1,{pay},10.00,完成,{buyer},,{pay},京东APP,{code},{sku}\r\n')

# Youzan (UTF-8 with BOM): no item lines, so their first products are (unknown).
with open("youzan/youzan_orders_2025.csv", "w", encoding="utf-8-sig", newline="") as f:
    f.write('订单号,订单状态,推广方式,订单来源,订单创建时间,买家付款时间,订单实付金额,订单已退款金额,买家昵称,买家手机号,分销员,分销员,分销员手机号,订单类型,全部商品名称\n')
    for oid, nick, pay, phone in [("Y01", "yz1", "2024-10-12 10:00:00", ""), ("Y02", "yz1", "2024-11-12 10:00:00", ""),
                                  ("Y03", "yz2", "2024-10-13 10:00:00", ""), ("Y04", "mixed", "2024-10-18 09:00:00", "13900000009")]:
        f.write(f'{oid},交易成功,——,——,{pay},{pay},10.00,0.00,{nick},{phone},——,——,,普通订单,Alpha 面霜\n')

# A later night (ProductRepurchaseTests moves these into tmall/): refund_day buys C300 on 2025-07-01
# (the as-of date moves), and a newer item report lists T04 again with other lines (newest wins).
write_orders("later/tmall/ExportOrderList202507021200.csv", [("T28", "refund_day", "2025-07-01 10:00:00")])
write_items("later/tmall/ExportOrderDetailList202507021200.csv",
            [("T28", "C300", "Gamma 精华", 1), ("T04", "A100", "Alpha 面霜", 1), ("T04", "G800", "G800 title", 1)])
