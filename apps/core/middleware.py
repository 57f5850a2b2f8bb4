"""Requests no view can serve, refused before they reach one; and the server time of every response."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class RejectNulInPathMiddleware:
    """A NUL character in the path (``%00``) names nothing: PostgreSQL cannot even compare text with it.
    Answer 404 at once instead of letting a lookup fail with a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
        return self.get_response(request)


class ServerTimingMiddleware:
    """Say how long the server took: a standard ``Server-Timing: app;dur=<ms>`` header on every response,
    measured from this middleware (first in ``MIDDLEWARE``) to the response, so the browser's developer
    tools and the browser tests can read the server's share of a page load."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - started) * 1000
        timing = f"app;dur={elapsed_ms:.1f}"
        existing = response.get("Server-Timing")
        response["Server-Timing"] = f"{existing}, {timing}" if existing else timing
        return response


class SessionIdleRefreshMiddleware:
    """Sign people out after ``SESSION_COOKIE_AGE`` without a request, but not while they work: an open
    session is saved again (which restarts its age) at most every ``SESSION_REFRESH_SECONDS``, instead of
    a database write on every request (``SESSION_SAVE_EVERY_REQUEST``). Sits after SessionMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            from django.conf import settings

            now = int(time.time())
            if now - session.get("_refreshed", 0) >= settings.SESSION_REFRESH_SECONDS:
                session["_refreshed"] = now  # modified: saved, with a new expiry, on the way out
        return self.get_response(request)
