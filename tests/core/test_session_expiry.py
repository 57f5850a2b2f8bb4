"""Sessions end after SESSION_IDLE_HOURS without a request; working keeps them open, without a database
write on every request."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from apps.accounts import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


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
