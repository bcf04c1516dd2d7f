#!/usr/bin/env python3
"""Deterministic sample-data generator for siyu.

Writes merchant exports in the shapes of shared/FORMATS.md:

    tmall/      Tmall 千牛 order reports  ExportOrderList<YYYYMMDDHHMM>.csv (GBK) or .xlsx (千牛 2020
                layout, or re-saved in Excel), each with its item file beside it:
                ExportOrderDetailList<same stamp>.csv (宝贝报表, GBK) or .xlsx (2020 item sheet)
    jd/         JD 商家后台 order exports jd_orders_<YYYYMMDD>.csv            GBK, one row per SKU
    youzan/     Youzan (微商城) exports    youzan_orders_<period>.csv (UTF-8 with BOM) or .xlsx
    followers/  WeChat follower snapshots followers_<YYYYMMDD>.csv           UTF-8
    spend/      万相台 (GBK), 直通车 (GBK, one file per date range), 京准通 plan report (.xlsx, the
                sample only), plain date,channel,spend (UTF-8)

Usage:
    python3 sample-data/generate.py                      # regenerate the committed sample in place
    python3 sample-data/generate.py --out /tmp/s2        # the same sample, elsewhere
    python3 sample-data/generate.py --out /tmp/s2 --csv-only
        # the sample's CSV twin: the same orders and spend, every file a CSV, no item files
    python3 sample-data/generate.py --orders 1000000 --out /tmp/big   # at scale, monthly files
    python3 sample-data/generate.py --orders 1000000 --out /tmp/big --tmall-format xlsx
        # the same, the Tmall order reports (and item sheets) as 千牛 workbooks
    python3 sample-data/generate.py --orders 1000000 --out /tmp/big --next-day 1
        # adds only tomorrow's delivery (day 1 after the range: 2026-01-01) to /tmp/big, deletes nothing

Python 3.11 standard library only (.xlsx through xlsxgen.py beside this file). Everything is
derived from random.Random(seed) and fixed dates: the same arguments always give byte-identical
files. Orders are generated day by day in time order and streamed to the files (workbooks too,
through a writer thread each); only customers, fans and one day of orders are in memory.
All money is integer fen internally and written as exact two-decimal yuan.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import os
import queue
import random
import re
import shutil
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xlsxgen import write_xlsx  # noqa: E402  (beside this script, standard library only)

# ---------------------------------------------------------------------------------------------
# Calendar and time helpers. A time is an int: seconds since 2024-01-01 00:00 local time
# (Asia/Shanghai, UTC+8, no DST). Local export timestamps carry no zone.

BASE = dt.date(2024, 1, 1)
BASE_UNIX = 1704067200 - 8 * 3600  # Unix time of 2024-01-01 00:00 Asia/Shanghai
DATA_START = dt.date(2024, 11, 1)
DATA_END = dt.date(2025, 12, 31)
DAY = 86400

_DAY_STD: list[str] = []
_DAY_XL: list[str] = []
for _i in range(800):
    _d = BASE + dt.timedelta(days=_i)
    _DAY_STD.append(_d.isoformat())
    _DAY_XL.append(f"{_d.year}/{_d.month}/{_d.day}")


def dix(d: dt.date) -> int:
    return (d - BASE).days


def ts_at(d: dt.date, h: int = 0, m: int = 0, s: int = 0) -> int:
    return dix(d) * DAY + h * 3600 + m * 60 + s


def date_of(ts: int) -> dt.date:
    return BASE + dt.timedelta(days=ts // DAY)


def fmt(ts: int) -> str:
    d, s = divmod(ts, DAY)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{_DAY_STD[d]} {h:02d}:{m:02d}:{s:02d}"


def fmt_xl(ts: int) -> str:
    """Excel re-save style: 2025/5/23 22:02 (no leading zeros in date or hour, no seconds)."""
    d, s = divmod(ts, DAY)
    h, s = divmod(s, 3600)
    return f"{_DAY_XL[d]} {h}:{s // 60:02d}"


def unix(ts: int) -> int:
    return ts + BASE_UNIX


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_sep(fen: int) -> str:
    """1234567 fen -> 12,345.67"""
    return f"{fen // 100:,}.{fen % 100:02d}"


def b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def mix32(x: int) -> int:
    """Integer hash (lowbias32): deterministic per-index choices without storing strings."""
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


class Picker:
    """Weighted choice by cumulative weights and bisect."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = []
        t = 0.0
        for w in weights:
            t += w
            self.cum.append(t)
        self.total = t

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


# ---------------------------------------------------------------------------------------------
# Reference data. Every string that goes into a GBK file must be GBK-encodable.

TM, JD, YZ = 0, 1, 2
SHOP_TMALL = "思语官方旗舰店"
SHOP_TMALL_ID = "57300421"
SHOP_YOUZAN = "思语微商城"

# The catalogue: (merchant code, title, price in fen, JD 商品ID). Titles 6 and 13 carry a comma,
# ASCII quotes, a newline. The merchant code is the same on Tmall (商家编码) and JD (货号): one ERP;
# the travel kit and the limited sakura box were never given one (item lines by title only).
PRODUCTS = [
    ("SY-CLEANSER-120", "思语山茶花氨基酸洁面乳120ml", 8900, "100012345601"),
    ("SY-TONER-150", "思语山茶花保湿精华水150ml", 15900, "100012345602"),
    ("SY-CREAM-50", "思语玻尿酸修护面霜50g", 21900, "100012345603"),
    ("SY-SERUM-30", "思语烟酰胺亮肤精华液30ml", 29900, "100012345604"),
    ("SY-SUN-150", "思语清透防晒喷雾SPF50+ PA++++ 150ml", 9900, "100012345605"),
    ("SY-GIFT-3PC", '思语"经典"三件套礼盒, 洁面+精华水+面霜', 49900, "100012345606"),
    ("SY-OIL-200", "思语温和卸妆油200ml", 12900, "100012345607"),
    ("SY-MASK-10", "思语补水面膜10片装", 6900, "100012345608"),
    ("SY-EYE-15", "思语紧致眼霜15g", 25900, "100012345609"),
    ("SY-BODY-250", "思语香氛身体乳250ml", 7900, "100012345610"),
    ("SY-HAND-3X30", "思语护手霜三支装,30g×3", 4900, "100012345611"),
    ("", "思语旅行装小样套装", 3900, "100012345612"),
    ("", '【限定】思语"樱花"礼盒\n附赠手写贺卡', 39900, "100012345613"),
    ("SY-MEN-100", "思语男士控油洁面100g", 7900, "100012345614"),
    ("SY-LIP-2", "思语润唇膏2支装", 5900, "100012345615"),
]
# Item-report details per product: (Tmall 商品ID, 商品属性, 套餐信息).
ITEM_INFO = [
    ("608112345601", "净含量:120ml", ""), ("608112345602", "净含量:150ml", ""),
    ("608112345603", "净含量:50g", ""), ("608112345604", "净含量:30ml", ""),
    ("608112345605", "净含量:150ml;防晒指数:SPF50+", ""),
    ("608112345606", "套装:经典三件套", "洁面乳120ml+精华水150ml+面霜50g"),
    ("608112345607", "净含量:200ml", ""), ("608112345608", "规格:10片装", ""),
    ("608112345609", "净含量:15g", ""), ("608112345610", "香型:白茶;净含量:250ml", ""),
    ("608112345611", "规格:30g×3", ""), ("608112345612", "", "旅行装5件"),
    ("608112345613", "", ""), ("608112345614", "净含量:100g", ""),
    ("608112345615", "规格:2支装", ""),
]
# The Tmall listing of the face mask was renamed on 2025-09-01: orders created from then on carry
# the new title (order report 商品标题/宝贝标题 and item lines alike); the code stays SY-MASK-10.
MASK = 7
MASK_TITLE_NEW = "思语玻尿酸补水面膜10片装（升级款）"
MASK_RENAMED_AT = ts_at(dt.date(2025, 9, 1))
# The newer JD layout leaves 货号 empty for these products: the code is only in 商家SKUID.
JD_SKUID_ONLY = {7, 10}


def tmall_title(i: int, created: int) -> str:
    """The product's title on its Tmall listing when the order was created."""
    return MASK_TITLE_NEW if i == MASK and created >= MASK_RENAMED_AT else PRODUCTS[i][1]


PRODUCT_PICK = Picker(range(len(PRODUCTS)), [14, 10, 7, 5, 8, 3, 6, 12, 4, 8, 9, 10, 1.2, 5, 8])

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明",
         "超", "秀英", "霞", "平", "刚", "桂英", "晓燕", "雨婷", "子涵", "欣怡", "梓萱", "思远", "浩然",
         "佳怡", "一诺", "若曦", "嘉怡", "宇轩", "诗涵", "晨曦", "雅琪", "文静", "海燕", "俊杰"]
CN_NICK = ["小鱼儿", "甜甜圈", "阿狸", "橙子", "胖达", "木木", "夏天", "奶茶控", "猫小姐", "快乐星球",
           "糖糖", "一只羊", "七七", "柠檬", "小太阳", "风铃", "桃子", "豆豆", "米粒", "安然", "晴天",
           "大白", "兔兔", "乐乐"]
EN_NICK = ["lily", "coco", "momo", "amy", "jessie", "kevin", "sunny", "leo", "mia", "zoe", "tina",
           "ivy", "grace", "jack", "luna", "nana", "echo", "yoyo", "bella", "sam"]
EMOJI = ["🌸", "🍊", "✨", "🐱", "🌙", "🍀", "☕", "🎈"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "155", "156", "157", "158", "159", "166", "170", "173", "176", "177",
                   "180", "181", "182", "185", "186", "187", "188", "189", "191", "198", "199"]
ADDRESSES = [
    ("上海", "上海市", "浦东新区", "201203", ["张江路", "世纪大道", "川沙路"]),
    ("上海", "上海市", "静安区", "200040", ["南京西路", "愚园路", "江宁路"]),
    ("北京", "北京市", "朝阳区", "100020", ["建国路", "望京街", "朝阳北路"]),
    ("北京", "北京市", "海淀区", "100080", ["中关村大街", "学院路"]),
    ("浙江省", "杭州市", "西湖区", "310012", ["文三路", "古墩路", "天目山路"]),
    ("广东省", "深圳市", "南山区", "518057", ["科技园路", "后海大道"]),
    ("广东省", "广州市", "天河区", "510620", ["天河路", "体育西路"]),
    ("江苏省", "南京市", "鼓楼区", "210008", ["中山路", "湖南路"]),
    ("江苏省", "苏州市", "姑苏区", "215000", ["人民路", "干将路"]),
    ("四川省", "成都市", "武侯区", "610041", ["人民南路", "科华北路"]),
    ("湖北省", "武汉市", "洪山区", "430074", ["珞喻路", "光谷大道"]),
    ("陕西省", "西安市", "雁塔区", "710061", ["小寨东路", "长安南路"]),
    ("山东省", "青岛市", "市南区", "266071", ["香港中路", "闽江路"]),
    ("福建省", "厦门市", "思明区", "361001", ["中山路", "湖滨南路"]),
    ("天津", "天津市", "和平区", "300041", ["南京路", "滨江道"]),
    ("重庆", "重庆市", "渝中区", "400010", ["解放碑", "中山四路"]),
]
LANDLINE_AREA = {"上海": "021", "北京": "010", "浙江省": "0571", "广东省": "020", "江苏省": "025",
                 "四川省": "028", "湖北省": "027", "陕西省": "029", "山东省": "0532", "福建省": "0592",
                 "天津": "022", "重庆": "023"}
