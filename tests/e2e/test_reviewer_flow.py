"""A reviewer works a task from the queue to submit, with the keyboard only."""

import re

import pytest
from playwright.sync_api import expect

from apps.qa.models import ReviewTask
from apps.reviews.models import Review
from tests.e2e.conftest import shot
from tests.factories import setup_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reviewer_scores_a_task_with_the_keyboard(page_as):
    _tasks, _agent, reviewer, version = setup_tasks(2)
    page = page_as(reviewer)
    page.goto(page.base + "/qa/")
    expect(page.locator("#queue tbody tr")).to_have_count(2)
    shot(page, "01-queue")

    page.keyboard.press("n")  # start next
    page.wait_for_url(re.compile(r"/qa/tasks/\d+/$"))
    expect(page.locator("mark.finding").first).to_be_visible()  # the machine's findings, highlighted
    shot(page, "02-review-page")

    # The automatic criterion comes pre-filled as failed (the agent said 不知道); the reviewer overturns
    # nothing, passes the manual criterion with P and watches the live score.
    criteria = page.locator(".criterion")
    expect(criteria).to_have_count(version.criteria.count())
    expect(page.locator(".criterion.current")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("#provisional")).to_be_visible()  # the manual criterion is not scored yet
    for _ in range(version.criteria.count()):
        page.keyboard.press("p")
    expect(page.locator("#live-score")).to_have_text("100.00")
    expect(page.locator("#provisional")).to_be_hidden()  # every criterion scored: the score is final
    page.locator(".criterion").first.click()
    page.keyboard.press("f")  # fail the first (automatic, standard) criterion again
    expect(page.locator("#live-score")).not_to_have_text("100.00")
    expect(page.locator("#save-state")).to_have_text("✓")
    shot(page, "03-review-scored")

    first_task = Review.objects.get(reviewer=reviewer).task_id
    page.keyboard.press("Control+Enter")  # submit and next
    page.wait_for_url(re.compile(rf"/qa/tasks/(?!{first_task}/)\d+/$"))
    expect(page.locator(".messages .success")).to_contain_text("已提交")  # a toast confirms it
    review = Review.objects.get(task_id=first_task)
    assert review.status == Review.Status.SUBMITTED and review.score < 100
    assert ReviewTask.objects.get(pk=first_task).state == ReviewTask.State.SUBMITTED
    assert Review.objects.filter(task_id=first_task).count() == 1


def test_a_closed_tab_loses_nothing(page_as):
    [task], _agent, reviewer, version = setup_tasks(1)
    page = page_as(reviewer)
    page.goto(f"{page.base}/qa/tasks/{task.pk}/")
    manual = version.criteria.get(mode="manual")
    page.locator(f'.criterion[data-criterion="{manual.pk}"]').click()
    page.keyboard.press("p")
    note = page.locator(f'.criterion-note[data-criterion="{manual.pk}"]')
    expect(note).to_be_hidden()  # note boxes open on demand
    page.locator(f'.criterion-note-toggle[data-criterion="{manual.pk}"]').click()
    note.fill("解释清楚")
    expect(page.locator("#save-state")).to_have_text("✓")
    page.close()
    review = Review.objects.get(task=task)
    assert review.outcomes[str(manual.pk)] == "pass" and review.criterion_notes[str(manual.pk)] == "解释清楚"
    again = page_as(reviewer)
    again.goto(f"{again.base}/qa/tasks/{task.pk}/")
    expect(again.locator(f'input[name="c{manual.pk}"][value="pass"]')).to_be_checked()
    expect(again.locator(f'.criterion-note[data-criterion="{manual.pk}"]')).to_have_value("解释清楚")


def test_submitting_with_a_criterion_unscored_shows_the_error_on_that_criterion(page_as):
    [task], _agent, reviewer, version = setup_tasks(1)
    page = page_as(reviewer)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{page.base}/qa/tasks/{task.pk}/")
    manual = version.criteria.get(mode="manual")
    box = page.locator(f'.criterion[data-criterion="{manual.pk}"]')

    page.get_by_role("button", name="提交", exact=True).click()
    # The unscored criterion is marked where it is, in view, with a message in the reader's language.
    expect(box).to_have_class(re.compile(r"\binvalid\b"))
    expect(box.locator(".criterion-error")).to_be_visible()
    expect(box).to_be_in_viewport()
    expect(page.locator("#errors")).to_contain_text(manual.title)
    assert "outcomes" not in page.locator("#review").inner_text()
    shot(page, "04-review-error-in-place")

    box.get_by_label("通过", exact=True).check()
    expect(box).not_to_have_class(re.compile(r"\binvalid\b"))
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url(re.compile(r"/qa/$"))  # back to the queue
    assert Review.objects.get(task=task).status == Review.Status.SUBMITTED


def test_a_rules_findings_are_grouped_and_overturned_at_once(page_as):
    [task], _agent, reviewer, version = setup_tasks(1)
    page = page_as(reviewer)
    page.goto(f"{page.base}/qa/tasks/{task.pk}/")
    group = page.locator(".finding-group").first
    expect(group.locator("li")).to_have_count(2)  # 不知道 and 自己看, one rule
    automatic = version.criteria.get(mode="automatic")
    expect(page.locator(f'input[name="c{automatic.pk}"][value="fail"]')).to_be_checked()
    group.get_by_role("button", name="全部改判").click()
    for item in group.locator("li").all():
        expect(item).to_have_attribute("data-verdict", "overturned")
    # The machine was wrong on every finding of the rule: the criterion it decided passes.
    expect(page.locator(f'input[name="c{automatic.pk}"][value="pass"]')).to_be_checked()
    expect(page.locator("#save-state")).to_have_text("✓")
    shot(page, "05-findings-overturned-at-once")
    review = Review.objects.get(task=task)
    assert set(review.finding_verdicts.values()) == {"overturned"} and len(review.finding_verdicts) == 2
