from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What django-axes answers once a username or address has failed too often: a translated page that
    says how long, not a bare 403."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "locked_out.html", {"cooloff_minutes": minutes}, status=429)


def client_ip(request: HttpRequest) -> str | None:
    """The address a sign-in came from, for lockouts. Behind ``TRUSTED_PROXY_COUNT`` proxies (a TLS
    terminator, a load balancer) it is the address the outermost trusted proxy saw, from X-Forwarded-For;
    otherwise the socket's. Without this, every sign-in would seem to come from the proxy, and five typos
    anywhere would lock everyone out."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
