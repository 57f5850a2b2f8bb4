"""Conversations in: idempotent, item by item, masked, with the metrics managers report on."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from apps.conversations.models import Agent, Conversation, Customer, Message, Team
from apps.conversations.services.ingest import conversations_ingest
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-11-02T10:00:00+08:00")  # a Monday


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def msg(n: int, role: str, seconds: float, text: str = "好的", sender: str | None = None) -> dict:
    senders = {"customer": "u-88", "bot": "bot-1", "agent": "agent-7", "system": "system"}
    return {"id": f"m{n}", "role": role, "sender": sender or senders[role], "sent_at": at(seconds), "text": text}


def conversation(external_id: str = "c-1001", messages: list[dict] | None = None, **fields) -> dict:
    return {
        "channel": "wechat",
        "external_id": external_id,
        "product": "mall-app",
        "team": "售后一组",
        "customer": "u-88",
        "messages": messages if messages is not None else [msg(1, "customer", 0, "退款多久到账"), msg(2, "bot", 2)],
        **fields,
    }


@pytest.fixture(autouse=True)
def mall():
    return ProductFactory(slug="mall-app", name="母婴商城 App")


@pytest.fixture
def writer(api_key_client):
    return api_key_client("conversations:write", "conversations:read")


# --- the API -----------------------------------------------------------------------------------


def test_a_conversation_is_stored_and_read_back_with_its_metrics(writer):
    response = writer.post("/api/v1/conversations/", conversation(csat=4), format="json")
    assert response.status_code == 201
    assert response.json() == {
        "index": 0,
        "channel": "wechat",
        "external_id": "c-1001",
        "status": "created",
        "messages_added": 2,
    }
    body = writer.get("/api/v1/conversations/wechat/c-1001/").json()
    assert [m["id"] for m in body["messages"]] == ["m1", "m2"]
    assert body["csat"] == 4 and body["product"] == "mall-app" and body["team"] == "售后一组"
    expected = {"first_response_seconds", "human_first_response_seconds", "handle_seconds", "handoff"}
    expected |= {"bot_failure_streak", "repeat_contact", "sla_tier", "sla_breached", "masked_count"}
    assert expected <= body["metrics"].keys()
    assert body["metrics"]["first_response_seconds"] == 2.0


def test_posting_the_same_conversation_twice_changes_nothing(writer):
    writer.post("/api/v1/conversations/", conversation(), format="json")
    again = writer.post("/api/v1/conversations/", conversation(), format="json")
    assert again.status_code == 200
    assert again.json()["status"] == "updated" and again.json()["messages_added"] == 0
    assert Conversation.objects.count() == 1 and Message.objects.count() == 2


def test_overlapping_batches_add_only_new_messages_and_update_the_conversation(writer):
    first = conversation(messages=[msg(1, "customer", 0), msg(2, "bot", 2), msg(3, "customer", 30)])
    second = conversation(messages=[msg(2, "bot", 2), msg(3, "customer", 30), msg(4, "agent", 90)], csat=2)
    writer.post("/api/v1/conversations/", {"conversations": [first]}, format="json")
    body = writer.post("/api/v1/conversations/", {"conversations": [second]}, format="json").json()
    assert body["results"][0]["messages_added"] == 1
    stored = Conversation.objects.get()
    assert stored.message_count == 4 and stored.csat == 2 and stored.agent_message_count == 1


def test_a_bad_conversation_in_a_batch_is_reported_and_writes_nothing_of_itself(writer):
    bad = conversation("c-bad", messages=[msg(1, "customer", 0), {"id": "m2", "role": "bot", "sender": "bot-1"}])
    bad["csat"] = 9
    unknown_product = conversation("c-other-product", product="no-such-app")
    body = writer.post(
        "/api/v1/conversations/", {"conversations": [conversation("c-good"), bad, unknown_product]}, format="json"
    ).json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 0, 2)
    assert body["results"][1]["status"] == "rejected"
    assert set(body["results"][1]["errors"]) == {"csat", "messages[1].sent_at"}
    assert "product" in body["results"][2]["errors"]
    assert list(Conversation.objects.values_list("external_id", flat=True)) == ["c-good"]


def test_a_single_bad_conversation_is_a_400_with_field_errors(writer):
    response = writer.post(
        "/api/v1/conversations/",
        conversation(messages=[{"id": "m1", "role": "boss", "sent_at": "2026-11-02 10:00:00"}]),
        format="json",
    )
    assert response.status_code == 400
    assert {"messages[0].role", "messages[0].sent_at"} <= response.json()["errors"].keys()
    assert "time zone" in response.json()["errors"]["messages[0].sent_at"][0]


def test_batches_are_limited_and_keys_need_their_scope(writer, api_key_client):
    too_many = {"conversations": [conversation(f"c-{i}") for i in range(1001)]}
    assert writer.post("/api/v1/conversations/", too_many, format="json").status_code == 400
    reader_only = api_key_client("conversations:read")
    assert reader_only.post("/api/v1/conversations/", conversation(), format="json").status_code == 403
    assert api_key_client("answers").get("/api/v1/conversations/wechat/c-1001/").status_code == 403
    assert writer.get("/api/v1/conversations/wechat/nope/").status_code == 404


def test_unknown_channels_teams_and_agents_can_be_refused_instead_of_created(writer, settings):
    settings.CONVERSATIONS_CREATE_UNKNOWN = False
    [result] = conversations_ingest([conversation(channel="line", team="新团队")])
    assert result.status == "rejected"
    assert {"channel", "team", "messages"} <= result.errors.keys()
    settings.CONVERSATIONS_CREATE_UNKNOWN = True
    [result] = conversations_ingest([conversation(channel="line", team="新团队")])
    assert result.status == "created" and Team.objects.filter(name="新团队").exists()


def test_the_same_conversation_twice_in_one_batch_is_stored_once_with_all_messages():
    results = conversations_ingest(
        [conversation(messages=[msg(1, "customer", 0)]), conversation(messages=[msg(2, "bot", 3)], csat=5)]
    )
    assert [r.status for r in results] == ["created", "updated"]
    stored = Conversation.objects.get()
    assert stored.message_count == 2 and stored.csat == 5


def ingest_at_once(payloads: list[dict]) -> list[str]:
    """Ingest each payload from its own thread (and database connection), all released at the same
    moment; the statuses, in the payloads' order."""
    statuses: list[str] = [""] * len(payloads)
    errors: list[BaseException] = []
    start = threading.Barrier(len(payloads))

    def post(index: int) -> None:
        try:
            start.wait()
            [result] = conversations_ingest([payloads[index]])
            statuses[index] = result.status
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_conversation_converge_without_duplicates():
    ProductFactory(slug="mall-app")  # the transactional test database starts empty
    payloads = [
        conversation(messages=[msg(i, "customer" if i % 2 else "bot", i * 10) for i in range(1, 9)][k : k + 5])
        for k in range(4)
    ]
    assert set(ingest_at_once(payloads)) <= {"created", "updated"}
    stored = Conversation.objects.get()
    assert Message.objects.count() == 8 and stored.message_count == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_customers_conversations_still_see_each_other_as_repeat_contacts():
    # Sixteen conversations of one customer, an hour apart, posted at the same moment: whichever commits
    # first, every one but the last is followed by another within 48 h.
    ProductFactory(slug="mall-app")
    payloads = [
        conversation(f"c-{k}", messages=[msg(1, "customer", k * 3600), msg(2, "bot", k * 3600 + 5)]) for k in range(16)
    ]
    assert ingest_at_once(payloads) == ["created"] * 16
    flags = dict(Conversation.objects.values_list("external_id", "repeat_contact"))
    assert flags == {f"c-{k}": k < 15 for k in range(16)}


