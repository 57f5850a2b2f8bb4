"""At-least-once scoring: a worker killed in the middle of a batch loses nothing and duplicates nothing.
Two workers run at once under different host names, as a deployer runs them on two machines; one is killed
while it writes a batch. The batch it held is handed to the other worker (acks are late), which finishes
everything; scores are unique per conversation and scorecard version, and a batch replaces its
conversations' findings in one transaction."""

import os
import re
import signal
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from apps.qa.models import AutoScore, Finding
from apps.qa.tasks import enqueue_scoring
from kbportal.celery import app
from kbportal.embedded import data_dir
from tests.conftest import start_worker, wait_for
from tests.factories import ProductFactory, conversations, forbidden_rule, published_scorecard

COUNT = 1500  # three batches of 500
# The survivor hands out again what another worker took and has not acknowledged after this many seconds.
# Longer than the doomed worker can hold its batch before it is killed (scoring 500 conversations takes a
# fraction of a second), so nothing is handed out twice while its first worker is still alive.
VISIBILITY_TIMEOUT = 6


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing():
    ProductFactory(slug="mall-app")
    published_scorecard([forbidden_rule()])
    ids = []
    for start in range(0, COUNT, 500):
        ids += conversations(500, start=start, reply="不知道，你自己看")  # two findings each
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # Only this test's work on the broker: earlier tests may leave tasks in the default queue (a refit that
    # publishing schedules with an ETA, which a worker would hold unacknowledged for as long as it waits).
    app.control.purge()
    broker.delete("qa", "unacked", "unacked_index", "unacked_mutex")
    test_db = connection.settings_dict["NAME"]
    run = os.getpid()
    doomed_name, survivor_name = f"doomed-{run}@host-a", f"survivor-{run}@host-b"
    doomed_log_path = data_dir() / "test-worker-killed-doomed.log"
    survivor_log_path = data_dir() / "test-worker-killed-survivor.log"
    with open(doomed_log_path, "w") as doomed_log, open(survivor_log_path, "w") as survivor_log:
        # PGAPPNAME names each worker's database sessions, so the test sees which worker is writing.
        doomed = start_worker(
            test_db, doomed_log, hostname=doomed_name, extra_env={"PGAPPNAME": "doomed", "PYTHONUNBUFFERED": "1"}
        )
        survivor = None
        try:
            survivor = start_worker(
                test_db,
                survivor_log,
                hostname=survivor_name,
                extra_env={
                    "PGAPPNAME": "survivor",
                    "PYTHONUNBUFFERED": "1",
                    "KBPORTAL_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                    "KBPORTAL_CELERY_RESTORE_INTERVAL": "1",
                },
            )
            replies = app.control.ping(destination=[doomed_name, survivor_name], timeout=2)
            assert {name for reply in replies for name in reply} == {doomed_name, survivor_name}
            enqueue_scoring(ids)  # batches of 500, taken by both workers
            # Kill the doomed worker while it writes a batch (its transaction open): the batch in hand is
            # neither committed nor acknowledged, and no warm shutdown gets to hand it back.
            wait_for(lambda: _writing_a_batch("doomed"), timeout=60, interval=0.002)
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait(timeout=10)
            scored_at_kill = AutoScore.objects.count()
            assert scored_at_kill < COUNT, "the workers finished everything before one was killed"
            # The survivor alone finishes its own batches and, past the visibility timeout, the killed one.
            wait_for(lambda: AutoScore.objects.count() == COUNT, timeout=120)
            wait_for(lambda: not broker.llen("qa") and not broker.hlen("unacked"), timeout=30)
        finally:
            if doomed.poll() is None:
                doomed.kill()
                doomed.wait(timeout=10)
            if survivor is not None:
                survivor.terminate()
                survivor.wait(timeout=20)
    assert AutoScore.objects.count() == COUNT and Finding.objects.count() == 2 * COUNT
    assert set(AutoScore.objects.values_list("conversation_id", flat=True)) == set(ids)

    # From the workers' logs: the doomed worker died holding one batch, which the survivor ran; every batch
    # succeeded exactly once.
    doomed_received, doomed_done = _tasks(doomed_log_path)
    _, survivor_done = _tasks(survivor_log_path)
    lost_with_the_worker = set(doomed_received) - set(doomed_done)
    assert len(lost_with_the_worker) == 1, (doomed_received, doomed_done)
    assert lost_with_the_worker <= set(survivor_done)
    assert sorted(Counter(doomed_done + survivor_done).values()) == [1, 1, 1]


def _writing_a_batch(worker: str) -> bool:
    """The worker's connection is inside a transaction that writes scores."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s "
            "AND xact_start IS NOT NULL AND (query ILIKE '%%qa_autoscore%%' OR query ILIKE '%%qa_finding%%')",
            [worker],
        )
        return cursor.fetchone()[0] > 0


def _tasks(log: Path) -> tuple[list[str], list[str]]:
    """Ids of the scoring tasks a worker received, and of those it finished, in its log's order."""
    text = log.read_text()
    received = re.findall(r"Task qa\.score_conversations\[([0-9a-f-]+)\] received", text)
    done = re.findall(r"Task qa\.score_conversations\[([0-9a-f-]+)\] succeeded", text)
    return received, done
