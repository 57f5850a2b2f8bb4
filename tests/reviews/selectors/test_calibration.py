"""Calibration (校准): sessions scored blind by reviewers a lead picks from their own teams' conversations, and
their agreement report (Krippendorff's alpha)."""

import json

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.qa.models import ReviewTask
from apps.reviews.models import Review
from apps.reviews.selectors.calibration import krippendorff_alpha_nominal
from tests.factories import UserFactory, lead_of, setup_tasks

pytestmark = pytest.mark.django_db


def test_krippendorffs_alpha_on_hand_computed_data():
    assert krippendorff_alpha_nominal([["a", "a"], ["b", "b"], ["a", "a"]]) == 1.0
    # Coincidences: (1,1)=2, (2,2)=2, (1,2)=(2,1)=1; n1 = n2 = 3: alpha = 1 - 5 * 2 / 18.
    assert krippendorff_alpha_nominal([["1", "1"], ["2", "2"], ["1", "2"]]) == pytest.approx(1 - 10 / 18)
    assert krippendorff_alpha_nominal([["a"]]) is None


def test_a_calibration_session_from_blind_reviews_to_its_report(client):
    tasks, _agent, _reviewer, version = setup_tasks(2)
    lead = lead_of()
    r1, r2 = UserFactory(role=roles.QA_REVIEWER), UserFactory(role=roles.QA_REVIEWER)
    client.force_login(lead)
    response = client.post(
        "/qa/calibrations/",
        {
            "name": "十一月校准",
            "version": version.pk,
            "reviewers": [r1.pk, r2.pk],
            "conversations": "\n".join(t.conversation.external_id for t in tasks),
        },
    )
    session_url = response["Location"]
    session_id = int(session_url.strip("/").split("/")[-1])
    from apps.reviews.models import CalibrationItem

    items = list(CalibrationItem.objects.filter(session_id=session_id))
    criterion = str(version.criteria.first().pk)
    manual = [str(c.pk) for c in version.criteria.filter(mode="manual")]

    def score(user, item, outcome):
        client.force_login(user)
        client.get(f"/qa/calibrations/{session_id}/items/{item.pk}/")
        review = Review.objects.get(calibration_item=item, reviewer=user)
        outcomes = {criterion: outcome, **{m: "pass" for m in manual}}
        client.post(
            f"/qa/reviews/{review.pk}/submit/", json.dumps({"outcomes": outcomes}), content_type="application/json"
        )
        return review

    mine = score(r1, items[0], "fail")
    client.force_login(r2)
    assert client.get(f"/qa/reviews/{mine.pk}/").status_code == 404  # blind: not someone else's
    score(r2, items[0], "fail")
    score(r1, items[1], "fail")
    score(r2, items[1], "pass")
    for item in items:
        score(lead, item, "fail")
    client.force_login(r1)
    assert client.get(f"/qa/calibrations/{session_id}/report/").status_code == 403
    client.force_login(lead)
    report = client.get(f"/qa/calibrations/{session_id}/report/").content.decode()
    assert 'id="alpha"' in report and r1.username in report and r2.username in report
    from apps.reviews.models import CalibrationSession
    from apps.reviews.selectors.calibration import calibration_report

    data = calibration_report(CalibrationSession.objects.get(pk=session_id))
    assert data.complete
    deviation = {r.reviewer: r.criterion_agreement for r in data.reviewers}
    assert deviation[r1.username] == 1.0 and deviation[r2.username] == pytest.approx(0.75)


def test_only_leads_create_calibration_sessions(client):
    _tasks, _agent, reviewer, version = setup_tasks(1)
    client.force_login(reviewer)
    assert client.post("/qa/calibrations/", {"name": "x", "version": version.pk}).status_code == 403


def test_a_lead_and_one_reviewer_calibrate_and_get_an_agreement(client):
    """The demo team: one reviewer and the lead, whose reference is the second coder."""
    tasks, _agent, reviewer, version = setup_tasks(1)
    lead = lead_of()
    client.force_login(lead)
    page = client.get("/qa/calibrations/").content.decode()
    assert f'value="{lead.pk}"' not in page  # the lead is not offered as a reviewer
    response = client.post(
        "/qa/calibrations/",
        {
            "name": "两人校准",
            "version": version.pk,
            "reviewers": [reviewer.pk],
            "conversations": tasks[0].conversation.external_id,
        },
    )
    assert response.status_code == 302
    session_id = int(response["Location"].strip("/").split("/")[-1])
    from apps.reviews.models import CalibrationItem, CalibrationSession
    from apps.reviews.selectors.calibration import calibration_report

    [item] = CalibrationItem.objects.filter(session_id=session_id)
    for user in (reviewer, lead):
        client.force_login(user)
        client.get(f"/qa/calibrations/{session_id}/items/{item.pk}/")
        review = Review.objects.get(calibration_item=item, reviewer=user)
        outcomes = {str(c.pk): "pass" for c in version.criteria.all()}
        client.post(
            f"/qa/reviews/{review.pk}/submit/", json.dumps({"outcomes": outcomes}), content_type="application/json"
        )
    data = calibration_report(CalibrationSession.objects.get(pk=session_id))
    assert data.complete and data.alpha is not None
    client.force_login(lead)
    report = client.get(f"/qa/calibrations/{session_id}/report/").content.decode()
    assert 'id="alpha"' in report


