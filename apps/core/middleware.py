"""Requests no view can serve, refused before they reach one."""

from __future__ import annotations

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
