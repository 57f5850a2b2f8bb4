"""Signing in to the portal is rate-limited: after LOGIN_FAILURE_LIMIT failures a username (or an address)
is locked out for a while, with a translated page; an administrator unlocks it early in the admin."""

import pytest
from axes.models import AccessAttempt

from apps.accounts import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post("/admin/login/", {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="zh-hans")


def test_too_many_failures_lock_the_username_until_an_administrator_unlocks_it(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(role=roles.QA_REVIEWER)
    for _ in range(2):
        assert sign_in(client, user.username, "wrong").status_code == 200  # the form again, with its error
    locked = sign_in(client, user.username, "wrong")
    assert locked.status_code == 429 and "登录已暂停" in locked.content.decode()
    # Even the right password waits now.
    assert sign_in(client, user.username, "pw-for-tests-123").status_code == 429

    administrator = UserFactory(role=roles.ADMINISTRATOR, is_superuser=True)
    admin_client = client.__class__()
    admin_client.force_login(administrator)
    attempt = AccessAttempt.objects.get(username=user.username)
    response = admin_client.post(
        "/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": [attempt.pk]}, follow=True
    )
    assert response.status_code == 200 and not AccessAttempt.objects.filter(username=user.username).exists()
    assert sign_in(client, user.username, "pw-for-tests-123").status_code == 302  # signed in


def test_behind_a_proxy_the_clients_address_counts(rf, settings):
    from apps.accounts.views import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7, 10.0.0.2", REMOTE_ADDR="10.0.0.3")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.3"  # no trusted proxy: a client could write any X-Forwarded-For
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.7"
