"""At-least-once scoring: a worker killed in the middle of a batch loses nothing and duplicates nothing.
The batch it held is handed to the next worker (acks are late); scores are unique per conversation and
scorecard version, and a batch replaces its conversations' findings in one transaction."""

import os
import signal
import time

import pytest
import redis
from django.conf import settings
from django.db import connection

from apps.qa.models import AutoScore, Finding
from apps.qa.tasks import enqueue_scoring
from kbportal.embedded import data_dir
from tests.conftest import start_worker, wait_for
from tests.factories import ProductFactory
from tests.qa.helpers import conversations, forbidden_rule, published_scorecard

COUNT = 1500


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing():
    ProductFactory(slug="mall-app")
    published_scorecard([forbidden_rule()])
    ids = []
    for start in range(0, COUNT, 500):
        ids += conversations(500, start=start, reply="不知道，你自己看")  # two findings each
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("qa", "unacked", "unacked_index", "unacked_mutex")
    test_db = connection.settings_dict["NAME"]
    with open(data_dir() / "test-worker-killed.log", "w") as log:
        first = start_worker(test_db, log, name="doomed")
        try:
            enqueue_scoring(ids)  # batches of 500
            # Kill it while a batch is being written (its transaction open): the batch in hand is neither
            # committed nor acknowledged, and no warm shutdown gets to hand it back.
            wait_for(lambda: _writing_a_batch(), timeout=60, interval=0.002)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        scored_at_kill = AutoScore.objects.count()
        assert scored_at_kill < COUNT, "the worker finished everything before it was killed"
        time.sleep(2.5)  # past the visibility timeout the next worker uses
        second = start_worker(
            test_db,
            log,
            name="survivor",
            extra_env={"KBPORTAL_CELERY_VISIBILITY_TIMEOUT": "2", "KBPORTAL_CELERY_RESTORE_INTERVAL": "1"},
        )
        try:
            wait_for(lambda: AutoScore.objects.count() == COUNT, timeout=90)
            wait_for(lambda: not broker.llen("qa") and not broker.hlen("unacked"), timeout=30)
        finally:
            second.terminate()
            second.wait(timeout=20)
    assert AutoScore.objects.count() == COUNT and Finding.objects.count() == 2 * COUNT
    assert set(AutoScore.objects.values_list("conversation_id", flat=True)) == set(ids)


def _writing_a_batch() -> bool:
    """A worker's connection is inside a transaction that writes scores."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND xact_start IS NOT NULL AND (query ILIKE '%%qa_autoscore%%' OR query ILIKE '%%qa_finding%%')"
        )
        return cursor.fetchone()[0] > 0
