"""Handing work to Celery from a request without ever failing the request.

A web process that cannot reach the broker (Redis away, restarting) must still answer: the change that
needed the follow-up work is committed, and a periodic sweeper finds what was not queued (a release whose
stale check never ran, a published version not yet indexed, a conversation not yet scored) and queues it
again. So a failure to enqueue is logged, not raised; and after one, this process stops trying for
``REDIS_RETRY_SECONDS`` instead of making every request wait for the broker's timeouts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_skip_until = 0.0


def enqueue(task: Any, *args: Any, countdown: float | None = None, **kwargs: Any) -> bool:
    """``task.apply_async(args, kwargs)``, or a logged warning if the broker is unavailable; True if queued.

    ``task`` is a task object or a registered task name.
    """
    global _skip_until
    name = task if isinstance(task, str) else task.name
    if time.monotonic() < _skip_until:
        logger.warning("broker unavailable: %s not queued now; its sweeper will queue it", name)
        return False
    try:
        # ignore_result: nobody waits for these results, and subscribing to one needs the result backend
        # (Redis) too, which Celery retries for 20 s before giving up when Redis is away.
        if isinstance(task, str):
            from kbportal.celery import app

            app.send_task(task, args=args, kwargs=kwargs, countdown=countdown, ignore_result=True)
        else:
            task.apply_async(args=args, kwargs=kwargs, countdown=countdown, ignore_result=True)
    except (BrokerUnavailable, RedisError, OSError, TimeoutError) as exc:
        with _lock:
            _skip_until = time.monotonic() + settings.REDIS_RETRY_SECONDS
        logger.warning("broker unavailable (%s): %s not queued now; its sweeper will queue it", exc, name)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """:func:`enqueue` once the current transaction commits (the worker must see what it committed)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