# --- masking at ingestion ------------------------------------------------------------------------


def test_personal_data_is_masked_before_it_is_stored():
    conversations_ingest(
        [conversation(messages=[msg(1, "customer", 0, "我的手机13812345678，订单号20261101123"), msg(2, "bot", 1)])]
    )
    stored = Message.objects.get(external_id="m1")
    assert "13812345678" not in stored.text and "20261101123" in stored.text
    assert stored.masked_count == 1 and Conversation.objects.get().masked_count == 1


def test_a_deployer_may_turn_masking_off(settings):
    settings.PII_MASKING = False
    conversations_ingest([conversation(messages=[msg(1, "customer", 0, "手机13812345678")])])
    assert Message.objects.get().text == "手机13812345678"


# --- metrics -------------------------------------------------------------------------------------


def handed_off_conversation(**fields) -> dict:
    return conversation(
        messages=[
            msg(1, "customer", 0, "退款多久到账"),
            msg(2, "bot", 2, "审核通过后 1–3 个工作日到账"),
            msg(3, "customer", 30, "不是这个"),
            msg(4, "bot", 31, "您可以在订单页查看退款进度"),
            msg(5, "customer", 60, "没用，转人工"),
            msg(6, "system", 61, "转人工"),
            msg(7, "agent", 121, "您好，我是售后客服小美"),
            msg(8, "customer", 180, "我的退款还没到"),
            msg(9, "agent", 220, "帮您查一下"),
            msg(10, "customer", 300, "好的谢谢"),
        ],
        **fields,
    )


