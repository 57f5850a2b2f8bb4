"""Publishing reaches bots through the real Celery worker: editors never wait on embeddings."""

import pytest

from apps.answers.models import QuestionEntry
from tests.conftest import wait_for
from tests.factories import ProductFactory, answer_policy, published_article


@pytest.mark.django_db(transaction=True)
def test_a_published_article_is_indexed_by_the_worker_and_answered(celery_worker, api_key_client, settings):
    answer_policy(answer=0.0)
    mall = ProductFactory(slug="mall-app")
    version = published_article(
        product=mall,
        external_id="mall-invoice-001",
        standard_question="怎么开发票？",
        similar_questions=["发票在哪里申请"],
        answer="在订单详情页申请开票。",
    )

    # The publish enqueued answers.index_published after commit; the worker embeds and indexes it.
    # Its two questions, the answer as a passage, and the answer's one sentence.
    wait_for(lambda: QuestionEntry.objects.filter(version=version).count() == 4, timeout=60)

    body = api_key_client("answers").post("/api/v1/answers/", {"question": "发票怎么开"}, format="json").json()
    assert body["answer"]["article_id"] == "mall-invoice-001"
