"""What was stored is announced once committed (``conversations_stored``): QA queues it for scoring, except
a backfill, which its sweeper or a rescoring job scores later."""

import io
import json
import logging
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from apps.conversations.models import Conversation
from apps.conversations.services.ingest import conversations_ingest
from apps.conversations.signals import conversations_stored
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mall():
    return ProductFactory(slug="mall-app", name="母婴商城 App")


@pytest.fixture
def heard():
    """What ``conversations_stored`` announces during the test, one dict per announcement."""
    announcements: list[dict] = []

    def listen(sender, **kwargs) -> None:
        announcements.append({"ids": kwargs["ids"], "backfill": kwargs["backfill"]})

    conversations_stored.connect(listen, dispatch_uid="test.heard")
    yield announcements
    conversations_stored.disconnect(dispatch_uid="test.heard")


@pytest.fixture
def qa_queue():
    """The broker's ``qa`` queue, empty at the start and at the end of the test (no worker runs here)."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("qa")
    yield broker
    broker.delete("qa")


def conversation(external_id: str, product: str = "mall-app") -> dict:
    return {
        "channel": "app",
        "external_id": external_id,
        "product": product,
        "customer": "u-1",
        "messages": [{"id": "m1", "role": "customer", "sender": "u-1", "sent_at": "2026-11-02T10:00:00+08:00"}],
    }


def json_line(external_id: str) -> str:
    return json.dumps(conversation(external_id), ensure_ascii=False)


def test_the_stored_conversations_are_announced_once_committed(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        results = conversations_ingest([conversation("a-2"), conversation("a-1"), conversation("x", product="nope")])
        assert heard == []  # not before the commit: a worker could not read them yet
    assert [r.status for r in results] == ["created", "created", "rejected"]
    ids = sorted(Conversation.objects.values_list("id", flat=True))
    assert heard == [{"ids": ids, "backfill": False}]


def test_a_batch_that_stores_nothing_announces_nothing(heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversations_ingest([conversation("x", product="nope")])
    assert heard == []


def test_an_import_with_backfill_is_announced_as_a_backfill(heard, tmp_path: Path, django_capture_on_commit_callbacks):
    file = tmp_path / "conversations.jsonl"
    file.write_text("\n".join(json_line(f"a-{n}") for n in range(3)) + "\n")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_conversations", str(file), "--backfill", "--quiet", stdout=io.StringIO())
    assert heard == [{"ids": sorted(Conversation.objects.values_list("id", flat=True)), "backfill": True}]


def test_qa_queues_what_was_stored_and_leaves_a_backfill_to_its_sweeper(qa_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversations_ingest([conversation("a-1"), conversation("a-2")])
    assert qa_queue.llen("qa") == 1  # one scoring task for the batch
    with django_capture_on_commit_callbacks(execute=True):
        conversations_ingest([conversation("a-3")], backfill=True)
    assert qa_queue.llen("qa") == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_neither_fails_the_request_nor_keeps_qa_from_queueing(api_key_client, qa_queue, caplog):
    def broken(sender, **kwargs) -> None:
        raise RuntimeError("a receiver's bug")

    conversations_stored.connect(broken, dispatch_uid="test.broken")
    try:
        with caplog.at_level(logging.ERROR, logger="django.dispatch"):
            response = api_key_client("conversations:write").post(
                "/api/v1/conversations/", conversation("a-1"), format="json"
            )
    finally:
        conversations_stored.disconnect(dispatch_uid="test.broken")
    assert response.status_code == 201  # committed: the answer says so
    assert Conversation.objects.filter(external_id="a-1").exists()
    assert qa_queue.llen("qa") == 1
    assert "a receiver's bug" in caplog.text
