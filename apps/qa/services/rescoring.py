"""Rescoring a date range after rules or scorecards changed: in batches by conversation id, each batch
committed with the job's progress, so a job that dies resumes where it stopped."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.qa.models import RescoreJob
from apps.qa.services.scoring import score_conversations

BATCH = 500


def rescore_job_create(*, started_from: datetime, started_to: datetime, user=None) -> RescoreJob:
    total = Conversation.objects.filter(started_at__gte=started_from, started_at__lt=started_to).count()
    return RescoreJob.objects.create(started_from=started_from, started_to=started_to, total=total, created_by=user)


def run_rescore_job(job_id: int) -> int:
    """Score the job's remaining conversations; returns how many this run scored."""
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
            score_conversations(ids)
            job.status, job.last_id, job.done = RescoreJob.Status.RUNNING, ids[-1], job.done + len(ids)
            job.save(update_fields=["status", "last_id", "done"])
            scored += len(ids)
