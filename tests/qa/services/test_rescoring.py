"""Rescoring a date range after a rule changes, resumable; sampling plans run by period; the queues page."""

from datetime import timedelta

import pytest

from apps.accounts import roles
from apps.qa.models import AutoScore, RescoreJob, ReviewTask, Rule, SamplingPlan, SamplingRun
from apps.qa.services.rescoring import rescore_job_create, rescore_job_run
from apps.qa.services.sampling import sampling_plans_run_due
from tests.factories import DAY, ProductFactory, UserFactory, conversations, forbidden_rule, published_scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _product():
    ProductFactory(slug="mall-app")


def test_a_rescoring_job_covers_its_date_range_and_shows_progress(monkeypatch):
    rule = forbidden_rule()
    published_scorecard([rule])
    inside = conversations(7, reply="不知道")
    conversations(3, reply="不知道", day=DAY + timedelta(days=3))  # outside the range
    Rule.objects.filter(pk=rule.pk).update(severity="critical")
    job = rescore_job_create(started_from=DAY, started_to=DAY + timedelta(days=1))
    assert job.total == 7
    monkeypatch.setattr("apps.qa.services.rescoring.BATCH", 3)
    assert rescore_job_run(job.pk) == 7
    job.refresh_from_db()
    assert (job.status, job.done) == (RescoreJob.Status.DONE, 7)
    assert set(AutoScore.objects.values_list("conversation_id", flat=True)) == set(inside)
    assert rescore_job_run(job.pk) == 0  # running a finished job again does nothing


def test_a_job_that_died_resumes_after_its_last_committed_batch(monkeypatch):
    published_scorecard([forbidden_rule()])
    ids = conversations(6)
    job = rescore_job_create(started_from=DAY, started_to=DAY + timedelta(days=1))
    RescoreJob.objects.filter(pk=job.pk).update(last_id=sorted(ids)[3], done=4, status="running")
    assert rescore_job_run(job.pk) == 2
    assert set(AutoScore.objects.values_list("conversation_id", flat=True)) == set(sorted(ids)[4:])


def test_due_plans_sample_yesterday_once():
    version = published_scorecard([forbidden_rule()])
    SamplingPlan.objects.create(name="日抽检", scorecard=version.scorecard, rate_percent=50, new_agent_days=0)
    conversations(4)
    today = DAY + timedelta(days=1, hours=8)
    [result] = sampling_plans_run_due(now=today)
    assert result.created and result.run.period_start == DAY and result.sampled == 2
    sampling_plans_run_due(now=today + timedelta(hours=2))
    assert SamplingRun.objects.count() == 1 and ReviewTask.objects.count() == 2


def test_the_queues_page_shows_each_reviewers_progress(client):
    version = published_scorecard([forbidden_rule()])
    reviewer = UserFactory(username="reviewer-li")
    plan = SamplingPlan.objects.create(name="日抽检", scorecard=version.scorecard, rate_percent=100, new_agent_days=0)
    plan.reviewers.set([reviewer])
    conversations(3)
    sampling_plans_run_due(now=DAY + timedelta(days=1, hours=1))
    client.force_login(UserFactory(role=roles.QA_LEAD))
    page = client.get("/admin/qa/reviewtask/").content.decode()
    assert 'id="queue-progress"' in page and "reviewer-li" in page


def test_a_lead_starts_a_rescoring_job_in_the_admin_and_a_backwards_range_is_refused(client):
    published_scorecard([forbidden_rule()])
    conversations(4)
    client.force_login(UserFactory(role=roles.QA_LEAD))
    bad = client.post(
        "/admin/qa/rescorejob/add/",
        {
            "started_from_0": "2026-11-03",
            "started_from_1": "00:00:00",
            "started_to_0": "2026-11-01",
            "started_to_1": "00:00:00",
        },
    )
    assert bad.status_code == 200 and not RescoreJob.objects.exists()
    good = client.post(
        "/admin/qa/rescorejob/add/",
        {
            "started_from_0": "2026-11-01",
            "started_from_1": "00:00:00",
            "started_to_0": "2026-11-03",
            "started_to_1": "00:00:00",
        },
    )
    assert good.status_code == 302
    job = RescoreJob.objects.get()
    assert (job.total, job.status) == (4, RescoreJob.Status.QUEUED)
    assert "0 %" in client.get("/admin/qa/rescorejob/").content.decode()
