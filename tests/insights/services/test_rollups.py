"""Daily rollups: the same figures as computing them straight from the conversations, however the work is
split, repeated or late; the dashboard's permissions and exports."""

import random
from datetime import date, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection

from apps.accounts import roles
from apps.answers.models import AnswerQuery
from apps.conversations.models import Conversation
from apps.conversations.services.ingest import conversations_ingest
from apps.insights.models import DailyServiceStats
from apps.insights.selectors import Filters, breakdown, series, summary
from apps.insights.services.digest import week_of, weekly_digest_send
from apps.insights.services.rollups import rollup_days_rebuild, rollups_refresh_pending
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime.fromisoformat("2026-10-01T09:00:00+08:00")


def make_conversations(count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    items = []
    for n in range(count):
        start = T0 + timedelta(days=rng.randrange(20), minutes=rng.randrange(600))
        messages = [{"id": "m1", "role": "customer", "sender": f"u{n}", "sent_at": start.isoformat(), "text": "在吗"}]
        if rng.random() < 0.6:
            messages.append(
                {
                    "id": "m2",
                    "role": "bot",
                    "sender": "bot-1",
                    "sent_at": (start + timedelta(seconds=rng.randrange(1, 9))).isoformat(),
                    "text": "您好",
                }
            )
        if rng.random() < 0.7:
            messages.append(
                {
                    "id": "m3",
                    "role": "agent",
                    "sender": rng.choice(["a-1", "a-2", "a-3"]),
                    "sent_at": (start + timedelta(seconds=rng.randrange(10, 600))).isoformat(),
                    "text": "请稍等",
                }
            )
        items.append(
            {
                "channel": rng.choice(["wechat", "app", "web"]),
                "external_id": f"c-{seed}-{n}",
                "product": rng.choice(["mall-app", "wallet-app", None]),
                "team": rng.choice(["售后一组", "售前组", None]),
                "customer": f"cust-{rng.randrange(count // 3 + 1)}",
                **({"csat": rng.randrange(1, 6)} if rng.random() < 0.5 else {}),
                "messages": messages,
            }
        )
    assert all(r.status != "rejected" for r in conversations_ingest(items))


@pytest.fixture(autouse=True)
def _products():
    ProductFactory(slug="mall-app")
    ProductFactory(slug="wallet-app")


def direct(start: date, end: date, **where) -> dict:
    """The figures computed straight from the conversations (no rollups)."""
    clauses = ["(started_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN %(start)s AND %(end)s"]
    clauses += [f"{k}_id = %({k})s" for k in where]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), avg(first_response_seconds), avg(human_first_response_seconds), avg(handle_seconds),
                   avg(csat),
                   100.0 * (count(*) FILTER (WHERE customer_message_count > 0)
                            - count(*) FILTER (WHERE customer_message_count > 0 AND repeat_contact))
                         / NULLIF(count(*) FILTER (WHERE customer_message_count > 0), 0),
                   100.0 * count(*) FILTER (WHERE handoff) / NULLIF(count(*) FILTER (WHERE bot_message_count > 0), 0),
                   100.0 * count(*) FILTER (WHERE sla_breached) / NULLIF(count(sla_breached), 0)
            FROM conversations_conversation WHERE {" AND ".join(clauses)}
            """,
            {"start": start, "end": end, **where},
        )
        keys = ["conversations", "frt", "human_frt", "aht", "csat", "fcr", "handoff_rate", "sla_breach_rate"]
        return dict(zip(keys, cursor.fetchone(), strict=True))


def assert_same(rolled: dict, straight: dict) -> None:
    for key, value in straight.items():
        if value is None:
            assert rolled[key] is None, key
        else:
            assert rolled[key] == pytest.approx(float(value), rel=1e-9), key


def test_rollups_equal_a_direct_computation_for_any_range_and_filter():
    make_conversations(300)
    rollups_refresh_pending()
    start, end = date(2026, 10, 3), date(2026, 10, 15)
    assert_same(summary(Filters(start, end)), direct(start, end))
    team = Conversation.objects.filter(team__name="售后一组").values_list("team_id", flat=True).first()
    product = Conversation.objects.filter(product__slug="wallet-app").values_list("product_id", flat=True).first()
    assert_same(summary(Filters(start, end, team=team)), direct(start, end, team=team))
    assert_same(summary(Filters(start, end, product=product)), direct(start, end, product=product))
    by_day = series(Filters(date(2026, 10, 1), date(2026, 10, 20)))
    assert sum(row["conversations"] for row in by_day) == Conversation.objects.count()
    agents = breakdown(Filters(date(2026, 10, 1), date(2026, 10, 20)), "agent")
    served = Conversation.objects.filter(served_by__isnull=False).count()
    assert sum(row["conversations"] for row in agents) == served
    # By agent, no "handoff rate" (100 % for every human by definition) but the share received from a bot.
    for row in agents:
        assert "handoff_rate" not in row
        theirs = Conversation.objects.filter(served_by_id=row["id"])
        expected = 100.0 * theirs.filter(handoff=True).count() / theirs.count()
        assert row["from_bot_rate"] == pytest.approx(expected)


def test_running_twice_or_rebuilding_gives_the_same_rows():
    make_conversations(120)
    rollups_refresh_pending()
    first = sorted(
        map(repr, DailyServiceStats.objects.values_list("day", "channel_id", "team_id", "product_id", "conversations"))
    )
    rollups_refresh_pending()
    rollup_days_rebuild([date(2026, 10, d) for d in range(1, 21)])
    again = sorted(
        map(repr, DailyServiceStats.objects.values_list("day", "channel_id", "team_id", "product_id", "conversations"))
    )
    assert again == first


def test_a_late_conversation_updates_its_day():
    make_conversations(50)
    rollups_refresh_pending()
    before = summary(Filters(date(2026, 10, 1), date(2026, 10, 1)))["conversations"]
    late = {
        "channel": "wechat",
        "external_id": "late-1",
        "product": "mall-app",
        "messages": [
            {"id": "m1", "role": "customer", "sender": "u", "sent_at": "2026-10-01T10:00:00+08:00", "text": "在吗"}
        ],
    }
    conversations_ingest([late])
    rollups_refresh_pending()
    assert summary(Filters(date(2026, 10, 1), date(2026, 10, 1)))["conversations"] == before + 1


def test_bot_answer_and_helpful_rates_come_from_the_question_log():
    day = datetime.fromisoformat("2026-10-02T12:00:00+08:00")
    for n, (decision, helpful) in enumerate(
        [("answered", True), ("answered", False), ("answered", None), ("no_match", None)]
    ):
        AnswerQuery.objects.create(
            created_at=day + timedelta(minutes=n),
            question="q",
            normalized="q",
            decision=decision,
            confidence=0.9,
            latency_ms=5,
            channel="wechat",
            helpful=helpful,
        )
    rollups_refresh_pending()
    figures = summary(Filters(date(2026, 10, 2), date(2026, 10, 2)))
    assert figures["bot_answer_rate"] == pytest.approx(75.0) and figures["helpful_rate"] == pytest.approx(50.0)


def test_who_may_see_the_dashboards(client):
    make_conversations(20)
    rollups_refresh_pending()
    for role, dashboard, knowledge in (
        (roles.QA_LEAD, 200, 200),
        (roles.ADMINISTRATOR, 200, 200),
        (roles.KNOWLEDGE_EDITOR, 403, 200),
        (roles.QA_REVIEWER, 403, 403),
        (roles.AGENT, 403, 403),
    ):
        client.force_login(UserFactory(role=role))
        assert client.get("/insights/?start=2026-10-01&end=2026-10-20").status_code == dashboard, role
        assert client.get("/insights/knowledge/").status_code == knowledge, role


def test_every_table_exports_to_csv_and_rows_drill_down(client):
    make_conversations(40)
    rollups_refresh_pending()
    client.force_login(UserFactory(role=roles.ADMINISTRATOR))
    page = client.get("/insights/?start=2026-10-01&end=2026-10-20").content.decode()
    assert "/admin/conversations/conversation/?" in page and "agent=" in page
    for export in ("series", "channel", "team", "product", "agent"):
        response = client.get(f"/insights/?start=2026-10-01&end=2026-10-20&export={export}")
        assert response["Content-Type"].startswith("text/csv"), export
        assert len(response.content.decode("utf-8-sig").splitlines()) > 1, export
    assert client.get("/insights/?export=nonsense").status_code == 404
    for export in ("products", "helpful", "unused", "gaps", "releases"):
        assert client.get(f"/insights/knowledge/?export={export}")["Content-Type"].startswith("text/csv")
    drill = client.get(
        "/admin/conversations/conversation/?agent="
        + str(Conversation.objects.exclude(served_by=None).first().served_by_id)
    )
    assert drill.status_code == 200


def test_the_weekly_digest_goes_out_once_per_person_and_week():
    from tests.factories import published_article

    editor = UserFactory(role=roles.KNOWLEDGE_EDITOR, email="editor@example.com")
    version = published_article()
    version.article.__class__.objects.filter(pk=version.article_id).update(owner=editor, needs_verification=True)
    assert weekly_digest_send() == 1
    assert weekly_digest_send() == 0
    [message] = mail.outbox
    assert message.to == ["editor@example.com"] and version.article.external_id in message.body
    assert week_of().weekday() == 0


def test_a_qa_lead_gets_the_teams_scores_and_open_disputes(client):
    import json

    from apps.reviews.models import Dispute, Review
    from tests.factories import all_pass, lead_of, setup_tasks

    [task], agent_user, reviewer, version = setup_tasks(1)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    client.post(
        f"/qa/reviews/{review.pk}/submit/", json.dumps({"outcomes": all_pass(version)}), content_type="application/json"
    )
    Dispute.objects.create(review=review, criterion=version.criteria.first(), raised_by=agent_user, reason="理由")
    lead = lead_of()
    lead.email = "lead@example.com"
    lead.save()
    Review.objects.update(submitted_at=Review.objects.get().submitted_at - timedelta(days=7))
    assert weekly_digest_send() == 1
    [message] = mail.outbox
    assert message.to == ["lead@example.com"] and "售后一组" in message.body and "/qa/disputes/" in message.body


def test_an_empty_period_says_so_instead_of_showing_blank_charts(client):
    make_conversations(20)
    rollups_refresh_pending()
    client.force_login(UserFactory(role=roles.ADMINISTRATOR))
    assert 'id="empty-state"' in client.get("/insights/?start=2020-01-01&end=2020-01-31").content.decode()
    assert 'id="empty-state"' not in client.get("/insights/?start=2026-10-01&end=2026-10-20").content.decode()


def test_a_lead_sees_the_figures_of_the_teams_they_lead(client):
    from apps.conversations.models import Team

    make_conversations(40)
    rollups_refresh_pending()
    lead = UserFactory(role=roles.QA_LEAD)
    Team.objects.get(name="售后一组").leads.add(lead)
    client.force_login(lead)
    teams = client.get("/insights/?start=2026-10-01&end=2026-10-20&export=team").content.decode("utf-8-sig")
    assert "售后一组" in teams and "售前组" not in teams
    mine = summary(Filters(start=date(2026, 10, 1), end=date(2026, 10, 20), team=Team.objects.get(name="售后一组").pk))
    cards = client.get("/insights/?start=2026-10-01&end=2026-10-20").context["cards"]
    shown = next(card for card in cards if card["key"] == "conversations")
    assert shown["value"] == mine["conversations"]  # not everyone's