def test_a_wrong_conversation_id_keeps_what_the_lead_typed(client):
    tasks, _agent, reviewer, version = setup_tasks(1)
    lead = lead_of()
    client.force_login(lead)
    typed = f"{tasks[0].conversation.external_id}\nno-such-conversation"
    response = client.post(
        "/qa/calibrations/",
        {"name": "十二月校准", "version": version.pk, "reviewers": [reviewer.pk], "conversations": typed},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "no-such-conversation" in page and 'value="十二月校准"' in page
    assert f'value="{reviewer.pk}" checked' in page


def test_the_lead_cannot_be_one_of_the_reviewers(client):
    tasks, _agent, _reviewer, version = setup_tasks(1)
    lead = lead_of()
    client.force_login(lead)
    response = client.post(
        "/qa/calibrations/",
        {
            "name": "x",
            "version": version.pk,
            "reviewers": [lead.pk],
            "conversations": tasks[0].conversation.external_id,
        },
    )
    assert response.status_code == 400


def test_a_lead_picks_calibration_conversations_from_the_queue_by_search(client):
    tasks, _agent, reviewer, _version = setup_tasks(3)
    lead = lead_of()
    client.force_login(lead)
    url = reverse("reviews:calibration_candidates")
    everything = client.get(url).json()["results"]
    assert {row["id"] for row in everything} == {t.conversation.external_id for t in tasks}  # the queue
    wanted = tasks[1].conversation.external_id
    [row] = client.get(url, {"q": wanted}).json()["results"]
    assert row["id"] == wanted and row["agent"] and row["channel"]

    # A task reviewed and closed leaves the queue; "also reviewed ones" still finds it.
    ReviewTask.objects.filter(pk=tasks[0].pk).update(state=ReviewTask.State.SUBMITTED)
    assert tasks[0].conversation.external_id not in {r["id"] for r in client.get(url).json()["results"]}
    assert tasks[0].conversation.external_id in {r["id"] for r in client.get(url, {"all": "1"}).json()["results"]}

    # Prefilled from a link that names conversations, e.g. from a list of them.
    page = client.get(reverse("reviews:calibrations"), {"conversation": [wanted]}).content.decode()
    assert f">{wanted}</textarea>" in page

    client.force_login(reviewer)
    assert client.get(url).status_code == 403  # leads only, like the form it serves


def test_a_lead_calibrates_only_their_teams_conversations_with_reviewers_only():
    from apps.reviews.services import ReviewError, calibration_create
    from tests.factories import conversations

    tasks, agent, reviewer, version = setup_tasks(1)
    lead = lead_of()  # leads 售后一组, where setup_tasks' conversations are
    [elsewhere] = conversations(1, agent="agent-z", team="售后二组")
    from apps.conversations.models import Conversation

    other_team = Conversation.objects.get(pk=elsewhere)
    mine = tasks[0].conversation
    with pytest.raises(ReviewError) as refused:
        calibration_create(
            name="跨团队", version=version, conversations=[mine, other_team], reviewers=[reviewer], by=lead
        )
    assert other_team.external_id in " ".join(refused.value.field_errors["conversations"])
    with pytest.raises(ReviewError) as refused:
        calibration_create(name="坐席", version=version, conversations=[mine], reviewers=[agent], by=lead)
    assert agent.get_username() in " ".join(refused.value.field_errors["reviewers"])
    session = calibration_create(name="本组", version=version, conversations=[mine], reviewers=[reviewer], by=lead)
    assert list(session.items.values_list("conversation_id", flat=True)) == [mine.pk]


def test_the_picker_offers_only_the_leads_teams(client):
    from tests.factories import conversations

    tasks, _agent, _reviewer, _version = setup_tasks(1)
    conversations(1, agent="agent-z", team="售后二组")
    client.force_login(lead_of())
    found = {row["id"] for row in client.get(reverse("reviews:calibration_candidates"), {"all": "1"}).json()["results"]}
    assert found <= {t.conversation.external_id for t in tasks}
