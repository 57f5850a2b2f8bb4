from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from apps.answers.services.index import index_published, refresh_lexemes


@shared_task(
    name="answers.index_published",
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def index_published_task(self) -> int:
    """Index a batch of newly published versions; enqueue the next batch while work remains."""
    indexed, more = index_published()
    if more:
        index_published_task.apply_async(countdown=1 if indexed == 0 else 0)
    return indexed


@shared_task(name="answers.refresh_lexemes", acks_late=True)
def refresh_lexemes_task() -> int:
    return refresh_lexemes()
