"""Generation counters in the shared cache: bump one and every process sees its cached data is old."""

from __future__ import annotations

from django.core.cache import cache


def generation(key: str) -> int:
    return int(cache.get(key) or 0)


def bump_generation(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # first use: the counter does not exist yet (and never expires)
        cache.add(key, 1, timeout=None) or cache.incr(key)
