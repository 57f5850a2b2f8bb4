"""Demo conversations: deterministic, in the API's payload shape, with the mix QA and reports need."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from itertools import islice, pairwise

import pytest

from apps.conversations.payload import parse_conversation
from apps.demo.conversations import DEFAULT_START, generate_conversations

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")
BANK_CARD = re.compile(r"(?<!\d)\d{4}(?: ?\d{4}){3}(?: ?\d{1,3})?(?![\dX])")
EMAIL = re.compile(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+\.[A-Za-z.]+")
PII = (MOBILE, ID_NUMBER, BANK_CARD, EMAIL)
COMPLAINT = re.compile("投诉|差评|太慢了|气死了|破服务")
BOT_NEGATIONS = {"不是这个", "没用", "不是这个意思", "答非所问", "说了半天没用", "你这回答的什么啊", "不是", "？？？"}
BOT_NEGATIONS |= {"转人工", "人工", "我要人工", "人工客服"}
IMPOLITE = ("我们也没办法", "我刚才已经说过了", "你自己看一下说明", "不是我们的问题", "听不懂吗", "爱找谁找谁")

CHANNELS = {"wechat": 0.45, "app": 0.25, "web": 0.15, "wecom": 0.10, "phone": 0.05}
TEAMS = {"售后一组", "售后二组", "钱包客服组", "电话客服组", "VIP 专席"}
BOTS = {"mall-app": "bot-mall", "wallet-app": "bot-wallet"}
CONVERSATION_KEYS = {"channel", "external_id", "product", "team", "customer", "csat", "resolution", "tags", "messages"}
MESSAGE_KEYS = {"id", "role", "sender", "sent_at", "text", "type"}


@pytest.fixture(scope="module")
def conversations() -> list[dict]:
    return list(generate_conversations(2000, seed=11))


def _times(conversation: dict) -> list[datetime]:
    return [datetime.fromisoformat(m["sent_at"]) for m in conversation["messages"]]


def _customer_text(conversation: dict) -> str:
    return "\n".join(m["text"] for m in conversation["messages"] if m["role"] == "customer")


def _is_handoff(conversation: dict) -> bool:
    return any(m["role"] == "system" and m["text"] == "转人工" for m in conversation["messages"])


def _share(conversations: list[dict], predicate) -> float:
    return sum(1 for c in conversations if predicate(c)) / len(conversations)


def _gb11643_valid(number: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return "10X98765432"[total % 11] == number[17]


def _luhn_valid(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(d * 2 - 9 if d > 4 else d * 2 for d in digits[1::2])
    return total % 10 == 0


def test_the_same_seed_gives_the_same_conversations():
    assert list(generate_conversations(300, seed=7)) == list(generate_conversations(300, seed=7))
    assert list(generate_conversations(300, seed=7)) != list(generate_conversations(300, seed=8))


def test_count_is_exact_and_external_ids_name_channel_seed_and_index(conversations):
    assert len(conversations) == 2000
    assert list(generate_conversations(0)) == []
    for n, conversation in enumerate(conversations, 1):
        assert conversation["external_id"] == f"{conversation['channel']}-11-{n}"


def test_every_conversation_has_the_payload_shape_the_api_accepts(conversations):
    agent_teams: dict[str, set[str]] = defaultdict(set)
    for conversation in conversations:
        assert set(conversation) == CONVERSATION_KEYS
        assert conversation["channel"] in CHANNELS
        assert conversation["product"] in BOTS
        assert conversation["team"] in TEAMS
        assert re.fullmatch(r"u-[1-9]\d*", conversation["customer"])
        assert int(conversation["customer"][2:]) <= 667  # customers u-1 … u-⌈2000/3⌉
        assert conversation["csat"] is None or conversation["csat"] in {1, 2, 3, 4, 5}
        assert conversation["resolution"] in {"resolved", "unresolved"}
        assert conversation["tags"] and all(isinstance(t, str) and t for t in conversation["tags"])
        messages = conversation["messages"]
        assert 4 <= len(messages) <= 30
        assert [m["id"] for m in messages] == [f"m{k}" for k in range(1, len(messages) + 1)]
        for message in messages:
            assert set(message) == MESSAGE_KEYS
            assert message["type"] == "text" and message["text"].strip()
            role, sender = message["role"], message["sender"]
            if role == "customer":
                assert sender == conversation["customer"]
            elif role == "bot":
                assert sender == BOTS[conversation["product"]]
            elif role == "agent":
                assert re.fullmatch(r"agent-(0[1-9]|[12]\d|30)", sender)
                agent_teams[sender].add(conversation["team"])
            else:
                assert (role, sender) == ("system", "system")
        times = _times(conversation)
        assert all(t.utcoffset() == timedelta(hours=8) for t in times)
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", m["sent_at"]) for m in messages)
        assert times == sorted(times), "timestamps never go backwards within a conversation"
        parse_conversation(conversation)  # the REST API's own checks
    assert len(agent_teams) == 30
    assert all(len(teams) == 1 for teams in agent_teams.values()), "each agent belongs to one team"


def test_conversations_start_within_the_days_before_start():
    start = datetime(2026, 6, 1, 12, 30, tzinfo=timezone(timedelta(hours=9)))
    conversations = list(generate_conversations(500, seed=3, start=start, days=7))
    firsts = [_times(c)[0] for c in conversations]
    assert all(start - timedelta(days=7) <= t < start for t in firsts)
    assert all(c["messages"][0]["sent_at"].endswith("+09:00") for c in conversations)
    assert len({t.date() for t in firsts}) >= 7
    default = [_times(c)[0] for c in generate_conversations(500, seed=3)]
    assert all(DEFAULT_START - timedelta(days=30) <= t < DEFAULT_START for t in default)


def test_channels_follow_their_weights(conversations):
    counts = Counter(c["channel"] for c in conversations)
    for channel, share in CHANNELS.items():
        assert abs(counts[channel] / len(conversations) - share) < 0.04, (channel, counts)


def test_most_start_with_the_bot_and_phone_and_wecom_are_human_only(conversations):
    assert _share(conversations, lambda c: c["messages"][0]["role"] == "bot") > 0.7
    for conversation in conversations:
        roles = {m["role"] for m in conversation["messages"]}
        if conversation["channel"] in {"phone", "wecom"}:
            assert "bot" not in roles and "agent" in roles


def test_about_a_third_hand_off_to_an_agent_who_greets_first(conversations):
    assert 0.25 <= _share(conversations, _is_handoff) <= 0.45
    for conversation in filter(_is_handoff, conversations):
        messages = conversation["messages"]
        after = next(i for i, m in enumerate(messages) if m["role"] == "system" and m["text"] == "转人工") + 1
        assert messages[after]["role"] == "agent"
        assert "您好" in messages[after]["text"] or "我是" in messages[after]["text"]


def test_some_handoffs_follow_a_bot_failure_streak(conversations):
    def longest_streak(conversation: dict) -> int:
        run = best = 0
        for bot, customer in pairwise(conversation["messages"]):
            if bot["role"] == "bot" and customer["role"] == "customer":
                run = run + 1 if customer["text"] in BOT_NEGATIONS else 0
                best = max(best, run)
        return best

    assert 0.03 <= _share(conversations, lambda c: longest_streak(c) >= 3) <= 0.25


def test_agents_reply_within_a_minute_mostly_but_some_replies_breach_the_sla(conversations):
    waits = []
    for conversation in conversations:
        waiting_since = None
        for message, sent_at in zip(conversation["messages"], _times(conversation), strict=True):
            if message["role"] == "customer" and waiting_since is None:
                waiting_since = sent_at
            elif message["role"] in {"agent", "bot"}:
                if message["role"] == "agent" and waiting_since is not None:
                    waits.append((sent_at - waiting_since).total_seconds())
                waiting_since = None
    slow = [w for w in waits if w >= 180]
    assert sum(1 for w in waits if w <= 60) / len(waits) > 0.7
    assert 0.01 < len(slow) / len(waits) < 0.1
    assert max(slow) <= 15 * 60 + 300  # 3–15 min, plus the customer's own "人呢？" on the way


def test_complaints_and_negative_emotion_in_about_a_tenth(conversations):
    complaints = [c for c in conversations if "投诉" in c["tags"]]
    assert 0.05 <= len(complaints) / len(conversations) <= 0.15
    assert _share(conversations, lambda c: COMPLAINT.search(_customer_text(c)) is not None) >= 0.05
    rated = [c["csat"] for c in complaints if c["csat"] is not None]
    others = [c["csat"] for c in conversations if c["csat"] is not None and "投诉" not in c["tags"]]
    assert sum(rated) / len(rated) < sum(others) / len(others) - 1


def test_an_occasional_agent_is_impolite(conversations):
    def impolite(conversation: dict) -> bool:
        return any(m["role"] == "agent" and any(p in m["text"] for p in IMPOLITE) for m in conversation["messages"])

    assert 0.005 <= _share(conversations, impolite) <= 0.05


def test_csat_is_given_in_about_sixty_percent_mostly_four_or_five(conversations):
    ratings = [c["csat"] for c in conversations if c["csat"] is not None]
    assert 0.5 <= len(ratings) / len(conversations) <= 0.7
    assert set(ratings) == {1, 2, 3, 4, 5}
    assert sum(1 for r in ratings if r >= 4) / len(ratings) > 0.55


def test_personal_data_appears_in_a_few_percent_and_only_from_customers(conversations):
    assert 0.02 <= _share(conversations, lambda c: any(p.search(_customer_text(c)) for p in PII)) <= 0.10
    for conversation in conversations:
        for message in conversation["messages"]:
            if message["role"] != "customer":
                assert not any(p.search(message["text"]) for p in PII), message
    found = {p.pattern: 0 for p in PII}
    for conversation in conversations:
        for pattern in PII:
            found[pattern.pattern] += bool(pattern.search(_customer_text(conversation)))
    assert all(found.values()), "mobile numbers, ID numbers, bank cards and e-mail addresses all occur"


def test_id_numbers_pass_the_gb11643_checksum_and_bank_cards_pass_luhn():
    ids, cards = [], []
    for conversation in generate_conversations(10_000, seed=5):
        text = _customer_text(conversation)
        ids += ID_NUMBER.findall(text)
        # An 18-digit run is an ID number (and is tried as one first, as apps.core.masking does).
        cards += [card.replace(" ", "") for card in BANK_CARD.findall(text) if not ID_NUMBER.fullmatch(card)]
    assert len(ids) >= 20 and len(cards) >= 20
    assert all(_gb11643_valid(number) for number in ids)
    assert all(len(card) in (16, 19) and _luhn_valid(card) for card in cards)


def test_some_customers_come_back_about_the_same_product_within_48_hours(conversations):
    visits: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for conversation in conversations:
        times = _times(conversation)
        visits[conversation["customer"], conversation["product"]].append((times[0], times[-1]))
    returning = {
        customer
        for (customer, _), spans in visits.items()
        for (_, ended), (began, _) in pairwise(sorted(spans))
        if began - ended <= timedelta(hours=48)
    }
    customers = {customer for customer, _ in visits}
    assert 0.08 <= len(returning) / len(customers) <= 0.25


def test_twenty_thousand_conversations_stream_quickly():
    began = time.perf_counter()
    messages = sum(len(c["messages"]) for c in generate_conversations(20_000, seed=1))
    elapsed = time.perf_counter() - began
    print(f"\n20,000 conversations, {messages} messages in {elapsed:.2f} s")
    assert 10 <= messages / 20_000 <= 14, "about 12 messages per conversation"


def test_the_generator_is_lazy():
    first = list(islice(generate_conversations(10**12, seed=2), 3))
    assert len(first) == 3
