"""API keys: hashed at rest, shown once, scoped, revocable, rate-limited."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

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


def test_a_revoked_key_stops_working(api_key_client):
    client = api_key_client("articles:read")
    assert client.get("/api/v1/articles/").status_code == 200
    api_key_revoke(api_key=client.api_key)
    assert client.get("/api/v1/articles/").status_code == 401


def test_each_key_is_rate_limited(api_key_client):
    limited = api_key_client("articles:read", rate_limit=3)
    other = api_key_client("articles:read", rate_limit=3)
    codes = [limited.get("/api/v1/articles/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert other.get("/api/v1/articles/").status_code == 200


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
