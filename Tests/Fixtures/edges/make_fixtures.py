#!/usr/bin/env python3
"""Writes the window-edge dataset used by Tests/SiyuCoreTests/WindowEdgeTests.swift.
Each buyer id is one customer placed on one edge of one METRICS.md rule (README.md beside this
file lists them; the test's comments work out every expected number). Headers are the tiny
fixture's. Run from this directory: python3 make_fixtures.py"""
import calendar, datetime, os, shutil

def unix_cst(s):  # local Asia/Shanghai (UTC+8) wall time -> Unix seconds
    dt = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
    return calendar.timegm(dt.timetuple()) - 8 * 3600

for d in ["tmall", "youzan", "followers", "spend"]:
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)

# Tmall (GBK, CRLF): order id, buyer, paid, payment time (business time), phone.
tmall = [
    # fan_lift repeat window: second purchase day 179 days (counted) / 180 days (not) after the first.
    ("T01", "lift179", "50.00", "2024-02-01 10:00:00", ""),
    ("T02", "lift179", "20.00", "2024-07-29 10:00:00", ""),
    ("T03", "lift180", "50.00", "2024-02-01 11:00:00", ""),
    ("T04", "lift180", "20.00", "2024-07-30 10:00:00", ""),
    # fan_lift group: first follow on the second purchase day (fan) / the day after (non_fan);
    # single purchase, follow on the as-of date (fan) / the day after (non_fan).
    ("T05", "fan_same", "30.00", "2024-03-05 10:00:00", "13900000003"),
    ("T06", "fan_same", "40.00", "2024-03-20 10:00:00", "13900000003"),
    ("T07", "fan_next", "30.00", "2024-03-05 11:00:00", "13900000004"),
    ("T08", "fan_next", "40.00", "2024-03-20 11:00:00", "13900000004"),
    ("T09", "fan_asof", "30.00", "2024-03-06 10:00:00", "13900000005"),
    ("T10", "fan_after", "30.00", "2024-03-07 10:00:00", "13900000006"),
    # fan_conversion: followed 2024-05-01; first purchase the day before, the same day, days 6/7, 29/30, 89/90.
    ("T11", "conv_prev", "10.00", "2024-04-30 23:00:00", "13900000011"),
    ("T12", "conv_same", "10.00", "2024-05-01 09:00:00", "13900000012"),
    ("T13", "conv_d6", "10.00", "2024-05-07 08:00:00", "13900000013"),
    ("T14", "conv_d7", "10.00", "2024-05-08 08:00:00", "13900000014"),
    ("T15", "conv_d29", "10.00", "2024-05-30 08:00:00", "13900000015"),
    ("T16", "conv_d30", "10.00", "2024-05-31 08:00:00", "13900000016"),
    ("T17", "conv_d89", "10.00", "2024-07-29 08:00:00", "13900000017"),
    ("T18", "conv_d90", "10.00", "2024-07-30 08:00:00", "13900000018"),
    # repeat_fans / loyal_fans: followed 2024-06-10; purchase days before, on and after the follow day.
    ("T19", "rep_two", "10.00", "2024-06-09 10:00:00", "13900000021"),
    ("T20", "rep_two", "10.00", "2024-06-10 10:00:00", "13900000021"),
    ("T21", "rep_two", "10.00", "2024-06-20 10:00:00", "13900000021"),
    ("T22", "rep_three", "10.00", "2024-06-10 20:00:00", "13900000022"),
    ("T23", "rep_three", "10.00", "2024-06-11 10:00:00", "13900000022"),
    ("T24", "rep_three", "10.00", "2024-06-12 10:00:00", "13900000022"),
    # ISO week 2025-W01 = 2024-12-30 (Mon) .. 2025-01-05 (Sun), with the Sunday before and the Monday after.
    ("T25", "wk_prev", "10.00", "2024-12-29 10:00:00", ""),
    ("T26", "wk", "10.00", "2024-12-30 10:00:00", ""),
    ("T27", "wk", "10.00", "2025-01-05 10:00:00", ""),
    ("T28", "wk_next", "10.00", "2025-01-06 10:00:00", ""),
    # The as-of date (latest purchase day) 2025-03-31: a repeat purchase on it, a first purchase on it.
    ("T29", "again", "10.00", "2025-03-01 10:00:00", ""),
    ("T30", "again", "15.00", "2025-03-31 10:00:00", ""),
    ("T31", "last", "10.00", "2025-03-31 20:00:00", ""),
]
with open("tmall/ExportOrderList202504011200.csv", "w", encoding="gbk", newline="") as f:
    f.write('订单编号,买家会员名,买家实际支付金额,订单状态,联系手机,订单创建时间,订单付款时间 ,退款金额,宝贝标题 \r\n')
    for oid, buyer, paid, pay, phone in tmall:
        cell = "'" + phone if phone else ""   # Tmall writes phones with a leading '
        f.write(f'"=""{oid}""",{buyer},{paid},交易成功,{cell},{pay},{pay},0.00,连衣裙\r\n')

