"""An agent disputes a review and a lead rules on it; a calibration session from creation to its report."""

import json
import re

import pytest
from playwright.sync_api import expect

from apps.accounts import roles
from apps.reviews.models import CalibrationSession, Dispute, Review
from apps.reviews.services import review_open_task, review_submit
from tests.e2e.conftest import shot
from tests.factories import UserFactory, lead_of, setup_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_disputes_and_a_lead_overturns(page_as):
    [task], agent_user, reviewer, version = setup_tasks(1)
    review = review_open_task(task, reviewer)
    review_submit(review, reviewer, {"outcomes": {str(c.pk): "fail" for c in version.criteria.all()}})
    lead = lead_of()

    agent = page_as(agent_user)
    agent.goto(agent.base + "/qa/my-reviews/")
    shot(agent, "04-agent-reviews")
    agent.locator("#my-reviews a").first.click()
    agent.wait_for_url(re.compile(r"/qa/reviews/\d+/$"))
    expect(agent.locator("#final-score")).to_have_text("0.00")
    manual = version.criteria.get(mode="manual")
    row = agent.locator(f'#outcomes tr[data-criterion="{manual.pk}"]')
    row.locator('input[name="reason"]').fill("客户问题已在通话中解决，有录音为证")
    row.get_by_role("button").click()
    expect(agent.locator(".messages li").first).to_be_visible()
    shot(agent, "05-agent-disputed")
    assert Dispute.objects.get().status == Dispute.Status.OPEN

    boss = page_as(lead)
    boss.goto(boss.base + "/qa/disputes/")
    expect(boss.locator("#disputes tbody tr")).to_have_count(1)
    shot(boss, "06-lead-disputes")
    boss.locator("#disputes a").first.click()
    form = boss.locator(f'#rulings form.rule-form[data-criterion="{manual.pk}"]')  # rulings have their own panel
    expect(form).to_be_visible()
    shot(boss, "06b-lead-ruling-panel")
    form.get_by_label("改判为").check()
    form.locator('select[name="outcome"]').select_option("pass")
    form.locator('input[name="note"]').fill("录音证实已解决")
    form.get_by_role("button").click()
    expect(boss.locator("#final-score")).not_to_have_text("0.00")
    expect(boss.locator("#history li")).to_have_count(2)
    shot(boss, "07-lead-ruled")
    assert Dispute.objects.get().status == Dispute.Status.OVERTURNED


def test_a_calibration_session_to_its_report(page_as):
    tasks, _agent, _reviewer, _version = setup_tasks(2)
    lead = lead_of()
    alice = UserFactory(username="alice", role=roles.QA_REVIEWER)
    bob = UserFactory(username="bob", role=roles.QA_REVIEWER)

    boss = page_as(lead)
    boss.goto(boss.base + "/qa/calibrations/")
    form = boss.locator("#new-session")
    form.locator('input[name="name"]').fill("十一月第一次校准")
    # The conversations come from the picker: the review queue's, searched by id, one click each.
    for task in tasks:
        form.locator("#picker-query").fill(task.conversation.external_id)
        form.locator(f'#picker-results button[data-conversation="{task.conversation.external_id}"]').click()
    expect(form.locator('textarea[name="conversations"]')).to_have_value(
        "\n".join(t.conversation.external_id for t in tasks)
    )
    shot(boss, "07b-calibration-picked-from-queue")
    form.get_by_label("alice").check()
    form.get_by_label("bob").check()
    form.get_by_role("button", name="创建").click()
    boss.wait_for_url(re.compile(r"/qa/calibrations/\d+/$"))
    shot(boss, "08-calibration-session")
    session = CalibrationSession.objects.get()

    def score_all(page, keys):
        page.goto(f"{page.base}/qa/calibrations/{session.pk}/")
        for index in range(len(tasks)):
            page.locator("#items a").nth(index).click()
            page.wait_for_url(re.compile(r"/items/\d+/$"))
            for key in keys[index]:
                page.keyboard.press(key)
            page.locator("#submit").click()
            page.wait_for_url(re.compile(rf"/qa/calibrations/{session.pk}/$"))

    score_all(page_as(alice), [["f", "p"], ["f", "p"]])
    score_all(page_as(bob), [["f", "p"], ["p", "p"]])
    score_all(boss, [["f", "p"], ["f", "p"]])
    assert Review.objects.filter(calibration_item__session=session, status="submitted").count() == 6

    boss.goto(f"{boss.base}/qa/calibrations/{session.pk}/report/")
    expect(boss.locator("#alpha strong")).not_to_have_text("—")
    expect(boss.locator("#reviewer-deviation tbody tr")).to_have_count(2)
    shot(boss, "09-calibration-report")


def test_reports_draw_charts_from_the_vendored_library(page_as):
    [task], _agent, reviewer, version = setup_tasks(1)
    review_submit(
        review_open_task(task, reviewer), reviewer, {"outcomes": {str(c.pk): "pass" for c in version.criteria.all()}}
    )
    page = page_as(lead_of())
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page.base + "/qa/reports/")
    expect(page.locator("#chart-teams")).to_be_visible()
    assert page.evaluate("typeof Chart") == "function" and not errors
    shot(page, "10-reports")
    assert json.loads(page.locator("#chart-data").text_content())["teams"]["series"]
