"""The reviewer workspace: the queue, the review page, drafts and submission."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts import roles
from apps.qa.models import ReviewTask
from apps.reviews.models import CalibrationSession, Dispute, Review
from tests.factories import DAY, UserFactory, all_pass, lead_of, setup_tasks

pytestmark = pytest.mark.django_db


def post_json(client, url, body):
    return client.post(url, body if isinstance(body, str) else json.dumps(body), content_type="application/json")


def test_the_queue_lists_my_open_tasks_and_start_next_opens_the_most_urgent(client):
    tasks, _agent, reviewer, _version = setup_tasks(3)
    ReviewTask.objects.filter(pk=tasks[2].pk).update(due_at=DAY)  # the most urgent
    someone_else = UserFactory(role=roles.QA_REVIEWER)
    ReviewTask.objects.filter(pk=tasks[1].pk).update(assignee=someone_else)
    client.force_login(reviewer)
    page = client.get("/qa/").content.decode()
    assert tasks[0].conversation.external_id in page and tasks[1].conversation.external_id not in page
    response = client.post("/qa/next/")
    assert response.status_code == 302 and response["Location"] == f"/qa/tasks/{tasks[2].pk}/"


def test_the_queue_page_costs_the_same_queries_however_long_the_queue(client):
    _tasks, _agent, reviewer, _version = setup_tasks(3)
    client.force_login(reviewer)
    client.get("/qa/")
    with CaptureQueriesContext(connection) as few:
        client.get("/qa/")
    setup_tasks_more(reviewer, 30)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/qa/")
    assert page.content.decode().count("/qa/tasks/") >= 33
    assert len(many.captured_queries) == len(few.captured_queries)


def setup_tasks_more(reviewer, count):
    """More tasks for the same reviewer, on another day's conversations."""
    from apps.qa.models import SamplingPlan
    from apps.qa.services.sampling import sampling_run
    from apps.qa.services.scoring import conversations_score
    from tests.factories import conversations

    ids = conversations(count, agent="agent-b", day=DAY + timedelta(days=1))
    conversations_score(ids)
    plan = SamplingPlan.objects.get(name=f"plan-{reviewer.pk}")
    sampling_run(plan, DAY + timedelta(days=1))
    return list(ReviewTask.objects.filter(conversation_id__in=ids)), None, reviewer, None


def test_the_review_page_shows_the_transcript_with_findings_highlighted(client):
    [task], _agent, reviewer, _version = setup_tasks(1)
    client.force_login(reviewer)
    page = client.get(f"/qa/tasks/{task.pk}/").content.decode()
    assert 'class="finding sev-major"' in page and ">不知道</mark>" in page
    task.refresh_from_db()
    assert task.state == ReviewTask.State.IN_PROGRESS
    review = Review.objects.get(task=task)
    assert set(review.outcomes.values()) == {"fail"}  # the automatic criterion is pre-filled from the machine


def test_a_200_message_conversation_renders_in_at_most_10_queries(client):
    messages = []
    for n in range(200):
        role = "customer" if n % 2 == 0 else "agent"
        messages.append(
            {
                "id": f"m{n}",
                "role": role,
                "sender": "agent-a" if role == "agent" else "u-1",
                "sent_at": (DAY + timedelta(hours=9, seconds=10 * n)).isoformat(),
                "text": "不知道" if n == 7 else f"第 {n} 条消息，手机 138****5678",
            }
        )
    [task], _agent, reviewer, _version = setup_tasks(1, messages=messages)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")  # the first visit opens the draft
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/qa/tasks/{task.pk}/")
    assert page.status_code == 200 and page.content.decode().count('class="msg role-') == 200
    assert len(queries.captured_queries) <= 10, [q["sql"][:80] for q in queries.captured_queries]


def test_a_draft_is_saved_with_its_live_score_and_bad_input_is_refused_by_field(client):
    [task], _agent, reviewer, version = setup_tasks(1)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    url = f"/qa/reviews/{review.pk}/draft/"
    response = post_json(client, url, {"outcomes": all_pass(version), "active_seconds": 5000, "comment": "好"})
    assert response.status_code == 200 and response.json()["score"] == "100.00"
    review.refresh_from_db()
    assert review.seconds_spent == 120 and review.comment == "好"  # at most 120 s believed per save
    bad = post_json(client, url, {"outcomes": {"999999": "pass", str(version.criteria.first().id): "maybe"}})
    assert bad.status_code == 400 and len(bad.json()["errors"]) == 2
    assert post_json(client, url, ["not", "an", "object"]).status_code == 400


def test_submitting_twice_creates_one_review_and_moves_the_task_once(client):
    [task], _agent, reviewer, version = setup_tasks(1)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    incomplete = post_json(client, f"/qa/reviews/{review.pk}/submit/", {"outcomes": {}})
    assert incomplete.status_code == 400
    for _ in range(2):
        response = post_json(client, f"/qa/reviews/{review.pk}/submit/?next=1", {"outcomes": all_pass(version)})
        assert response.status_code == 200
    assert Review.objects.filter(task=task).count() == 1
    task.refresh_from_db()
    assert task.state == ReviewTask.State.SUBMITTED
    assert list(task.events.values_list("action", flat=True)) == ["start", "submit"]
    assert review.revisions.count() == 1


