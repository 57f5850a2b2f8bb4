"""Demo conversations: realistic Simplified Chinese customer-service transcripts, generated fast.

``generate_conversations`` yields payloads in the shape ``POST /api/v1/conversations/`` accepts. The
mix is what QA and reporting need to find something: bot answers taken from demo/articles.jsonl,
handoffs (转人工), bot failure streaks, slow agent replies that breach SLA tiers, complaints, the odd
impolite agent, personal data (PII) typed into the chat, and customers who come back within 48 h.

It is a generator over one ``random.Random(seed)``: the same seed gives the same conversations, and
memory stays flat however many are asked for (only returns due later are held, a few dozen at most).
Benchmarks ask for 100,000 conversations, so every phrase is precomputed and each message costs a
few random draws, one dict and one timestamp string.
"""

from __future__ import annotations

import heapq
import json
import random
import re
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from itertools import accumulate
from pathlib import Path

import opencc

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
CHINA = timezone(timedelta(hours=8))
# Fixed so that the demo and the benchmarks are reproducible.
DEFAULT_START = datetime(2026, 11, 20, tzinfo=CHINA)

CHANNEL_WEIGHTS = {"wechat": 45, "app": 25, "web": 15, "wecom": 10, "phone": 5}
HUMAN_ONLY_CHANNELS = frozenset({"wecom", "phone"})  # 企业微信 advisers and the hotline: no bot
PRODUCT_WEIGHTS = {"mall-app": 62, "wallet-app": 38}

# Shares, tuned so that measured shares land where the brief asks (see the tests).
HANDOFF_SHARE = 0.36  # of bot-started conversations without a complaint
COMPLAINT_HANDOFF_SHARE = 0.8
STREAK_SHARE = 0.3  # of handoffs: the bot failed 3+ times in a row first
GIVE_UP_SHARE = 0.05  # of bot-only conversations: failures, then the customer leaves
COMPLAINT_SHARE = 0.09
REPEAT_COMPLAINT_SHARE = 0.25  # customers who come back are angrier
SLOW_SHARE = 0.08  # of conversations an agent served: at least one reply takes 3–15 min
IMPOLITE_SHARE = 0.04  # of conversations an agent served (about 2 % of all)
PII_SHARE = 0.05
RETURN_SHARE = 0.055  # of fresh conversations: about 15 % of customers come back within 48 h
CSAT_SHARE = 0.6
VIP_EVERY = 23  # every 23rd customer is served by VIP 专席

TEAM_AGENTS: dict[str, tuple[str, range]] = {
    # team: (how agents introduce themselves, agent numbers)
    "售后一组": ("售后客服", range(1, 9)),
    "售后二组": ("售后客服", range(9, 17)),
    "钱包客服组": ("钱包客服", range(17, 25)),
    "电话客服组": ("", range(25, 29)),
    "VIP 专席": ("VIP 专属客服", range(29, 31)),
}
AGENT_NAMES = (
    "小美",
    "小雪",
    "小鱼",
    "小雨",
    "阿杰",
    "小林",
    "小安",
    "小糖",
    "小月",
    "小七",
    "小晴",
    "小米",
    "小贝",
    "小乐",
    "小敏",
    "小婷",
    "小舟",
    "小可",
    "小芸",
    "小宇",
    "小夏",
    "小诺",
    "小唐",
    "小舒",
    "小蕊",
    "小静",
    "小悦",
    "小北",
    "小禾",
    "小苏",
)
BOT_SENDERS = {"mall-app": "bot-mall", "wallet-app": "bot-wallet"}

# Customer-service traffic by hour of day (Beijing time): morning, afternoon and evening peaks.
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 1, 2, 5, 10, 16, 20, 20, 14, 16, 18, 18, 17, 15, 13, 16, 20, 20, 15, 8)
FEATURE_WEIGHTS = {
    "refund": 3.0,
    "after-sales": 3.0,
    "logistics": 3.0,
    "order": 1.5,
    "payment": 1.5,
    "coupon": 2.0,
    "membership": 1.0,
    "price-protection": 1.5,
    "invoice": 1.0,
    "account": 0.8,
    "top-up": 2.0,
    "withdrawal": 3.0,
    "bank-card": 2.0,
    "security": 1.5,
    "bill": 1.0,
    "red-packet": 1.5,
    "real-name": 1.5,
}

# --- phrases -------------------------------------------------------------------------------------

