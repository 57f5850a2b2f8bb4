"""Hostile input in the reviewer workspace: what cannot be stored is refused with the error on its field (a note,
the comment, a dispute's reason, a ruling's note, a session's name), never a 500, and nothing is written."""

import json

import pytest

from apps.reviews.models import CalibrationSession, Dispute, Review
from tests.reviews.helpers import lead_of, setup_tasks

pytestmark = pytest.mark.django_db

NUL = "Remove the NUL character: it cannot be stored."


def post_json(client, url, body):
    return client.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


@pytest.fixture
def draft(client):
    [task], _agent, reviewer, version = setup_tasks(1)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    return review, version.criteria.get(mode="manual"), f"/qa/reviews/{review.pk}/draft/"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("comment", "客户\x00满意", NUL),
        ("comment", "好" * 5001, "At most 5,000 characters; this has 5,001."),
        ("criterion_notes", "解释\x00清楚", NUL),
        ("criterion_notes", "注" * 2001, "At most 2,000 characters; this has 2,001."),
    ],
)
def test_a_note_or_comment_that_cannot_be_stored_is_an_error_on_that_box(client, draft, field, value, message):
    review, manual, url = draft
    body = {"comment": value} if field == "comment" else {field: {str(manual.pk): value}}
    response = post_json(client, url, body)
    assert response.status_code == 400
    key = "comment" if field == "comment" else f"criterion_notes.{manual.pk}"
    assert response.json()["errors"] == {key: [message]}
    review.refresh_from_db()
    assert review.comment == "" and review.criterion_notes == {}


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,  # deeper than Python's parser goes
        '{"active_seconds": 1e999}',  # infinity
        '{"active_seconds": ' + "9" * 5000 + "}",
        {"message_notes": {"\x00": "备注"}},  # ids only
        {"criterion_notes": {"abc": "备注"}},
    ],
)
def test_a_draft_the_server_cannot_read_is_a_400_not_a_500(client, draft, body):
    review, _manual, url = draft
    response = post_json(client, url, body)
    assert response.status_code == 400 and response.json()["detail"]
    review.refresh_from_db()
    assert review.seconds_spent == 0 and review.message_notes == {} and review.criterion_notes == {}


def test_a_score_outside_pass_fail_na_is_refused_on_its_criterion(client, draft):
    review, manual, _url = draft
    response = post_json(client, f"/qa/reviews/{review.pk}/submit/", {"outcomes": {str(manual.pk): "100"}})
    assert response.status_code == 400
    assert response.json()["errors"] == {f"outcomes.{manual.pk}": ["One of: pass, fail, na."]}
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT


@pytest.fixture
def submitted(client):
    [task], agent, reviewer, version = setup_tasks(1)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    outcomes = {str(c.pk): "fail" for c in version.criteria.all()}
    post_json(client, f"/qa/reviews/{review.pk}/submit/", {"outcomes": outcomes})
    return review, agent, reviewer, version


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("   ", "This field is required."),
        ("理" * 2001, "At most 2,000 characters; this has 2,001."),
        ("有录音\x00为证", "Remove the NUL character"),
    ],
)
def test_a_dispute_reason_that_cannot_be_stored_is_said_next_to_the_field(client, submitted, reason, message):
    review, agent, _reviewer, version = submitted
    criterion = version.criteria.get(mode="manual")
    client.force_login(agent)
    response = client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": criterion.pk, "reason": reason})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="reason-error-{criterion.pk}"' in page and message in page
    assert not Dispute.objects.exists()


def test_a_dispute_naming_no_criterion_is_not_found(client, submitted):
    review, agent, _reviewer, _version = submitted
    client.force_login(agent)
    assert client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": "abc", "reason": "x"}).status_code == 404
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("note", ["裁" * 2001, "录音\x00证实"])
def test_a_ruling_note_that_cannot_be_stored_is_said_next_to_the_field(client, submitted, note):
    review, agent, _reviewer, version = submitted
    criterion = version.criteria.get(mode="manual")
    client.force_login(agent)
    client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": criterion.pk, "reason": "有录音为证"})
    dispute = Dispute.objects.get()
    client.force_login(lead_of())
    ruling = {"decision": "overturn", "outcome": "pass", "note": note}
    response = client.post(f"/qa/disputes/{dispute.pk}/rule/", ruling)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="note-error-{dispute.pk}"' in page
    assert 'value="overturn" checked' in page  # the lead's choice kept: a corrected note must not uphold instead
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN and dispute.decision_note == ""


@pytest.mark.parametrize(
    ("fields", "where", "message"),
    [
        ({"name": "校" * 201}, "name-error", "At most 200 characters; this has 201."),
        ({"name": "十二月\x00校准"}, "name-error", "Remove the NUL character"),
        ({"conversations": "no\x00such"}, "conversations-error", "No such conversations"),
    ],
)
def test_a_calibration_session_that_cannot_be_stored_is_said_next_to_the_field(client, fields, where, message):
    tasks, _agent, reviewer, version = setup_tasks(1)
    client.force_login(lead_of())
    data = {"name": "十二月校准", "version": version.pk, "reviewers": [reviewer.pk]}
    response = client.post("/qa/calibrations/", {**data, "conversations": tasks[0].conversation.external_id, **fields})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="{where}"' in page and message in page
    assert not CalibrationSession.objects.exists()


def test_tampered_ids_in_the_calibration_form_are_a_400_not_a_500(client):
    setup_tasks(1)
    client.force_login(lead_of())
    data = {"name": "x", "version": "abc", "reviewers": ["abc", "9" * 30], "conversations": "x"}
    assert client.post("/qa/calibrations/", data).status_code == 400
    assert not CalibrationSession.objects.exists()
