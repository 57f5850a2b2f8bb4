"""Celery entry points for QA, on their own queue (``qa``) so that scoring never delays indexing or
stale flags. At-least-once: acknowledged after the work is committed, and every task can run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from apps.qa.services.rescoring import run_rescore_job
from apps.qa.services.scoring import score_conversations

BATCH = 500


@shared_task(
    name="qa.score_conversations",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def score_conversations_task(conversation_ids: list[int]) -> int:
    return score_conversations(conversation_ids)


def enqueue_scoring(conversation_ids: list[int]) -> None:
    """Queue these conversations for scoring, in batches (call after their transaction commits)."""
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), BATCH):
        score_conversations_task.delay(ids[start : start + BATCH])


@shared_task(name="qa.run_rescore_job", acks_late=True, reject_on_worker_lost=True)
def run_rescore_job_task(job_id: int) -> int:
    return run_rescore_job(job_id)


@shared_task(name="qa.run_due_sampling_plans", acks_late=True)
def run_due_sampling_plans_task() -> int:
    from apps.qa.services.sampling import run_due_plans

    return sum(result.sampled for result in run_due_plans())


@shared_task(name="qa.score_unscored", acks_late=True)
def score_unscored_task(hours: int = 3) -> int:
    """The safety net behind ``enqueue_scoring``: queue what changed in the last hours and has no
    up-to-date score (idempotent: scoring twice writes the same score)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.qa.services.scoring import unscored_since

    ids = unscored_since(timezone.now() - timedelta(hours=hours))
    enqueue_scoring(ids)
    return len(ids)
