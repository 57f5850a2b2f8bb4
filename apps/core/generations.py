"""Generation counters in the shared cache: bump one and every process sees its cached data is old.

A counter that is missing (first use, or the cache was flushed) starts again from a random value, never
from a number a process may still hold from before: otherwise stale data could look current again.

While Redis is away there is no shared counter. :func:`generation` then answers a value that changes every
``REDIS_OUTAGE_GENERATION_SECONDS`` (negative, so it never equals a real one): what processes cache in
memory during an outage is rebuilt that often, and once more when Redis returns. A bump that cannot reach
Redis is kept and replayed when it answers again, so a change made during the outage still reaches the
processes that cached before it.

:class:`GenerationCachedValue` is what processes cache with them: a value built once per process and built
again when the generation it was built at moves on.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache

from apps.core.cache import CacheUnavailable, redis_outage

T = TypeVar("T")

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


class GenerationCachedValue(Generic[T]):
    """A value this process builds once (compiled settings, a vocabulary, rules) and builds again only when
    the generation it was built at moves on.

    The generation is whatever changes whenever the value's data does: a counter from :func:`generation`
    (during a Redis outage it moves on every ``REDIS_OUTAGE_GENERATION_SECONDS``, so the value is rebuilt
    that often), a tuple of counters, or a digest of the data. Callers on a hot path pass the generation
    they already read; :meth:`current` reads the counters named by ``keys``.
    """

    def __init__(self, load: Callable[[], T], *, keys: tuple[str, ...] = ()) -> None:
        self._load = load
        self._keys = keys
        self._lock = threading.Lock()
        self._built: tuple[Hashable, T] | None = None

    def at(self, generation: Hashable) -> T:
        """The value as of ``generation``: the one this process holds, or a new one if it was built at another."""
        built = self._built
        if built is None or built[0] != generation:
            with self._lock:  # one thread builds, the others wait for its value
                built = self._built
                if built is None or built[0] != generation:
                    built = (generation, self._load())
                    self._built = built
        return built[1]

    def current(self) -> T:
        """The value as of the current generations of ``keys`` (one counter: its number; several: a tuple)."""
        generations = tuple(generation(key) for key in self._keys)
        return self.at(generations[0] if len(generations) == 1 else generations)