WELCOMES = {
    "mall-app": (
        "您好，我是母婴商城智能客服小象，请问有什么可以帮您？",
        "亲，欢迎来到母婴商城～我是智能客服小象，您可以直接描述问题哦",
        "您好呀，小象在线为您服务，请问遇到什么问题了呢？",
    ),
    "wallet-app": (
        "您好，我是钱包智能助手小钱，请描述您的问题～",
        "您好，欢迎使用钱包在线客服，我是小钱，请问有什么可以帮您？",
    ),
}
OPENERS = ("在吗", "你好", "有人吗", "在不在", "你好，在吗", "hello", "客服", "亲")
PHONE_OPENERS = ("喂，你好", "喂？你好，我想问一下", "你好你好", "喂，是客服吗")
QUESTION_PREFIXES = ("", "", "", "", "", "你好，", "问一下，", "客服你好，", "麻烦问下，", "亲，")
QUESTION_SUFFIXES = ("", "", "", "", "", "？", "？？", "啊", "呀", " [疑问]", " [捂脸]", "😭", "🙏", "。。。")
RETURN_PREFIXES = (
    "又是我，上次那个问题还没解决",
    "昨天问过了，到现在还没弄好",
    "我之前咨询过，",
    "上次客服说会处理，结果还是没动静",
    "再问一次，",
)
BOT_MISUNDERSTOOD = (
    "抱歉，小助手没有理解您的意思，您可以换个说法试试哦～",
    "不好意思，这个问题我还在学习中，您可以描述得再详细一些吗？",
    "抱歉没能理解您的问题，您可以试试输入关键词，比如“退款”“物流”",
)
BOT_NEGATIONS = (
    "不是这个",
    "没用",
    "不是这个意思",
    "答非所问",
    "说了半天没用",
    "你这回答的什么啊",
    "不是",
    "？？？",
    "转人工",
    "人工",
    "我要人工",
    "人工客服",
)
HANDOFF_ASKS = (
    "转人工",
    "人工",
    "人工客服",
    "我的情况不太一样，能帮我查一下吗",
    "还是没解决啊",
    "我要找人工",
    "这些我都试过了，转人工吧",
    "能帮我看看我的订单吗",
)
BOT_TRANSFERS = (
    "好的，正在为您转接人工客服，请稍候～",
    "已为您转接人工客服，当前排队人数较多，请耐心等待",
    "正在为您接入人工服务，请稍等哦",
)
BOT_HUMAN_ONLY = "您的问题涉及资金安全，小钱不能为您处理，正在为您转接资金安全专员，请稍候"
BOT_PII_WARNING = "温馨提示：为了您的信息安全，请不要在对话中发送身份证号、银行卡号、密码等敏感信息哦"
CUSTOMER_THANKS = (
    "好的谢谢",
    "好的",
    "谢谢",
    "ok",
    "明白了，谢谢",
    "好的 辛苦了",
    "行，知道了",
    "好嘞",
    "收到",
    "谢谢亲",
)
BOT_FAREWELLS = ("不客气～还有其他问题随时找我哦", "很高兴为您解答，祝您生活愉快！", "不客气，有问题随时来问小助手～")
SYSTEM_TIMEOUTS = ("用户长时间未回复，会话已结束", "会话已超时关闭")
GIVE_UPS = ("算了", "算了算了", "没用，不问了", "服了", "什么破机器人")
AGENT_HANDOFF_OPENERS = (
    "看到您前面咨询的问题了，",
    "您前面的问题我看到了，",
    "",
    "",
)
AGENT_HOLDS = (
    "好的，请稍等，我帮您查询一下",
    "稍等哦，正在为您查询～",
    "收到，我这边核实一下，请稍等",
    "好的亲，我看一下",
    "请您稍等，我这边帮您查一下",
)
AGENT_SOOTHES = (
    "非常抱歉给您带来不好的体验，我这边马上帮您处理",
    "理解您的心情，真的很抱歉让您久等了",
    "您先别着急，这个问题我一定帮您跟进到底",
    "实在抱歉，给您添麻烦了，我现在就帮您加急",
)
AGENT_SORRY_SLOW = ("抱歉久等了", "不好意思让您久等了，刚刚咨询量比较大", "抱歉回复慢了")
AGENT_ANYTHING_ELSE = ("请问还有其他可以帮您的吗？", "还有其他问题需要帮您处理吗？", "请问还有别的问题吗？")
AGENT_FAREWELLS = (
    "感谢您的耐心等待，祝您生活愉快～稍后麻烦对我的服务进行评价哦",
    "不客气哦，有问题随时找我们，祝您生活愉快",
    "感谢您的咨询，再见～",
    "好的，那不打扰您了，祝您生活愉快！",
)
CUSTOMER_NOTHING_ELSE = ("没有了", "没了", "没有了谢谢", "暂时没有了")
COMPLAINTS = (
    "我要投诉",
    "太慢了吧",
    "气死了",
    "什么破服务",
    "你们这效率也太低了",
    "再不处理我就给差评了",
    "我要去12315投诉你们",
    "都第三次来问了，还没解决",
    "一点用都没有",
    "差评！",
    "你们就是这样对待老客户的？",
    "耽误我多少时间了，气死了",
)
IMPATIENT = ("人呢？", "在吗？？", "还在吗", "有人吗", "怎么不回了", "？？？", "太慢了")
IMPOLITE = (
    "这个我们也没办法",
    "我刚才已经说过了",
    "你自己看一下说明好吧",
    "这不是我们的问题",
    "你听不懂吗",
    "爱找谁找谁",
    "系统就是这样，我也没办法",
    "你别催了，催也没用",
)
COMPLAINT_ENDINGS = ("算了，我还是去投诉吧", "行吧，再不解决我就给差评", "就这样吧，希望别再让我来问第三次")
SCREENSHOT = "[图片]"

# How agents identify the order or the transaction, and what they ask for (see _identify).
ASK_IDS = {
    "mall-app": (
        ("麻烦提供一下订单号哦", "order"),
        ("亲，麻烦把订单号发我一下", "order"),
        ("请问是哪个订单呢？可以发一下订单号吗", "order"),
    ),
    "wallet-app": (
        ("麻烦提供一下交易单号或者注册手机号后四位", "either"),
        ("请问是哪一笔交易呢？麻烦把交易单号发我一下", "transaction"),
        ("为了核实身份，麻烦提供一下注册手机号后四位", "tail"),
    ),
}
PHONE_ASK_IDS = {
    "mall-app": (("麻烦您报一下订单号", "order"),),
    "wallet-app": (("麻烦您说一下注册手机号的后四位", "tail"),),
}


@dataclass(frozen=True)
class _Script:
    """What customers and agents say about one feature once a human is on it."""

    details: tuple[str, ...]
    findings: tuple[str, ...]
    followups: tuple[tuple[str, str], ...]