def test_nobody_opens_or_saves_someone_elses_task(client):
    [task], _agent, _reviewer, _version = setup_tasks(1)
    other = UserFactory(role=roles.QA_REVIEWER)
    client.force_login(other)
    assert client.get(f"/qa/tasks/{task.pk}/").status_code == 404
    client.force_login(task.assignee)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    client.force_login(other)
    assert post_json(client, f"/qa/reviews/{review.pk}/draft/", {}).status_code == 404


def test_people_without_a_qa_role_cannot_use_the_workspace(client):
    client.force_login(UserFactory(role=roles.KNOWLEDGE_EDITOR))
    assert client.get("/qa/").status_code == 403
    client.logout()
    assert client.get("/qa/").status_code == 302  # to the login page


def test_the_review_page_shows_durations_readably_and_a_dash_when_unknown(client):
    from apps.conversations.models import Conversation

    [task], _agent, reviewer, _version = setup_tasks(1)
    Conversation.objects.filter(pk=task.conversation_id).update(first_response_seconds=17.4, handle_seconds=None)
    client.force_login(reviewer)
    page = client.get(f"/qa/tasks/{task.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "17 秒" in page or "17 s" in page
    assert "— s" not in page and "— 秒" not in page


def test_the_queue_pages_through_every_task_and_filters_by_reason_and_due_date(client):
    from django.utils import timezone

    from apps.reviews.views import QUEUE_PAGE_SIZE

    _tasks, _agent, reviewer, _version = setup_tasks(3)
    setup_tasks_more(reviewer, 60)
    open_tasks = ReviewTask.objects.filter(assignee=reviewer, state__in=["pending", "in_progress"])
    total = open_tasks.count()
    assert total > QUEUE_PAGE_SIZE  # more than one page: nothing silently cut off
    client.force_login(reviewer)
    seen = set()
    page_number = 1
    while True:
        page = client.get("/qa/", {"page": page_number}).content.decode()
        seen |= {int(pk) for pk in re.findall(r"/qa/tasks/(\d+)/", page)}
        if 'rel="next"' not in page:
            break
        page_number += 1
    assert seen == set(open_tasks.values_list("pk", flat=True)) and page_number == -(-total // QUEUE_PAGE_SIZE)

    overdue = open_tasks.first()
    open_tasks.update(due_at=timezone.now() + timedelta(days=30))
    ReviewTask.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(hours=1))
    page = client.get("/qa/", {"due": "overdue"}).content.decode()
    assert set(re.findall(r"/qa/tasks/(\d+)/", page)) == {str(overdue.pk)}
    reason = overdue.reason
    page = client.get("/qa/", {"reason": reason, "due": "overdue"}).content.decode()
    assert f"/qa/tasks/{overdue.pk}/" in page
    other = next(value for value in ReviewTask.Reason.values if value != reason)
    assert f"/qa/tasks/{overdue.pk}/" not in client.get("/qa/", {"reason": other}).content.decode()


def test_human_only_criteria_start_as_na_when_the_bot_handled_the_conversation_alone():
    from apps.conversations.models import Conversation
    from apps.qa.services.scorecards import scorecard_export
    from apps.reviews.services import prefilled_outcomes

    [task], _agent, _reviewer, version = setup_tasks(1)
    manual = version.criteria.get(mode="manual")
    manual.human_only = True
    manual.save(update_fields=["human_only"])
    conversation = task.conversation
    assert str(manual.pk) not in prefilled_outcomes(conversation, version)  # a human served this one
    Conversation.objects.filter(pk=conversation.pk).update(agent_message_count=0)
    conversation.refresh_from_db()
    assert prefilled_outcomes(conversation, version)[str(manual.pk)] == "na"
    exported = [c for s in scorecard_export(version)["sections"] for c in s["criteria"]]
    assert any(c["human_only"] for c in exported)  # the flag travels with the scorecard's JSON


def test_a_draft_with_too_many_notes_is_refused_whole(client):
    from apps.reviews.services import MAX_NOTES

    [task], _agent, reviewer, _version = setup_tasks(1)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    notes = {str(n): "备注" for n in range(MAX_NOTES + 1)}
    response = client.post(
        f"/qa/reviews/{review.pk}/draft/", json.dumps({"message_notes": notes}), content_type="application/json"
    )
    assert response.status_code == 400 and "message_notes" in response.json()["errors"]
    review.refresh_from_db()
    assert review.message_notes == {}


def test_the_reports_name_severities_in_the_readers_language(client):
    setup_tasks(1)  # a scored conversation with a finding of the forbidden-words rule
    from tests.factories import lead_of

    client.force_login(lead_of())
    data = client.get("/qa/reports/", HTTP_ACCEPT_LANGUAGE="zh-hans").context["data"]
    severities = {row[1] for row in data.tables["findings"].rows}
    assert severities and not severities & {"info", "minor", "major", "critical"}


# --- hostile input ------------------------------------------------------------------------------------
# Hostile input in the reviewer workspace: what cannot be stored is refused with the error on its field (a note,
# the comment, a dispute's reason, a ruling's note, a session's name), never a 500, and nothing is written.

NUL = "Remove the NUL character: it cannot be stored."


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
