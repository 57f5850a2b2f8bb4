"""Real concurrency on PostgreSQL: simultaneous saves from one base version never both succeed."""

import threading

import pytest
from django.db import connection

from apps.knowledge.models import ArticleVersion
from apps.knowledge.services import workflow
from tests.factories import article_content, published_article


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_from_the_same_base_yield_one_version_and_one_conflict():
    article = published_article(answer="原答案").article
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(answer: str) -> None:
        try:
            barrier.wait()
            workflow.version_create(item=article, base_number=1, content=article_content(answer=answer), by=None)
            outcomes.append("saved")
        except workflow.EditConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(text,)) for text in ("甲的答案", "乙的答案")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "saved"]
    assert ArticleVersion.objects.filter(article=article).count() == 2