SCRIPTS: dict[str, _Script] = {
    "refund": _Script(
        details=(
            "申请退款好几天了还没到账",
            "商家说已经退了，我这边没收到",
            "退款显示成功了但是卡里没看到钱",
            "奶粉退货审核通过了钱还没退",
            "我的退宽怎么还没到",
            "退款被驳回了，理由根本不对",
            "还没发货，想取消订单退款",
            "退款后优惠券没退回来",
        ),
        findings=(
            "帮您查到了，这笔退款昨天已经原路退回了，银行处理一般需要1-3个工作日，麻烦您再留意一下哦",
            "查到了亲，商家已经同意退款，系统显示退款处理中，预计24小时内到账",
            "这笔是退到信用卡的，会在下一期账单里体现，您可以看一下信用卡的账单明细哦",
            "驳回是因为商家没收到退货，您补充一下退货物流单号重新申请就可以，也可以申请平台介入",
            "订单还没发货，已经帮您取消了，款项会原路退回",
            "券还在有效期内的话会和退款一起退回您的账户",
            "在「我的 > 订单」里找到这笔订单，点「申请售后」就可以申请退款",
        ),
        followups=(
            ("那要是到时候还没到呢？", "到时候还没到的话您直接联系我们，我帮您向支付渠道核实，加急处理"),
            ("能不能快点啊，我急用钱", "理解您的心情，退款时效以支付渠道为准，我这边已经帮您备注加急了"),
            ("退款的钱退到哪里了", "是原路退回的，您用什么方式付的就退到哪里哦"),
            ("优惠券会退回来吗", "券还在有效期内的话会一起退回到您的账户"),
        ),
    ),
    "after-sales": _Script(
        details=(
            "纸尿裤尺码买小了，能换大一码吗",
            "收到的奶瓶有裂痕",
            "衣服洗了一次就起球了，想退货",
            "包装破了，里面的东西也压坏了",
            "推车少发了一个配件",
            "退货运费谁出啊",
        ),
        findings=(
            "您这个订单还在售后期内，我这边帮您申请了换货，快递员会在1-2天内上门取件",
            "已经帮您登记了质量问题，运费由我们承担，您在「售后」里上传一下照片就可以了",
            "这个商品支持七天无理由退货，您在订单里点「申请售后」选退货退款就可以，退回运费有运费险",
            "质量问题的退货运费由我们承担，七天无理由退货的运费可以用运费险抵扣",
        ),
        followups=(
            ("快递员什么时候来取件？", "一般1-2天内会联系您，您保持电话畅通就好"),
            ("拆了包装还能退吗", "不影响二次销售的话是可以退的，奶粉等食品类拆封了就不支持了哦"),
            ("换货的话要多久能收到", "仓库收到退回的商品后会尽快发出新的，一般3-5天能收到"),
            ("运费谁出啊", "质量问题的运费由我们承担，您先垫付的话可以申请运费补偿"),
        ),
    ),
    "logistics": _Script(
        details=(
            "物流三天没更新了",
            "显示已签收但是我没收到",
            "下单好几天了还没发货",
            "快递一直在中转站不动",
            "双十一买的到现在还没到",
            "快递到了我不想要了",
            "地址填错了想改一下",
        ),
        findings=(
            "帮您查了一下，包裹目前在杭州转运中心，双十一件量大有延迟，预计明后天能派送",
            "已经帮您联系快递催件了，快递公司24小时内会给反馈",
            "查到快递放在小区的快递柜了，取件码应该发到您手机上了，您看一下短信哦",
            "可以直接拒收，商品退回仓库后会自动给您办理退款",
            "还没发货，已经帮您把收货地址改好了",
            "查到您下单的商品已经打包好了，今天下午就会发货，发货后会有短信通知",
            "快递显示已签收但您没收到，已经帮您登记了丢件核查，48小时内给您结果，确认丢件会给您补发",
        ),
        followups=(
            ("能不能帮我催一下", "已经帮您加急催件了，有消息第一时间通知您"),
            ("要是丢了怎么办", "如果确认丢件，我们会给您补发或者全额退款，这个您放心"),
            ("可以改地址吗", "还没派送的话可以帮您申请改派，麻烦把新地址发我一下"),
            ("我不想要了能拒收吗", "可以拒收的，商品退回仓库后会给您办理退款"),
        ),
    ),
    "order": _Script(
        details=("买的奶粉想看一下生产日期", "预售的定金付了现在不想要了", "下错单了，想取消"),
        findings=(
            "这款奶粉仓库现在发的是今年8月的批次，保质期到2028年，您放心",
            "定金是不退的哦，不过如果是商家原因导致无法发货，定金会全额退回",
            "订单还没发货，已经帮您取消了，款项会原路退回",
        ),
        followups=(
            ("发货的时候能备注一下要新批次吗", "可以的，我帮您备注了，仓库会优先安排"),
            ("尾款什么时候付", "尾款在活动开始后24小时内支付就可以，到时候会有短信提醒"),
        ),
    ),
    "payment": _Script(
        details=("付了钱订单还显示待支付", "扣了两次钱", "信用卡付不了"),
        findings=(
            "查到您这笔支付已经成功，是系统同步延迟，订单状态已经帮您刷新了",
            "重复扣的那笔系统会在24小时内自动退回原支付账户",
            "信用卡支付失败可能是银行风控，您可以换一张卡或者用微信支付试试",
            "支持微信、支付宝、钱包余额和银行卡，信用卡和花呗都可以分期",
        ),
        followups=(
            ("那我还要重新付吗", "不用重新付哦，订单已经正常了，会按时发货"),
            ("能分期吗", "支持信用卡分期和花呗分期，在支付页选择就可以"),
        ),
    ),
    "coupon": _Script(
        details=("满减券用不了", "领的券结算的时候没显示", "优惠券过期了", "券怎么叠加不了"),
        findings=(
            "这张券是指定品类券，您购物车里的商品不在使用范围内哦",
            "查到这张券需要满199才能用，您现在是168，再凑一点就可以了",
            "过期的券系统没法恢复，我这边给您补发了一张10元无门槛券，已经到账户了",
        ),
        followups=(
            ("店铺券和平台券能一起用吗", "可以叠加的，但是同一类券一单只能用一张"),
            ("退货了券还能退回来吗", "券还在有效期内的话会退回账户，过期的就不退了"),
        ),
    ),
    "membership": _Script(
        details=("积分怎么少了", "会员等级怎么降了", "签到找不到了", "我的鸡分去哪了"),
        findings=(
            "查到您有500积分上个月底到期清零了，积分有效期是一年",
            "会员等级是按近12个月的成长值算的，您现在还差320成长值升到金卡",
            "新版本签到入口挪到「我的 > 积分中心」了",
            "购物每消费1元得1积分，下单时可以用积分抵现，100积分抵1元",
        ),
        followups=(
            ("积分能抵多少钱", "100积分抵1元，每单最多抵扣订单金额的10%"),
            ("金卡有什么权益", "金卡每月有2张免运费券，生日还有专属礼包"),
        ),
    ),
    "price-protection": _Script(
        details=("我刚买完就降价了", "买贵了30块", "能退差价吗"),
        findings=(
            "您这个订单在价保期内，差价28元已经帮您申请了，会退回原支付账户",
            "这个降价是限时秒杀价，不在价保范围内哦，非常抱歉",
            "已经提交价保申请了，审核通过后1-3个工作日退回",
        ),
        followups=(
            ("价保期是多久", "签收后7天内都可以申请价保"),
            ("用了券的话怎么算", "价保按您实际支付的金额计算"),
        ),
    ),
    "invoice": _Script(
        details=("要开公司的发票", "发票抬头写错了", "电子发票在哪看"),
        findings=(
            "电子发票已经开好了，您在订单详情里点「查看发票」就能下载",
            "帮您作废重开了，新的发票大概1个工作日内推送",
            "企业发票需要填写税号，您在「申请开票」里选「单位」就可以",
        ),
        followups=(
            ("能开专票吗", "可以开增值税专用发票，需要提供开票资料，审核后5个工作日内寄出"),
            ("发票能发邮箱吗", "可以的，开票时填写邮箱地址会同步发送一份"),
        ),
    ),
    "account": _Script(
        details=("想注销账号", "换手机号了", "收不到验证码"),
        findings=(
            "注销提交后有15天冷静期，冷静期内登录就会自动撤销",
            "已经帮您核实了身份，您在「设置 > 账号与安全」里可以换绑新手机号",
            "验证码发送有频率限制，您过10分钟再试一下",
        ),
        followups=(
            ("注销了订单还能看吗", "注销后订单记录都没法查看了，建议先保存需要的信息"),
            ("老手机号停机了怎么办", "可以走人工审核换绑，需要上传身份证照片"),
        ),
    ),
    "top-up": _Script(
        details=("充值了余额没到", "银行卡扣钱了钱包没钱", "充值失败", "冲值没到账"),
        findings=(
            "查到这笔充值在处理中，银行那边回调延迟，一般30分钟内就能到账",
            "这笔充值失败了，钱会在1-3个工作日退回您的银行卡",
            "已经到账了，您刷新一下余额页面看看",
            "在首页点「充值」，选择银行卡输入金额就可以，充值免手续费",
        ),
        followups=(
            ("充值有手续费吗", "充值是免手续费的"),
            ("充值有上限吗", "单笔最高5万，每日累计20万"),
        ),
    ),
    "withdrawal": _Script(
        details=("提现两天了还没到", "提现为什么要手续费", "提现失败了", "提钱一直显示处理中"),
        findings=(
            "您的提现已经成功发往银行，普通提现T+1到账，预计明天到",
            "提现失败是因为银行卡已经注销了，钱已经退回钱包余额了",
            "每月有2万免费提现额度，超出部分收0.1%手续费",
            "新版本单日累计最多可以提现5万元，超出的部分可以第二天再提",
        ),
        followups=(
            ("能不能实时到账", "选「实时到账」就可以，2小时内到账"),
            ("钱退回来了吗", "已经退回到钱包余额了，您可以刷新看一下"),
            ("一天最多能提多少", "单日累计最多可以提现5万元"),
        ),
    ),
    "bank-card": _Script(
        details=("绑卡一直提示信息不一致", "想解绑一张卡", "银行卡绑不上"),
        findings=(
            "信息不一致一般是银行预留手机号和您填的不一样，您先和银行确认一下预留手机号",
            "解绑在「我的 > 银行卡」里点卡片右上角就可以，解绑前确认没有进行中的交易",
            "这张卡是二类户，暂不支持绑定，您换一张一类卡试试",
            "绑卡在「我的 > 银行卡 > 添加银行卡」，输入卡号和银行预留手机号验证就可以",
        ),
        followups=(
            ("能绑信用卡吗", "可以绑信用卡，但是信用卡不支持提现"),
            ("最多能绑几张卡", "最多可以绑定10张银行卡"),
        ),
    ),
    "security": _Script(
        details=("我账户有一笔不明扣款", "钱被盗刷了", "支付密码忘了", "换手机登录要验证"),
        findings=(
            "已经帮您把账户冻结了，这笔交易我已经提交资金安全专员调查，24小时内给您回复",
            "请您先修改登录密码和支付密码，我这边已经登记了，会有专员联系您",
            "忘记支付密码可以在「我的 > 安全中心 > 找回支付密码」通过人脸验证重置",
            "换新手机登录需要短信验证码加人脸识别，验证通过后就可以正常使用了",
        ),
        followups=(
            ("钱能追回来吗", "我们会全力配合调查，损失金额较大的话建议您同时报警并保留回执"),
            ("有人打电话要验证码怎么办", "我们的工作人员不会索要验证码，这种都是诈骗，请千万不要告诉对方"),
        ),
    ),
    "bill": _Script(
        details=("想导出半年的流水", "账单里有一笔不认识的", "找不到账单"),
        findings=(
            "在「账单 > 右上角 ··· > 导出流水」可以导出，最长支持一年",
            "查到这笔是您开通的自动续费会员扣款",
            "账单入口在首页右上角「账单」",
        ),
        followups=(
            ("导出的流水能盖章吗", "可以申请电子版盖章流水，3个工作日内发到您的邮箱"),
            ("自动续费怎么关", "在「我的 > 设置 > 自动扣款」里关闭就可以"),
        ),
    ),
    "red-packet": _Script(
        details=("红包过期了", "活动红包怎么用", "红包能提现吗"),
        findings=(
            "过期的红包系统没办法找回，非常抱歉",
            "活动红包只能在支付时抵扣，不能提现哦",
            "红包已经在卡券包里，付款的时候会自动抵扣",
        ),
        followups=(
            ("下次活动什么时候", "下次活动时间还没确定，关注App首页公告哦"),
            ("红包能转给别人吗", "活动红包不支持转赠"),
        ),
    ),
    "real-name": _Script(
        details=("实名认证一直失败", "人脸识别过不去", "身份证过期了"),
        findings=(
            "人脸识别失败可能是光线太暗，您换个光线好的地方，摘掉眼镜再试试",
            "查到您的身份证有效期已过，需要上传新身份证照片重新认证",
            "已经帮您重置了认证次数，您现在可以重新提交",
        ),
        followups=(
            ("一天能认证几次", "每天最多5次"),
            ("认证要多久", "一般提交后实时出结果，人工审核的1个工作日内"),
        ),
    ),
}

