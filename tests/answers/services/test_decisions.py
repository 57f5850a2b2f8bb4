"""Bot decisions: answer directly, offer the closest questions (clarify), or hand off; and the choice."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.answers.models import AnswerQuery, Decision
from tests.factories import answer_policy, published_bot_articles

pytestmark = pytest.mark.django_db


@pytest.fixture
def knowledge(mall):
    return published_bot_articles(mall, "refund", "refund_entry", "invoice")


def ask(client, **body):
    response = client.post("/api/v1/answers/", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def choose(client, query_id: str, article_id: str | None):
    return client.post(f"/api/v1/answers/{query_id}/choose/", {"article_id": article_id}, format="json")


def test_a_confident_question_is_answered_directly(bot, knowledge):
    answer_policy(answer=0.0, clarify=0.0)
    body = ask(bot, question="退款多久到账", channel="wechat")
    assert (body["decision"], body["handoff"], body["suggestions"]) == ("answer", False, [])
    assert body["answer"]["text"] == "亲，1–3 个工作日到账哦～"


def test_between_the_thresholds_the_bot_offers_the_closest_standard_questions(bot, knowledge):
    answer_policy(answer=1.0, clarify=0.0)
    body = ask(bot, question="退款的事情", channel="wechat")
    assert (body["decision"], body["handoff"], body["handoff_reason"], body["answer"]) == (
        "clarify",
        False,
        None,
        None,
    )
    assert 2 <= len(body["suggestions"]) <= 5
    assert set(body["suggestions"][0]) == {"article_id", "question"}
    assert {"mall-refund-001", "mall-refund-002"} <= {s["article_id"] for s in body["suggestions"]}
    logged = AnswerQuery.objects.get(pk=body["query_id"])
    assert logged.decision == Decision.CLARIFY and len(logged.suggested_articles) == len(body["suggestions"])


def test_below_the_suggestion_threshold_it_hands_off_with_no_suggestions(bot, knowledge):
    answer_policy(answer=1.0, clarify=1.0)
    body = ask(bot, question="今天天气怎么样")
    assert (body["decision"], body["handoff"], body["handoff_reason"], body["suggestions"]) == (
        "handoff",
        True,
        "low_confidence",
        [],
    )


def test_choosing_a_suggestion_returns_its_answer_for_the_querys_channel(bot, knowledge):
    answer_policy(answer=1.0, clarify=0.0)
    body = ask(bot, question="退款的事情", channel="wechat", session_id="s-1")
    response = choose(bot, body["query_id"], "mall-refund-001")
    assert response.status_code == 200
    assert response.json() == {
        "query_id": body["query_id"],
        "answer": {
            "article_id": "mall-refund-001",
            "version": 1,
            "question": "退款多久能到账？",
            "text": "亲，1–3 个工作日到账哦～",
        },
        "handoff": False,
    }
    logged = AnswerQuery.objects.get(pk=body["query_id"])
    assert logged.chosen_article.external_id == "mall-refund-001" and logged.chosen_at is not None
    # The same choice again is harmless; a different one is refused.
    assert choose(bot, body["query_id"], "mall-refund-001").status_code == 200
    assert choose(bot, body["query_id"], None).status_code == 409


def test_a_resolved_clarify_is_not_a_failure_but_none_of_these_is(bot, knowledge):
    answer_policy(answer=1.0, clarify=0.0)
    for _ in range(3):  # three lists, each resolved by a choice: the session never hands off
        body = ask(bot, question="退款的事情", session_id="happy")
        assert body["decision"] == "clarify"
        assert choose(bot, body["query_id"], body["suggestions"][0]["article_id"]).json()["handoff"] is False
    assert ask(bot, question="退款的事情", session_id="happy")["decision"] == "clarify"

    results = []
    for _ in range(2):
        body = ask(bot, question="退款的事情", session_id="unhappy")
        results.append(choose(bot, body["query_id"], None).json())
    assert [r["answer"] for r in results] == [None, None]
    # After the second "none of these" in a row, one more failure would hand off: hand off now.
    assert [r["handoff"] for r in results] == [False, True]
    assert ask(bot, question="退款的事情", session_id="unhappy")["handoff_reason"] == "failure_streak"


def test_none_of_these_is_a_knowledge_gap(bot, knowledge):
    from apps.answers.gaps import open_gap_queries

    answer_policy(answer=1.0, clarify=0.0)
    body = ask(bot, question="退款的事情")
    assert not open_gap_queries().filter(pk=body["query_id"]).exists()
    choose(bot, body["query_id"], None)
    assert open_gap_queries().filter(pk=body["query_id"]).exists()


def test_choose_refuses_what_was_not_suggested_and_other_keys_queries(bot, knowledge, api_key_client):
    answer_policy(answer=1.0, clarify=0.0)
    body = ask(bot, question="退款的事情")
    not_offered = {"mall-refund-001", "mall-refund-002", "mall-invoice-001"} - {
        s["article_id"] for s in body["suggestions"]
    }
    for article_id in [*not_offered, "no-such-article"]:
        # Well-formed, but not one of this question's suggestions: a conflict with the question, not bad input.
        response = choose(bot, body["query_id"], article_id)
        assert response.status_code == 409 and "article_id" in response.json()["errors"]
    assert choose(api_key_client("answers"), body["query_id"], None).status_code == 404
    assert choose(bot, str(uuid.uuid4()), None).status_code == 404
    assert AnswerQuery.objects.get(pk=body["query_id"]).chosen_at is None


def test_choose_is_only_for_questions_answered_with_suggestions(bot, knowledge):
    answer_policy(answer=0.0, clarify=0.0)
    body = ask(bot, question="退款多久到账")
    assert body["decision"] == "answer"
    assert choose(bot, body["query_id"], "mall-refund-001").status_code == 409


def test_human_only_topics_hand_off_even_in_the_suggestion_zone(bot, knowledge):
    answer_policy(answer=1.0, clarify=0.0)
    body = ask(bot, question="我的退款被盗刷了怎么办")
    assert (body["decision"], body["handoff_reason"], body["suggestions"]) == ("handoff", "human_only_topic", [])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": 42}, "question"),
        ({"question": ["退款"]}, "question"),
        ({"question": "退款", "top_k": "3"}, "top_k"),
        ({"question": "退款", "top_k": 2.5}, "top_k"),
        ({"question": "退款", "channel": 1}, "channel"),
        ({"question": "退款", "session_id": 12345}, "session_id"),
        ({"question": "退款", "product": True}, "product"),
    ],
)
def test_wrong_json_types_are_refused_not_coerced(bot, mall, body, field):
    response = bot.post("/api/v1/answers/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not AnswerQuery.objects.exists()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("feedback", {"helpful": "yes"}, "helpful"),
        ("feedback", {"helpful": 1}, "helpful"),
        ("feedback", {"helpful": True, "comment": 5}, "comment"),
        ("choose", {"article_id": 7}, "article_id"),
        ("choose", {}, "article_id"),
    ],
)
def test_feedback_and_choices_refuse_wrong_types(bot, knowledge, path, body, field):
    answer_policy(answer=1.0, clarify=0.0)
    query_id = ask(bot, question="退款的事情")["query_id"]
    response = bot.post(f"/api/v1/answers/{query_id}/{path}/", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    logged = AnswerQuery.objects.get(pk=query_id)
    assert (logged.helpful, logged.chosen_at) == (None, None)


class _Reranker(BaseHTTPRequestHandler):
    """A stand-in cross-encoder: scores documents by position, reversed (the last is the most relevant)."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        n = len(body["documents"])
        payload = json.dumps({"results": [{"index": i, "relevance_score": i / n} for i in range(n)]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def reranker(settings):
    from apps.answers.rerank import get_reranker

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Reranker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.RERANK_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.RERANK_TIMEOUT_MS = 10_000  # a loaded CI machine must not turn this test into the fallback one

    def switch_on() -> None:
        settings.RERANK_BACKEND = "http"
        get_reranker.cache_clear()

    yield switch_on
    server.shutdown()
    get_reranker.cache_clear()


def test_a_configured_reranker_reorders_the_candidates(bot, knowledge, reranker):
    from django.core.cache import cache

    answer_policy(answer=1.0, clarify=0.0)
    plain = [c["article_id"] for c in ask(bot, question="退款多久到账", top_k=5)["candidates"]]
    reranker()
    cache.clear()  # the same question again, retrieved anew rather than from the answer cache
    reranked = [c["article_id"] for c in ask(bot, question="退款多久到账", top_k=5)["candidates"]]
    assert len(plain) >= 2 and reranked == plain[::-1]  # the stand-in prefers the last document it is sent


def test_a_dead_reranker_falls_back_to_the_built_in_ranking(bot, knowledge, settings, caplog):
    from apps.answers.rerank import get_reranker

    settings.RERANK_BACKEND = "http"
    settings.RERANK_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    get_reranker.cache_clear()
    answer_policy(answer=0.0, clarify=0.0)
    body = ask(bot, question="退款多久到账")
    get_reranker.cache_clear()
    assert body["decision"] == "answer" and body["answer"]["article_id"] == "mall-refund-001"
    assert any("rerank" in r.name for r in caplog.records)
