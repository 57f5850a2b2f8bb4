from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from apps.apikeys.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key requests per minute, counted in the shared cache (Redis) so all web workers agree."""

    scope = "api_key"

    def get_rate(self) -> str:
        return f"{settings.API_KEY_DEFAULT_RATE_PER_MINUTE}/min"

    def allow_request(self, request: Request, view) -> bool:
        api_key = request.auth
        if isinstance(api_key, ApiKey) and api_key.rate_limit_per_minute:
            self.num_requests, self.duration = api_key.rate_limit_per_minute, 60
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view) -> str | None:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
        return self.cache_format % {"scope": self.scope, "ident": f"key-{api_key.pk}"}