# --- personal data (PII) -------------------------------------------------------------------------

MOBILE_PREFIXES = ("138", "139", "136", "135", "137", "150", "151", "158", "159", "186", "187", "188", "177", "199")
AREA_CODES = ("110101", "110105", "310104", "310115", "440305", "440106", "330106", "320102", "510107", "420102")
CARD_BINS = ("622202", "621700", "622848", "621483", "622588", "621226", "622700", "625965")
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "gmail.com", "foxmail.com", "sina.com")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character of an 18-digit resident ID number."""
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check, as bank card numbers do."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions from the right once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _id_number(rng: random.Random) -> str:
    birth = datetime(1965, 1, 1) + timedelta(days=rng.randrange(40 * 365))
    first17 = f"{rng.choice(AREA_CODES)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def _bank_card(rng: random.Random) -> str:
    length = 19 if rng.random() < 0.6 else 16
    payload = rng.choice(CARD_BINS) + "".join(str(rng.randrange(10)) for _ in range(length - 7))
    number = payload + luhn_check_digit(payload)
    if rng.random() < 0.25:  # people often type it in groups of four
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def _email(rng: random.Random) -> str:
    name = rng.choice(("xiaoyu", "mama", "lily", "wang", "chen", "zhang", "baobao", "liu", "amy", "tony"))
    return f"{name}{rng.randrange(10, 99999)}@{rng.choice(MAIL_DOMAINS)}"


PII_TEMPLATES: tuple[tuple[Callable[[random.Random], str], tuple[str, ...]], ...] = (
    (_mobile, ("我手机号{}，你们直接打给我吧", "注册手机号是{}", "{} 这个号", "回电打{}就行", "收件人电话{}")),
    (_mobile, ("我电话{}，有结果了联系我",)),
    (_id_number, ("我身份证号{}，你查一下", "实名的身份证是{}", "身份证{}")),
    (_bank_card, ("卡号{}", "我绑定的银行卡是{}", "就是这张卡 {}", "退到这张卡{}")),
    (_email, ("发票发我邮箱{}", "邮箱是{}", "我的邮箱{}，结果发给我", "{} 这个邮箱")),
)


def _pii_message(rng: random.Random) -> str:
    make, templates = rng.choice(PII_TEMPLATES)
    return rng.choice(templates).format(make(rng))


# --- knowledge from the demo articles ------------------------------------------------------------

_LIST_MARKER = re.compile(r"^(?:\d+\.|[-*])\s*")


@dataclass(frozen=True)
class _Topic:
    product: str
    feature: str
    standard_question: str
    questions: tuple[str, ...]
    tags: tuple[str, ...]
    bot_answers: dict[str, str]  # channel → what the bot replies there
    human_only: bool  # 人工专属: bots must never answer
    details: tuple[str, ...]  # what customers add, and what agents find, for this question
    findings: tuple[str, ...]


@dataclass(frozen=True)
class _Catalogue:
    topics: tuple[_Topic, ...]
    cum_weights: tuple[float, ...]

    def pick(self, rng: random.Random) -> _Topic:
        return self.topics[bisect(self.cum_weights, rng.random() * self.cum_weights[-1])]


def shorten_answer(markdown: str, limit: int = 110) -> str:
    """A knowledge-base answer as a chat bot would send it: plain text, the first sentences only."""
    text = ""
    for raw in markdown.replace("**", "").splitlines():
        line = _LIST_MARKER.sub("", raw.strip())
        if not line:
            continue
        if text and text[-1] not in "。；：！？～":
            text += "；"
        if text and len(text) + len(line) > limit:
            break
        text += line
    if len(text) > limit:  # one long paragraph: cut at the last full sentence that fits
        cut = max(text.rfind(mark, 0, limit) for mark in "。；！？")
        text = text[: cut + 1] if cut > 0 else text[:limit]
    return text.rstrip("；：") if text[-1:] in "；：" else text


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _closest(phrases: tuple[str, ...], about: str) -> tuple[str, ...]:
    """The feature's phrases that share the most two-character words with the question and its tags."""
    words = _bigrams(about)
    scores = [len(words & _bigrams(phrase)) for phrase in phrases]
    best = max(scores)
    return tuple(p for p, score in zip(phrases, scores, strict=True) if score == best) if best else ()


