"""Generation counters in the shared cache: bump one and every process sees its cached data is old.

A counter that is missing (first use, or the cache was flushed) starts again from a random value, never
from a number a process may still hold from before: otherwise stale data could look current again.

While Redis is away there is no shared counter. :func:`generation` then answers a value that changes every
``REDIS_OUTAGE_GENERATION_SECONDS`` (negative, so it never equals a real one): what processes cache in
memory during an outage is rebuilt that often, and once more when Redis returns. A bump that cannot reach
Redis is kept and replayed when it answers again, so a change made during the outage still reaches the
processes that cached before it.
"""

from __future__ import annotations

import secrets
import threading
import time

from django.conf import settings
from django.core.cache import cache

from apps.core.cache import CacheUnavailable, redis_outage

_pending_bumps: set[str] = set()
_pending_lock = threading.Lock()


def _fresh() -> int:
    return secrets.randbits(48)


def _outage_generation() -> int:
    return -1 - int(time.time() // settings.REDIS_OUTAGE_GENERATION_SECONDS)


def generation(key: str, cached: object = None) -> int:
    """The key's current generation (``cached``: its value if the caller already read it)."""
    value = cached if cached is not None else cache.get(key)
    if value is None:
        cache.add(key, _fresh(), timeout=None)
        value = cache.get(key)
    if value is None:  # Redis is away
        return _outage_generation()
    return int(value)


def bump_generation(key: str) -> None:
    try:
        try:
            cache.incr(key)
        except ValueError:  # the counter does not exist: start a new series (it never expires)
            cache.add(key, _fresh(), timeout=None) or cache.incr(key)
    except CacheUnavailable:
        with _pending_lock:
            _pending_bumps.add(key)


def _replay_pending_bumps() -> None:
    with _pending_lock:
        keys = sorted(_pending_bumps)
        _pending_bumps.clear()
    for key in keys:
        bump_generation(key)


redis_outage.on_recovery(_replay_pending_bumps)
