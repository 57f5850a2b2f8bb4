"""Every response says how long the server took, as a standard ``Server-Timing: app;dur=<ms>`` header."""

import re

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from apps.core.middleware import ServerTimingMiddleware

pytestmark = pytest.mark.django_db

APP_TIMING = re.compile(r"(?:^|,\s*)app;dur=(\d+\.\d)(?:\s*(?:,|$))")


def app_ms(header: str) -> float:
    match = APP_TIMING.search(header)
    assert match, f"no app;dur=<ms> in Server-Timing: {header!r}"
    return float(match.group(1))


@pytest.mark.parametrize("path", ["/healthz", "/admin/login/", "/no-such-page/", "/api/v1/articles/"])
def test_every_response_has_a_server_timing_header_that_parses(client, path):
    response = client.get(path)
    assert app_ms(response["Server-Timing"]) >= 0


def test_it_is_the_first_middleware_so_it_times_all_the_others():
    assert settings.MIDDLEWARE[0] == "apps.core.middleware.ServerTimingMiddleware"


def test_the_duration_is_the_time_the_rest_of_the_stack_took_in_milliseconds(monkeypatch):
    clock = iter([10.0, 10.1234])  # perf_counter() in seconds at entry and at the response
    monkeypatch.setattr("apps.core.middleware.time.perf_counter", lambda: next(clock))
    response = ServerTimingMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/"))
    assert response["Server-Timing"] == "app;dur=123.4"


def test_a_server_timing_the_view_set_is_kept():
    def view(request):
        response = HttpResponse("ok")
        response["Server-Timing"] = "db;dur=2.0"
        return response

    header = ServerTimingMiddleware(view)(RequestFactory().get("/"))["Server-Timing"]
    assert header.startswith("db;dur=2.0, app;dur=")
    assert app_ms(header) >= 0
