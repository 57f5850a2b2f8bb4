"""API keys: hashed at rest, shown once, scoped, revocable, rate-limited."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.apikeys import throttling
from apps.apikeys.models import ApiKey
from apps.apikeys.services import api_key_issue, api_key_revoke

pytestmark = pytest.mark.django_db


def test_only_a_digest_of_the_key_is_stored():
    issued = api_key_issue(name="bot", scopes=["answers"])
    stored = ApiKey.objects.get(pk=issued.api_key.pk)
    secret = issued.plaintext.rsplit("_", 1)[1]
    assert secret not in stored.digest and secret not in stored.prefix
    assert len(stored.digest) == 64


def test_requests_without_a_valid_key_are_refused():
    client = APIClient()
    assert client.get("/api/v1/articles/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Api-Key kbp_nothing_here")
    assert client.get("/api/v1/articles/").status_code == 401


def test_a_key_without_the_scope_gets_403(api_key_client):
    response = api_key_client("answers").get("/api/v1/articles/")
    assert response.status_code == 403
    assert "articles:read" in response.json()["detail"]


def test_a_revoked_key_stops_working_once_the_revocation_is_committed(
    api_key_client, django_capture_on_commit_callbacks
):
    client = api_key_client("articles:read")
    assert client.get("/api/v1/articles/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api_key_revoke(api_key=client.api_key)
    assert callbacks  # every process is told after the commit, not before (it would reload the old row)
    assert client.get("/api/v1/articles/").status_code == 401


def test_a_key_deleted_in_the_admin_stops_at_once_like_a_revoked_one(
    api_key_client, admin_client, django_capture_on_commit_callbacks
):
    client = api_key_client("articles:read")
    assert client.get("/api/v1/articles/").status_code == 200  # now cached in this process
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/apikeys/apikey/{client.api_key.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not ApiKey.objects.filter(pk=client.api_key.pk).exists()
    assert client.get("/api/v1/articles/").status_code == 401


def test_each_key_is_rate_limited(api_key_client):
    limited = api_key_client("articles:read", rate_limit=3)
    other = api_key_client("articles:read", rate_limit=3)
    responses = [limited.get("/api/v1/articles/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert 1 <= int(responses[-1]["Retry-After"]) <= 60
    assert other.get("/api/v1/articles/").status_code == 200


def test_the_limit_slides_the_previous_minute_out_gradually(api_key_client, monkeypatch):
    client = api_key_client("articles:read", rate_limit=10)
    minute = 29_000_000
    previous = f"kbportal:throttle:key-{client.api_key.pk}:{minute - 1}"
    throttling._redis().set(previous, 10)  # the key used its whole limit in the previous minute
    monkeypatch.setattr(throttling.time, "time", lambda: minute * 60 + 6)  # 10 % into the new minute
    codes = [client.get("/api/v1/articles/").status_code for _ in range(3)]
    assert codes == [200, 429, 429]  # 9 of the previous 10 still count
    monkeypatch.setattr(throttling.time, "time", lambda: minute * 60 + 54)  # 90 % in: 1 still counts
    codes = [client.get("/api/v1/articles/").status_code for _ in range(10)]
    assert codes.count(200) == 8 and codes[-1] == 429


def test_unknown_scopes_are_refused():
    from apps.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="teleport"):
        api_key_issue(name="bot", scopes=["teleport"])


def test_the_command_prints_a_working_key_once():
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_key", "ci-bot", "--scopes", "releases:write", "articles:read", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("kbp_")
    assert "shown only once" in err.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/articles/").status_code == 200
