"""Faults with the real parts: the embedded Redis is stopped and started again, the embedded PostgreSQL is
stopped and started again, in the middle of a test. Bots keep being answered, conversations are never
lost, follow-up work dropped with the broker is found again, and nothing is done twice.

These tests stop the embedded services, so they run only on them (not against a deployer's own servers).
"""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection

from apps.catalog.models import Release
from apps.conversations.models import Conversation
from apps.knowledge.models import ReleaseStaleCheck, StaleFlag
from apps.knowledge.tasks import check_unchecked_releases_task
from apps.qa.models import AutoScore, Finding
from apps.qa.tasks import enqueue_scoring, score_unscored_task
from kbportal.embedded import start_postgres, start_redis_again, stop_postgres, stop_redis
from tests.conftest import wait_for
from tests.factories import ProductFactory, conversations, forbidden_rule, published_article, published_scorecard

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL")),
        reason="stops and starts the embedded PostgreSQL and Redis",
    ),
]


@pytest.fixture(autouse=True)
def _quick_recovery(settings):
    settings.REDIS_RETRY_SECONDS = 0.05  # try Redis again at once after it returns (default: 2 s)


class Service:
    def __init__(self, stop, start) -> None:
        self.stop, self.start = stop, start


@pytest.fixture
def redis():
    """``redis.stop()`` / ``redis.start()``: the embedded Redis (cache and broker), back on its port."""

    def start() -> None:
        start_redis_again()
        time.sleep(0.1)  # past REDIS_RETRY_SECONDS: processes try Redis again on their next call

    yield Service(stop_redis, start)
    start()


@pytest.fixture
def postgres():
    """``postgres.stop()`` / ``postgres.start()``: the embedded PostgreSQL, restarted on its data."""

    def stop() -> None:
        connection.close()
        assert stop_postgres(), "the embedded PostgreSQL did not stop"

    def start() -> None:
        if not _postgres_answers():
            start_postgres()
        connection.close()  # this test's own connection died with the server

    yield Service(stop, start)
    start()


def _postgres_answers() -> bool:
    import psycopg

    params = connection.get_connection_params()
    try:
        psycopg.connect(**{**params, "dbname": "postgres"}, connect_timeout=1).close()
    except psycopg.OperationalError:
        return False
    return True


def ask(client, question: str):
    return client.post("/api/v1/answers/", {"question": question, "product": "mall-app"}, format="json")


def batch(client, items: list[dict]):
    return client.post("/api/v1/conversations/", {"conversations": items}, format="json")


def chat(n: int) -> dict:
    return {
        "channel": "wechat",
        "external_id": f"fault-{n}",
        "customer": f"u-{n}",
        "messages": [
            {"id": "1", "role": "customer", "sent_at": "2026-11-02T10:00:00+08:00", "text": "退款多久到账？"},
            {
                "id": "2",
                "role": "agent",
                "sender": "agent-a",
                "sent_at": "2026-11-02T10:00:30+08:00",
                "text": "不知道，你自己看",
            },
        ],
    }


@pytest.fixture
def mall_knowledge():
    mall = ProductFactory(slug="mall-app", name="母婴商城 App")
    published_article(
        product=mall,
        external_id="mall-refund-001",
        standard_question="退款多久能到账？",
        similar_questions=["退款什么时候到账", "申请退款后几天到账"],
        answer="审核通过后 1–3 个工作日原路退回。",
    )
    from apps.answers.services.index import index_rebuild

    index_rebuild()
    return mall


# --- Redis away ---------------------------------------------------------------------------------------


