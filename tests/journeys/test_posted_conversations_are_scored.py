"""Conversations posted over the API are scored by the real Celery worker on the qa queue."""

import pytest

from apps.qa.models import AutoScore, Finding
from tests.conftest import wait_for
from tests.factories import DAY, ProductFactory, forbidden_rule, published_scorecard


@pytest.mark.django_db(transaction=True)
def test_a_posted_conversation_is_scored_by_the_worker(celery_worker, api_key_client):
    ProductFactory(slug="mall-app")
    published_scorecard([forbidden_rule()])
    body = {
        "channel": "wechat",
        "external_id": "c-worker-1",
        "team": "售后一组",
        "customer": "u-1",
        "messages": [
            {"id": "m1", "role": "customer", "sender": "u-1", "sent_at": DAY.isoformat(), "text": "退款呢"},
            {"id": "m2", "role": "agent", "sender": "agent-7", "sent_at": DAY.isoformat(), "text": "不知道，自己看"},
        ],
    }
    client = api_key_client("conversations:write")
    assert client.post("/api/v1/conversations/", body, format="json").status_code == 201
    wait_for(lambda: AutoScore.objects.filter(conversation__external_id="c-worker-1").exists(), timeout=60)
    assert sorted(Finding.objects.values_list("matched", flat=True)) == ["不知道", "自己看"]
    # Posting the same conversation again rescoring it leaves one score and the same findings.
    client.post("/api/v1/conversations/", body, format="json")
    wait_for(lambda: Finding.objects.count() == 2 and AutoScore.objects.count() == 1, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_imported_conversations_are_scored_by_the_worker(celery_worker, tmp_path):
    import json

    from django.core.management import call_command

    ProductFactory(slug="mall-app")
    published_scorecard([forbidden_rule()])
    lines = []
    for n in range(3):
        lines.append(
            json.dumps(
                {
                    "channel": "wechat",
                    "external_id": f"c-import-{n}",
                    "customer": f"u-{n}",
                    "messages": [
                        {"id": "m1", "role": "customer", "sender": "u", "sent_at": DAY.isoformat(), "text": "在吗"},
                        {
                            "id": "m2",
                            "role": "agent",
                            "sender": "agent-7",
                            "sent_at": DAY.isoformat(),
                            "text": "不知道",
                        },
                    ],
                },
                ensure_ascii=False,
            )
        )
    path = tmp_path / "conversations.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_conversations", str(path), "--quiet", "--writers", "1")
    wait_for(lambda: AutoScore.objects.count() == 3, timeout=60)
    assert Finding.objects.filter(matched="不知道").count() == 3
