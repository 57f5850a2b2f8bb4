"""Per-key rate limits, counted in Redis so that every web worker agrees.

A sliding window approximated from two fixed one-minute counters (the current minute's, and the
previous minute's weighted by how much of it still lies inside the last 60 s), updated and read in one
round trip. DRF's own throttle keeps a list of every request's timestamp and rewrites it on each
request: for a bot sending hundreds a minute, that list is the costliest part of the request.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

import redis
from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.apikeys.models import ApiKey

WINDOW = 60  # seconds


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])


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
        pipe = _redis().pipeline(transaction=False)
        pipe.incr(current)
        pipe.expire(current, 2 * WINDOW)
        pipe.get(previous)
        count, _ok, before = pipe.execute()
        estimate = count - 1 + int(before or 0) * (1 - into / WINDOW)
        if estimate < limit:
            return True
        # Refused: this request does not count, and the client learns when to try again.
        _redis().decr(current)
        self._wait = self._seconds_until_allowed(estimate, limit, into, int(before or 0))
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