@cache
def _catalogues() -> dict[str, _Catalogue]:
    # The demo's similar questions include Traditional Chinese on purpose; these transcripts are Simplified.
    simplify = opencc.OpenCC("t2s").convert
    by_product: dict[str, list[tuple[_Topic, float]]] = {}
    with open(DEMO_DIR / "articles.jsonl", encoding="utf-8") as stream:
        for line in stream:
            if not line.strip():
                continue
            article = json.loads(line)
            feature = article["features"][0]
            channel_answers = article.get("channel_answers") or {}
            short = shorten_answer(article["answer"])
            script = SCRIPTS[feature]
            about = " ".join([article["standard_question"], *(article.get("tags") or ())])
            topic = _Topic(
                product=article["product"],
                feature=feature,
                standard_question=article["standard_question"],
                questions=tuple(
                    q for q in [article["standard_question"], *article["similar_questions"]] if simplify(q) == q
                ),
                tags=tuple(article.get("tags") or ())[:2],
                bot_answers={c: channel_answers.get(c) or short for c in CHANNEL_WEIGHTS},
                human_only="人工专属" in (article.get("tags") or ()),
                details=_closest(script.details, about),
                findings=_closest(script.findings, about) or script.findings,
            )
            weight = FEATURE_WEIGHTS.get(feature, 1.0) * (0.4 if "旧版本" in topic.tags else 1.0)
            by_product.setdefault(topic.product, []).append((topic, weight))
    return {
        product: _Catalogue(topics=tuple(t for t, _ in pairs), cum_weights=tuple(accumulate(w for _, w in pairs)))
        for product, pairs in by_product.items()
    }


