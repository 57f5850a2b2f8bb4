"""Rescoring a date range after rules or scorecards changed: in batches by conversation id, each batch
committed with the job's progress, so a job that dies resumes where it stopped."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.qa.models import RescoreJob
from apps.qa.services.scoring import conversations_score

BATCH = 500
RESCORE_LOCK = 7_316_001  # advisory lock class of rescoring jobs (the second key is the job id)


def rescore_job_create(*, started_from: datetime, started_to: datetime, user=None) -> RescoreJob:
    total = Conversation.objects.filter(started_at__gte=started_from, started_at__lt=started_to).count()
    return RescoreJob.objects.create(started_from=started_from, started_to=started_to, total=total, created_by=user)


def rescore_job_run(job_id: int) -> int:
    """Score the job's remaining conversations; returns how many this run scored. A second run of the same
    job (the sweeper re-queued it while a worker is on it) returns at once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RESCORE_LOCK, job_id])
        if not cursor.fetchone()[0]:
            return 0
    try:
        return _run(job_id)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RESCORE_LOCK, job_id])


def unfinished_jobs(older_than: datetime) -> list[int]:
    """Jobs not done that were created before ``older_than``: queued ones the broker may have dropped, and
    running ones whose worker died (a live run holds the job's lock, so re-queuing it is harmless)."""
    return list(
        RescoreJob.objects.exclude(status=RescoreJob.Status.DONE)
        .filter(created_at__lt=older_than)
        .values_list("pk", flat=True)
    )


def _run(job_id: int) -> int:
    scored = 0
    while True:
        with transaction.atomic():
            job = RescoreJob.objects.select_for_update().get(pk=job_id)
            if job.status == RescoreJob.Status.DONE:
                return scored
            ids = list(
                Conversation.objects.filter(
                    started_at__gte=job.started_from, started_at__lt=job.started_to, id__gt=job.last_id
                )
                .order_by("id")
                .values_list("id", flat=True)[:BATCH]
            )
            if not ids:
                job.status, job.finished_at = RescoreJob.Status.DONE, timezone.now()
                job.save(update_fields=["status", "finished_at"])
                return scored
            conversations_score(ids)
            job.status, job.last_id, job.done = RescoreJob.Status.RUNNING, ids[-1], job.done + len(ids)
            job.save(update_fields=["status", "last_id", "done"])
            scored += len(ids)