def test_response_times_handoff_gaps_handle_time_and_failure_streak():
    conversations_ingest([handed_off_conversation()])
    c = Conversation.objects.get()
    assert (c.message_count, c.customer_message_count, c.bot_message_count, c.agent_message_count) == (10, 5, 2, 2)
    assert c.first_response_seconds == 2 and c.bot_first_response_seconds == 2
    assert c.handoff and c.handoff_at == T0 + timedelta(seconds=60)
    assert c.human_first_response_seconds == 61  # from the customer's request for a human to the agent
    assert c.avg_agent_reply_seconds == pytest.approx((61 + 40) / 2) and c.max_agent_reply_seconds == 61
    assert c.handle_seconds == 240  # from the handoff to the last message
    assert c.bot_failure_streak == 2
    assert c.served_by.code == "agent-7"  # the human, not the bot that spoke first
    assert c.started_at == T0 and c.ended_at == T0 + timedelta(seconds=300)


def test_an_agent_who_speaks_first_on_a_call_responds_when_the_customer_has_spoken():
    """On a phone call the agent greets first; the response time starts from the customer, never negative."""
    conversations_ingest(
        [
            conversation(
                "call-1",
                channel="phone",
                messages=[
                    msg(1, "agent", 0, "您好，这里是母婴商城客服"),
                    msg(2, "customer", 17, "我的退款还没到"),
                    msg(3, "agent", 25, "我帮您查一下"),
                ],
            )
        ]
    )
    c = Conversation.objects.get(external_id="call-1")
    assert c.human_first_response_seconds == 8 and c.first_response_seconds == 8


def test_a_bot_only_conversation_has_no_human_metrics():
    conversations_ingest([conversation()])
    c = Conversation.objects.get()
    assert not c.handoff and c.human_first_response_seconds is None and c.handle_seconds is None
    assert c.bot_failure_streak == 0 and c.served_by.code == "bot-1"


def test_sla_tier_by_tag_and_breach():
    conversations_ingest([handed_off_conversation()])
    ordinary = Conversation.objects.get()
    assert ordinary.sla_tier.name == "普通" and ordinary.sla_target_seconds == 300 and ordinary.sla_breached is False
    slow = handed_off_conversation(external_id="c-urgent", tags=["投诉"])
    slow["messages"][6]["sent_at"] = at(250)  # the agent answered 190 s after the handoff
    for m in slow["messages"][7:]:
        m["sent_at"] = at(260 + int(m["id"][1:]))
    conversations_ingest([slow])
    urgent = Conversation.objects.get(external_id="c-urgent")
    assert urgent.sla_tier.name == "紧急" and urgent.sla_target_seconds == 120 and urgent.sla_breached is True