def test_with_redis_down_bots_are_answered_from_postgres_and_limits_hold_in_process(
    mall_knowledge, api_key_client, client, django_user_model, redis
):
    bot = api_key_client("answers", rate_limit=4)
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only-1")
    redis.stop()
    for _ in range(2):
        response = ask(bot, "退款多久到账")
        assert response.status_code == 200, response.content
        assert response.json()["decision"] == "answer"
    from apps.answers.models import AnswerQuery

    assert not AnswerQuery.objects.filter(cached=True).exists()  # the cache is bypassed, not half-used

    # The key's limit still holds, counted in this process, and says when to come back.
    assert [ask(bot, "退款多久到账").status_code for _ in range(3)] == [200, 200, 429]

    health = client.get("/healthz")
    assert health.status_code == 200  # a load balancer keeps the portal in
    assert health.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "down", "broker": "down"}}

    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/knowledge/article/").status_code == 200
    assert client.get("/qa/").status_code in {200, 302}

    # Redis returns: the cache is used again without any restart.
    redis.start()
    fresh = api_key_client("answers")
    assert ask(fresh, "申请退款后几天到账").status_code == 200
    assert ask(fresh, "申请退款后几天到账").status_code == 200
    assert AnswerQuery.objects.filter(cached=True).count() == 1
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_release_recorded_while_the_broker_is_down_is_checked_once_by_the_sweeper(api_key_client, redis):
    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, external_id="refund-1", features=["refund"])
    ci = api_key_client("releases:write")
    redis.stop()
    body = {"product": "mall-app", "version": "5.3.0", "changed_features": ["refund"]}

    response = ci.post("/api/v1/releases/", body, format="json")
    assert response.status_code == 201  # recorded; its check could not be queued
    release = Release.objects.get(version="5.3.0")
    assert not ReleaseStaleCheck.objects.filter(release=release).exists()
    assert not StaleFlag.objects.exists()

    redis.start()  # the broker returns empty: the queued check (if any) is gone with it
    assert check_unchecked_releases_task.apply(kwargs={"minutes": 0}).get() == 1
    assert StaleFlag.objects.filter(release=release).count() == 1
    # The sweeper again, and the pipeline retrying the same release: nothing is flagged twice.
    assert check_unchecked_releases_task.apply(kwargs={"minutes": 0}).get() == 0
    assert ci.post("/api/v1/releases/", body, format="json").status_code == 200
    assert StaleFlag.objects.filter(release=release).count() == 1
    assert ReleaseStaleCheck.objects.filter(release=release).exists()


def test_a_retried_release_whose_check_was_lost_schedules_it_again(api_key_client, celery_worker, redis):
    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, external_id="refund-1", features=["refund"])
    ci = api_key_client("releases:write")
    body = {"product": "mall-app", "version": "5.4.0", "changed_features": ["refund"]}
    redis.stop()
    assert ci.post("/api/v1/releases/", body, format="json").status_code == 201

    redis.start()
    # The pipeline retries: the release is there, its check is not; the retry queues it for the worker.
    assert ci.post("/api/v1/releases/", body, format="json").status_code == 200
    release = Release.objects.get(version="5.4.0")
    wait_for(lambda: Release.objects.filter(pk=release.pk, stale_check__isnull=False).exists(), timeout=60)
    assert StaleFlag.objects.filter(release=release).count() == 1


def test_conversations_sent_while_the_broker_is_down_are_stored_and_scored_once(api_key_client, celery_worker, redis):
    ProductFactory(slug="mall-app")
    published_scorecard([forbidden_rule()])
    integration = api_key_client("conversations:write")
    redis.stop()
    response = batch(integration, [chat(n) for n in range(30)])
    assert response.status_code == 200
    assert response.json()["created"] == 30  # stored: scoring could not be queued, nothing else failed
    assert not AutoScore.objects.exists()

    redis.start()
    # The sweeper (every 10 minutes in beat) queues them for the real worker; twice changes nothing.
    score_unscored_task.apply()
    wait_for(lambda: AutoScore.objects.count() == 30, timeout=60)
    score_unscored_task.apply()
    assert AutoScore.objects.count() == 30
    assert Finding.objects.count() == 60  # two forbidden phrases each, never doubled


