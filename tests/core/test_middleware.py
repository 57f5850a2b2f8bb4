"""Every response says how long the server took, as a standard ``Server-Timing: app;dur=<ms>`` header."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from apps.accounts import roles
from apps.core.middleware import ServerTimingMiddleware
from tests.factories import UserFactory

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


# --- sessions (SessionIdleRefreshMiddleware) ----------------------------------------------------------
# Sessions end after SESSION_IDLE_HOURS without a request; working keeps them open, without a database
# write on every request.


def expiry(key: str):
    return Session.objects.get(pk=key).expire_date


def test_an_active_session_is_extended_at_most_every_few_minutes(client, settings):
    client.force_login(UserFactory(role=roles.QA_REVIEWER))
    key = client.session.session_key
    client.get("/qa/")
    first = expiry(key)
    assert first > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    client.get("/qa/")
    assert expiry(key) == first  # a second request moments later writes nothing
    session = client.session
    session["_refreshed"] -= settings.SESSION_REFRESH_SECONDS + 1  # as if the last refresh were minutes ago
    session.save()
    client.get("/qa/")
    assert expiry(key) > first


def test_an_idle_session_is_over(client):
    client.force_login(UserFactory(role=roles.QA_REVIEWER))
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))  # SESSION_IDLE_HOURS went by
    response = client.get("/qa/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
