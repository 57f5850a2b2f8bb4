"""Scorecards: versions that never change once used, JSON to copy them between teams or environments,
and the admin screens QA leads manage them in."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts import roles
from apps.qa.models import Criterion, Lexicon, Rule, ScorecardVersion
from apps.qa.services.scorecards import (
    InvalidScorecard,
    scorecard_export,
    scorecard_import,
    scorecard_version_new_draft,
    scorecard_version_publish,
)
from apps.qa.services.scoring import conversations_score
from tests.factories import (
    ProductFactory,
    UserFactory,
    conversations,
    forbidden_rule,
    greeting_rule,
    published_scorecard,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(client):
    user = UserFactory(role=roles.QA_LEAD)
    client.force_login(user)
    return user


def test_editing_a_scorecard_in_use_makes_a_new_version_and_past_scores_keep_theirs():
    ProductFactory(slug="mall-app")
    v1 = published_scorecard([forbidden_rule()])
    [pk] = conversations(1, reply="不知道")
    conversations_score([pk])
    draft = scorecard_version_new_draft(v1.scorecard)
    assert draft.number == 2 and draft.criteria.count() == v1.criteria.count()
    draft.criteria.filter(mode="manual").delete()
    v2 = scorecard_version_publish(draft)
    v1.refresh_from_db()
    assert v1.status == ScorecardVersion.Status.RETIRED and v2.status == ScorecardVersion.Status.PUBLISHED
    assert v1.criteria.filter(mode="manual").exists()  # the old version's criteria are untouched
    conversations_score([pk])
    assert (
        set(v1.auto_scores.values_list("conversation_id", flat=True))
        == {pk}
        == set(v2.auto_scores.values_list("conversation_id", flat=True))
    )


def test_export_then_import_copies_a_scorecard():
    version = published_scorecard([forbidden_rule(), greeting_rule()])
    exported = scorecard_export(version)
    copy = scorecard_import(json.loads(json.dumps(exported)), name="售后质检（复制）")
    assert copy.status == ScorecardVersion.Status.DRAFT and copy.scorecard.name == "售后质检（复制）"
    exported_again = scorecard_export(copy)
    assert exported_again["sections"] == exported["sections"]


def test_a_bad_scorecard_file_reports_every_problem_and_writes_nothing():
    forbidden_rule()
    data = {
        "format": "kbportal.scorecard/1",
        "name": "坏的",
        "teams": ["不存在的组"],
        "sections": [
            {
                "title": "规范",
                "criteria": [
                    {"title": "禁语", "mode": "automatic", "rule": "no-such-rule", "points": 10},
                    {"title": "", "mode": "manual", "points": 300},
                    {"title": "自动但没规则", "mode": "automatic"},
                ],
            }
        ],
    }
    with pytest.raises(InvalidScorecard) as caught:
        scorecard_import(data)
    assert set(caught.value.errors) == {
        "teams",
        "sections[0].criteria[0].rule",
        "sections[0].criteria[1].title",
        "sections[0].criteria[1].points",
        "sections[0].criteria[2].rule",
    }
    assert not ScorecardVersion.objects.exists() and not Criterion.objects.exists()


def test_admin_imports_a_file_as_a_draft_and_reports_a_bad_one(client, lead):
    version = published_scorecard([forbidden_rule()])
    body = json.dumps(scorecard_export(version), ensure_ascii=False).encode()
    upload = SimpleUploadedFile("card.json", body, content_type="application/json")
    response = client.post("/admin/qa/scorecard/import/", {"file": upload, "name": "夜班质检"})
    assert response.status_code == 302
    assert ScorecardVersion.objects.get(scorecard__name="夜班质检").status == "draft"
    bad = SimpleUploadedFile("card.json", b"{not json", content_type="application/json")
    response = client.post("/admin/qa/scorecard/import/", {"file": bad})
    assert response.status_code == 200
    assert "line 1, column 2" in response.content.decode()  # where the file is broken, said in the form


def test_admin_exports_a_version_as_json(client, lead):
    version = published_scorecard([forbidden_rule()])
    response = client.post("/admin/qa/scorecardversion/", {"action": "export_json", "_selected_action": [version.pk]})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["name"] == "售后质检"


def test_a_published_version_cannot_be_edited_in_the_admin(client, lead):
    version = published_scorecard([forbidden_rule()])
    response = client.post(f"/admin/qa/scorecardversion/{version.pk}/change/", {})
    assert response.status_code == 403


def test_a_rule_with_a_bad_condition_is_refused_with_its_path(client, lead):
    response = client.post(
        "/admin/qa/rule/add/",
        {
            "code": "bad",
            "name": "坏规则",
            "severity": "minor",
            "condition": '{"type": "keywords", "role": "boss"}',
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "$.role" in response.content.decode()
    assert not Rule.objects.exists()


def test_editing_a_rule_condition_bumps_its_version(client, lead):
    rule = forbidden_rule()
    response = client.post(
        f"/admin/qa/rule/{rule.pk}/change/",
        {
            "code": rule.code,
            "name": rule.name,
            "severity": "major",
            "is_active": "on",
            "condition": json.dumps({"type": "keywords", "terms": ["滚"], "role": "agent"}),
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.version == 2


def test_lexicon_terms_are_added_and_removed_in_bulk(client, lead):
    response = client.post(
        "/admin/qa/lexicon/add/",
        {"code": "forbidden", "name": "服务禁语", "kind": "forbidden", "add_terms": "不知道\n自己看\n\n不知道\n"},
    )
    assert response.status_code == 302
    lexicon = Lexicon.objects.get()
    assert lexicon.term_count == 2
    client.post(
        f"/admin/qa/lexicon/{lexicon.pk}/change/",
        {"code": "forbidden", "name": "服务禁语", "kind": "forbidden", "remove_terms": "自己看"},
    )
    assert list(lexicon.terms.values_list("term", flat=True)) == ["不知道"]


def test_reviewers_may_read_but_not_change_rules(client):
    client.force_login(UserFactory(role=roles.QA_REVIEWER))
    rule = forbidden_rule()
    assert client.get(f"/admin/qa/rule/{rule.pk}/change/").status_code == 200
    assert client.post("/admin/qa/rule/add/", {}).status_code == 403


def test_the_scorecard_services_check_who_asks_whatever_the_door():
    from apps.accounts import roles
    from apps.core.errors import PermissionRefused
    from apps.qa.services.scorecards import scorecard_version_new_draft, scorecard_version_publish
    from tests.factories import UserFactory

    version = published_scorecard([forbidden_rule()])
    reviewer, lead = UserFactory(role=roles.QA_REVIEWER), UserFactory(role=roles.QA_LEAD)
    with pytest.raises(PermissionRefused):
        scorecard_version_new_draft(version.scorecard, by=reviewer)
    draft = scorecard_version_new_draft(version.scorecard, by=lead)
    with pytest.raises(PermissionRefused):
        scorecard_version_publish(draft, by=reviewer)
    assert scorecard_version_publish(draft, by=lead).status == "published"