PLACEHOLDERS = ["——", "—", " ", "N/A", "null"]
EXPRESS = [("圆通速递", "YT"), ("中通快递", "ZT"), ("韵达快递", "YD"), ("顺丰速运", "SF")]
CLOSE_REASONS = ["买家不想买了", "超时未付款", "拍错了/订单信息错误", "其他原因", "我不想买了"]

# Youzan promotion fields. Matching the pipeline rules: 朋友圈广告, 直播, 门店, 分销.
YZ_PROMO = Picker(
    ["朋友圈广告", "直播", "视频号直播", "门店", "门店扫码", "公众号菜单", "小程序首页", "搜索",
     "好友分享", "PH"],
    [9, 5, 3, 4, 3, 14, 10, 7, 8, 37])
YZ_SOURCE = Picker(["微信", "微信小程序", "H5", "直播间", "PH"], [40, 30, 8, 4, 18])
DISTRIBUTORS = [  # (nick in first 分销员, shop name in second 分销员, phone owner)
    ("李娜", "娜娜的美妆铺"), ("王晓燕", "燕子好物"), ("陈思远", "思远严选"),
    ("周雨婷", "雨婷的小店"), ("刘洋", "洋洋推荐"), ("赵敏", "敏敏生活馆"),
]
GUIDES = ["静安店-王芳", "静安店-李静", "西湖店-张敏", "天河店-陈霞"]

JD_SOURCE = Picker(["京东APP", "移动端", "PC端", "微信", "京东直播", "直播"], [45, 20, 12, 10, 6, 7])
JD_CHANNEL = Picker(["京东商城", "京喜", "京东到家", "直播带货"], [78, 8, 6, 8])
JD_BUYER_NOTES = ["请尽快发货\r\n谢谢", "送人的\t不要放发票", "周末送货", "麻烦包装好一点,谢谢",
                  "不要放广告单\r\n不要放小票", "工作日白天不在家\t请放快递柜"]
JD_SELLER_NOTES = ["已联系\r\n补发赠品", "老客户\t送小样", "地址已核实", "加急", "改地址:\r\n见备注"]
TM_MESSAGES = ["请尽快发货", "送人的,不要放价格单", "麻烦多送点小样~", "发顺丰可以吗", "生日礼物,包装好看点"]

TMALL_HEADER = [
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分", "总金额",
    "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言", "收货人姓名", "收货地址 ",
    "运送方式", "联系电话 ", "联系手机", "订单创建时间", "订单付款时间 ", "宝贝标题 ", "宝贝种类 ",
    "物流单号 ", "物流公司", "订单备注", "宝贝总数量", "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费",
    "买家服务费", "发票抬头", "是否手机订单", "分阶段订单信息", "特权订金订单id", "是否上传合同照片",
    "是否上传小票", "是否代付", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣",
    "集分宝抵扣", "是否是O2O交易", "新零售交易类型", "新零售导购门店id", "新零售发货门店id", "退款金额",
    "预约门店", "确认收货时间", "打款商家金额", "含应开票给个人的个人红包", "是否信用购", "前N有礼",
    "主订单编号", "天猫国际官网直供",
]
JD_HEADER_2015 = [
    "订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额", "结算金额",
    "余额支付", "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名", "客户地址", "联系电话", "订单备注",
    "发票类型", "发票抬头", "发票内容", "商家备注", "商家备注等级（等级1-5为由高到低）", "运费金额",
    "付款确认时间", "增值税发票", "货号", "订单完成时间", "订单来源", "订单渠道",
]
JD_HEADER_NEW = (JD_HEADER_2015[:11] + ["实付金额"] + JD_HEADER_2015[11:]
                 + ["送装服务", "服务费", "仓库id", "仓库名称", "邮政编码", "邮箱地址", "商家SKUID"])
YOUZAN_HEADER = [
    "订单号", "销售渠道", "归属店铺", "订单类型", "订单状态", "推广方式", "订单来源", "订单创建时间",
    "买家付款时间", "交易成功时间", "付款方式", "支付流水号", "商品金额合计", "运费", "店铺优惠合计",
    "应收订单金额", "订单实付金额", "支付优惠合计", "订单实收金额", "全部商品名称", "商品种类数", "收货人省份",
    "收货人城市", "收货人地区", "详细收货地址/提货地址", "收货人/提货人", "收货人手机号/提货人手机号",
    "买家备注", "买家昵称", "买家是否会员", "买家手机号", "分销员", "销售导购", "订单退款状态",
    "订单已退款金额", "商家订单备注", "分销员", "分销员手机号",
]
FOLLOWER_HEADER = ["subscribe", "openid", "unionid", "subscribe_time", "remark", "groupid",
                   "tagid_list", "subscribe_scene", "qr_scene", "qr_scene_str", "mobile"]
WXT_HEADER = ["日期", "主体ID", "主体名称", "展现量", "点击量", "花费", "点击率", "平均点击花费",
              "总成交金额", "成交人数", "成交新客数"]
ZTC_HEADER = ["计划名称", "默认出价", "展现量", "点击量", "点击率", "花费", "平均点击花费", "点击转化率",
              "投入产出比", "总成交金额"]
PLAIN_SPEND_HEADER = ["date", "channel", "spend"]
# The 千牛 order report as .xlsx (since 2020): the same columns, two of them renamed.
TMALL_HEADER_2020 = [{"买家实际支付金额": "买家实付金额", "宝贝标题 ": "商品标题"}.get(h, h) for h in TMALL_HEADER]
# Tmall item report (宝贝报表, CSV) and the item sheet of the .xlsx layout: one row per item line.
ITEM_REPORT_HEADER = ["订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
                      "订单状态", "商家编码"]
ITEM_SHEET_HEADER = ["子订单编号", "主订单编号", "商品标题", "商品价格", "购买数量", "商品属性", "订单状态",
                     "商家编码", "买家应付货款", "买家实付金额", "退款状态", "退款金额", "订单创建时间",
                     "订单付款时间", "商品ID", "发货时间"]
# 京准通 plan report (.xlsx), after a title and date-range preamble
JZT_HEADER = ["日期", "计划名称", "花费", "全站交易额", "全站投产比", "展现数", "点击数"]

assert len(JD_HEADER_2015) == 30
assert len(TMALL_HEADER) == 56

# ---------------------------------------------------------------------------------------------
# People. Strings are derived from the person index (no per-person strings kept in memory).
# Index ranges: customers [0, C); fan-only people from FAN_ONLY_BASE; separate distributors from
# DISTRIBUTOR_BASE; the shop's staff (test orders) at STAFF_IDX.

FAN_ONLY_BASE = 50_000_000
DISTRIBUTOR_BASE = 90_000_000
STAFF_IDX = 99_000_000


class People:
    def __init__(self, seed: int):
        self.salt = mix32(seed * 7919 + 17)
        self.xss_idx = -1

    def h(self, idx: int, k: int) -> int:
        return mix32(idx * 0x9E3779B1 + k * 0x85EBCA77 + self.salt)

    def phone(self, idx: int) -> str:
        p = MOBILE_PREFIXES[idx % len(MOBILE_PREFIXES)]
        q = idx // len(MOBILE_PREFIXES)
        # bijective in q for a fixed prefix (61803399 is coprime to 10**8), so phones never collide
        return f"{p}{(q * 61_803_399 + self.salt + idx % len(MOBILE_PREFIXES) * 3_030_303) % 100_000_000:08d}"

    def name(self, idx: int) -> str:
        h = self.h(idx, 1)
        return SURNAMES[h % len(SURNAMES)] + GIVEN[(h >> 8) % len(GIVEN)]

    def address(self, idx: int):
        h = self.h(idx, 2)
        prov, city, dist, zipc, streets = ADDRESSES[h % len(ADDRESSES)]
        street = streets[(h >> 8) % len(streets)]
        detail = f"{street}{(h >> 12) % 900 + 1}号{(h >> 22) % 12 + 1}栋{(h >> 26) % 30 + 1}0{(h >> 3) % 4 + 1}室"
        return prov, city, dist, zipc, detail

    def tmall_nick(self, idx: int) -> str:
        if idx == self.xss_idx:
            return "<img src=x onerror=alert(1)>"
        h = self.h(idx, 3)
        u = b36(idx * 7 + 1000)
        style = h % 4
        if style == 0:
            return f"{CN_NICK[(h >> 4) % len(CN_NICK)]}{u}"
        if style == 1:
            return f"{EN_NICK[(h >> 4) % len(EN_NICK)]}_{u}"
        if style == 2:
            return f"tb{(idx * 7919 + 13) % 1_000_000_000:09d}"
        return f"{CN_NICK[(h >> 4) % len(CN_NICK)]}{EN_NICK[(h >> 9) % len(EN_NICK)]}_{u}"

    def alipay(self, idx: int) -> str:
        h = self.h(idx, 4)
        if h % 3 == 0:
            return f"{EN_NICK[(h >> 4) % len(EN_NICK)]}***@{['163.com', 'qq.com', '126.com'][(h >> 9) % 3]}"
        p = self.phone(idx)
        return f"{p[:3]}****{p[7:]}"

    def jd_pin(self, idx: int) -> str:
        h = self.h(idx, 5)
        if h % 3 == 0:
            return f"jd_{(idx * 2654435761 + self.salt) % 16**10:010x}"
        if h % 3 == 1:
            return f"{CN_NICK[(h >> 4) % len(CN_NICK)]}_{idx + 100}"
        return f"{EN_NICK[(h >> 4) % len(EN_NICK)]}{idx + 1000}"

    def yz_nick(self, idx: int) -> str:
        h = self.h(idx, 6)
        u = b36(idx * 11 + 5000)
        style = h % 4
        if style == 0:
            return f"{CN_NICK[(h >> 4) % len(CN_NICK)]}·{u}"
        if style == 1:
            return f"{EMOJI[(h >> 4) % len(EMOJI)]}{CN_NICK[(h >> 8) % len(CN_NICK)]}{u}"
        if style == 2:
            return f"{EN_NICK[(h >> 4) % len(EN_NICK)].capitalize()} {u}"
        return f"{self.name(idx)}{u}"


def phone_variant(p: str, r: float) -> str:
    """Youzan phone spellings; all normalise to the same 11 digits."""
    if r < 0.70:
        return p
    if r < 0.80:
        return f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"
    if r < 0.88:
        return f"{p[:3]} {p[3:7]} {p[7:]}"
    if r < 0.95:
        return f"+86 {p}"
    return f"86{p}"


def mask_jd(p: str) -> str:
    return f"{p[0]}******{p[7:]}"


# ---------------------------------------------------------------------------------------------
# Orders

