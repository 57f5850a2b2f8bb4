"""Agents dispute (申诉) and leads rule, within the dispute window; reviewers find what they submitted; QA reports
for leads. Each role sees only what it should."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import roles
from apps.qa.models import ReviewTask
from apps.reviews.models import Dispute, Review
from tests.factories import UserFactory, all_pass, lead_of, setup_tasks

pytestmark = pytest.mark.django_db


def submitted_review(client, *, outcome="fail"):
    [task], agent_user, reviewer, version = setup_tasks(1)
    client.force_login(reviewer)
    client.get(f"/qa/tasks/{task.pk}/")
    review = Review.objects.get(task=task)
    outcomes = {k: outcome for k in all_pass(version)}
    client.post(f"/qa/reviews/{review.pk}/submit/", json.dumps({"outcomes": outcomes}), content_type="application/json")
    review.refresh_from_db()
    return review, agent_user, reviewer, version


def test_an_agent_sees_only_their_own_reviews(client):
    review, agent_user, _reviewer, _version = submitted_review(client)
    client.force_login(agent_user)
    assert review.conversation.external_id in client.get("/qa/my-reviews/").content.decode()
    assert client.get(f"/qa/reviews/{review.pk}/").status_code == 200
    stranger = UserFactory(role=roles.AGENT)
    client.force_login(stranger)
    assert review.conversation.external_id not in client.get("/qa/my-reviews/").content.decode()
    assert client.get(f"/qa/reviews/{review.pk}/").status_code == 404


def test_an_agent_disputes_a_criterion_and_the_lead_overturns_it(client):
    review, agent_user, _reviewer, version = submitted_review(client)
    criterion = version.criteria.first()
    assert review.score == 0
    client.force_login(agent_user)
    client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": criterion.pk, "reason": "客户自己要求查看订单页"})
    dispute = Dispute.objects.get()
    assert review.task.__class__.objects.get(pk=review.task_id).state == ReviewTask.State.DISPUTED
    lead = lead_of()
    client.force_login(lead)
    assert "客户自己要求查看订单页" in client.get("/qa/disputes/").content.decode()
    client.post(f"/qa/disputes/{dispute.pk}/rule/", {"decision": "overturn", "outcome": "pass", "note": "确属客户要求"})
    review.refresh_from_db()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OVERTURNED and review.outcomes[str(criterion.pk)] == "pass"
    assert review.score > 0
    assert review.revisions.values_list("reason", flat=True).first() == "submitted"
    assert review.revisions.count() == 2  # the history keeps the score before the ruling
    assert ReviewTask.objects.get(pk=review.task_id).state == ReviewTask.State.CLOSED
    again = client.post(f"/qa/disputes/{dispute.pk}/rule/", {"decision": "uphold", "note": "再议"})
    assert again.status_code == 302 and Dispute.objects.get().status == Dispute.Status.OVERTURNED  # final
    # The history reads in the reader's language, not as stored ("submitted", "dispute 1 overturned: …").
    history = client.get(f"/qa/reviews/{review.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已提交" in history and f"申诉 {dispute.pk} 成立" in history
    assert "overturned" not in history and " submitted " not in history


def test_a_lead_of_another_team_and_other_agents_cannot_rule_or_dispute(client):
    review, agent_user, _reviewer, version = submitted_review(client)
    criterion = version.criteria.first()
    client.force_login(UserFactory(role=roles.AGENT))
    client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": criterion.pk, "reason": "不是我"})
    assert not Dispute.objects.exists()
    client.force_login(agent_user)
    client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": criterion.pk, "reason": "理由"})
    dispute = Dispute.objects.get()
    client.force_login(UserFactory(role=roles.QA_LEAD))  # leads no team
    client.post(f"/qa/disputes/{dispute.pk}/rule/", {"decision": "overturn", "note": "越权"})
    assert Dispute.objects.get().status == Dispute.Status.OPEN


def test_disputes_close_after_the_window(client, settings):
    settings.REVIEW_DISPUTE_WINDOW_DAYS = 7
    review, agent_user, _reviewer, version = submitted_review(client)
    Review.objects.filter(pk=review.pk).update(submitted_at=timezone.now() - timedelta(days=8))
    client.force_login(agent_user)
    client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": version.criteria.first().pk, "reason": "晚了"})
    assert not Dispute.objects.exists()


def test_the_original_reviewer_rules_when_so_configured(client, settings):
    settings.REVIEW_DISPUTE_RESOLVER = "reviewer"
    review, agent_user, reviewer, version = submitted_review(client)
    client.force_login(agent_user)
    client.post(f"/qa/reviews/{review.pk}/disputes/", {"criterion": version.criteria.first().pk, "reason": "理由"})
    client.force_login(reviewer)
    client.post(f"/qa/disputes/{Dispute.objects.get().pk}/rule/", {"decision": "uphold", "note": "维持"})
    assert Dispute.objects.get().status == Dispute.Status.UPHELD


# --- calibration --------------------------------------------------------------------------------------


# --- reports ------------------------------------------------------------------------------------------


def test_leads_read_reports_of_their_teams_and_export_csv(client):
    review, _agent, reviewer, _version = submitted_review(client, outcome="pass")
    lead = lead_of()
    client.force_login(lead)
    page = client.get("/qa/reports/").content.decode()
    assert "chart-4.6.1.umd.min.js" in page and review.conversation.team.name in page
    csv = client.get("/qa/reports/?export=reviewers")
    assert csv["Content-Type"].startswith("text/csv") and reviewer.username in csv.content.decode("utf-8-sig")
    client.force_login(reviewer)
    assert client.get("/qa/reports/").status_code == 403
    other_lead = UserFactory(role=roles.QA_LEAD)
    client.force_login(other_lead)
    assert review.conversation.team.name not in client.get("/qa/reports/?export=teams").content.decode("utf-8-sig")


def test_a_reviewer_finds_the_reviews_they_submitted_and_an_agent_cannot_open_the_page(client):
    review, agent_user, reviewer, _version = submitted_review(client)
    client.force_login(reviewer)
    page = client.get("/qa/submitted/").content.decode()
    assert f"/qa/reviews/{review.pk}/" in page
    other = UserFactory(role=roles.QA_REVIEWER)
    client.force_login(other)
    assert f"/qa/reviews/{review.pk}/" not in client.get("/qa/submitted/").content.decode()
    client.force_login(agent_user)
    assert client.get("/qa/submitted/").status_code == 403
