"""The generated Python client (build/clients/python, from ``make clients``) against a live portal: what a bot does
with it, and examples/bot.py run as a bot team would run it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apps.answers.models import AnswerQuery
from tests.clients.conftest import ROOT, Portal, generated_client

PYTHON_CLIENT = generated_client("python")
sys.path.insert(0, str(PYTHON_CLIENT))

from kbportal_client import AuthenticatedClient, models  # noqa: E402
from kbportal_client.api.answers import v1_answers_choose_create as choose  # noqa: E402
from kbportal_client.api.answers import v1_answers_create as ask  # noqa: E402
from kbportal_client.api.answers import v1_answers_feedback_create as feedback  # noqa: E402
from kbportal_client.api.conversations import v1_conversations_create as post_conversations  # noqa: E402
from kbportal_client.api.knowledge import articles_list  # noqa: E402
from kbportal_client.types import Response  # noqa: E402


def bot_client(portal: Portal, *, api_key: str | None = None) -> AuthenticatedClient:
    return AuthenticatedClient(portal.url, token=api_key or portal.api_key, prefix="Api-Key")


def patiently(send: Callable[[], Response], *, attempts: int = 5) -> Response:
    """Send; after a 429, wait the response's ``Retry-After`` seconds and send again."""
    for _ in range(attempts):
        response = send()
        if response.status_code != 429:
            return response
        time.sleep(int(response.headers["Retry-After"]))
    raise AssertionError(f"still 429 after {attempts} attempts")


def test_each_decision_comes_back_as_its_own_model(portal):
    client = bot_client(portal)
    replies = {
        decision: ask.sync(client=client, body=models.AnswerRequest(question=question, product=portal.product))
        for decision, question in portal.questions.items()
    }
    answered, clarified, handed_off = replies["answer"], replies["clarify"], replies["handoff"]
    assert isinstance(answered, models.AnswerDecisionAnswer)
    assert (answered.answer.article_id, answered.handoff, answered.suggestions) == ("mall-refund-001", False, [])
    assert isinstance(clarified, models.AnswerDecisionClarify)
    assert clarified.answer is None and len(clarified.suggestions) >= 2
    assert {"mall-refund-001", "mall-refund-002"} <= {s.article_id for s in clarified.suggestions}
    assert isinstance(handed_off, models.AnswerDecisionHandoff)
    assert (handed_off.handoff, handed_off.handoff_reason, handed_off.answer) == (
        True,
        models.HandoffReasonEnum.HUMAN_ONLY_TOPIC,
        None,
    )


def test_a_bot_chooses_a_suggestion_and_sends_feedback(portal):
    client = bot_client(portal)
    body = models.AnswerRequest(question=portal.questions["clarify"], channel=models.ChannelEnum.WECHAT)
    clarified = ask.sync(client=client, body=body)
    assert isinstance(clarified, models.AnswerDecisionClarify)
    chosen = choose.sync(clarified.query_id, client=client, body=models.AnswerChoice(article_id="mall-refund-001"))
    assert isinstance(chosen, models.AnswerChoiceResult)
    assert (chosen.answer.text, chosen.handoff) == ("亲，1–3 个工作日到账哦～", False)
    refused = choose.sync_detailed(clarified.query_id, client=client, body=models.AnswerChoice(article_id=None))
    assert refused.status_code == 409 and isinstance(refused.parsed, models.Error)
    sent = feedback.sync_detailed(
        clarified.query_id, client=client, body=models.AnswerFeedback(helpful=True, comment="清楚")
    )
    assert sent.status_code == 204
    assert AnswerQuery.objects.get(pk=clarified.query_id).helpful is True


def test_a_batch_with_one_bad_item_stores_the_others_and_says_why(portal):
    good = models.ConversationIn(
        channel="app",
        external_id="smoke-1",
        product=portal.product,
        customer="u-1",
        messages=[
            models.ConversationMessageIn(
                id="m1",
                role=models.ConversationMessageInRoleEnum.CUSTOMER,
                sender="u-1",
                sent_at=datetime(2026, 11, 2, 10, tzinfo=UTC),
                text="退款多久到账？",
            )
        ],
    )
    bad = {"channel": "app", "external_id": "smoke-2", "messages": [{"id": "m1", "role": "customer"}]}
    batch = models.ConversationBatchIn(conversations=[good.to_dict(), bad])
    result = post_conversations.sync(client=bot_client(portal), body=batch)
    assert isinstance(result, models.ConversationBatchResult)
    assert (result.created, result.updated, result.rejected) == (1, 0, 1)
    stored, rejected = result.results
    assert (stored.index, stored.status, stored.external_id) == (0, models.StatusEnum.CREATED, "smoke-1")
    assert (rejected.index, rejected.status) == (1, models.StatusEnum.REJECTED)
    assert "messages[0].sent_at" in rejected.errors.to_dict()


def test_articles_changed_since_a_cursor_are_listed(portal):
    client = bot_client(portal)
    page = articles_list.sync(client=client, product=portal.product, updated_since=portal.updated_since)
    assert isinstance(page, models.ArticlePage)
    assert {a.external_id for a in page.results} == {"mall-refund-001", "mall-refund-002", "mall-invoice-001"}
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert articles_list.sync(client=client, product=portal.product, updated_since=later).results == []


def test_a_rate_limited_bot_waits_for_retry_after(portal):
    client = bot_client(portal, api_key=portal.limited_api_key)
    body = models.AnswerRequest(question=portal.questions["answer"])
    # One request a window: the second is refused, or the third when a new window began between the first two.
    sent = [ask.sync_detailed(client=client, body=body) for _ in range(2)]
    if sent[-1].status_code != 429:
        sent.append(ask.sync_detailed(client=client, body=body))
    refused = sent[-1]
    assert sent[0].status_code == 200
    assert refused.status_code == 429 and isinstance(refused.parsed, models.Error)
    assert int(refused.headers["Retry-After"]) >= 1
    started = time.monotonic()
    answered = patiently(lambda: ask.sync_detailed(client=client, body=body))
    assert isinstance(answered.parsed, models.AnswerDecisionAnswer)
    assert time.monotonic() - started < 10


def test_the_example_bot_answers_clarifies_and_hands_off(portal):
    # The customer: a clear question (then "helpful"), a vague one (then picks suggestion 1), a human-only one.
    customer = "\n".join(
        [portal.questions["answer"], "y", portal.questions["clarify"], "1", "n", portal.questions["handoff"], ""]
    )
    env = {**os.environ, **portal.env(), "PYTHONPATH": str(PYTHON_CLIENT)}
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "bot.py")],
        input=customer,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "审核通过后 1–3 个工作日原路退回。" in run.stdout
    assert "1. " in run.stdout and "2. " in run.stdout  # the "did you mean" list
    assert "Handing you over to a human colleague." in run.stdout
    assert "Sorry" not in run.stdout
    assert sorted(AnswerQuery.objects.exclude(helpful=None).values_list("helpful", flat=True)) == [False, True]
