#!/usr/bin/env python3
"""Writes the tiny hand-worked dataset used by Tests/SiyuCoreTests/EndToEndTests.swift.
Every expected number in that test is worked out by hand from these rows (see its comments).
Run from this directory: python3 make_fixtures.py"""
import calendar, datetime, os, shutil

def unix_cst(s):  # local Asia/Shanghai (UTC+8) wall time -> Unix seconds
    dt = datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
    return calendar.timegm(dt.timetuple()) - 8 * 3600

for d in ["tmall", "jd", "youzan", "followers", "spend"]:
    shutil.rmtree(d, ignore_errors=True); os.makedirs(d)

tmall_header = '订单编号,买家会员名,买家实际支付金额,订单状态,联系手机,订单创建时间,订单付款时间 ,退款金额,宝贝标题 \r\n'
with open("tmall/ExportOrderList202502011200.csv", "w", encoding="gbk", newline="") as f:
    f.write(tmall_header)
    f.write('"=""1001""",alice,100.00,交易成功,\'13800000001,2025-01-05 10:00:00,2025-01-05 10:05:00,0,"连衣裙, ""夏季"" 款"\r\n')
    f.write('"=""1002""",bob,50.00,"买家已付款，等待卖家发货",\'13800000002,2025-01-20 09:00:00,2025-01-20 09:01:00,0.00,T恤\r\n')
    f.write('"=""1003""",alice,80.00,交易成功,\'13800000001,2025/2/10 12:00,2025/2/10 12:00,30.00,"多行\r\n标题"\r\n')
    f.write('"=""1004""",carol,0.00,等待买家付款,,2025-02-11 08:00:00,,0,袜子\r\n')
    f.write('"=""1005""",dave,60.00,交易关闭,\'13800000004,2025-01-25 10:00:00,2025-01-25 10:00:00,60.00,帽子\r\n')
    f.write('"=""1006""",eve,70.00,交易成功,\'13800000010,2025-01-26 10:00:00,not a date,0,围巾\r\n')
# A later export (newest observation wins): order 1001 now carries a 20.00 refund.
with open("tmall/ExportOrderList202503151200.csv", "w", encoding="gbk", newline="") as f:
    f.write(tmall_header)
    f.write('"=""1001""",alice,100.00,交易成功,\'13800000001,2025-01-05 10:00:00,2025-01-05 10:05:00,20.00,连衣裙\r\n')

jd_header = '订单号,商品ID,商品名称,订购数量,下单时间,应付金额,订单状态,下单帐号,联系电话,付款确认时间,订单来源\r\n'
with open("jd/jd_orders_20250331.csv", "w", encoding="gbk", newline="") as f:
    f.write(jd_header)
    f.write('2001,501,商品A,1,2025-02-10 08:00:00,200.00,完成,jd_bob,13800000002,2025-02-10 08:00:10,京东APP\r\n')
    f.write('2001,502,商品B,2,2025-02-10 08:00:00,200.00,完成,jd_bob,13800000002,2025-02-10 08:00:10,京东APP\r\n')
    f.write('2002,503,"商品C\t礼盒",1,2025-03-03 19:59:00,120.00（系统计算中，该值仅供参考）,(删除)完成,jd_erin,13800000005,2025-03-03 20:00:00,直播\r\n')
    f.write('2003,504,商品D,1,2025-03-04 10:00:00\r\n')  # wrong column count: quarantined

yz_header = '订单号,订单状态,推广方式,订单来源,订单创建时间,买家付款时间,订单实付金额,订单已退款金额,买家昵称,买家手机号,分销员,分销员,分销员手机号,订单类型\n'
yz_rows = [
    'E1,交易成功,朋友圈广告,——,2025-03-05 10:59:00,2025-03-05 11:00:00,40.00,0.00,小A,13800000001,——,——,13800000009,普通订单',
    'E2,交易成功,——,——,2025-02-10 14:59:00,2025-02-10 15:00:00,30.00,0.00,小F,+86 138-0000-0006,—,—, ,普通订单',
    'E3,交易成功,——,——,2025-02-10 16:00:00,2025-02-10 16:00:00,10.00,0.00,小T,13800000007,N/A,N/A,null,测试订单',
    'E4,交易成功,分销,——,2025-03-10 09:00:00,2025-03-10 09:00:00,25.00,0.00,小G,13800000008,张三,张三,13800000002,普通订单',
]
with open("youzan/youzan_orders_2025Q1.csv", "w", encoding="utf-8-sig", newline="") as f:
    f.write(yz_header + "\n".join(yz_rows) + "\n")
shutil.copyfile("youzan/youzan_orders_2025Q1.csv", "youzan/youzan_orders_2025Q1 (1).csv")  # re-delivered

with open("followers/followers.csv", "w", encoding="utf-8", newline="") as f:
    f.write("subscribe,openid,unionid,subscribe_time,subscribe_scene,qr_scene,qr_scene_str,mobile\n")
    f.write(f"1,oF,,{unix_cst('2025-02-01 10:00:00')},ADD_SCENE_QR_CODE,0,store_qr_01,13800000006\n")
    f.write(f"1,oA,,{unix_cst('2025-02-15 20:00:00')},ADD_SCENE_SEARCH,,,13800000001\n")
    f.write(f"1,oZ,,{unix_cst('2025-03-01 09:00:00')},ADD_SCENE_SEARCH,,,\n")
    f.write("0,oX,,,,,,13800000005\n")

with open("spend/spend.csv", "w", encoding="utf-8", newline="") as f:
    f.write("date,channel,spend\n2025-01-10,万相台 campaign,300.00\n2025-02-15,朋友圈广告投放,100.00\n2025-03-01,weibo,50.00\n")
