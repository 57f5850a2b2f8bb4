"""Sampling plans and review queues: quotas per agent, every risky conversation, the same sample for the
same period however often it runs, and nobody reviewing a conversation they served."""

from datetime import timedelta

import pytest

from apps.conversations.models import Agent, Conversation
from apps.qa.models import ReviewTask, SamplingPlan, SamplingRun
from apps.qa.services.assignment import TaskError, task_reassign, task_transition
from apps.qa.services.sampling import sampling_run
from apps.qa.services.scoring import conversations_score
from tests.factories import DAY, ProductFactory, UserFactory, conversations, forbidden_rule, published_scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    ProductFactory(slug="mall-app")
    version = published_scorecard([forbidden_rule()])
    return SamplingPlan.objects.create(
        name="日抽检",
        scorecard=version.scorecard,
        rate_percent=10,
        min_per_agent=1,
        max_per_agent=3,
        new_agent_days=0,
        min_messages=3,
    )


def sampled(run: SamplingRun) -> dict[str, list[str]]:
    by_agent: dict[str, list[str]] = {}
    for code, reason in ReviewTask.objects.filter(run=run).values_list("conversation__served_by__code", "reason"):
        by_agent.setdefault(code, []).append(reason)
    return by_agent


def test_a_share_per_agent_within_its_minimum_and_maximum(plan):
    conversations(20, agent="agent-a")  # 10 % of 20 = 2
    conversations(50, agent="agent-b")  # 10 % of 50 = 5, capped at 3
    conversations(4, agent="agent-c")  # 10 % of 4 rounds up to 1 (and the minimum is 1)
    result = sampling_run(plan, DAY)
    assert result.created
    counts = {agent: len(reasons) for agent, reasons in sampled(result.run).items()}
    assert counts == {"agent-a": 2, "agent-b": 3, "agent-c": 1}


def test_every_risky_conversation_is_taken_outside_the_quota(plan):
    conversations(20, agent="agent-a")
    conversations(3, agent="agent-a", start=100, csat=1)  # low CSAT
    rude = conversations(2, agent="agent-a", start=200, reply="不知道，自己看")  # major findings
    conversations_score(list(Conversation.objects.values_list("id", flat=True)))
    run = sampling_run(plan, DAY).run
    reasons = sampled(run)["agent-a"]
    assert reasons.count("risk") == 5 and reasons.count("random") == 2
    assert [r for r in ReviewTask.objects.filter(conversation_id__in=rude).values_list("risks", flat=True)] == [
        ["severe"]
    ] * 2


def test_a_period_is_sampled_once_and_reproducibly(plan):
    conversations(30, agent="agent-a")
    first = sampling_run(plan, DAY)
    chosen = set(ReviewTask.objects.values_list("conversation_id", flat=True))
    again = sampling_run(plan, DAY + timedelta(hours=5))  # the same day
    assert not again.created and again.run == first.run and ReviewTask.objects.count() == len(chosen)
    # Undo the run and sample again: the seed is the plan's and the period's, so the sample is the same.
    ReviewTask.objects.all().delete()
    SamplingRun.objects.all().delete()
    sampling_run(plan, DAY)
    assert set(ReviewTask.objects.values_list("conversation_id", flat=True)) == chosen


def test_short_conversations_and_other_days_are_left_out(plan):
    conversations(
        5,
        agent="agent-a",
        messages=[
            {
                "id": "m1",
                "role": "customer",
                "sender": "u",
                "sent_at": (DAY + timedelta(hours=9)).isoformat(),
                "text": "在吗",
            },
            {
                "id": "m2",
                "role": "agent",
                "sender": "agent-a",
                "sent_at": (DAY + timedelta(hours=9, seconds=5)).isoformat(),
                "text": "在",
            },
        ],
    )
    conversations(5, agent="agent-b", day=DAY + timedelta(days=1))
    assert sampling_run(plan, DAY).sampled == 0


def test_new_agents_get_the_higher_rate(plan):
    plan.new_agent_days, plan.new_agent_rate_percent = 30, 50
    plan.save()
    conversations(10, agent="agent-a")
    Agent.objects.filter(code="agent-a").update(created_at=DAY - timedelta(days=3))
    reasons = sampled(sampling_run(plan, DAY).run)["agent-a"]
    assert reasons == ["new_agent"] * 3  # 50 % of 10 = 5, capped at 3