class Order:
    __slots__ = ("plat", "cust", "oid", "created", "pay", "cod", "close_ts", "taobao_closed",
                 "close_reason", "ship", "confirm", "signed", "items", "goods", "freight",
                 "discount", "paid", "refund", "refund_ts", "refund_full", "deleted", "locked",
                 "jingdou", "calc_note", "promo", "source", "dist", "guide", "note", "seller_note",
                 "extra", "test", "comma_half", "express", "phone_r", "buyer_phone_ph", "zero_unit",
                 "mobile_order", "pickup", "member", "paytype")

    def __init__(self):
        for s in self.__slots__:
            setattr(self, s, None)


class FileSink:
    """One output file, opened on first row; rows are written as they come (streaming)."""

    def __init__(self, path, header, encoding, lineterminator="\r\n"):
        self.path = path
        self.header = header
        self.encoding = encoding
        self.lineterminator = lineterminator
        self.f = None
        self.w = None
        self.records = 0

    def write(self, row):
        if self.f is None:
            self.open()
        self.w.writerow(row)
        self.records += 1

    def open(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.f = open(self.path, "w", encoding=self.encoding, newline="", buffering=1 << 20)
        self.w = csv.writer(self.f, lineterminator=self.lineterminator)
        self.w.writerow(self.header)

    def close(self):
        if self.f is None:
            self.open()
        self.f.close()
        self.f = None


_YUAN_TEXT = re.compile(r"\d+\.\d\d")
_INT_TEXT = re.compile(r"0|[1-9]\d{0,14}")
_STD_TS = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)")
_XL_TS = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2}) (\d{1,2}):(\d\d)")


def unwrapped(cell: str) -> str:
    """A workbook keeps digits text by itself: the CSV's ="…" guard is not written there."""
    return cell[2:-1] if cell.startswith('="') and cell.endswith('"') else cell


def excel_cell(cell: str):
    """A text cell of the CSV form as Excel holds it after the merchant saved the file: two-decimal
    money and short integers become numbers, dates date cells; order ids (19 digits) and everything
    else stay text (Excel keeps a text cell text)."""
    v = unwrapped(cell)
    if _YUAN_TEXT.fullmatch(v):
        return int(v.replace(".", "")) / 100
    if _INT_TEXT.fullmatch(v):
        return int(v)
    m = _STD_TS.fullmatch(v) or _XL_TS.fullmatch(v)
    if m:
        g = [int(x) for x in m.groups()]
        return dt.datetime(*g)
    return v


