from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from apps.answers.services.index import index_published, refresh_vocabulary


@shared_task(
    name="answers.index_published",
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def index_published_task(self, retry_if_busy: bool = True) -> int:
    """Index a batch of newly published versions; enqueue the next batch while work remains.

    If another worker holds the index lock, try once more a little later (that worker may have read
    the pending versions before this task's publish committed), then stop: no task loops on the lock.
    """
    indexed, more, busy = index_published()
    if busy:
        if retry_if_busy:
            index_published_task.apply_async(kwargs={"retry_if_busy": False}, countdown=5)
    elif more:
        index_published_task.delay()
    return indexed


@shared_task(name="answers.refresh_vocabulary", acks_late=True)
def refresh_vocabulary_task() -> int:
    return refresh_vocabulary()
