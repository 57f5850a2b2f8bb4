"""The shared cache, when Redis is away: the portal carries on without it.

Everything the portal keeps in Redis's cache database is a copy (answers retrieved, generation counters,
digests): the source is PostgreSQL. So a cache that cannot be reached behaves like an empty one — reads
miss, writes are dropped — and the caller does the work itself. :class:`DegradingRedisCache` does that for
Django's cache API, and :data:`redis_outage` keeps every process from waiting on a dead server request after
request: after a failure, Redis is left alone for ``REDIS_RETRY_SECONDS``, then tried again by the next call
(which closes the outage when it succeeds). Nothing needs restarting when Redis returns.

Generation bumps that fail while Redis is away are remembered and replayed once it answers again (see
``apps.core.generations``), so a publish during an outage still reaches every process's caches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What "Redis is away" looks like: refused or dropped connections, timeouts, a server still loading its data.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisOutage:
    """One process's view of whether Redis answers: a circuit breaker shared by the cache and the throttle."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._recovery_hooks: list[Callable[[], None]] = []

    @property
    def active(self) -> bool:
        return self._down_since is not None

    def should_try(self) -> bool:
        """True unless Redis failed less than ``REDIS_RETRY_SECONDS`` ago."""
        return self._down_since is None or time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()
                logger.warning("Redis is unavailable (%s); the portal runs without its cache until it returns.", exc)
            self._retry_at = time.monotonic() + settings.REDIS_RETRY_SECONDS

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            logger.warning("Redis answers again after %.0f s.", time.monotonic() - self._down_since)
            self._down_since = None
            hooks = list(self._recovery_hooks)
        for hook in hooks:
            try:
                hook()
            except RedisError as exc:  # gone again at once: the next recovery replays it
                self.failed(exc)

    def on_recovery(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` each time Redis answers again after an outage (in the process that notices)."""
        self._recovery_hooks.append(hook)


redis_outage = RedisOutage()


def guarded(call: Callable[[], T], fallback: T) -> T:
    """``call()`` against Redis, or ``fallback`` while Redis is away (without trying, during the back-off)."""
    if not redis_outage.should_try():
        return fallback
    try:
        result = call()
    except UNAVAILABLE as exc:
        redis_outage.failed(exc)
        return fallback
    redis_outage.succeeded()
    return result


class DegradingRedisCache(RedisCache):
    """Django's Redis cache, reading as empty and dropping writes while Redis is away (never raising)."""

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return guarded(lambda: super(DegradingRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: list[str], version: int | None = None) -> dict[str, Any]:
        return guarded(lambda: super(DegradingRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: str, version: int | None = None) -> bool:
        return guarded(lambda: super(DegradingRedisCache, self).has_key(key, version), False)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        guarded(lambda: super(DegradingRedisCache, self).set(key, value, timeout, version), None)

    def set_many(self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list:
        return guarded(lambda: super(DegradingRedisCache, self).set_many(data, timeout, version), list(data))

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return guarded(lambda: super(DegradingRedisCache, self).add(key, value, timeout, version), False)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return guarded(lambda: super(DegradingRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: str, version: int | None = None) -> bool:
        return guarded(lambda: super(DegradingRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: list[str], version: int | None = None) -> None:
        guarded(lambda: super(DegradingRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> None:
        guarded(lambda: super(DegradingRedisCache, self).clear(), None)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Raises :class:`CacheUnavailable` while Redis is away: a counter has no sensible stand-in."""
        if not redis_outage.should_try():
            raise CacheUnavailable
        try:
            value = super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            redis_outage.failed(exc)
            raise CacheUnavailable from exc
        redis_outage.succeeded()
        return value


class CacheUnavailable(Exception):
    """Redis is away; the caller decides what to do without it."""
