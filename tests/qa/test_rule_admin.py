"""Editors write rule conditions in the admin: a condition the engine cannot run is refused there, with why."""

import json

import pytest

from apps.qa.models import Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("qa-admin", "qa@example.com", "pw-for-tests-1"))
    return client


def add_rule(client, condition: dict):
    return client.post(
        "/admin/qa/rule/add/",
        {
            "code": "contact-outside",
            "name": "私下联系",
            "severity": "major",
            "condition": json.dumps(condition, ensure_ascii=False),
            "is_active": "on",
        },
    )


def test_a_regex_with_a_backreference_is_refused_with_the_reason_and_nothing_is_saved(editor_client):
    response = add_rule(editor_client, {"type": "regex", "pattern": "(微信)\\1", "role": "agent"})
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["condition"])
    assert "$.pattern" in errors and "RE2" in errors and "Backreferences and lookaround are not supported" in errors
    assert not Rule.objects.exists()


def test_a_regex_the_engine_runs_is_saved(editor_client):
    response = add_rule(editor_client, {"type": "regex", "pattern": "微信\\s*[a-z0-9]{5,}", "role": "agent"})
    assert response.status_code == 302
    assert Rule.objects.get().condition["pattern"] == "微信\\s*[a-z0-9]{5,}"
