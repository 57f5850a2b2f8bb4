"""The bot-question log keeps ANSWER_QUERY_RETENTION_DAYS days: older rows go, nightly, in batches."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.answers.models import AnswerQuery
from apps.answers.services.retention import answer_queries_purge_old


def logged(days_ago: float) -> AnswerQuery:
    return AnswerQuery.objects.create(
        question="退款多久到账",
        normalized="退款多久到账",
        decision="low_confidence",
        confidence=0.4,
        latency_ms=20.0,
        channel="app",
        created_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.mark.django_db
def test_questions_older_than_the_retention_period_are_deleted_in_batches_and_again_deletes_nothing(settings):
    settings.ANSWER_QUERY_RETENTION_DAYS = 30
    old = [logged(31 + n) for n in range(7)]
    kept = [logged(29), logged(0)]
    assert answer_queries_purge_old(batch=3) == len(old)  # three batches: 3 + 3 + 1
    assert set(AnswerQuery.objects.values_list("pk", flat=True)) == {q.pk for q in kept}
    assert answer_queries_purge_old(batch=3) == 0


@pytest.mark.django_db(transaction=True)
def test_the_nightly_task_runs_on_a_worker(settings, celery_worker):
    settings.ANSWER_QUERY_RETENTION_DAYS = 180
    logged(181), logged(1)
    from apps.answers.tasks import purge_old_queries_task

    assert purge_old_queries_task.delay().get(timeout=30) == 1
    assert AnswerQuery.objects.count() == 1
