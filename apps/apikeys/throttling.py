"""Per-key rate limits, counted in Redis so that every web worker agrees.

A sliding window approximated from two fixed one-minute counters (the current minute's, and the
previous minute's weighted by how much of it still lies inside the last 60 s), updated and read in one
round trip. DRF's own throttle keeps a list of every request's timestamp and rewrites it on each
request: for a bot sending hundreds a minute, that list is the costliest part of the request.

While Redis is away the same window is counted in each process's memory (:class:`LocalCounters`): limits
still hold per process, bots keep being served, and counting returns to Redis by itself when it answers.
"""

from __future__ import annotations

import math
import threading
import time
from functools import lru_cache

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.apikeys.models import ApiKey
from apps.core.cache import UNAVAILABLE, redis_outage

WINDOW = 60  # seconds


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    options = settings.CACHES["default"].get("OPTIONS", {})
    return redis.Redis.from_url(
        settings.CACHES["default"]["LOCATION"],
        socket_connect_timeout=options.get("socket_connect_timeout"),
        socket_timeout=options.get("socket_timeout"),
    )


class LocalCounters:
    """The per-minute counters in this process's memory, for while Redis is away."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def count(self, current: str, previous: str, minute: int) -> tuple[int, int]:
        """Count one request in ``current``; (its count, ``previous``'s count)."""
        with self._lock:
            if len(self._counts) > 10_000:  # keep only the last two minutes' counters
                self._counts = {k: v for k, v in self._counts.items() if int(k.rsplit(":", 1)[1]) >= minute - 1}
            self._counts[current] = self._counts.get(current, 0) + 1
            return self._counts[current], self._counts.get(previous, 0)

    def uncount(self, current: str) -> None:
        with self._lock:
            self._counts[current] = max(self._counts.get(current, 1) - 1, 0)


local_counters = LocalCounters()


def _count_in_redis(current: str, previous: str) -> tuple[int, int]:
    pipe = _redis().pipeline(transaction=False)
    pipe.incr(current)
    pipe.expire(current, 2 * WINDOW)
    pipe.get(previous)
    count, _ok, before = pipe.execute()
    return count, int(before or 0)


class ApiKeyRateThrottle(BaseThrottle):
    """Requests per minute per key: the key's own limit, else ``API_KEY_DEFAULT_RATE_PER_MINUTE``."""

    def allow_request(self, request: Request, view) -> bool:
        api_key = request.auth
        if isinstance(api_key, ApiKey):
            ident, limit = (
                f"key-{api_key.pk}",
                api_key.rate_limit_per_minute or settings.API_KEY_DEFAULT_RATE_PER_MINUTE,
            )
        else:
            ident, limit = f"ip-{self.get_ident(request)}", settings.API_KEY_DEFAULT_RATE_PER_MINUTE
        now = time.time()
        minute, into = divmod(now, WINDOW)
        current, previous = f"kbportal:throttle:{ident}:{int(minute)}", f"kbportal:throttle:{ident}:{int(minute) - 1}"
        in_redis = redis_outage.should_try()
        if in_redis:
            try:
                count, before = _count_in_redis(current, previous)
            except UNAVAILABLE as exc:
                redis_outage.failed(exc)
                in_redis = False
            else:
                redis_outage.succeeded()
        if not in_redis:
            count, before = local_counters.count(current, previous, int(minute))
        estimate = count - 1 + before * (1 - into / WINDOW)
        if estimate < limit:
            return True
        # Refused: this request does not count, and the client learns when to try again.
        if in_redis:
            try:
                _redis().decr(current)
            except UNAVAILABLE as exc:
                redis_outage.failed(exc)
        else:
            local_counters.uncount(current)
        self._wait = self._seconds_until_allowed(estimate, limit, into, before)
        return False

    @staticmethod
    def _seconds_until_allowed(estimate: float, limit: int, into: float, before: int) -> float:
        if before and estimate - before * (1 - into / WINDOW) < limit:
            # The previous minute's share fades out linearly: wait until enough of it has.
            excess = estimate - limit + 1
            return min(WINDOW - into, excess * WINDOW / before)
        return WINDOW - into

    def wait(self) -> float | None:
        return math.ceil(getattr(self, "_wait", WINDOW))
