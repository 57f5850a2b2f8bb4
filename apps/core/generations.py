"""Generation counters in the shared cache: bump one and every process sees its cached data is old.

A counter that is missing (first use, or the cache was flushed) starts again from a random value, never
from a number a process may still hold from before: otherwise stale data could look current again.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache


def _fresh() -> int:
    return secrets.randbits(48)


def generation(key: str, cached: object = None) -> int:
    """The key's current generation (``cached``: its value if the caller already read it)."""
    value = cached if cached is not None else cache.get(key)
    if value is None:
        cache.add(key, _fresh(), timeout=None)
        value = cache.get(key)
    return int(value)


def bump_generation(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # the counter does not exist: start a new series (it never expires)
        cache.add(key, _fresh(), timeout=None) or cache.incr(key)
