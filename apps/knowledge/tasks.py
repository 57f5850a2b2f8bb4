"""Celery entry points for the knowledge base. Thin: load by id, call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.knowledge.services.stale import release_flag_stale_content, verifications_mark_overdue

logger = logging.getLogger(__name__)


@shared_task(name="knowledge.flag_stale_for_release", bind=True)
def flag_stale_for_release(self, release_id: int) -> dict[str, int]:
    result = release_flag_stale_content(release_id=release_id)
    logger.info(
        "release %s: flagged %s articles, %s scripts", release_id, result.articles_flagged, result.scripts_flagged
    )
    return {"articles_flagged": result.articles_flagged, "scripts_flagged": result.scripts_flagged}


@shared_task(name="knowledge.mark_overdue_verifications")
def mark_overdue_verifications_task() -> dict[str, int]:
    return verifications_mark_overdue()


@shared_task(name="knowledge.check_unchecked_releases")
def check_unchecked_releases_task(minutes: int = 2) -> int:
    """The safety net behind recording a release: run the stale check of releases recorded more than a few
    minutes ago whose check never ran (the broker was away, a worker died). Idempotent, like the check."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.knowledge.services.stale import unchecked_releases

    ids = unchecked_releases(recorded_before=timezone.now() - timedelta(minutes=minutes))
    for release_id in ids:
        release_flag_stale_content(release_id=release_id)
    return len(ids)
