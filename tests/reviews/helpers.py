"""Review test data built through the product's services: ingestion, scoring, sampling, assignment."""

from __future__ import annotations

from apps.accounts import roles
from apps.conversations.models import Agent, Team
from apps.qa.models import ReviewTask, SamplingPlan
from apps.qa.services.sampling import sampling_run
from apps.qa.services.scoring import score_conversations
from tests.factories import ProductFactory, UserFactory
from tests.qa.helpers import DAY, conversations, forbidden_rule, published_scorecard


def setup_tasks(count: int = 1, *, reviewer=None, reply: str = "不知道，你自己看", messages=None):
    """``count`` conversations served by agent-a (whose user is returned), scored, sampled and assigned to
    ``reviewer``. Returns (tasks, agent_user, reviewer, version)."""
    ProductFactory(slug="mall-app")
    version = published_scorecard([forbidden_rule()])
    reviewer = reviewer or UserFactory(role=roles.QA_REVIEWER)
    agent_user = UserFactory(role=roles.AGENT)
    ids = conversations(count, agent="agent-a", reply=reply, **({"messages": messages} if messages else {}))
    Agent.objects.filter(code="agent-a").update(user=agent_user)
    score_conversations(ids)
    plan = SamplingPlan.objects.create(
        name=f"plan-{reviewer.pk}",
        scorecard=version.scorecard,
        rate_percent=100,
        max_per_agent=10_000,
        min_messages=1,
        new_agent_days=0,
        include_risky=False,
    )
    plan.reviewers.set([reviewer])
    sampling_run(plan, DAY)
    tasks = list(ReviewTask.objects.filter(conversation_id__in=ids).order_by("id"))
    return tasks, agent_user, reviewer, version


def lead_of(team_name: str = "售后一组"):
    lead = UserFactory(role=roles.QA_LEAD)
    Team.objects.get(name=team_name).leads.add(lead)
    return lead


def all_pass(version) -> dict[str, str]:
    return {str(c.id): "pass" for c in version.criteria.all()}