class XlsxSink:
    """One .xlsx file written by xlsxgen as rows come: a writer thread pulls them through a small
    bounded queue of batches, so memory does not grow with the file (xlsxgen streams its rows;
    the "excel" shape keeps its shared strings, so at scale only the "qianniu" shape is used)."""

    BATCH = 250

    def __init__(self, path, header, shape: str, sheet: str, convert=None, preamble=()):
        # convert: row -> row as the workbook holds it (None: as given)
        self.path = path
        self.header = header
        self.shape = shape
        self.sheet = sheet
        self.convert = convert
        self.preamble = list(preamble)
        self.records = 0
        self.buf: list = []
        self.thread = None
        self.error = None

    def open(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self.q = queue.Queue(maxsize=4)

        def rows():
            yield from self.preamble
            yield self.header
            while True:
                batch = self.q.get()
                if batch is None:
                    return
                yield from batch

        def work():
            try:
                write_xlsx(self.path, [(self.sheet, rows())], self.shape)
            except BaseException as e:  # noqa: BLE001 - re-raised in the producing thread
                self.error = e

        self.thread = threading.Thread(target=work, name="xlsx " + os.path.basename(self.path), daemon=True)
        self.thread.start()

    def _put(self, item):
        while True:
            if self.error is not None:
                raise RuntimeError(f"{self.path}: {self.error!r}") from self.error
            try:
                self.q.put(item, timeout=0.5)
                return
            except queue.Full:
                if not self.thread.is_alive() and self.error is None:
                    raise RuntimeError(f"{self.path}: the workbook writer stopped")

    def write(self, row):
        if self.thread is None:
            self.open()
        self.buf.append(self.convert(row) if self.convert else row)
        self.records += 1
        if len(self.buf) >= self.BATCH:
            self._put(self.buf)
            self.buf = []

    def close(self):
        if self.thread is None:
            self.open()
        if self.buf:
            self._put(self.buf)
            self.buf = []
        self._put(None)
        self.thread.join()
        if self.error is not None:
            raise RuntimeError(f"{self.path}: {self.error!r}") from self.error


def excel_row(row):
    return [excel_cell(c) for c in row]


def unwrapped_ids(row):
    """A Tmall order row for a workbook: the ="…" guard off its two id columns (订单编号, 主订单编号)."""
    row[0] = unwrapped(row[0])
    row[54] = unwrapped(row[54])
    return row


def xlsx_sink(path, header, shape: str, sheet: str, tmall_orders: bool = False) -> XlsxSink:
    """"excel": every cell as Excel holds it (excel_cell); "qianniu": text as is, but no ="…" guards."""
    convert = excel_row if shape == "excel" else unwrapped_ids if tmall_orders else None
    return XlsxSink(path, header, shape, sheet, convert)


class OrderFile:
    """An order export covering creation days [start, end], observed at export time `export`.
    fmt: "csv", or the shape of an .xlsx ("qianniu": the 千牛 2020 layout for Tmall; "excel": after
    a re-save in Excel). items (Tmall only): the item file exported beside it, None, "csv" (宝贝报表)
    or an .xlsx shape (the 2020 item sheet), named ExportOrderDetailList<same time stamp>."""

    def __init__(self, path, plat, start: dt.date, end: dt.date, export: int, style: str,
                 fmt: str = "csv", items: str | None = None):
        if plat == TM:
            header, enc = TMALL_HEADER, "gbk"
        elif plat == JD:
            header, enc = (JD_HEADER_NEW if style == "new" else JD_HEADER_2015), "gbk"
        else:
            header, enc = YOUZAN_HEADER, "utf-8-sig"
        if fmt == "csv":
            self.sink = FileSink(path, header, enc)
        else:
            # A 千牛 workbook has the 2020 layout; a CSV report the merchant re-saved in Excel keeps its header.
            sheet = "订单报表" if plat == TM else "订单列表"
            self.sink = xlsx_sink(path, TMALL_HEADER_2020 if plat == TM and fmt == "qianniu" else header, fmt, sheet,
                                  tmall_orders=plat == TM)
        self.items = None
        self.items_fmt = items
        if items is not None:
            assert plat == TM
            ipath = os.path.join(os.path.dirname(path), tmall_name(export, "ExportOrderDetailList",
                                                                   ".csv" if items == "csv" else ".xlsx"))
            if items == "csv":
                self.items = FileSink(ipath, ITEM_REPORT_HEADER, "gbk")
            else:
                self.items = xlsx_sink(ipath, ITEM_SHEET_HEADER, items, "宝贝明细")
        self.plat = plat
        self.start = dix(start)
        self.end = dix(end)
        self.export = export
        self.style = style
        assert export > (self.end + 1) * DAY - 1, path  # exported after its last order
        self.orders = 0

    @property
    def path(self) -> str:
        return self.sink.path

    @property
    def records(self) -> int:
        return self.sink.records

    def write(self, row):
        self.sink.write(row)

    def add(self, R: "Renderer", o: "Order"):
        """Writes the order as this export shows it (and its item lines to the item file)."""
        render = R.tmall if o.plat == TM else R.jd if o.plat == JD else R.youzan
        for row in render(o, self.export, self.style):
            self.sink.write(row)
        if self.items is not None:
            lines = R.tmall_item_report if self.items_fmt == "csv" else R.tmall_item_sheet
            for row in lines(o, self.export, self.style):
                self.items.write(row)
        self.orders += 1

    def close(self):
        self.sink.close()
        if self.items is not None:
            self.items.close()


# ---------------------------------------------------------------------------------------------
# Renderers: one order as seen at export time T.

class Renderer:
    def __init__(self, people: People):
        self.P = people

    # --- Tmall ---------------------------------------------------------------------------------
    @staticmethod
    def tmall_state(o: Order, T: int):
        """The order as the Tmall export at time T shows it: (paid_now, refund, status, close_reason)."""
        paid_now = o.pay is not None and o.pay <= T
        refund = o.refund if (paid_now and o.refund and o.refund_ts <= T) else 0
        close_reason = "订单未关闭"
        if not paid_now:
            if o.close_ts is not None and o.close_ts <= T:
                status = "交易被淘宝关闭" if o.taobao_closed else "交易关闭"
                close_reason = o.close_reason
            else:
                status = "等待买家付款"
        elif refund and o.refund_full and o.refund_ts < o.confirm:
            status = "交易关闭"
            close_reason = "退款"
        elif o.confirm <= T:
            status = "交易成功"
        elif o.ship <= T:
            if o.signed and o.ship + 2 * DAY <= T:
                status = "买家已签收"
            else:
                status = "卖家已发货,等待买家确认" if o.comma_half else "卖家已发货，等待买家确认"
        else:
            status = "买家已付款,等待卖家发货" if o.comma_half else "买家已付款，等待卖家发货"
        return paid_now, refund, status, close_reason

    def tmall(self, o: Order, T: int, style: str):
        P = self.P
        c = o.cust
        f = fmt_xl if style == "excel" else fmt
        paid_now, refund, status, close_reason = self.tmall_state(o, T)
        pay_s = ""
        confirm_s = ""
        track = ""
        company = ""
        actual = 0
        settle = ""
        if paid_now:
            pay_s = f(o.pay)
            actual = o.paid
            if o.ship <= T:
                company, code = o.express
                track = f"No:{code}{o.oid[-12:]}"
            if status == "交易成功":
                confirm_s = f(o.confirm)
                settle = yuan(o.paid - refund) + "元"
        prov, city, dist, zipc, detail = P.address(c)
        mobile = P.phone(c) if c != STAFF_IDX else P.phone(STAFF_IDX)
        if o.extra == "landline":
            tel = f"'{LANDLINE_AREA.get(prov, '021')}-{P.h(c, 9) % 90000000 + 10000000}"
        elif o.extra == "tel_mobile":
            tel = "'" + mobile
        else:
            tel = ""
        titles = "，".join(tmall_title(i, o.created) for i, _ in o.items)
        qty = sum(q for _, q in o.items)
        zero = "0元" if o.zero_unit else "0.00"
        oid_cell = f'="{o.oid}"'
        return [[
            oid_cell, P.tmall_nick(c), P.alipay(c), yuan(o.goods),
            yuan(o.freight) if o.freight else zero, "0", yuan(o.goods + o.freight),
            str(o.goods // 1000), yuan(actual) if actual else zero, "0", status,
            o.note or "", P.name(c), f"{prov} {city} {dist} {detail}({zipc})", "快递", tel,
            "'" + mobile, f(o.created), pay_s, titles, str(len(o.items)), track, company, "",
            str(qty), SHOP_TMALL_ID, SHOP_TMALL, close_reason, "0", "0元", "",
            "手机订单" if o.mobile_order else "", "", "", "否", "否", "否", "", "", "", "", "0.00",
            "0.00", "否", "", "", "", yuan(refund) if refund else zero, "", confirm_s,
            settle or "0元", "0.00", "否", "", oid_cell, "否",
        ]]

    def tmall_lines(self, o: Order, T: int):
        """The order's item lines at export T: status, and per line goods, paid share and refund (fen).
        The paid amount (after freight and coupon) is shared by goods value, the remainder on the
        last line; a partial refund is taken from the last line backwards, a full one is every share."""
        paid_now, refund, status, _ = self.tmall_state(o, T)
        goods = [PRODUCTS[i][2] * q for i, q in o.items]
        paid = o.paid if paid_now else 0
        shares, left = [], paid
        for k, g in enumerate(goods):
            share = left if k == len(goods) - 1 else g * paid // o.goods
            shares.append(share)
            left -= share
        refunds = [0] * len(goods)
        left = refund
        for k in range(len(goods) - 1, -1, -1):
            refunds[k] = min(left, shares[k]) if k else left
            left -= refunds[k]
        return paid_now, status, goods, shares, refunds

    def tmall_item_report(self, o: Order, T: int, style: str):
        """宝贝报表 (CSV) rows of the order as exported at T."""
        _, status, _, _, _ = self.tmall_lines(o, T)
        oid_cell = f'="{o.oid}"'
        rows = []
        for i, q in o.items:
            code, _, price, _ = PRODUCTS[i]
            _, attr, package = ITEM_INFO[i]
            rows.append([oid_cell, tmall_title(i, o.created), yuan(price), str(q), "", attr, package, "",
                         status, code])
        return rows

    def tmall_item_sheet(self, o: Order, T: int, style: str):
        """Rows of the .xlsx layout's item sheet (子订单 per item line), as text; dates in `style`."""
        f = fmt_xl if style == "excel" else fmt
        paid_now, status, goods, shares, refunds = self.tmall_lines(o, T)
        multi = len(o.items) > 1
        rows = []
        for k, (i, q) in enumerate(o.items):
            code, _, price, _ = PRODUCTS[i]
            item_id, attr, _ = ITEM_INFO[i]
            # a one-item order's sub-order is the order itself
            sub = f"{o.oid[:-3]}{(int(o.oid[-3:]) + 101 * (k + 1)) % 1000:03d}" if multi else o.oid
            rows.append([sub, o.oid, tmall_title(i, o.created), yuan(price), str(q), attr, status, code,
                         yuan(goods[k]), yuan(shares[k]), "退款成功" if refunds[k] else "没有申请退款",
                         yuan(refunds[k]) if refunds[k] else "无退款申请", f(o.created),
                         f(o.pay) if paid_now else "", item_id,
                         f(o.ship) if paid_now and o.ship <= T else ""])
        return rows

    # --- JD -----------------------------------------------------------------------------------
    def jd(self, o: Order, T: int, style: str):
        P = self.P
        c = o.cust
        new = style == "new"
        paid_now = o.cod or (o.pay is not None and o.pay <= T)
        pay_s = ""
        done_s = ""
        if not paid_now:
            if o.close_ts is not None and o.close_ts <= T:
                status = "已取消"
            else:
                status = "等待付款"
        else:
            if not o.cod:
                pay_s = fmt(o.pay)
            if o.confirm <= T:
                status = "完成"
                done_s = fmt(o.confirm)
            elif o.ship <= T:
                status = "等待确认收货"
            else:
                status = "等待出库"
            if o.locked:
                status = "(锁定)等待出库" if status == "等待出库" else "锁定"
                done_s = ""
        if o.deleted and status in ("完成", "已取消"):
            status = "(删除)" + status
        order_amt = o.goods
        settle = o.goods - o.discount
        payable = settle + o.freight
        payable_s = yuan(payable)
        if o.calc_note:
            payable_s += "（系统计算中，该值仅供参考）"
        phone = P.phone(c)
        if o.phone_r < 0.03 or (new and o.phone_r < 0.35):  # newer exports mask more
            phone = mask_jd(phone)
        prov, city, dist, zipc, detail = P.address(c)
        addr = f"{prov}{city}{dist}{detail}"
        common_a = [o.paytype, fmt(o.created)]
        rows = []
        for i, q in o.items:
            code, title, price, sku = PRODUCTS[i]
            article = "" if new and i in JD_SKUID_ONLY else code  # 货号
            row = [o.oid, sku, title, str(q)] + common_a + [
                yuan(price), yuan(order_amt), yuan(settle), "0.00", payable_s]
            if new:
                row.append(yuan(payable - o.jingdou) if (paid_now and not o.cod) else "0.00")
            row += [status, "SOP", P.jd_pin(c), P.name(c), addr, phone, o.note or "",
                    "电子发票" if o.member else "不开发票", "个人" if o.member else "", "明细" if o.member else "",
                    o.seller_note or "", str(o.guide or 0), yuan(o.freight), pay_s, "否", article, done_s,
                    o.source, o.promo]
            if new:
                row += ["否", "0.00", "1001", "上海嘉定仓", zipc, "", code]  # 商家SKUID
            rows.append(row)
        return rows

    # --- Youzan -------------------------------------------------------------------------------
    def youzan(self, o: Order, T: int, style: str):
        P = self.P
        c = o.cust
        ph = o.extra  # per-order placeholder spelling
        paid_now = o.pay is not None and o.pay <= T
        refund = o.refund if (paid_now and o.refund and o.refund_ts <= T) else 0
        pay_s = ph
        done_s = ph
        serial = ph
        paytype = ph
        actual = 0
        if not paid_now:
            if o.close_ts is not None and o.close_ts <= T:
                status = "已关闭"
            else:
                status = "待付款"
        else:
            pay_s = fmt(o.pay)
            actual = o.paid
            serial = f"42000{(int(o.oid[1:15]) * 31 + o.created) % 10**13:013d}{o.created % 10**10:010d}"
            paytype = o.paytype
            if refund and o.refund_full and o.refund_ts < o.confirm:
                status = "已关闭"
            elif o.confirm <= T:
                status = "交易成功"
                done_s = fmt(o.confirm)
            elif o.ship <= T:
                status = "已发货"
            else:
                status = "待发货"
        if refund:
            refund_state = "退款成功" if o.refund_full else "部分退款成功"
            refund_s = yuan(refund)
        else:
            refund_state = ph
            refund_s = "0.00" if o.zero_unit else ph
        pay_disc = 100 if (paid_now and o.jingdou) else 0
        receivable = o.goods + o.freight - o.discount
        if c == STAFF_IDX:
            nick, name = "思语店员-测试", "测试"
            prov, city, dist, zipc, detail = ADDRESSES[1][0], ADDRESSES[1][1], ADDRESSES[1][2], "", "静安店自提"
        else:
            nick, name = P.yz_nick(c), P.name(c)
            prov, city, dist, zipc, detail = P.address(c)
        if o.pickup:
            detail = "思语静安店(南京西路1266号)自提"
            prov, city, dist = "上海", "上海市", "静安区"
        phone = P.phone(c)
        buyer_phone = ph if o.buyer_phone_ph else phone_variant(phone, o.phone_r)
        consignee_phone = phone_variant(phone, (o.phone_r * 7.3) % 1.0)
        if o.dist is not None:
            dnick, dshop, dphone = o.dist
            dist1, dist2 = dnick, dshop
        else:
            dist1, dist2, dphone = ph, ph, ph
        titles = "；".join(PRODUCTS[i][1] for i, _ in o.items)
        return [[
            o.oid, "微商城" if o.source != "微信小程序" else "小程序", SHOP_YOUZAN,
            "测试订单" if o.test else "普通订单", status, o.promo, o.source, fmt(o.created), pay_s,
            done_s, paytype, serial, yuan(o.goods), yuan(o.freight), yuan(o.discount),
            yuan(receivable), yuan(actual), yuan(pay_disc), yuan(actual + pay_disc if actual else 0),
            titles, str(len(o.items)), prov, city, dist, detail, name, consignee_phone,
            o.note or ph, nick, "是" if o.member else "否", buyer_phone, dist1,
            o.guide or ph, refund_state, refund_s, o.seller_note or ph, dist2, dphone,
        ]]


# ---------------------------------------------------------------------------------------------
# File plans

def tmall_name(export: int, prefix: str = "ExportOrderList", ext: str = ".csv") -> str:
    d = date_of(export)
    s = export % DAY
    return f"{prefix}{d:%Y%m%d}{s // 3600:02d}{s // 60 % 60:02d}{ext}"


def month_ranges():
    y, m = DATA_START.year, DATA_START.month
    while (y, m) <= (DATA_END.year, DATA_END.month):
        first = dt.date(y, m, 1)
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        last = dt.date(ny, nm, 1) - dt.timedelta(days=1)
        yield first, last
        y, m = ny, nm


def plan_files(out: str, layout: str, tmall_format: str = "csv", csv_only: bool = False):
    """Returns (order files per platform, [(source, copy name)] for byte-identical re-deliveries).
    The sample delivers two Tmall order reports as CSV (with 宝贝报表 CSVs beside them), the Excel
    re-saved one and the latest one as .xlsx (with 2020 item sheets beside them) and the last
    Youzan quarter as .xlsx. At scale every Tmall file is `tmall_format` ("xlsx": 千牛 workbooks).
    csv_only: every order file a CSV and no item files (the exports before siyu read workbooks)."""
    files = {TM: [], JD: [], YZ: []}
    copies = []
    j = os.path.join
    D = dt.date
    # Tmall re-export of an overlapping, earlier range: some orders paid earlier now carry refunds.
    overlap = (D(2025, 6, 1), D(2025, 7, 31), ts_at(D(2025, 10, 8), 16, 45))
    if layout == "sample":
        # (start, end, export, date style, order file format, item file format)
        tm = [(D(2024, 11, 1), D(2025, 2, 28), ts_at(D(2025, 3, 1), 12, 0), "std", "csv", "csv"),
              (D(2025, 3, 1), D(2025, 7, 31), ts_at(D(2025, 8, 1), 9, 30), "excel", "excel", "excel"),
              overlap + ("std", "csv", "csv"),
              (D(2025, 8, 1), D(2025, 12, 31), ts_at(D(2026, 1, 1), 10, 0), "std", "qianniu", "qianniu")]
        jd = [(D(2024, 11, 1), D(2025, 1, 31), "2015"), (D(2025, 2, 1), D(2025, 4, 30), "2015"),
              (D(2025, 5, 1), D(2025, 7, 31), "2015"), (D(2025, 8, 1), D(2025, 10, 31), "2015"),
              (D(2025, 11, 1), D(2025, 12, 31), "new")]
        yz = [(D(2024, 11, 1), D(2024, 12, 31), "2024Q4", "csv"), (D(2025, 1, 1), D(2025, 3, 31), "2025Q1", "csv"),
              (D(2025, 4, 1), D(2025, 6, 30), "2025Q2", "csv"), (D(2025, 7, 1), D(2025, 9, 30), "2025Q3", "csv"),
              (D(2025, 10, 1), D(2025, 12, 31), "2025Q4", "qianniu")]
    else:
        tm, jd, yz = [], [], []
        tf = "qianniu" if tmall_format == "xlsx" else "csv"
        for k, (a, b) in enumerate(month_ranges()):
            nxt = b + dt.timedelta(days=1)
            style = "excel" if (a.year, a.month) == (2025, 5) else "std"
            tm.append((a, b, ts_at(nxt, 9, (k * 7) % 50), style, tf, tf))
            jd.append((a, b, "new" if a >= D(2025, 11, 1) else "2015"))
            yz.append((a, b, f"{a:%Y%m}", "csv"))
        tm.append(overlap + ("std", tf, tf))
    for a, b, export, style, fmt, items in tm:
        if csv_only:
            fmt, items = "csv", None
        name = tmall_name(export, ext=".csv" if fmt == "csv" else ".xlsx")
        files[TM].append(OrderFile(j(out, "tmall", name), TM, a, b, export, style, fmt, items))
    first = files[TM][0]
    base, ext = os.path.splitext(first.path)
    copies.append((first.path, base + " (1)" + ext))
    for a, b, style in jd:
        nxt = b + dt.timedelta(days=1)
        files[JD].append(OrderFile(j(out, "jd", f"jd_orders_{nxt:%Y%m%d}.csv"), JD, a, b,
                                   ts_at(nxt, 9, 0), style))
    for a, b, label, fmt in yz:
        if csv_only:
            fmt = "csv"
        nxt = b + dt.timedelta(days=1)
        name = f"youzan_orders_{label}" + (".csv" if fmt == "csv" else ".xlsx")
        files[YZ].append(OrderFile(j(out, "youzan", name), YZ, a, b, ts_at(nxt, 10, 0), "std", fmt))
    return files, copies


# ---------------------------------------------------------------------------------------------
# The generator

HOUR_PICK = Picker(range(24), [2, 1, .5, .3, .2, .3, .8, 1.5, 2.5, 3.5, 4, 4, 3.5, 3.5, 3.5, 3.5,
                               3.5, 3.5, 4, 5, 6, 6.5, 6, 4])
# home platform of a new customer, second platform of a cross-platform customer
HOME_PICK = Picker([TM, JD, YZ], [45, 28, 27])
CROSS_PICK = Picker([(TM, YZ), (TM, JD), (JD, YZ), (YZ, TM), (JD, TM)], [60, 12, 15, 8, 5])
OVERLAP_FROM, OVERLAP_TO = ts_at(dt.date(2025, 6, 1)), ts_at(dt.date(2025, 8, 1))
JD_NEW_LAYOUT_FROM = ts_at(dt.date(2025, 11, 1))  # JD files from here on use the newer layout
WEIGHT_PICK = Picker([0, 1, 2, 3], [40, 35, 18, 7])


def day_weight(d: dt.date) -> float:
    months = (d.year - DATA_START.year) * 12 + d.month - DATA_START.month
    w = 1.0 + 0.03 * months
    wd = d.weekday()
    w *= 1.15 if wd >= 5 else (0.95 if wd == 0 else 1.0)
    md = (d.month, d.day)
    w *= {(11, 11): 4.0, (11, 10): 1.8, (11, 12): 1.5, (12, 12): 2.0, (6, 18): 3.0, (6, 17): 1.5,
          (6, 19): 1.3, (3, 8): 1.8}.get(md, 1.0)
    if dt.date(2025, 1, 25) <= d <= dt.date(2025, 2, 5):
        w *= 0.5
    return w


def apportion(total: int, weights: list[float]) -> list[int]:
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out


class Generator:
    LINES_PER_ORDER = 1.22

    def __init__(self, out: str, n_lines: int, seed: int, layout: str, tmall_format: str = "csv",
                 csv_only: bool = False):
        self.out = out
        self.N = n_lines
        self.seed = seed
        self.layout = layout
        self.csv_only = csv_only
        self.rng = random.Random(seed)
        self.P = People(seed)
        self.R = Renderer(self.P)
        self.files, self.copies = plan_files(out, layout, tmall_format, csv_only)
        self.C = max(50, round(n_lines * 0.28))  # customer pool
        rng = self.rng
        C = self.C
        # Customer pool (parallel lists of small ints).
        self.home = [0] * C
        self.second = [-1] * C
        self.weight = [0] * C
        self.fan = [False] * C
        for i in range(C):
            h = HOME_PICK(rng)
            s = -1
            if rng.random() < 0.165:
                h, s = CROSS_PICK(rng)
            w = WEIGHT_PICK(rng)
            if s >= 0:
                w = max(w, 2)
            self.home[i], self.second[i], self.weight[i] = h, s, w
            self.fan[i] = rng.random() < (0.42 if YZ in (h, s) else 0.06)
        # The XSS nick: a Tmall-only, one-order customer in the middle of the pool.
        x = C * 2 // 5
        while self.home[x] != TM:
            x += 1
        self.P.xss_idx = x
        self.second[x], self.weight[x] = -1, 0
        self.first_ts = [0] * C
        self.used_second = [False] * C
        self.next_new = 0
        self.repeaters: list[int] = []
        self.fans: list[tuple] = []  # (person, follow_ts, mode); customers' fans recorded as they appear
        self.seq = {TM: 0, JD: 0, YZ: 0}
        # Distributors: four are also customers (their phone belongs to a buyer), two are not.
        self.distributors = []
        for k, (nick, shop) in enumerate(DISTRIBUTORS):
            owner = (k * C) // 9 + 3 if k < 4 else DISTRIBUTOR_BASE + k
            self.distributors.append((nick, shop, self.P.phone(owner)))
        # Test orders (Youzan 测试订单): fixed days, more at scale.
        n_test = max(2, n_lines // 100_000)
        self.test_days = {dix(dt.date(2025, 1, 15)), dix(dt.date(2025, 9, 3))}
        trng = random.Random(seed * 31 + 7)
        days = [dix(DATA_START) + i for i in range((DATA_END - DATA_START).days + 1)]
        while len(self.test_days) < n_test:
            self.test_days.add(trng.choice(days))
        self.sibling_forced = False
        self.pending_forced: set[int] = set()
        self.stats = {"orders": 0, "lines": 0, "same_day_pairs": 0}

    # --- people --------------------------------------------------------------------------------
    def pick_customer(self, remaining_lines: int, today: set):
        rng = self.rng
        remaining_c = self.C - self.next_new
        if remaining_c > 0:
            p_new = remaining_c * self.LINES_PER_ORDER / max(1, remaining_lines)
            if not self.repeaters or rng.random() < p_new:
                c = self.next_new
                self.next_new += 1
                return c, True
        if not self.repeaters:  # pool exhausted and nobody repeats (tiny runs)
            return rng.randrange(self.C), False
        for _ in range(4):  # a repeat buyer rarely orders twice in one day by chance
            u = rng.random()
            c = self.repeaters[int(len(self.repeaters) * (1 - u * u))]
            if c not in today:
                break
        return c, False

    def platform_for(self, c: int, new: bool) -> int:
        if new or self.second[c] < 0:
            return self.home[c]
        if not self.used_second[c]:
            self.used_second[c] = True
            return self.second[c]
        return self.second[c] if self.rng.random() < 0.6 else self.home[c]

    def on_first_order(self, c: int, created: int):
        rng = self.rng
        self.first_ts[c] = created
        self.repeaters.extend([c] * self.weight[c])
        if not self.fan[c]:
            if rng.random() < 0.03:  # a member who bound a phone in the mini-program: identity only
                self.fans.append((c, None, "identity"))
            return
        lo = ts_at(DATA_START)
        hi = ts_at(DATA_END, 23, 59, 59)
        before = rng.random() < (0.55 if self.home[c] == YZ else 0.2)
        if before and created - lo > 3600:
            gap = min(created - lo - 600, rng.choice([rng.randint(600, 6 * 3600),
                                                       rng.randint(DAY, 10 * DAY),
                                                       rng.randint(10 * DAY, 60 * DAY)]))
            follow = created - max(600, gap)
        else:
            follow = created + rng.randint(DAY, 60 * DAY)
            if follow > hi:
                follow = created + rng.randint(600, max(601, hi - created))
                if follow > hi:
                    return
        mode = "mobile" if rng.random() < 0.6 else "unionid"
        self.fans.append((c, follow, mode, "before" if follow < created else "after"))

    # --- orders --------------------------------------------------------------------------------
    def new_order(self, c: int, plat: int, created: int, last_days: bool, test=False) -> Order:
        rng = self.rng
        o = Order()
        o.plat, o.cust, o.created, o.test = plat, c, created, test
        n_items = 1 if test else rng.choices((1, 2, 3), (75, 20, 5))[0] if plat != JD else \
            rng.choices((1, 2, 3), (55, 30, 15))[0]
        items = []
        seen = set()
        for _ in range(n_items):
            p = PRODUCT_PICK(rng)
            if p in seen:
                continue
            seen.add(p)
            items.append((p, 1 if rng.random() < 0.85 else rng.choice((2, 2, 3))))
        o.items = items
        goods = sum(PRODUCTS[i][2] * q for i, q in items)
        o.freight = 0 if goods >= 9900 else (800 if plat == YZ else 1000)
        o.discount = 0
        if rng.random() < 0.4:
            o.discount = 3000 if goods >= 39900 else 1000 if goods >= 19900 else 500 if goods >= 9900 else 0
        if test:
            goods, o.freight, o.discount = 1, 0, 0
            o.items = [(11, 1)]
        o.goods = goods
        o.paid = goods + o.freight - o.discount
        # Fate: unpaid (closed or paid late) or paid.
        p_unpaid = 0.30 if last_days else 0.07
        # every platform has at least one order still waiting for payment in its last export
        force_pending = last_days and not test and plat not in self.pending_forced
        if force_pending:
            self.pending_forced.add(plat)
        if force_pending or (not test and rng.random() < p_unpaid):
            if force_pending or rng.random() < 0.75:
                o.pay = None
                o.close_ts = created + (rng.randint(3600, 72 * 3600) if not last_days else 5 * DAY)
                o.close_reason = rng.choice(CLOSE_REASONS)
                o.taobao_closed = rng.random() < 0.08
            else:
                o.pay = created + rng.randint(3600, 20 * 3600)
        else:
            o.pay = created + (rng.randint(5, 300) if rng.random() < 0.8 else rng.randint(300, 3 * 3600))
        if plat == JD and o.pay is not None and created < JD_NEW_LAYOUT_FROM and rng.random() < 0.015:
            o.cod = True  # 货到付款: paid on delivery, no 付款确认时间
            o.pay = None
        base = o.pay if o.pay is not None else created
        if o.pay is not None or o.cod:
            o.ship = base + rng.randint(2 * 3600, 72 * 3600)
            o.confirm = o.ship + rng.randint(2 * DAY, 10 * DAY)
            o.signed = rng.random() < 0.05
            o.express = EXPRESS[rng.randrange(len(EXPRESS))]
            # Refunds (Tmall and Youzan; JD's 2015 export has no refund column).
            # (more after-sales refunds on the 618 season: the re-exported Jun-Jul range shows them)
            p_refund = 0.16 if OVERLAP_FROM <= created < OVERLAP_TO else 0.10
            if plat != JD and not test and rng.random() < p_refund:
                o.refund_full = rng.random() < 0.4
                if o.refund_full:
                    o.refund = o.paid
                elif len(items) > 1:
                    o.refund = min(o.paid - 100, PRODUCTS[items[-1][0]][2])
                else:
                    o.refund = max(100, (o.paid * rng.randint(15, 50) // 100) // 100 * 100)
                if o.refund <= 0:
                    o.refund, o.refund_full = 0, False
                else:
                    late = rng.random() < 0.45
                    o.refund_ts = o.pay + (rng.randint(20 * DAY, 100 * DAY) if late
                                           else rng.randint(DAY, 14 * DAY))
                    if plat == TM and OVERLAP_FROM <= created < OVERLAP_TO and rng.random() < 0.6:
                        # refunded after the 2025-08-01 export, before the 2025-10-08 re-export
                        o.refund_ts = rng.randint(ts_at(dt.date(2025, 8, 2)), ts_at(dt.date(2025, 10, 7)))
        o.comma_half = rng.random() < 0.3
        o.zero_unit = rng.random() < 0.12
        o.mobile_order = rng.random() < 0.8
        o.member = rng.random() < 0.35
        if plat == TM:
            r = rng.random()
            o.extra = "landline" if r < 0.05 else "tel_mobile" if r < 0.08 else None
            o.note = rng.choice(TM_MESSAGES) if rng.random() < 0.06 else None
        elif plat == JD:
            o.paytype = "货到付款" if o.cod else "在线支付"
            o.deleted = rng.random() < 0.04
            r = rng.random() if o.pay is not None else 1.0
            o.locked = 1 if r < 0.02 else 2 if r < 0.03 else 0  # 2: held before shipment
            if o.locked == 2:
                o.ship = o.confirm = ts_at(dt.date(2030, 1, 1))
            o.calc_note = rng.random() < 0.02
            o.jingdou = rng.choice((0, 0, 100, 200, 500)) if rng.random() < 0.3 else 0
            o.source = JD_SOURCE(rng)
            o.promo = JD_CHANNEL(rng)  # 订单渠道
            o.note = rng.choice(JD_BUYER_NOTES) if rng.random() < 0.06 else None
            o.seller_note = rng.choice(JD_SELLER_NOTES) if rng.random() < 0.05 else None
            o.guide = rng.randint(1, 5) if o.seller_note else 0  # 商家备注等级
            o.phone_r = rng.random()
        else:
            o.extra = rng.choice(PLACEHOLDERS)
            o.paytype = "微信支付" if rng.random() < 0.9 else "储值卡"
            o.jingdou = rng.random() < 0.1  # 支付优惠 1.00
            o.phone_r = rng.random()
            o.buyer_phone_ph = rng.random() < 0.1
            o.pickup = False
            if test:
                o.promo, o.source = o.extra, "微信"
            elif rng.random() < 0.08:
                o.dist = self.distributors[rng.randrange(len(self.distributors))]
                o.promo = rng.choice(("分销员推广", "分销"))
                o.source = "微信"
            else:
                pr = YZ_PROMO(rng)
                o.promo = o.extra if pr == "PH" else pr
                so = YZ_SOURCE(rng)
                if pr in ("直播", "视频号直播") and rng.random() < 0.6:
                    so = "直播间"
                o.source = o.extra if so == "PH" else so
                if pr in ("门店", "门店扫码"):
                    o.pickup = rng.random() < 0.7
                    o.guide = GUIDES[rng.randrange(2)] if o.pickup else GUIDES[rng.randrange(len(GUIDES))]
            o.note = "请尽快发货" if rng.random() < 0.05 else None
            o.seller_note = "已备注赠品" if rng.random() < 0.03 else None
        return o

    def assign_id(self, o: Order):
        self.seq[o.plat] += 1
        s = self.seq[o.plat]
        rng = self.rng
        if o.plat == TM:
            # 19 digits; the middle 8 are a bijection of the sequence number, so ids never collide
            o.oid = f"{rng.randint(1, 4)}{(s * 61_803_399 + 12_345) % 10**8:08d}{rng.randrange(10**10):010d}"
        elif o.plat == JD:
            o.oid = str(120_000_000_000 + s * 37 + rng.randrange(37))
        else:
            d, sec = divmod(o.created, DAY)
            o.oid = f"E{_DAY_STD[d].replace('-', '')}{sec // 3600:02d}{sec // 60 % 60:02d}{sec % 60:02d}{s:08d}"

    @staticmethod
    def fit(o: Order, lines: int):
        """A JD order cannot have more SKU rows than the day's line budget has left."""
        if o.plat == JD and len(o.items) > lines:
            o.items = o.items[:lines]
            o.goods = sum(PRODUCTS[i][2] * q for i, q in o.items)
            o.paid = o.goods + o.freight - o.discount

    @staticmethod
    def paid_same_day(o: Order, day_end: int):
        """Make o a paid, unrefunded order whose payment falls before day_end."""
        if o.pay is None or o.cod:
            o.cod, o.close_ts = False, None
            o.pay = o.created + 60
            o.express = EXPRESS[0]
            o.signed = False
            if o.plat == JD:
                o.paytype = "在线支付"
        if o.pay >= day_end:
            o.pay = day_end - 1
        o.ship = o.pay + 3 * 3600
        o.confirm = o.ship + 5 * DAY
        o.refund, o.refund_full, o.refund_ts = 0, False, None
        o.locked = False

    def lines_of(self, o: Order) -> int:
        return len(o.items) if o.plat == JD else 1

    def run(self):
        rng = self.rng
        days = [DATA_START + dt.timedelta(days=i) for i in range((DATA_END - DATA_START).days + 1)]
        budget = apportion(self.N, [day_weight(d) for d in days])
        remaining = self.N
        open_files = {p: list(fs) for p, fs in self.files.items()}
        end_di = dix(DATA_END)
        force_sibling_at = self.N // 5
        for d, lines in zip(days, budget):
            di = dix(d)
            day0 = di * DAY
            todays: list[Order] = []
            today: set[int] = set()
            last_days = di >= end_di - 2
            if di in self.test_days and lines > 0:
                o = self.new_order(STAFF_IDX, YZ, day0 + HOUR_PICK(rng) * 3600 + rng.randrange(3600),
                                   False, test=True)
                todays.append(o)
                lines -= 1
            while lines > 0:
                c, new = self.pick_customer(remaining, today)
                today.add(c)
                plat = self.platform_for(c, new)
                created = day0 + HOUR_PICK(rng) * 3600 + rng.randrange(3600)
                o = self.new_order(c, plat, created, last_days)
                self.fit(o, lines)
                if new:
                    self.on_first_order(c, created)
                todays.append(o)
                used = self.lines_of(o)
                lines -= used
                remaining -= used
                # Now and then the same customer orders again later that day (one purchase day).
                forced = (not self.sibling_forced and self.N - remaining >= force_sibling_at
                          and c != self.P.xss_idx)
                if lines > 0 and (forced or rng.random() < 0.004):
                    plat2 = self.second[c] if self.second[c] >= 0 else plat
                    t2 = min(day0 + DAY - 600, created + rng.randint(1800, 6 * 3600))
                    o2 = self.new_order(c, plat2, t2, last_days)
                    self.fit(o2, lines)
                    self.paid_same_day(o2, day0 + DAY)
                    if forced:
                        self.sibling_forced = True
                        self.paid_same_day(o, day0 + DAY)
                    todays.append(o2)
                    used = self.lines_of(o2)
                    lines -= used
                    remaining -= used
                    self.stats["same_day_pairs"] += 1
            todays.sort(key=lambda x: (x.created, x.plat))
            for o in todays:
                self.assign_id(o)
                self.stats["orders"] += 1
                self.stats["lines"] += self.lines_of(o)
                for f in open_files[o.plat]:
                    if f.start <= di <= f.end:
                        f.add(self.R, o)
            # close files that are complete
            for p in open_files:
                keep = []
                for f in open_files[p]:
                    if f.end <= di:
                        f.close()
                    else:
                        keep.append(f)
                open_files[p] = keep
        for p in open_files:
            for f in open_files[p]:
                f.close()
        for src, dst in self.copies:
            shutil.copyfile(src, dst)
        assert self.stats["lines"] == self.N, (self.stats["lines"], self.N)

    # --- followers -----------------------------------------------------------------------------
    def write_followers(self):
        rng = random.Random(self.seed * 1009 + 3)
        P = self.P
        older_at = ts_at(dt.date(2025, 6, 30), 23, 59, 59)
        hi = ts_at(DATA_END, 23, 59, 59)
        lo = ts_at(DATA_START)
        used_ids = set()

        def oid(prefix: str) -> str:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
            while True:
                s = prefix + "".join(alphabet[rng.getrandbits(6)] for _ in range(28 - len(prefix)))
                if s not in used_ids:
                    used_ids.add(s)
                    return s

        scene_before = Picker(
            ["ads", "live", "store", "others_store", "others_plain", "search", "card", "channels",
             "migration", "unknown"], [25, 15, 20, 5, 5, 15, 7, 4, 2, 2])
        scene_after = Picker(["parcel", "search", "card", "store", "others_plain", "profile_item"],
                             [40, 20, 12, 10, 10, 8])
        stores = ["store_qr_shanghai_01", "store_qr_shanghai_02", "store_qr_hangzhou_01",
                  "store_qr_guangzhou_01"]

        def scene(kind):
            if kind == "ads":
                return "ADD_SCENE_WECHAT_ADVERTISEMENT", "0", ""
            if kind == "live":
                return "ADD_SCENE_LIVESTREAM", "0", ""
            if kind == "store":
                return "ADD_SCENE_QR_CODE", "0", rng.choice(stores)
            if kind == "others_store":
                return "ADD_SCENE_OTHERS", str(rng.randint(1001, 1004)), rng.choice(stores)
            if kind == "others_plain":
                return "ADD_SCENE_OTHERS", str(rng.randint(2001, 2003)), ""
            if kind == "search":
                return "ADD_SCENE_SEARCH", "0", ""
            if kind == "card":
                return "ADD_SCENE_PROFILE_CARD", "0", ""
            if kind == "channels":
                return "ADD_SCENE_CHANNELS", "0", ""
            if kind == "migration":
                return "ADD_SCENE_ACCOUNT_MIGRATION", "0", ""
            if kind == "unknown":
                return "ADD_SCENE_WECOM_CONTACT", "0", ""  # not in FORMATS.md: must be accepted
            if kind == "parcel":
                return "ADD_SCENE_QR_CODE", "0", rng.choice(["parcel_card_tmall", "parcel_card_jd"])
            return "ADD_SCENE_PROFILE_ITEM", "0", ""

        def tags():
            r = rng.random()
            return "[]" if r < 0.6 else f"[{rng.choice((101, 102, 105))}]" if r < 0.9 else "[101,105]"

        records_old, records_new = [], []
        n_fans = 0
        n_prospect = round(self.C * 0.30)
        entries = list(self.fans)
        for k in range(n_prospect):
            person = FAN_ONLY_BASE + k
            # Follow times cluster a little around campaigns and grow over time.
            follow = lo + int((hi - lo) * (rng.random() ** 0.8))
            entries.append((person, follow, "mobile" if rng.random() < 0.25 else "none", "before"))
        for e in entries:
            person = e[0]
            if e[2] == "identity":
                unionid = oid("o6_bm")
                records_new.append(["0", oid("oMpX"), unionid, "", "", "", "", "", "", "", P.phone(person)])
                continue
            _, follow, mode, when = e
            n_fans += 1
            openid = oid("oSiy")
            unionid = oid("o6_bm") if (mode == "unionid" or rng.random() < 0.6) else ""
            mobile = P.phone(person) if mode == "mobile" else ""
            sc, qs, qss = scene(scene_before(rng) if when == "before" else scene_after(rng))
            remark = "" if rng.random() < 0.9 else rng.choice(["VIP", "老客", "门店会员"])
            base = [remark, "0", tags(), sc, qs, qss]
            in_old = follow <= older_at
            late_mobile = in_old and mode == "mobile" and rng.random() < 0.2
            if in_old:
                records_old.append(["1", openid, unionid, str(unix(follow))] + base
                                   + ["" if late_mobile else mobile])
                r = rng.random()
                if r < 0.10:  # unfollowed and re-followed after the old snapshot: newer time, new scene
                    refollow = rng.randint(max(follow, older_at) + DAY, hi)
                    sc2, qs2, qss2 = scene(rng.choice(["search", "ads", "card", "live"]))
                    records_new.append(["1", openid, unionid, str(unix(refollow)), remark, "0", tags(),
                                        sc2, qs2, qss2, mobile])
                elif r < 0.15:  # unfollowed: subscribe=0, no time, identity fields only
                    records_new.append(["0", openid, unionid, "", "", "", "", "", "", "", mobile])
                else:
                    records_new.append(["1", openid, unionid, str(unix(follow))] + base + [mobile])
            else:
                records_new.append(["1", openid, unionid, str(unix(follow))] + base + [mobile])
            if mode == "unionid":
                # the phone comes from another app of the same open platform (same unionid, other openid)
                records_new.append(["0", oid("oMpX"), unionid, "", "", "", "", "", "", "", P.phone(person)])
        records_old.sort(key=lambda r: r[1])
        records_new.sort(key=lambda r: r[1])
        out = {}
        for name, recs in (("followers_20250630.csv", records_old), ("followers_20251231.csv", records_new)):
            s = FileSink(os.path.join(self.out, "followers", name), FOLLOWER_HEADER, "utf-8", "\n")
            for r in recs:
                s.write(r)
            s.close()
            out[name] = s.records
        self.stats["fans"] = n_fans
        return out

    # --- spend ---------------------------------------------------------------------------------
    def write_spend(self):
        rng = random.Random(self.seed * 7 + 11)
        scale = self.N / 2500
        days = [DATA_START + dt.timedelta(days=i) for i in range((DATA_END - DATA_START).days + 1)]
        j = os.path.join
        counts = {}
        # 万相台 daily report
        wxt = FileSink(j(self.out, "spend", "wanxiangtai_daily.csv"), WXT_HEADER, "gbk")
        subjects = [(1234567, "万相台-拉新快-山茶花洁面乳", 4000, None),
                    (2345678, "万相台-货品加速-经典礼盒", 2500, None),
                    (3456789, "万相台无界-全站推广", 3500, dt.date(2025, 3, 1))]
        for d in days:
            ev = day_weight(d)
            rows = [(sid, nm, base) for sid, nm, base, since in subjects if since is None or d >= since]
            if dt.date(2025, 1, 20) <= d <= dt.date(2025, 2, 5) or dt.date(2025, 10, 20) <= d <= dt.date(2025, 10, 31):
                rows.append((987654, "品销宝-明星店铺", 3000))  # no rule matches: unmapped
            for sid, nm, base in rows:
                spend = max(100, int(base * ev * scale * rng.uniform(0.6, 1.4)))
                cpc = rng.randint(60, 180)
                clicks = max(1, spend // cpc)
                impr = clicks * rng.randint(25, 60)
                gmv = int(spend * rng.uniform(1.5, 4.5)) // 100 * 100
                buyers = max(0, gmv // rng.randint(12000, 25000))
                wxt.write([d.isoformat(), f"{sid:,}", nm, str(impr), str(clicks), yuan(spend),
                           f"{clicks * 100 / impr:.2f}%", yuan(round(spend / clicks)), yuan(gmv),
                           str(buyers), str(buyers * rng.randint(40, 80) // 100)])
        wxt.close()
        counts[wxt.path] = wxt.records
        # 直通车 plan reports, one file per month; rows dated to the LAST day of the file's range
        plans = [("直通车-山茶花洁面-精准词", 120, 1200), ("直通车-礼盒-大促", 250, 900),
                 ("关键词推广-新品测款", 80, 600), ("直通车-品牌词", 60, 450),
                 ("关键词推广-智能出价", 150, 750)]
        for k, (a, b) in enumerate(month_ranges()):
            s = FileSink(j(self.out, "spend", f"ztc_{a:%Y%m%d}_{b:%Y%m%d}.csv"), ZTC_HEADER, "gbk")
            mdays = [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]
            mw = sum(day_weight(x) for x in mdays)
            for pi, (nm, bid, base) in enumerate(plans):
                paused = (pi == 4 and k % 4 == 1) or (pi == 3 and k == 2)
                if paused:
                    s.write([nm, f"￥{yuan(bid)}", "-", "-", "-", "-", "-", "-", "-", "-"])
                    continue
                spend = int(base * mw * scale * rng.uniform(0.7, 1.3))
                cpc = rng.randint(bid - bid // 3, bid + bid // 2)
                clicks = max(1, spend // cpc)
                impr = clicks * rng.randint(20, 70)
                conv = rng.randint(50, 400)  # basis points
                gmv = int(spend * rng.uniform(0.8, 3.5)) // 100 * 100
                s.write([nm, f"￥{yuan(bid)}", f"{impr:,}", f"{clicks:,}", f"{clicks * 100 / impr:.2f}%",
                         f"￥{yuan_sep(spend)}", f"￥{yuan(round(spend / clicks))}",
                         f"{conv / 100:.2f}%", f"{gmv / spend:.2f}" if gmv else "-",
                         f"￥{yuan_sep(gmv)}" if gmv else "-"])
            s.close()
            counts[s.path] = s.records
        # plain date,channel,spend
        rows = []
        for d in days:
            if d.weekday() == 0:
                rows.append((d, "tencent_ads 朋友圈广告", int(rng.randint(15000, 30000) * scale)))
                rows.append((d, "京准通", int(rng.randint(30000, 70000) * scale)))
            if d.day == 1:
                rows.append((d, "门店地推 offline", int(rng.randint(60000, 100000) * scale)))
                rows.append((d, "分销佣金", int(rng.randint(30000, 90000) * scale)))
                rows.append((d, "weibo_fans", int(rng.randint(20000, 50000) * scale)))
        for d, amt in [(dt.date(2024, 11, 8), 300000), (dt.date(2025, 3, 6), 180000),
                       (dt.date(2025, 6, 15), 250000), (dt.date(2025, 9, 20), 150000),
                       (dt.date(2025, 11, 9), 350000)]:
            rows.append((d, "直播 event", int(amt * scale)))
        rows.append((dt.date(2025, 4, 18), '=HYPERLINK("http://x","y")', int(12345 * scale)))
        rows.sort(key=lambda r: (r[0], r[1]))
        if self.layout == "sample" and not self.csv_only:
            # The sample's 京准通 spend comes as the 京准通 plan report (.xlsx) instead.
            path, n = self.write_jingzhuntong([(d, amt) for d, ch, amt in rows if ch == "京准通"])
            counts[path] = n
            rows = [r for r in rows if r[1] != "京准通"]
        s = FileSink(j(self.out, "spend", "other_spend.csv"), PLAIN_SPEND_HEADER, "utf-8", "\n")
        for d, ch, amt in rows:
            s.write([d.isoformat(), ch, yuan(amt)])
        s.close()
        counts[s.path] = s.records
        return counts

    def write_jingzhuntong(self, spend: list[tuple[dt.date, int]]):
        """京准通 plan report, shape "qianniu": a title and a date range above the header row, one row
        per day and plan (dates YYYYMMDD), a 合计 row at the end. Each day's amount (fen) is split
        over two plans whose names contain 京准通 (the `jd` spend rule); the split is exact, so the
        spend per day is the plain file's."""
        rng = random.Random(self.seed * 13 + 5)  # its own stream: the other spend rows stay as they were
        plans = ["京准通-京东快车-山茶花洁面", "京准通-购物触点-品牌词"]
        first, last = DATA_START, DATA_END
        rows = [["京准通 推广计划报表"], [f"时间范围：{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"],
                ["数据更新时间：2026-01-01 08:00:00"], JZT_HEADER]
        total = [0, 0, 0, 0]
        for d, amt in spend:
            a = amt * rng.randint(55, 75) // 100
            for plan, fen in ((plans[0], a), (plans[1], amt - a)):
                gmv = fen * rng.randint(150, 600) // 100
                clicks = max(1, fen // rng.randint(80, 250))
                impr = clicks * rng.randint(30, 90)
                rows.append([f"{d:%Y%m%d}", plan, yuan(fen), yuan(gmv), f"{gmv / fen:.2f}" if fen else "0.00",
                             str(impr), str(clicks)])
                for k, v in enumerate((fen, gmv, impr, clicks)):
                    total[k] += v
        rows.append(["合计", "", yuan(total[0]), yuan(total[1]),
                     f"{total[1] / total[0]:.2f}" if total[0] else "0.00", str(total[2]), str(total[3])])
        path = os.path.join(self.out, "spend", f"jingzhuntong_{first:%Y%m%d}_{last:%Y%m%d}.xlsx")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_xlsx(path, [("推广计划", rows)], "qianniu")
        return path, len(rows) - 4


# ---------------------------------------------------------------------------------------------
# Nightly increment: one more day of exports after the generated range (--next-day K).

NEXT_DAY_MAX = 60


def next_day_files(out: str, k: int, tmall_format: str = "csv", csv_only: bool = False):
    """The files one nightly delivery adds: day DATA_END + k, exported the next morning (the Tmall
    order report in `tmall_format`, with its item file beside it unless csv_only)."""
    d = DATA_END + dt.timedelta(days=k)
    nxt = d + dt.timedelta(days=1)
    j = os.path.join
    export = ts_at(nxt, 9, 5)
    tf = "qianniu" if tmall_format == "xlsx" and not csv_only else "csv"
    return d, {
        TM: OrderFile(j(out, "tmall", tmall_name(export, ext=".csv" if tf == "csv" else ".xlsx")), TM, d, d,
                      export, "std", tf, None if csv_only else tf),
        JD: OrderFile(j(out, "jd", f"jd_orders_{nxt:%Y%m%d}.csv"), JD, d, d, ts_at(nxt, 9, 0), "new"),
        YZ: OrderFile(j(out, "youzan", f"youzan_orders_{d:%Y%m%d}.csv"), YZ, d, d, ts_at(nxt, 10, 0), "std"),
    }


def write_next_day(out: str, n_lines: int, seed: int, k: int, quiet: bool = False,
                   tmall_format: str = "csv", csv_only: bool = False):
    """Writes only the exports of day DATA_END + k for a dataset generated with --orders n_lines
    (same seed): Tmall, JD and Youzan order files of the orders created that day, the follows of
    that day, and that day's 万相台 / 直通车 / plain spend, each under its own file name, in the same
    encodings as the monthly files. Nothing else in `out` is touched. Deterministic: the day draws
    from its own random.Random(seed, k); returning customers are people of the generated pool
    (same phones, nicks and accounts), new customers and fans get indices beyond it."""
    g = Generator(out, n_lines, seed, "monthly")  # the customer pool (home platforms, repeat weights)
    rng = random.Random(seed * 1_000_003 + 7919 * k)
    g.rng = rng
    d, files = next_day_files(out, k, tmall_format, csv_only)
    day0 = dix(d) * DAY
    days = [DATA_START + dt.timedelta(days=i) for i in range((DATA_END - DATA_START).days + 1)]
    lines = max(5, round(n_lines * day_weight(d) / sum(day_weight(x) for x in days)))
    total_lines = lines
    # Order numbers continue after the generated range (a platform's sequence never exceeds n_lines).
    stride = n_lines // 100 + 1000
    for p in g.seq:
        g.seq[p] = n_lines + (k - 1) * stride
    new_base = g.C + (k - 1) * stride
    n_new = 0
    todays: list[Order] = []
    while lines > 0:
        if rng.random() < 0.3:
            c = new_base + n_new
            n_new += 1
            plat = HOME_PICK(rng)
        else:
            c = rng.randrange(g.C)
            for _ in range(8):  # prefer people who buy again
                if g.weight[c] > 0:
                    break
                c = rng.randrange(g.C)
            plat = g.second[c] if g.second[c] >= 0 and rng.random() < 0.5 else g.home[c]
        created = day0 + HOUR_PICK(rng) * 3600 + rng.randrange(3600)
        o = g.new_order(c, plat, created, False)
        g.fit(o, lines)
        todays.append(o)
        lines -= g.lines_of(o)
    todays.sort(key=lambda x: (x.created, x.plat))
    for o in todays:
        g.assign_id(o)
        files[o.plat].add(g.R, o)
    for f in files.values():
        f.close()
    written = [(f.path, f.records, f.orders) for f in files.values()]
    if files[TM].items is not None:
        written.insert(1, (files[TM].items.path, files[TM].items.records, ""))

    # Follows of the day: new prospects (some with a bound mobile) and existing customers.
    P = g.P
    n_follow = max(3, round(g.C * 0.45 / len(days)))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    scenes = [("ADD_SCENE_QR_CODE", "0", "parcel_card_tmall"), ("ADD_SCENE_QR_CODE", "0", "parcel_card_jd"),
              ("ADD_SCENE_WECHAT_ADVERTISEMENT", "0", ""), ("ADD_SCENE_LIVESTREAM", "0", ""),
              ("ADD_SCENE_QR_CODE", "0", "store_qr_shanghai_01"), ("ADD_SCENE_OTHERS", "2001", ""),
              ("ADD_SCENE_SEARCH", "0", ""), ("ADD_SCENE_PROFILE_CARD", "0", "")]
    scene_pick = Picker(range(len(scenes)), [15, 10, 20, 10, 15, 5, 15, 10])
    recs = []
    for i in range(n_follow):
        if rng.random() < 0.3:
            person, mobile = rng.randrange(g.C), True
        else:
            person = FAN_ONLY_BASE + 10_000_000 + (k - 1) * stride + i
            mobile = rng.random() < 0.25
        openid = "oSiy" + "".join(alphabet[rng.getrandbits(6)] for _ in range(24))
        unionid = "o6_bm" + "".join(alphabet[rng.getrandbits(6)] for _ in range(23)) if rng.random() < 0.6 else ""
        sc, qs, qss = scenes[scene_pick(rng)]
        follow = day0 + rng.randrange(DAY)
        recs.append(["1", openid, unionid, str(unix(follow)), "", "0", "[]", sc, qs, qss,
                     P.phone(person) if mobile else ""])
    recs.sort(key=lambda r: r[1])
    fol = FileSink(os.path.join(out, "followers", f"followers_{d:%Y%m%d}.csv"), FOLLOWER_HEADER, "utf-8", "\n")
    for r in recs:
        fol.write(r)
    fol.close()
    written.append((fol.path, fol.records, ""))

    # Spend of the day, amounts on the same scale as write_spend.
    scale = n_lines / 2500
    ev = day_weight(d)
    wxt = FileSink(os.path.join(out, "spend", f"wanxiangtai_daily_{d:%Y%m%d}.csv"), WXT_HEADER, "gbk")
    for sid, nm, base in [(1234567, "万相台-拉新快-山茶花洁面乳", 4000), (2345678, "万相台-货品加速-经典礼盒", 2500),
                          (3456789, "万相台无界-全站推广", 3500)]:
        spend = max(100, int(base * ev * scale * rng.uniform(0.6, 1.4)))
        cpc = rng.randint(60, 180)
        clicks = max(1, spend // cpc)
        impr = clicks * rng.randint(25, 60)
        gmv = int(spend * rng.uniform(1.5, 4.5)) // 100 * 100
        buyers = max(0, gmv // rng.randint(12000, 25000))
        wxt.write([d.isoformat(), f"{sid:,}", nm, str(impr), str(clicks), yuan(spend),
                   f"{clicks * 100 / impr:.2f}%", yuan(round(spend / clicks)), yuan(gmv),
                   str(buyers), str(buyers * rng.randint(40, 80) // 100)])
    wxt.close()
    written.append((wxt.path, wxt.records, ""))
    ztc = FileSink(os.path.join(out, "spend", f"ztc_{d:%Y%m%d}_{d:%Y%m%d}.csv"), ZTC_HEADER, "gbk")
    for nm, bid, base in [("直通车-山茶花洁面-精准词", 120, 1200), ("直通车-礼盒-大促", 250, 900),
                          ("关键词推广-新品测款", 80, 600)]:
        spend = int(base * ev * scale * rng.uniform(0.7, 1.3))
        clicks = max(1, spend // rng.randint(bid - bid // 3, bid + bid // 2))
        impr = clicks * rng.randint(20, 70)
        ztc.write([nm, f"￥{yuan(bid)}", f"{impr:,}", f"{clicks:,}", f"{clicks * 100 / impr:.2f}%",
                   f"￥{yuan_sep(spend)}", f"￥{yuan(round(spend / clicks))}", f"{rng.randint(50, 400) / 100:.2f}%",
                   "-", "-"])
    ztc.close()
    written.append((ztc.path, ztc.records, ""))
    plain = [("tencent_ads 朋友圈广告", rng.randint(2000, 5000))]
    if d.weekday() == 0:
        plain.append(("京准通", rng.randint(30000, 70000)))
    if d.day == 1:
        plain += [("门店地推 offline", rng.randint(60000, 100000)), ("分销佣金", rng.randint(30000, 90000)),
                  ("weibo_fans", rng.randint(20000, 50000))]
    other = FileSink(os.path.join(out, "spend", f"other_spend_{d:%Y%m%d}.csv"), PLAIN_SPEND_HEADER, "utf-8", "\n")
    for ch, amt in sorted(plain):
        other.write([d.isoformat(), ch, yuan(int(amt * scale))])
    other.close()
    written.append((other.path, other.records, ""))
    if not quiet:
        for path, nrec, norders in written:
            print(f"{os.path.relpath(path, out):50s} {nrec!s:>9} {norders!s:>9}")
        print(f"next day {d}: order lines {total_lines}, orders {len(todays)}, new customers {n_new}, "
              f"follows {n_follow}", file=sys.stderr)
    return d, total_lines


def clean(out: str):
    for sub in ("tmall", "jd", "youzan", "followers", "spend"):
        p = os.path.join(out, sub)
        if os.path.isdir(p):
            for n in os.listdir(p):
                if n.endswith((".csv", ".xlsx")):
                    os.remove(os.path.join(p, n))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", help="output directory (default: this script's directory, the committed sample)")
    ap.add_argument("--orders", type=int, help="order lines in total, at scale, split into monthly files")
    ap.add_argument("--seed", type=int, default=20241101, help="random seed (default 20241101)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--next-day", type=int, metavar="K",
                    help="write only the nightly delivery of day K after the generated range (K=1: "
                         "2026-01-01) for the dataset of --orders N --out DIR (same seed): order, "
                         "follower and spend files of that one day, under their own names; deletes nothing")
    ap.add_argument("--tmall-format", choices=("csv", "xlsx"), default="csv",
                    help="with --orders: the Tmall order reports (and their item files) as CSV (default: "
                         "宝贝报表 CSVs beside them) or as 千牛 2020 workbooks (.xlsx, item sheets beside them)")
    ap.add_argument("--tmall-only", action="store_true",
                    help="with --orders: write only the Tmall order reports and their item files (the same "
                         "orders as a full run; the bench's workbook ingest needs nothing else)")
    ap.add_argument("--csv-only", action="store_true",
                    help="every order file a CSV, no item files, 京准通 spend in other_spend.csv: the exports "
                         "as they were before siyu read workbooks and item reports (the CSV twin of the "
                         "sample: the same orders, so every METRICS output but data_quality.csv is the same)")
    a = ap.parse_args(argv)
    if a.tmall_format != "csv" and a.orders is None:
        ap.error("--tmall-format is for --orders (the committed sample has its own mix of CSV and .xlsx)")
    if a.tmall_format != "csv" and a.csv_only:
        ap.error("--tmall-format xlsx and --csv-only contradict each other")
    if a.tmall_only and (a.orders is None or a.next_day is not None):
        ap.error("--tmall-only is for --orders (not the sample, not --next-day)")
    if a.next_day is not None:
        if a.orders is None or a.out is None:
            ap.error("--next-day needs --orders (of the generated dataset) and --out")
        if not 1 <= a.next_day <= NEXT_DAY_MAX:
            ap.error(f"--next-day must be 1..{NEXT_DAY_MAX}")
        if a.orders < 500:
            ap.error("--orders must be at least 500")
        write_next_day(os.path.abspath(a.out), a.orders, a.seed, a.next_day, a.quiet, a.tmall_format, a.csv_only)
        return
    if a.orders is not None and a.out is None:
        ap.error("--orders needs --out (the committed sample is regenerated without flags)")
    if a.orders is not None and a.orders < 500:
        ap.error("--orders must be at least 500")
    out = os.path.abspath(a.out or here)
    layout = "sample" if a.orders is None else "monthly"
    n = 2500 if a.orders is None else a.orders
    clean(out)
    g = Generator(out, n, a.seed, layout, a.tmall_format, a.csv_only)
    if a.tmall_only:
        g.files[JD], g.files[YZ] = [], []  # their orders are still drawn: the same Tmall orders
    g.run()
    fol = {} if a.tmall_only else g.write_followers()
    sp = {} if a.tmall_only else g.write_spend()
    if not a.quiet:
        rows = []
        for p in (TM, JD, YZ):
            for f in g.files[p]:
                rows.append((os.path.relpath(f.path, out), f.records, f.orders))
                if f.items is not None:
                    rows.append((os.path.relpath(f.items.path, out), f.items.records, "items"))
        for src, dst in g.copies:
            rows.append((os.path.relpath(dst, out), "copy", ""))
        for name, nrec in fol.items():
            rows.append((os.path.join("followers", name), nrec, ""))
        for path, nrec in sp.items():
            rows.append((os.path.relpath(path, out), nrec, ""))
        for r in rows:
            print(f"{r[0]:50s} {r[1]!s:>9} {r[2]!s:>9}")
        st = g.stats
        print(f"order lines {st['lines']}, orders {st['orders']}, customers in pool {g.C} "
              f"(used {g.next_new}), fans {st.get('fans', '-')}, same-day pairs {st['same_day_pairs']}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