@cache
def _agents() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Per team: (agent id, the greetings that agent uses)."""
    teams = {}
    for team, (title, numbers) in TEAM_AGENTS.items():
        agents = []
        for number in numbers:
            name = AGENT_NAMES[number - 1]
            if team == "电话客服组":
                greetings = tuple(
                    f"您好，{brand}客服中心，工号{number:02d}，很高兴为您服务，请问有什么可以帮您？"
                    for brand in ("母婴商城", "钱包")
                )
            else:
                greetings = (
                    f"您好，我是{title}{name}，很高兴为您服务",
                    f"亲，您好～我是{name}，这边为您处理哦",
                    f"您好，{title}{name}为您服务，请问有什么可以帮您？",
                )
            agents.append((f"agent-{number:02d}", greetings))
        teams[team] = tuple(agents)
    return teams


# --- time ----------------------------------------------------------------------------------------


def _timestamp_formatter(window_start: datetime) -> Callable[[int], str]:
    """Seconds after ``window_start`` → ISO 8601 with its UTC offset, without a datetime per message."""
    offset = window_start.isoformat()[-6:]
    midnight = window_start.replace(hour=0, minute=0, second=0, microsecond=0)
    first = int((window_start - midnight).total_seconds())
    days: dict[int, str] = {}

    def format_seconds(t: int) -> str:
        day, second = divmod(first + t, 86400)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = f"{(midnight + timedelta(days=day)).date().isoformat()}T"
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}{offset}"

    return format_seconds


def _start_picker(window_start: datetime, days: int) -> Callable[[random.Random, int], int]:
    """Conversation start times (seconds into the window) in one third of it (0, 1 or 2): busier
    around 双十一, at weekends and at peak hours."""
    midnight = window_start.replace(hour=0, minute=0, second=0, microsecond=0)
    first = int((window_start - midnight).total_seconds())
    window = days * 86400
    calendar = list(range(days + (1 if first else 0)))
    weights = []
    for day in calendar:
        date = (midnight + timedelta(days=day)).date()
        weight = 2.5 if date.month == 11 and 11 <= date.day <= 14 else 1.0
        weights.append(weight * (1.15 if date.weekday() >= 5 else 1.0))
    thirds = []
    for part in range(3):
        lo, hi = part * len(calendar) // 3, (part + 1) * len(calendar) // 3
        if lo == hi:  # fewer than three days: every third is the whole window
            lo, hi = 0, len(calendar)
        thirds.append((lo, tuple(accumulate(weights[lo:hi]))))
    hour_cum = tuple(accumulate(HOUR_WEIGHTS))

    def pick(rng: random.Random, part: int) -> int:
        lo, day_cum = thirds[part]
        while True:  # a partial first or last day: draw again when outside the window
            day = lo + bisect(day_cum, rng.random() * day_cum[-1])
            hour = bisect(hour_cum, rng.random() * hour_cum[-1])
            t = day * 86400 + hour * 3600 + int(rng.random() * 3600) - first
            if 0 <= t < window:
                return t

    return pick


def _aware(start: datetime | None) -> datetime:
    if start is None:
        return DEFAULT_START
    if start.tzinfo is None:
        return start.replace(tzinfo=CHINA)
    # A fixed offset: arithmetic in seconds stays monotonic across daylight-saving changes.
    return start.astimezone(timezone(start.utcoffset() or timedelta(0)))


# --- one conversation ----------------------------------------------------------------------------

_MESSAGE_IDS = tuple(f"m{k}" for k in range(1, 200))


class _Transcript:
    """Messages with a clock that only moves forward."""

    __slots__ = ("customer", "format_time", "messages", "rng", "t")

    def __init__(self, rng: random.Random, format_time: Callable[[int], str], t: int, customer: str) -> None:
        self.rng = rng
        self.format_time = format_time
        self.t = t
        self.customer = customer
        self.messages: list[dict] = []

    def add(self, role: str, sender: str, text: str, gap: float) -> None:
        self.t += int(gap)
        self.messages.append(
            {
                "id": _MESSAGE_IDS[len(self.messages)],
                "role": role,
                "sender": sender,
                "sent_at": self.format_time(self.t),
                "text": text,
                "type": "text",
            }
        )

    def customer_says(self, text: str, *, typing: float = 0.6) -> None:
        # People in WeChat type about two characters a second, and think a little first.
        self.add("customer", self.customer, text, 3 + len(text) * typing + self.rng.random() * 20)


@dataclass
class _Return:
    """A customer due to come back about the same topic."""

    customer_id: int
    channel: str
    topic: _Topic
    t: int


@dataclass
class _Plan:
    channel: str
    product: str
    topic: _Topic
    customer_id: int
    t: int
    returning: bool
    will_return: bool


def _ask(rng: random.Random, topic: _Topic, *, returning: bool) -> str:
    question = rng.choice(topic.questions)
    if returning:
        return rng.choice(RETURN_PREFIXES) + question
    prefix = rng.choice(QUESTION_PREFIXES)
    if question.startswith(("请问", "亲")):
        prefix = ""
    return prefix + question + rng.choice(QUESTION_SUFFIXES)


def _team(plan: _Plan, rng: random.Random) -> str:
    if plan.customer_id % VIP_EVERY == 0:
        return "VIP 专席"
    if plan.channel == "phone":
        return "电话客服组"
    if plan.product == "wallet-app":
        return "钱包客服组"
    return "售后一组" if rng.random() < 0.55 else "售后二组"


def _conversation(rng: random.Random, plan: _Plan, format_time: Callable[[int], str]) -> tuple[dict, int]:
    """One payload (``external_id`` left to the caller), and when its last message was sent."""
    random_ = rng.random
    choice = rng.choice
    topic = plan.topic
    customer = f"u-{plan.customer_id}"
    tr = _Transcript(rng, format_time, plan.t, customer)
    team = _team(plan, rng)
    complaint = random_() < (REPEAT_COMPLAINT_SHARE if plan.returning else COMPLAINT_SHARE)
    pii = random_() < PII_SHARE
    human_only = plan.channel in HUMAN_ONLY_CHANNELS
    phone = plan.channel == "phone"

    handoff = streak = gave_up = False
    bot_ok = True
    if not human_only:
        bot = BOT_SENDERS[plan.product]
        tr.add("bot", bot, choice(WELCOMES[plan.product]), 0)
        if random_() < 0.25:
            tr.customer_says(choice(OPENERS))
        tr.customer_says(_ask(rng, topic, returning=plan.returning))
        if complaint and random_() < 0.5:
            tr.customer_says(choice(COMPLAINTS))
        if topic.human_only:
            handoff = True
            tr.add("bot", bot, BOT_HUMAN_ONLY, 1 + random_() * 2)
        else:
            handoff = random_() < (COMPLAINT_HANDOFF_SHARE if complaint else HANDOFF_SHARE)
            streak = handoff and random_() < STREAK_SHARE
            gave_up = not handoff and random_() < GIVE_UP_SHARE
            if streak or gave_up:
                bot_ok = False
                _bot_fails(tr, bot, plan, 3 + int(random_() * 3) if streak else 2 + int(random_() * 2))
            else:
                tr.add("bot", bot, topic.bot_answers[plan.channel], 1 + random_() * 2)
            if pii and not streak:
                pii = False
                tr.customer_says(_pii_message(rng), typing=0.3)
                tr.add("bot", bot, BOT_PII_WARNING, 1 + random_())
            if handoff and not streak:
                tr.customer_says(choice(HANDOFF_ASKS))
                if random_() < 0.6:
                    tr.add("bot", bot, choice(BOT_TRANSFERS), 1 + random_())
        if handoff:
            tr.add("system", "system", "转人工", random_() * 2)
        elif gave_up:
            tr.customer_says(choice(GIVE_UPS))
        else:
            _bot_only_end(tr, bot, plan)
    if not handoff and not human_only:
        resolved = bot_ok and not plan.will_return
        slow = impolite = False
    else:
        slow = random_() < SLOW_SHARE
        impolite = random_() < IMPOLITE_SHARE
        resolved = _human(tr, plan, team, complaint=complaint, pii=pii, slow=slow, impolite=impolite, phone=phone)
        resolved = resolved and not (plan.will_return and random_() < 0.7)
    unhappy = complaint or slow or impolite or streak or gave_up or not resolved
    csat = _csat(rng, unhappy) if random_() < CSAT_SHARE else None
    tags = list(topic.tags)
    if complaint:
        tags.append("投诉")
    payload = {
        "channel": plan.channel,
        "external_id": "",  # set by the caller, which knows the seed and the index
        "product": plan.product,
        "team": team,
        "customer": customer,
        "csat": csat,
        "resolution": "resolved" if resolved else "unresolved",
        "tags": tags,
        "messages": tr.messages,
    }
    return payload, tr.t


def _bot_fails(tr: _Transcript, bot: str, plan: _Plan, times: int) -> None:
    """The bot misses ``times`` answers in a row and the customer says so each time."""
    rng = tr.rng
    catalogue = _catalogues()[plan.product]
    for _ in range(times):
        roll = rng.random()
        if roll < 0.45:
            wrong = catalogue.pick(rng)
            text = wrong.bot_answers[plan.channel] if wrong is not plan.topic else rng.choice(BOT_MISUNDERSTOOD)
        elif roll < 0.75:
            text = rng.choice(BOT_MISUNDERSTOOD)
        else:
            guesses = [topic.standard_question for topic in rng.sample(catalogue.topics, 3)]
            text = "猜您想问：\n" + "\n".join(f"{i}. {q}" for i, q in enumerate(guesses, 1))
        tr.add("bot", bot, text, 1 + rng.random() * 2)
        tr.customer_says(rng.choice(BOT_NEGATIONS))


def _bot_only_end(tr: _Transcript, bot: str, plan: _Plan) -> None:
    rng = tr.rng
    extra = rng.random()
    if extra < 0.55:  # one or two more questions on the same product
        for _ in range(1 + (extra < 0.2)):
            other = _catalogues()[plan.product].pick(rng)
            tr.customer_says(_ask(rng, other, returning=False))
            tr.add("bot", bot, other.bot_answers[plan.channel], 1 + rng.random() * 2)
    ending = rng.random()
    if ending < 0.6:
        tr.customer_says(rng.choice(CUSTOMER_THANKS))
        tr.add("bot", bot, rng.choice(BOT_FAREWELLS), 1 + rng.random())
    else:  # people just leave; the session times out
        tr.add("system", "system", rng.choice(SYSTEM_TIMEOUTS), 180 + rng.random() * 420)


def _human(
    tr: _Transcript,
    plan: _Plan,
    team: str,
    *,
    complaint: bool,
    pii: bool,
    slow: bool,
    impolite: bool,
    phone: bool,
) -> bool:
    """An agent serves the customer (after a handoff, or from the start); returns whether it is resolved."""
    rng = tr.rng
    random_ = rng.random
    choice = rng.choice
    topic = plan.topic
    script = SCRIPTS[topic.feature]
    agent, greetings = choice(_agents()[team])
    # Which replies to a waiting customer are slow (3–15 min): one of the first two, sometimes another.
    slow_steps = ({int(random_() * 2)} | ({int(random_() * 4)} if random_() < 0.3 else set())) if slow else set()
    step = 0

    def agent_says(text: str) -> None:
        nonlocal step
        if tr.messages[-1]["role"] != "customer":  # nobody is waiting: a second bubble right away
            tr.add("agent", agent, text, 2 + random_() * 8)
            return
        if step in slow_steps:
            wait = 180 + random_() * 720
            if random_() < 0.6:  # the customer notices, and the reply is still as late
                nudge = 60 + random_() * (wait - 120)
                tr.add("customer", tr.customer, choice(IMPATIENT), nudge)
                wait -= nudge
            tr.add("agent", agent, choice(AGENT_SORRY_SLOW), wait)
            tr.add("agent", agent, text, 2 + random_() * 8)
        elif phone:
            tr.add("agent", agent, text, 2 + random_() * 12)
        else:
            tr.add("agent", agent, text, 10 + random_() * (50 if random_() < 0.9 else 110))
        step += 1

    if phone:
        tr.add("agent", agent, greetings[plan.product == "wallet-app"] if team == "电话客服组" else greetings[0], 0)
        tr.customer_says(choice(PHONE_OPENERS) + "，" + choice(topic.questions).rstrip("？?"), typing=0.2)
        if topic.details and random_() < 0.5:
            tr.customer_says("就是" + choice(topic.details), typing=0.2)
    else:
        if plan.channel == "wecom":
            tr.customer_says(choice(OPENERS), typing=0.3)
        if tr.messages[-1]["role"] == "system":  # waiting in the queue after 转人工
            tr.add("agent", agent, choice(greetings), 5 + random_() * (85 if random_() < 0.85 else 200))
        else:
            agent_says(choice(greetings))
        if plan.channel == "wecom" or random_() < 0.4:
            tr.customer_says(_ask(rng, topic, returning=plan.returning))
            if topic.details and random_() < 0.5:
                tr.customer_says(choice(topic.details))
    if complaint:
        tr.customer_says(choice(COMPLAINTS))
        agent_says(choice(AGENT_SOOTHES))
    opener = "" if phone or plan.channel == "wecom" else choice(AGENT_HANDOFF_OPENERS)
    ask, wanted = choice((PHONE_ASK_IDS if phone else ASK_IDS)[plan.product])
    agent_says(opener + ask)
    tr.customer_says(_identify(rng, wanted, phone=phone), typing=0.3)
    if pii:
        tr.customer_says(_pii_message(rng), typing=0.3)
    agent_says(choice(AGENT_HOLDS))
    # Looking it up takes a while; the hold message told the customer so.
    tr.add("agent", agent, choice(topic.findings), 20 + random_() * (40 if phone else 70))
    if impolite:
        tr.customer_says("能不能再帮我看看" if random_() < 0.5 else "你们到底能不能处理")
        agent_says(choice(IMPOLITE))
    # Long enough already (a failure streak, a slow reply): fewer follow-up questions; at most 30 messages.
    followups = min(int(random_() * 2.2 + random_() * 1.3), max(0, (21 - len(tr.messages)) // 2))
    for question, answer in rng.sample(script.followups, min(followups, len(script.followups))):
        tr.customer_says(question)
        agent_says(answer)
    resolved = random_() < (0.6 if complaint or impolite else 0.9)
    if not resolved and complaint:
        tr.customer_says(choice(COMPLAINT_ENDINGS))
        agent_says(choice(AGENT_SOOTHES))
        return False
    tr.customer_says(choice(CUSTOMER_THANKS))
    agent_says(choice(AGENT_ANYTHING_ELSE))
    if random_() < 0.6:
        tr.customer_says(choice(CUSTOMER_NOTHING_ELSE))
        tr.add("agent", agent, choice(AGENT_FAREWELLS), 3 + random_() * 15)
    return resolved


def _identify(rng: random.Random, wanted: str, *, phone: bool) -> str:
    """The customer's answer to "which order / transaction?": 14-digit numbers, so never PII-like."""
    if wanted == "order":
        if not phone and rng.random() < 0.25:
            return SCREENSHOT
        number = f"202611{rng.randrange(10**8):08d}"
        return rng.choice((number, f"订单号{number}", f"{number} 这个", f"是这个订单 {number}"))
    if wanted == "tail" or (wanted == "either" and rng.random() < 0.5):
        tail = f"{rng.randrange(10000):04d}"
        return f"嗯，{tail}" if phone else rng.choice(("尾号", "手机尾号", "后四位是", "")) + tail
    return rng.choice(("交易单号T", "单号T", "T")) + f"2026{rng.randrange(10**10):010d}"