def test_an_unanswered_customer_breaches_the_sla():
    conversations_ingest([conversation(messages=[msg(1, "customer", 0, "有人吗")])])
    assert Conversation.objects.get().sla_breached is True


def test_response_times_count_business_hours_only():
    Team.objects.create(
        name="白班组",
        business_hours={"timezone": "Asia/Shanghai", "weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "21:00"},
    )
    friday_evening = datetime.fromisoformat("2026-11-06T20:59:00+08:00")
    monday_morning = datetime.fromisoformat("2026-11-09T09:02:00+08:00")
    conversations_ingest(
        [
            conversation(
                team="白班组",
                messages=[
                    {"id": "m1", "role": "customer", "sender": "u-88", "sent_at": friday_evening.isoformat()},
                    {"id": "m2", "role": "agent", "sender": "agent-7", "sent_at": monday_morning.isoformat()},
                ],
            )
        ]
    )
    c = Conversation.objects.get()
    assert c.human_first_response_seconds == 180 and c.first_response_seconds == 180


def test_a_customer_coming_back_within_48_hours_marks_the_earlier_conversation_even_when_it_arrives_late():
    later = conversation("c-2", messages=[msg(1, "customer", 20 * 3600), msg(2, "bot", 20 * 3600 + 1)])
    much_later = conversation("c-3", messages=[msg(1, "customer", 5 * 86400)])
    conversations_ingest([later, much_later])
    conversations_ingest([conversation("c-1")])  # the first conversation arrives last
    flags = dict(Conversation.objects.values_list("external_id", "repeat_contact"))
    assert flags == {"c-1": True, "c-2": False, "c-3": False}
    other_product = conversation("c-4", product=None, messages=[msg(1, "customer", 86400)])
    conversations_ingest([other_product])
    assert Conversation.objects.get(external_id="c-2").repeat_contact is False


def test_odd_input_from_channels_is_cleaned_or_refused_never_a_server_error(writer):
    nul_text = conversation(messages=[msg(1, "customer", 0, "你好\x00在吗")])
    assert writer.post("/api/v1/conversations/", nul_text, format="json").status_code == 201
    assert Message.objects.get().text == "你好在吗"
    for body in ([1, 2], "text", {"conversations": "x"}, conversation(external_id="a\x00b"), {"channel": "Bad Code"}):
        response = writer.post("/api/v1/conversations/", body, format="json")
        assert response.status_code == 400, body


def test_values_of_the_wrong_type_are_field_errors(writer):
    body = conversation(resolution=["resolved"], csat="5", tags="退款")
    body["messages"][0]["role"] = ["customer"]
    response = writer.post("/api/v1/conversations/", body, format="json")
    assert response.status_code == 400
    assert {"resolution", "csat", "tags", "messages[0].role"} <= response.json()["errors"].keys()


def test_reading_an_id_with_a_nul_character_is_a_404(writer):
    assert writer.get("/api/v1/conversations/wechat/a%00b/").status_code == 404


def test_a_rejected_conversation_creates_nothing_not_even_its_team_or_agents():
    [result] = conversations_ingest(
        [
            conversation(
                product="no-such-app", team="幽灵组", customer="u-ghost", messages=[msg(1, "agent", 0, sender="a-9")]
            )
        ]
    )
    assert result.status == "rejected"
    assert not Team.objects.filter(name="幽灵组").exists()
    assert not Agent.objects.filter(code="a-9").exists() and not Customer.objects.filter(external_id="u-ghost").exists()


def test_a_new_agent_joins_the_team_of_the_conversation_it_first_appears_in():
    conversations_ingest([conversation(messages=[msg(1, "customer", 0), msg(2, "agent", 5, sender="agent-42")])])
    assert Agent.objects.get(code="agent-42").team.name == "售后一组"
    assert Agent.objects.get(code="agent-42").kind == "human"
