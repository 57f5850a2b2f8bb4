"""Celery entry points for the knowledge base. Thin: load by id, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from apps.knowledge.services.stale import mark_overdue_verifications, release_flag_stale_content

logger = logging.getLogger(__name__)


@shared_task(
    name="knowledge.flag_stale_for_release",
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def flag_stale_for_release(self, release_id: int) -> dict[str, int]:
    result = release_flag_stale_content(release_id=release_id)
    logger.info(
        "release %s: flagged %s articles, %s scripts", release_id, result.articles_flagged, result.scripts_flagged
    )
    return {"articles_flagged": result.articles_flagged, "scripts_flagged": result.scripts_flagged}


@shared_task(name="knowledge.mark_overdue_verifications", acks_late=True)
def mark_overdue_verifications_task() -> dict[str, int]:
    return mark_overdue_verifications()