# Youzan (UTF-8 with BOM): order id, 推广方式, payment time, paid, nick, phone.
youzan = [
    # channel_cpa revenue window: days 0, 29, 30, 89, 90 from the first purchase day (2024-01-10), 1+2+4+8+16 yuan.
    ("Y01", "WIN广告", "2024-01-10 10:00:00", "1.00", "win", "13900000031"),
    ("Y02", "——", "2024-02-08 10:00:00", "2.00", "win", "13900000031"),
    ("Y03", "——", "2024-02-09 10:00:00", "4.00", "win", "13900000031"),
    ("Y04", "——", "2024-04-08 10:00:00", "8.00", "win", "13900000031"),
    ("Y05", "——", "2024-04-09 10:00:00", "16.00", "win", "13900000031"),
    # Acquisition channel: followed at 12:00:00; first order paid one second after, at the same second, one second before.
    ("Y06", "——", "2024-07-10 12:00:01", "10.00", "acq_m1", "13900000041"),
    ("Y07", "——", "2024-07-10 12:00:00", "10.00", "acq_0", "13900000042"),
    ("Y08", "——", "2024-07-10 12:00:00", "10.00", "acq_p1", "13900000043"),
    # Stamped in UTC: 2025-01-31 23:59:59 and 2025-02-01 00:30:00 in Asia/Shanghai.
    ("Y09", "——", "2025-01-31T15:59:59Z", "10.00", "tz_jan", "13900000051"),
    ("Y10", "——", "2025-01-31T16:30:00Z", "10.00", "tz_feb", "13900000052"),
]
with open("youzan/youzan_orders_edges.csv", "w", encoding="utf-8-sig", newline="") as f:
    f.write('订单号,订单状态,推广方式,订单来源,订单创建时间,买家付款时间,订单实付金额,订单已退款金额,买家昵称,买家手机号,分销员,分销员,分销员手机号,订单类型\n')
    for oid, promo, pay, paid, nick, phone in youzan:
        f.write(f'{oid},交易成功,{promo},——,{pay},{pay},{paid},0.00,{nick},{phone},——,——,,普通订单\n')

# Followers: openid, first follow (business time), qr_scene_str (the rules map it to a fan channel), mobile.
followers = [
    ("oFS", "2024-03-20 21:00:00", "", "13900000003"),   # later the same day as fan_same's second purchase
    ("oFN", "2024-03-21 09:00:00", "", "13900000004"),
    ("oFA", "2025-03-31 12:00:00", "", "13900000005"),   # on the as-of date
    ("oFX", "2025-04-01 12:00:00", "", "13900000006"),   # the day after the as-of date
    ("oCP", "2024-05-01 00:30:00", "conv_prev", "13900000011"),
    ("oC0", "2024-05-01 20:00:00", "conv_same", "13900000012"),
    ("oC6", "2024-05-01 20:00:00", "conv_d6", "13900000013"),
    ("oC7", "2024-05-01 20:00:00", "conv_d7", "13900000014"),
    ("oC29", "2024-05-01 20:00:00", "conv_d29", "13900000015"),
    ("oC30", "2024-05-01 20:00:00", "conv_d30", "13900000016"),
    ("oC89", "2024-05-01 20:00:00", "conv_d89", "13900000017"),
    ("oC90", "2024-05-01 20:00:00", "conv_d90", "13900000018"),
    ("oR2", "2024-06-10 22:00:00", "rep_two", "13900000021"),
    ("oR3", "2024-06-10 08:00:00", "rep_three", "13900000022"),
    ("oAM", "2024-07-10 12:00:00", "acq_m1", "13900000041"),
    ("oA0", "2024-07-10 12:00:00", "acq_0", "13900000042"),
    ("oAP", "2024-07-10 12:00:01", "acq_p1", "13900000043"),
]
with open("followers/followers.csv", "w", encoding="utf-8", newline="") as f:
    f.write("subscribe,openid,unionid,subscribe_time,subscribe_scene,qr_scene,qr_scene_str,mobile\n")
    for openid, t, qr, mobile in followers:
        scene = "ADD_SCENE_QR_CODE" if qr else "ADD_SCENE_SEARCH"
        f.write(f"1,{openid},,{unix_cst(t)},{scene},{'0' if qr else ''},{qr},{mobile}\n")

with open("spend/spend.csv", "w", encoding="utf-8", newline="") as f:
    # WIN -> channel win; weibo -> unmapped, once on the as-of date (counted) and once the day after (not).
    f.write("date,channel,spend\n2024-01-15,WIN campaign,10.00\n2025-03-31,weibo,5.00\n2025-04-01,weibo,7.00\n")
