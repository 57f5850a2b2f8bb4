"""The QA admin. Hostile input: a rule condition or a scorecard file that Python's JSON parser or PostgreSQL's
jsonb cannot take is a field error, never a 500, and nothing is saved."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts import roles
from apps.qa.models import Criterion, Rule, Scorecard, ScorecardVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KEYWORDS = '{"type": "keywords", "terms": ["微信"], "role": "agent"'


@pytest.fixture
def lead(client):
    client.force_login(UserFactory(role=roles.QA_LEAD))
    return client


def add_rule(client, condition: str):
    data = {"code": "contact-outside", "name": "私下联系", "severity": "major", "condition": condition}
    return client.post("/admin/qa/rule/add/", {**data, "is_active": "on"})


@pytest.mark.parametrize(
    "condition",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than Python's parser goes
        KEYWORDS + ', "min": NaN}',
        KEYWORDS + ', "min": 1e999}',  # infinity: jsonb has none
        KEYWORDS + ', "min": ' + "9" * 5000 + "}",  # more digits than Python converts
    ],
)
def test_json_the_database_cannot_store_is_not_valid_json_at_the_field(lead, condition):
    response = add_rule(lead, condition)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["condition"] == ["Enter a valid JSON."]
    assert not Rule.objects.exists()


def test_a_nul_character_in_a_condition_is_refused_at_the_field(lead):
    response = add_rule(lead, KEYWORDS.replace("微信", "微\\u0000信") + "}")
    assert response.status_code == 200
    assert "NUL character" in response.context["adminform"].form.errors["condition"][0]
    assert not Rule.objects.exists()


def card(**overrides) -> bytes:
    data = {
        "format": "kbportal.scorecard/1",
        "name": "夜班质检",
        "sections": [{"title": "服务规范", "criteria": [{"title": "礼貌用语", "points": 10}]}],
    }
    data.update(overrides)
    return json.dumps(data, ensure_ascii=False).encode()


def criterion(**fields) -> list:
    return [{"title": "服务规范", "criteria": [{"title": "礼貌用语", **fields}]}]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "file"),
        (b'{"format": "kbportal.scorecard/1", "points": ' + b"9" * 5000 + b"}", "file"),
        (card(name="名" * 201), "name: At most 200 characters."),
        (card(name="夜班\x00质检"), "name: Contains a NUL character"),
        (card(sections=[{"title": "规" * 201, "criteria": [{"title": "t"}]}]), "sections[0].title: At most 200"),
        (card(sections=criterion(title="礼" * 201)), "sections[0].criteria[0].title: At most 200"),
        (card(sections=criterion(description="说明\x00")), "sections[0].criteria[0].description: Contains a NUL"),
        (card(sections=criterion(description=["说明"])), "sections[0].criteria[0].description: Must be text."),
        (card(sections=criterion(rule=["forbidden"])), "sections[0].criteria[0].rule: The code of a rule"),
        (card(teams=5), "teams: A list of names."),
        (card(channels=[{"code": "wechat"}]), "channels: A list of names."),
        (card(description={"a": 1}), "description: Must be text."),
    ],
)
def test_a_bad_scorecard_file_is_explained_and_nothing_is_imported(lead, body, where):
    response = lead.post("/admin/qa/scorecard/import/", {"file": SimpleUploadedFile("card.json", body)})
    assert response.status_code == 200
    errors = response.context["form"].errors
    if where == "file":
        assert "not valid JSON" in errors["file"][0]
    else:
        assert any(where in e for e in errors["__all__"]), errors
    assert not Scorecard.objects.exists() and not ScorecardVersion.objects.exists() and not Criterion.objects.exists()


def test_an_oversized_scorecard_file_is_refused_at_the_file_field(lead):
    body = card(description="说明" * 400_000)
    response = lead.post("/admin/qa/scorecard/import/", {"file": SimpleUploadedFile("card.json", body)})
    assert response.status_code == 200
    assert "larger than 1.0\xa0MB" in response.context["form"].errors["file"][0]
    assert not Scorecard.objects.exists()


# --- rule conditions the engine cannot run ------------------------------------------------------------
# Editors write rule conditions in the admin: a condition the engine cannot run is refused there, with why.


@pytest.fixture
def editor_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("qa-admin", "qa@example.com", "pw-for-tests-1"))
    return client


def add_rule_condition(client, condition: dict):
    return add_rule(client, json.dumps(condition, ensure_ascii=False))


def test_a_regex_with_a_backreference_is_refused_with_the_reason_and_nothing_is_saved(editor_client):
    response = add_rule_condition(editor_client, {"type": "regex", "pattern": "(微信)\\1", "role": "agent"})
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["condition"])
    assert "$.pattern" in errors and "RE2" in errors and "Backreferences and lookaround are not supported" in errors
    assert not Rule.objects.exists()


def test_a_regex_the_engine_runs_is_saved(editor_client):
    response = add_rule_condition(editor_client, {"type": "regex", "pattern": "微信\\s*[a-z0-9]{5,}", "role": "agent"})
    assert response.status_code == 302
    assert Rule.objects.get().condition["pattern"] == "微信\\s*[a-z0-9]{5,}"
