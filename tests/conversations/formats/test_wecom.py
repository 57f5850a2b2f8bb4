"""WeChat customer service (微信客服) sync_msg dumps become conversation payloads, streaming, line by line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from apps.conversations.formats.wecom import WecomReader, WecomRejected, read_wecom

SAMPLE = Path(__file__).parent / "data" / "wecom_sync_msg.jsonl"
KF = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"
ALICE = "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw"
BOB = "wmAJ2GCAAAz8Pq3Lk9Vt0Xe7Nd2RbYcQ"
T0 = 1615478585  # 2021-03-11T16:03:05+00:00
MINUTE = 60


def message(
    msgid: str,
    *,
    at: int = 0,
    customer: str = ALICE,
    origin: int = 3,
    servicer: str | None = None,
    text: str = "你好",
    msgtype: str = "text",
    body: dict | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "msgid": msgid,
        "open_kfid": KF,
        "external_userid": customer,
        "send_time": T0 + at,
        "origin": origin,
        "msgtype": msgtype,
    }
    if servicer:
        item["servicer_userid"] = servicer
    item[msgtype] = {"content": text} if body is None else body
    return item


def event(msgid: str, event_type: str, *, at: int = 0, customer: str = ALICE, **fields: Any) -> dict[str, Any]:
    """Events carry the account and the customer inside ``event``, as WeCom sends them."""
    return {
        "msgid": msgid,
        "send_time": T0 + at,
        "origin": 4,
        "msgtype": "event",
        "event": {"event_type": event_type, "open_kfid": KF, "external_userid": customer, **fields},
    }


def bot(msgid: str, text: str, *, at: int = 0, customer: str = ALICE) -> dict[str, Any]:
    return message(msgid, at=at, customer=customer, origin=5, text=text)


def agent(msgid: str, text: str, *, at: int = 0, customer: str = ALICE, servicer: str = "ZhangSan") -> dict[str, Any]:
    return message(msgid, at=at, customer=customer, origin=5, servicer=servicer, text=text)


def as_lines(*messages: dict) -> list[str]:
    return [json.dumps(m, ensure_ascii=False) + "\n" for m in messages]


def conversations(lines: list[str], **options: Any) -> list[dict]:
    results = list(read_wecom(lines, **options))
    assert [r for r in results if isinstance(r, WecomRejected)] == []
    return [payload for _, payload in results]


def texts(payload: dict) -> list[str]:
    return [m["text"] for m in payload["messages"]]


# --- the payload ---


def test_a_conversation_is_the_payload_the_conversations_api_accepts():
    lines = as_lines(message("from_msgid_1", text="你好"), bot("bot_1", "您好，请问有什么可以帮您？", at=3))

    assert list(read_wecom(lines, channel="wechat-kf", product="会员", team="售后")) == [
        (
            1,
            {
                "channel": "wechat-kf",
                "external_id": f"{KF}:{ALICE}:from_msgid_1",
                "product": "会员",
                "team": "售后",
                "customer": ALICE,
                "messages": [
                    {
                        "id": "from_msgid_1",
                        "role": "customer",
                        "sender": ALICE,
                        "sent_at": "2021-03-11T16:03:05+00:00",
                        "text": "你好",
                        "type": "text",
                    },
                    {
                        "id": "bot_1",
                        "role": "bot",
                        "sender": KF,
                        "sent_at": "2021-03-11T16:03:08+00:00",
                        "text": "您好，请问有什么可以帮您？",
                        "type": "text",
                    },
                ],
                "tags": [],
                "handoff": False,
            },
        )
    ]


def test_product_and_team_are_none_and_channel_is_wechat_unless_given():
    [payload] = conversations(as_lines(message("m1")))
    assert (payload["channel"], payload["product"], payload["team"]) == ("wechat", None, None)


# --- file shapes ---


def test_lines_of_sync_msg_responses_and_lines_of_bare_messages_read_the_same():
    messages = [message("m1", text="在吗"), bot("m2", "在的", at=2), message("m3", text="退款多久到账", at=30)]
    responses = [
        json.dumps(
            {"errcode": 0, "errmsg": "ok", "next_cursor": "4gw7MepFLfgF2VC5n", "has_more": 1, "msg_list": messages[:2]},
            ensure_ascii=False,
        ),
        json.dumps(
            {"errcode": 0, "errmsg": "ok", "next_cursor": "4gw7MepFLfgF2VC5o", "has_more": 0, "msg_list": messages[2:]},
            ensure_ascii=False,
        ),
    ]

    from_responses = conversations(responses)
    assert from_responses == conversations(as_lines(*messages))
    assert texts(from_responses[0]) == ["在吗", "在的", "退款多久到账"]


def test_blank_lines_are_skipped_but_still_counted():
    lines = ["\n", "   \n", *as_lines(message("m1"))]
    assert [line for line, _ in read_wecom(lines)] == [3]


# --- roles and text ---


def test_roles_come_from_origin_and_the_sender_from_who_sent_it():
    lines = as_lines(
        event("e1", "enter_session", scene="order_detail"),
        message("m1", text="我的快递到哪了"),
        bot("m2", "请提供订单号", at=1),
        agent("m3", "我来帮您查", at=60, servicer="ZhangSan"),
    )
    [payload] = conversations(lines)
    assert [(m["role"], m["sender"]) for m in payload["messages"]] == [
        ("system", KF),
        ("customer", ALICE),
        ("bot", KF),
        ("agent", "ZhangSan"),
    ]


@pytest.mark.parametrize(
    ("msgtype", "body", "text"),
    [
        ("image", {"media_id": "MEDIA_ID"}, "[图片]"),
        ("voice", {"media_id": "MEDIA_ID"}, "[语音]"),
        ("video", {"media_id": "MEDIA_ID"}, "[视频]"),
        ("file", {"media_id": "MEDIA_ID"}, "[文件]"),
        (
            "location",
            {"latitude": 23.1, "longitude": 113.3, "name": "广州塔", "address": "广州市海珠区"},
            "[位置]",  # where the customer is stays out of storage
        ),
        ("link", {"title": "退货指引", "desc": "三步退货", "url": "https://example.cn/r"}, "[链接] 退货指引"),
        ("business_card", {"userid": "ZhangSan"}, "[名片]"),
        ("miniprogram", {"title": "会员中心", "appid": "wx123", "pagepath": "pages/index"}, "[小程序] 会员中心"),
        (
            "msgmenu",
            {
                "head_content": "您对本次服务满意吗？",
                "list": [
                    {"type": "click", "click": {"id": "1", "content": "满意"}},
                    {"type": "click", "click": {"id": "2", "content": "不满意"}},
                ],
                "tail_content": "欢迎再次咨询",
            },
            "[菜单消息] 您对本次服务满意吗？ 满意 / 不满意 欢迎再次咨询",
        ),
        ("channels", {"sub_type": 1, "nickname": "官方视频号", "title": "新品发布"}, "[视频号] 官方视频号 新品发布"),
        ("something_new", {}, "[其他消息] something_new"),
    ],
)
def test_messages_other_than_text_become_a_bracketed_placeholder(msgtype, body, text):
    [payload] = conversations(as_lines(message("m1", msgtype=msgtype, body=body)))
    assert payload["messages"][0]["text"] == text
    assert payload["messages"][0]["type"] == msgtype


def test_events_read_as_their_type_with_a_short_description():
    lines = as_lines(
        event("e1", "enter_session"),
        event("e2", "session_status_change", at=1, change_type=1, new_servicer_userid="ZhangSan"),
        event(
            "e3",
            "session_status_change",
            at=2,
            change_type=2,
            old_servicer_userid="ZhangSan",
            new_servicer_userid="LiSi",
        ),
        event("e4", "msg_send_fail", at=3, fail_msgid="xx", fail_type=4),
        event("e5", "user_recall_msg", at=4, recall_msgid="m1"),
        event("e6", "session_status_change", at=5, change_type=3, old_servicer_userid="LiSi"),
    )
    [payload] = conversations(lines)
    assert texts(payload) == [
        "[事件] enter_session 用户进入会话",
        "[事件] session_status_change 从待接入池接入会话 → ZhangSan",
        "[事件] session_status_change 转接会话 ZhangSan → LiSi",
        "[事件] msg_send_fail 消息发送失败",
        "[事件] user_recall_msg 用户撤回消息",
        "[事件] session_status_change 结束会话",
    ]
    assert {m["type"] for m in payload["messages"]} == {"event"}


def test_events_about_no_customer_belong_to_no_conversation():
    servicer_online = {
        "msgid": "e1",
        "send_time": T0,
        "origin": 4,
        "msgtype": "event",
        "event": {"event_type": "servicer_status_change", "servicer_userid": "ZhangSan", "status": 1},
    }
    reader = WecomReader()
    results = list(reader.read(as_lines(servicer_online, message("m1", at=5))))
    assert [texts(payload) for _, payload in results] == [["你好"]]
    assert reader.skipped == 1


# --- grouping ---


def test_each_customer_has_their_own_conversation():
    lines = as_lines(
        message("a1", customer=ALICE, text="A 的问题"),
        message("b1", customer=BOB, text="B 的问题", at=1),
        bot("a2", "回复 A", customer=ALICE, at=2),
        bot("b2", "回复 B", customer=BOB, at=3),
    )
    by_customer = {p["customer"]: texts(p) for p in conversations(lines)}
    assert by_customer == {ALICE: ["A 的问题", "回复 A"], BOB: ["B 的问题", "回复 B"]}


def test_a_gap_longer_than_idle_minutes_starts_a_new_conversation():
    lines = as_lines(
        message("m1", text="第一次"),
        message("m2", text="正好 30 分钟后", at=30 * MINUTE),
        message("m3", text="又过了 30 分 01 秒", at=60 * MINUTE + 1),
    )
    assert [texts(p) for p in conversations(lines)] == [["第一次", "正好 30 分钟后"], ["又过了 30 分 01 秒"]]
    assert [texts(p) for p in conversations(lines, idle_minutes=90)] == [
        ["第一次", "正好 30 分钟后", "又过了 30 分 01 秒"]
    ]


def test_a_conversation_is_yielded_once_newer_traffic_passes_its_idle_gap():
    read = 0

    def dump() -> Iterator[str]:
        nonlocal read
        for line in as_lines(
            message("a1", customer=ALICE),
            message("b1", customer=BOB, at=31 * MINUTE),
            message("b2", customer=BOB, at=32 * MINUTE),
        ):
            read += 1
            yield line

    stream = read_wecom(dump())
    _, first = next(stream)
    assert first["customer"] == ALICE and read == 2


def test_the_session_end_event_closes_the_conversation_it_belongs_to():
    read = 0
    lines = as_lines(
        message("m1", text="怎么退货"),
        agent("m2", "已为您处理", at=60),
        event("e1", "session_status_change", at=90, change_type=3, old_servicer_userid="ZhangSan"),
        message("m3", text="还有个问题", at=120),
    )

    def dump() -> Iterator[str]:
        nonlocal read
        for line in lines:
            read += 1
            yield line

    stream = read_wecom(dump())
    line, ended = next(stream)
    assert read == 3  # yielded as soon as the end event is read
    assert (line, texts(ended)[-1]) == (1, "[事件] session_status_change 结束会话")
    assert [(line, texts(payload)) for line, payload in stream] == [(4, ["还有个问题"])]


# --- handoff ---


@pytest.mark.parametrize(
    ("messages", "handoff"),
    [
        ([message("m1"), bot("m2", "请稍候", at=1), agent("m3", "人工客服为您服务", at=2)], True),
        ([message("m1"), agent("m2", "人工客服为您服务", at=1), bot("m3", "请评价本次服务", at=2)], False),
        ([message("m1"), bot("m2", "自动回复", at=1)], False),
        (
            [message("m1"), event("e1", "session_status_change", at=1, change_type=1, new_servicer_userid="ZhangSan")],
            True,
        ),
        (
            [
                message("m1"),
                event(
                    "e1",
                    "session_status_change",
                    at=1,
                    change_type=2,
                    old_servicer_userid="ZhangSan",
                    new_servicer_userid="LiSi",
                ),
            ],
            True,
        ),
        ([message("m1"), event("e1", "session_status_change", at=1, change_type=4, new_servicer_userid="LiSi")], False),
    ],
    ids=["agent-after-bot", "bot-after-agent", "bot-only", "taken-from-pool", "transferred", "re-entered"],
)
def test_handoff_is_a_human_after_the_bot_or_a_session_given_to_a_servicer(messages, handoff):
    [payload] = conversations(as_lines(*messages))
    assert payload["handoff"] is handoff


# --- untidy dumps ---


def test_a_message_returned_twice_is_kept_once():
    reader = WecomReader()
    lines = as_lines(message("m1", text="在吗"), bot("m2", "在的", at=1), message("m1", text="在吗"))
    [(_, payload)] = list(reader.read(lines))
    assert texts(payload) == ["在吗", "在的"]
    assert reader.duplicates == 1


def test_messages_out_of_order_within_the_idle_window_are_sorted_by_send_time():
    lines = as_lines(
        message("m2", text="第二句", at=10),
        message("m3", text="第三句", at=20 * MINUTE),
        message("m1", text="第一句", at=0),
        bot("m4", "同一秒", at=20 * MINUTE),
    )
    [payload] = conversations(lines)
    assert texts(payload) == ["第一句", "第二句", "第三句", "同一秒"]
    assert payload["external_id"] == f"{KF}:{ALICE}:m1"


def test_bad_lines_are_reported_with_their_line_numbers_and_reading_goes_on():
    without_msgid = message("m0")
    del without_msgid["msgid"]
    lines = [
        as_lines(message("m1", text="好的"))[0],
        '{"msgid": "m2", "send_time": \n',
        json.dumps(without_msgid) + "\n",
        "\n",
        json.dumps({"errcode": 0, "msg_list": [message("m3", at=2), {"msgtype": "text"}]}) + "\n",
        json.dumps({"errcode": 40001, "errmsg": "invalid credential"}) + "\n",
        "[1, 2]\n",
        json.dumps(message("m4", at=3, origin=9)) + "\n",
        json.dumps({**message("m5", at=4), "send_time": "昨天"}) + "\n",
        as_lines(message("m6", text="谢谢", at=5))[0],
    ]
    results = list(read_wecom(lines))
    assert [r for r in results if isinstance(r, WecomRejected)] == [
        WecomRejected(2, "invalid JSON: Expecting value"),
        WecomRejected(3, "message without msgid"),
        WecomRejected(5, "msg_list[1]: message without msgid"),
        WecomRejected(6, "sync_msg error 40001: invalid credential"),
        WecomRejected(7, "expected a JSON object, got list"),
        WecomRejected(8, "message m4: unknown origin 9"),
        WecomRejected(9, "message m5: send_time is not a Unix timestamp"),
    ]
    [(line, payload)] = [r for r in results if not isinstance(r, WecomRejected)]
    assert line == 1
    assert [m["id"] for m in payload["messages"]] == ["m1", "m3", "m6"]


# --- streaming ---


def test_memory_stays_flat_and_conversations_come_out_while_the_dump_is_read():
    """200,000 messages from 20,000 customers, 100 of them chatting at a time, one message every 6 s."""
    reader = WecomReader(idle_minutes=30)
    read = 0
    most_open = 0

    def dump() -> Iterator[str]:
        nonlocal read, most_open
        for k in range(200_000):
            block, position = divmod(k, 1_000)
            customer = f"wm{block * 100 + position % 100:030d}"
            most_open = max(most_open, reader.open_count)
            read += 1
            yield json.dumps(message(f"msg{k}", customer=customer, at=6 * k, origin=3 if k % 2 else 5))

    first_yielded_after = None
    conversation_count = message_count = 0
    for item in reader.read(dump()):
        assert not isinstance(item, WecomRejected)
        first_yielded_after = first_yielded_after or read
        conversation_count += 1
        message_count += len(item[1]["messages"])

    assert (conversation_count, message_count) == (20_000, 200_000)
    # The 100 customers chatting now, plus the previous 100 until their 30 minutes have passed.
    assert most_open <= 200
    assert first_yielded_after is not None and first_yielded_after < 2_000


# --- a real-looking dump ---


def test_a_sample_dump_reads_end_to_end():
    reader = WecomReader(team="售后")
    with SAMPLE.open(encoding="utf-8") as dump:
        results = list(reader.read(dump))

    assert not [r for r in results if isinstance(r, WecomRejected)]
    summary = [(line, p["customer"], len(p["messages"]), p["handoff"]) for line, p in results]
    assert summary == [
        (1, ALICE, 15, True),  # bot, then 转人工 to ZhangSan; ended by the servicer
        (6, BOB, 6, False),  # the bot's menu answered it; closed once the dump is 30 minutes past it
        (24, BOB, 12, True),  # back two hours later, taken by LiSi and transferred to WangWu
        (36, ALICE, 4, False),  # back again, a voice message and a bot answer; still open at the end
    ]
    assert (reader.duplicates, reader.skipped, reader.open_count) == (1, 1, 0)

    alice = results[0][1]
    assert alice["team"] == "售后"
    assert alice["external_id"] == f"{KF}:{ALICE}:3WRWesonCeV6QB5j5VKwEVpnuMk6"
    assert [m["role"] for m in alice["messages"]] == [
        "system",
        "customer",
        "bot",
        "customer",
        "bot",
        "customer",
        "bot",
        "system",
        "agent",
        "customer",
        "customer",
        "agent",
        "customer",
        "agent",
        "system",
    ]
    assert texts(alice)[9:11] == ["[图片]", "这是下单截图"]  # the screenshot text came late in the dump
    assert alice["messages"][0]["sent_at"] == "2025-03-11T02:00:00+00:00"

    bob_again = results[2][1]
    assert "[链接] 发票换开指引" in texts(bob_again)
    assert {m["sender"] for m in bob_again["messages"] if m["role"] == "agent"} == {"LiSi", "WangWu"}
