"""Celery entry points for QA, on their own queue (``qa``) so that scoring never delays indexing or
stale flags. At-least-once: acknowledged after the work is committed, and every task can run twice."""

from __future__ import annotations

from celery import shared_task

from apps.core.queueing import enqueue
from apps.qa.services.rescoring import rescore_job_run
from apps.qa.services.scoring import conversations_score

BATCH = 500


@shared_task(name="qa.score_conversations")
def score_conversations_task(conversation_ids: list[int]) -> int:
    return conversations_score(conversation_ids)


def enqueue_scoring(conversation_ids: list[int]) -> None:
    """Queue these conversations for scoring, in batches (call after their transaction commits). With the
    broker away nothing is queued and nothing fails: ``qa.score_unscored`` finds them within 10 minutes."""
    ids = sorted(set(conversation_ids))
    for start in range(0, len(ids), BATCH):
        if not enqueue(score_conversations_task, ids[start : start + BATCH]):
            return


@shared_task(name="qa.run_rescore_job", soft_time_limit=3600, time_limit=3660)  # resumable: it keeps its place
def run_rescore_job_task(job_id: int) -> int:
    return rescore_job_run(job_id)


@shared_task(name="qa.run_due_sampling_plans")
def run_due_sampling_plans_task() -> int:
    from apps.qa.services.sampling import sampling_plans_run_due

    return sum(result.sampled for result in sampling_plans_run_due())


@shared_task(name="qa.score_unscored")
def score_unscored_task(hours: int = 3) -> int:
    """The safety net behind ``enqueue_scoring``: queue what changed in the last hours and has no
    up-to-date score (idempotent: scoring twice writes the same score)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.qa.services.scoring import unscored_since

    ids = unscored_since(timezone.now() - timedelta(hours=hours))
    enqueue_scoring(ids)
    return len(ids)


@shared_task(name="qa.resume_rescore_jobs")
def resume_rescore_jobs_task(minutes: int = 5) -> int:
    """The safety net behind the admin's rescoring: queue again jobs not done (a dropped task, a dead
    worker); a job a worker is running is left to it."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.qa.services.rescoring import unfinished_jobs

    ids = unfinished_jobs(timezone.now() - timedelta(minutes=minutes))
    for job_id in ids:
        enqueue(run_rescore_job_task, job_id)
    return len(ids)