# --- PostgreSQL away ------------------------------------------------------------------------------------


def test_with_postgres_down_ingestion_answers_503_and_a_resend_stores_everything_once(
    mall_knowledge, api_key_client, client, postgres
):
    integration = api_key_client("conversations:write")
    bot = api_key_client("answers")
    postgres.stop()
    items = [chat(n) for n in range(20)]
    response = batch(integration, items)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["code"] == "database_unavailable"
    single = integration.post("/api/v1/conversations/", items[0], format="json")
    assert single.status_code == 503  # never "rejected": integrations retry a 503
    assert ask(bot, "退款多久到账").status_code == 503
    assert client.get("/healthz").status_code == 503

    postgres.start()  # back: the web process reconnects by itself
    assert Conversation.objects.count() == 0  # nothing was written half-way
    first = batch(integration, items)
    assert first.status_code == 200 and first.json()["created"] == 20
    again = batch(integration, items)
    assert again.json()["updated"] == 20
    assert Conversation.objects.count() == 20
    assert ask(bot, "退款多久到账").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_a_scoring_task_interrupted_by_a_postgres_restart_is_retried_and_scores_once(celery_worker, postgres):
    ProductFactory(slug="mall-app")
    published_scorecard([forbidden_rule()])
    ids = []
    for start in range(0, 1500, 500):
        ids += conversations(500, start=start, reply="不知道，你自己看")
    enqueue_scoring(ids)  # three batches of 500
    wait_for(lambda: AutoScore.objects.exists(), timeout=60, interval=0.05)
    postgres.stop()  # the worker is in the middle of the remaining batches
    postgres.start()
    wait_for(lambda: AutoScore.objects.count() == 1500, timeout=180, interval=0.5)
    assert Finding.objects.count() == 3000
    assert AutoScore.objects.values("conversation").distinct().count() == 1500


def test_a_worker_holding_a_task_when_redis_goes_away_reconnects_and_nothing_is_lost(celery_worker, redis):
    ProductFactory(slug="mall-app")
    published_scorecard([forbidden_rule()])
    ids = []
    for start in range(0, 1500, 500):
        ids += conversations(500, start=start, reply="不知道，你自己看")
    enqueue_scoring(ids)  # three batches of 500: the worker holds one while Redis goes away
    wait_for(lambda: AutoScore.objects.exists(), timeout=60, interval=0.05)
    redis.stop()
    time.sleep(1)
    redis.start()  # empty: the queued batches are gone with it
    assert celery_worker.poll() is None, "the worker died with the broker"
    # The sweeper queues what is not scored; the same worker, reconnected, scores it.
    wait_for(lambda: score_unscored_task.apply().get() is not None and AutoScore.objects.count() == 1500, timeout=120)
    assert Finding.objects.count() == 3000
    assert AutoScore.objects.values("conversation").distinct().count() == 1500


def test_an_article_published_while_redis_is_down_reaches_bots_through_the_indexing_sweep(api_key_client, redis):
    from apps.answers.tasks import index_published_task

    mall = ProductFactory(slug="mall-app", name="母婴商城 App")
    bot = api_key_client("answers")
    redis.stop()
    published_article(  # the editor's publish succeeds; indexing could not be queued
        product=mall,
        external_id="mall-invoice-001",
        standard_question="怎么开发票？",
        similar_questions=["发票在哪里申请", "可以开电子发票吗"],
        answer="在「我的 > 订单 > 申请开票」提交抬头和税号。",
    )
    assert ask(bot, "发票在哪里申请").json()["decision"] != "answer"  # not indexed yet: bots cannot see it

    redis.start()
    index_published_task.apply()  # the 5-minute beat; running it again indexes nothing twice
    assert index_published_task.apply().get() == 0
    answered = ask(bot, "发票在哪里申请").json()
    assert answered["decision"] == "answer"
    assert answered["answer"]["article_id"] == "mall-invoice-001"
