"""Celery entry points for insights. Both are idempotent: rollups rebuild whole days, digests go out once."""

from __future__ import annotations

from celery import shared_task

from apps.insights.services.digest import weekly_digest_send
from apps.insights.services.rollups import rollups_refresh_pending


@shared_task(name="insights.rollup_pending")
def rollup_pending_task() -> int:
    return rollups_refresh_pending()


@shared_task(name="insights.send_weekly_digest")
def send_weekly_digest_task() -> int:
    return weekly_digest_send()
