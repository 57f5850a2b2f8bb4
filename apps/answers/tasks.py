from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from apps.answers.services.calibration import confidence_refit
from apps.answers.services.index import published_versions_index, vocabulary_refresh
from apps.core.queueing import enqueue

REFIT_SCHEDULED_KEY = "answers:refit-scheduled"


@shared_task(name="answers.index_published", bind=True)
def index_published_task(self, retry_if_busy: bool = True) -> int:
    """Index a batch of newly published versions; enqueue the next batch while work remains.

    If another worker holds the index lock, try once more a little later (that worker may have read
    the pending versions before this task's publish committed), then stop: no task loops on the lock.
    """
    indexed, more, busy, removed = published_versions_index()
    if (indexed or removed) and not more:
        refit_soon()  # what bots may see changed: thresholds follow the new content
    if busy:
        if retry_if_busy:
            enqueue(index_published_task, retry_if_busy=False, countdown=5)
    elif more:
        enqueue(index_published_task)  # if the broker is away, the 5-minute beat carries on
    return indexed


@shared_task(name="answers.refresh_vocabulary")
def refresh_vocabulary_task() -> int:
    changed = vocabulary_refresh()
    refit_soon()  # tokens (and maybe embeddings) changed: the verifier's features with them
    return changed


@shared_task(name="answers.refit_confidence", bind=True)
def refit_confidence_task(self, retry_if_busy: bool = True, force: bool = False) -> int:
    """Refit bot decisions after publishes. Debounced by its countdown (see ``refit_soon``); a refit over
    unchanged content does nothing, and one that finds another running tries once more later."""
    cache.delete(REFIT_SCHEDULED_KEY)  # a publish from now on needs a refit after this one
    fits = confidence_refit(force=force)
    if fits is None and retry_if_busy:
        enqueue(refit_confidence_task, retry_if_busy=False, force=force, countdown=settings.ANSWER_REFIT_DELAY_SECONDS)
    return len(fits or [])


def refit_soon() -> None:
    """Ask for a refit a little later: a burst of publishes (an import) then costs one refit, not one each.
    The first request in a delay window schedules it; the others find it already scheduled."""
    if cache.add(REFIT_SCHEDULED_KEY, 1, timeout=max(settings.ANSWER_REFIT_DELAY_SECONDS, 1)):
        enqueue(refit_confidence_task, countdown=settings.ANSWER_REFIT_DELAY_SECONDS)


@shared_task(name="answers.purge_old_queries")
def purge_old_queries_task() -> int:
    """Nightly: the bot-question log keeps ANSWER_QUERY_RETENTION_DAYS days (idempotent, in batches)."""
    from apps.answers.services.retention import answer_queries_purge_old

    return answer_queries_purge_old()