def test_nobody_reviews_a_conversation_they_served_and_load_is_balanced(plan):
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    plan.reviewers.set([alice, bob, carol])
    plan.max_per_agent = 10
    plan.rate_percent = 50
    plan.save()
    conversations(20, agent="agent-a")
    Agent.objects.filter(code="agent-a").update(user=alice)
    run = sampling_run(plan, DAY).run
    assignees = list(ReviewTask.objects.filter(run=run).values_list("assignee_id", flat=True))
    assert len(assignees) == 10 and alice.pk not in assignees
    assert sorted(assignees.count(u.pk) for u in (bob, carol)) == [5, 5]
    task = ReviewTask.objects.filter(run=run).first()
    with pytest.raises(TaskError):
        task_reassign(task, to_user=alice, actor=bob)


def test_round_robin_takes_turns(plan):
    reviewers = [UserFactory(), UserFactory()]
    plan.reviewers.set(reviewers)
    plan.assignment = SamplingPlan.Assignment.ROUND_ROBIN
    plan.max_per_agent, plan.rate_percent = 4, 100
    plan.save()
    conversations(4, agent="agent-a")
    assignees = list(
        ReviewTask.objects.filter(run=sampling_run(plan, DAY).run).order_by("id").values_list("assignee_id", flat=True)
    )
    assert assignees == [reviewers[0].pk, reviewers[1].pk] * 2


def test_a_task_moves_only_along_its_states_and_keeps_its_history(plan):
    reviewer = UserFactory()
    conversations(1, agent="agent-a")
    sampling_run(plan, DAY)
    task = ReviewTask.objects.get()
    with pytest.raises(TaskError):
        task_transition(task, "submit", actor=reviewer)  # not started
    for action in ("start", "submit", "dispute", "resolve", "close"):
        task = task_transition(task, action, actor=reviewer)
    assert task.state == ReviewTask.State.CLOSED
    assert list(task.events.values_list("action", flat=True)) == ["start", "submit", "dispute", "resolve", "close"]
    with pytest.raises(TaskError):
        task_transition(task, "close", actor=reviewer)  # closing twice is refused, not repeated


def test_skipping_needs_a_reason(plan):
    conversations(1, agent="agent-a")
    sampling_run(plan, DAY)
    task = ReviewTask.objects.get()
    with pytest.raises(TaskError):
        task_transition(task, "skip", actor=None)
    task = task_transition(task, "skip", actor=None, note="客户要求删除记录")
    assert task.state == "skipped" and task.skip_reason == "客户要求删除记录"


def test_stratified_quotas_apply_per_channel(plan):
    plan.strata = ["channel"]
    plan.save()
    conversations(20, agent="agent-a", channel="wechat")
    conversations(20, agent="agent-a", channel="app", start=100)
    run = sampling_run(plan, DAY).run
    by_channel = {}
    for code in ReviewTask.objects.filter(run=run).values_list("conversation__channel__code", flat=True):
        by_channel[code] = by_channel.get(code, 0) + 1
    assert by_channel == {"wechat": 2, "app": 2}


def test_a_conversation_already_queued_is_not_sampled_again(plan):
    ids = conversations(10, agent="agent-a")
    plan.rate_percent, plan.max_per_agent = 100, 100
    plan.save()
    weekly = SamplingPlan.objects.create(
        name="周抽检", scorecard=plan.scorecard, period="week", rate_percent=100, max_per_agent=100, new_agent_days=0
    )
    assert sampling_run(plan, DAY).sampled == 10
    assert sampling_run(weekly, DAY).sampled == 0
    assert ReviewTask.objects.filter(conversation_id__in=ids).count() == 10


def test_a_started_review_is_not_reassigned_in_the_admin(plan, client):
    from apps.accounts import roles

    alice, bob = UserFactory(role=roles.QA_REVIEWER), UserFactory(role=roles.QA_REVIEWER)
    plan.reviewers.set([alice])
    conversations(1, agent="agent-a")
    task = ReviewTask.objects.filter(run=sampling_run(plan, DAY).run).get()
    ReviewTask.objects.filter(pk=task.pk).update(state=ReviewTask.State.IN_PROGRESS)
    client.force_login(UserFactory(role=roles.ADMINISTRATOR, is_superuser=True))
    response = client.post(
        f"/admin/qa/reviewtask/{task.pk}/change/", {"assignee": bob.pk, "due_at_0": "", "due_at_1": ""}
    )
    task.refresh_from_db()
    assert task.assignee_id == alice.pk  # refused, with the reason on the field
    assert response.status_code == 200 and "has started" in response.content.decode()
    ReviewTask.objects.filter(pk=task.pk).update(state=ReviewTask.State.PENDING)
    client.post(f"/admin/qa/reviewtask/{task.pk}/change/", {"assignee": bob.pk})
    task.refresh_from_db()
    assert task.assignee_id == bob.pk and task.events.filter(action="reassign").exists()  # through the service