_CSAT_HAPPY = tuple(accumulate((2, 3, 8, 25, 62)))  # weights of 1..5
_CSAT_UNHAPPY = tuple(accumulate((32, 24, 22, 13, 9)))


def _csat(rng: random.Random, unhappy: bool) -> int:
    cum = _CSAT_UNHAPPY if unhappy else _CSAT_HAPPY
    return bisect(cum, rng.random() * cum[-1]) + 1


# --- the stream ----------------------------------------------------------------------------------


def _weighted(weights: dict[str, int]) -> Callable[[random.Random], str]:
    keys: Sequence[str] = tuple(weights)
    cum = tuple(accumulate(weights.values()))
    return lambda rng: keys[bisect(cum, rng.random() * cum[-1])]


_pick_channel = _weighted(CHANNEL_WEIGHTS)
# Large primes: one that does not divide the number of customers steps through all of them.
_STRIDES = (1_000_003, 998_244_353, 1_000_000_007)
_pick_product = _weighted(PRODUCT_WEIGHTS)


def generate_conversations(
    count: int, *, seed: int = 0, start: datetime | None = None, days: int = 30
) -> Iterator[dict]:
    """Yield ``count`` conversation payloads for ``POST /api/v1/conversations/``, deterministic per seed.

    Conversations start during the ``days`` days that end at ``start`` (default 2026-11-20 00:00
    Beijing time); timestamps carry ``start``'s UTC offset (+08:00 for a naive ``start``).
    ``external_id`` is ``<channel>-<seed>-<n>`` with n counting from 1. Customers are u-1 … u-⌈count/3⌉.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if days < 1:
        raise ValueError("days must be at least 1")
    return _stream(count, seed=seed, end=_aware(start), days=days)


def _stream(count: int, *, seed: int, end: datetime, days: int) -> Iterator[dict]:
    rng = random.Random(seed)
    window = days * 86400
    window_start = end - timedelta(seconds=window)
    format_time = _timestamp_formatter(window_start)
    pick_start = _start_picker(window_start, days)
    catalogues = _catalogues()
    customers = max(1, -(-count // 3))
    # Fresh conversations walk through the customers in a shuffled order, round after round, and a
    # customer's visits fall in different thirds of the window. Drawing customers at random instead
    # would put a third of them back within 48 h by chance; this way coming back is what RETURN_SHARE says.
    stride = next(p for p in _STRIDES if customers % p) % customers or 1
    offset = rng.randrange(customers)
    fresh = 0
    # Returns due later, keyed by the index at which they are yielded: a few dozen at a time.
    due: list[tuple[int, int, _Return]] = []
    for n in range(1, count + 1):
        if due and due[0][0] <= n:
            back = heapq.heappop(due)[2]
            plan = _Plan(
                channel=back.channel if rng.random() < 0.6 else _pick_channel(rng),
                product=back.topic.product,
                topic=back.topic,
                customer_id=back.customer_id,
                t=back.t,
                returning=True,
                will_return=False,
            )
        else:
            visit, position = divmod(fresh, customers)
            fresh += 1
            customer_id = (position * stride + offset) % customers + 1
            product = _pick_product(rng)
            plan = _Plan(
                channel=_pick_channel(rng),
                product=product,
                topic=catalogues[product].pick(rng),
                customer_id=customer_id,
                t=pick_start(rng, (visit + customer_id) % 3),
                returning=False,
                will_return=rng.random() < RETURN_SHARE,
            )
        payload, ended = _conversation(rng, plan, format_time)
        payload["external_id"] = f"{plan.channel}-{seed}-{n}"
        if plan.will_return:
            # Back 10 min to 47 h after this one ended, but never after the window closes.
            back_at = ended + 600 + int(rng.random() * (47 * 3600 - 600))
            if back_at < window:
                back = _Return(plan.customer_id, plan.channel, plan.topic, back_at)
                heapq.heappush(due, (n + 1 + int(rng.random() * 40), n, back))
        yield payload
