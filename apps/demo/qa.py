"""The demo QA setup (质检演示数据) and putting it to work on the conversations there are: every
conversation scored, every day sampled, so that review queues have tasks.

The setup is data in demo/: lexicons (qa_lexicons.json), rules (qa_rules.json), a scorecard
(qa_scorecard.json) and a daily sampling plan (qa_sampling_plan.json). The terms are what QA teams of
Chinese customer-service centres really list; where the demo conversations (demo/conversation_phrases.json)
say something of the kind, its wording is in the lexicon too, so the demo shows QA finding it. The plan's
``new_agent_days`` is 0: demo agents are created when their conversations are loaded, after the days they
served, so with any other value every one of them would count as new and be sampled at the new-agent rate.

Idempotent: lexicon terms and rules are written only when they differ from the demo's (a rewrite would
bump ``updated_at``, change the rules' signature and rescore everything), the scorecard is imported
only while it has no published version, conversations already scored with the current rules are not
scored again, and a day already sampled adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone

from apps.accounts.roles import AGENT, QA_LEAD, QA_REVIEWER
from apps.conversations.models import Agent, AgentKind, Conversation, Team
from apps.demo.files import read_json
from apps.qa.models import AutoScore, Lexicon, ReviewTask, Rule, SamplingPlan, Scorecard, ScorecardVersion
from apps.qa.rules.conditions import parse_condition
from apps.qa.services.lexicons import lexicon_add_terms
from apps.qa.services.sampling import sampling_run
from apps.qa.services.scorecards import scorecard_import, scorecard_version_publish
from apps.qa.services.scoring import rules_signature, conversations_score

BATCH = 500
_RULE_FIELDS = ("name", "description", "severity", "marks_risk", "condition")


@dataclass(frozen=True)
class QaSetup:
    """The demo QA setup as read from demo/: lexicons, rules, one scorecard, one sampling plan."""

    lexicons: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    scorecard: dict[str, Any]
    sampling_plan: dict[str, Any]


def demo_qa_setup() -> QaSetup:
    """The demo QA setup, read from its files."""
    return QaSetup(
        lexicons=read_json("qa_lexicons.json"),
        rules=read_json("qa_rules.json"),
        scorecard=read_json("qa_scorecard.json"),
        sampling_plan=read_json("qa_sampling_plan.json"),
    )


def load_demo_qa() -> dict[str, int]:
    """Create (or bring up to date) the demo lexicons, rules, scorecard and sampling plan, score the
    conversations not yet scored with the current rules, and sample every day that has conversations.

    Returns the demo's lexicons, their terms and its rules (how many there are), the conversations
    scored by this call, and the review tasks the demo plan holds.
    """
    setup = demo_qa_setup()
    terms = _load_lexicons(setup.lexicons)
    _load_rules(setup.rules)
    scorecard = _load_scorecard(setup.scorecard)
    plan = _load_plan(setup.sampling_plan, scorecard)
    scored = _score_all()
    _sample_every_day(plan)
    _demo_people()
    return {
        "lexicons": len(setup.lexicons),
        "terms": terms,
        "rules": len(setup.rules),
        "scored": scored,
        "tasks": ReviewTask.objects.filter(run__plan=plan).count(),
    }


def _load_lexicons(lexicons: list[dict[str, Any]]) -> int:
    total = 0
    for data in lexicons:
        lexicon, _created = Lexicon.objects.get_or_create(
            code=data["code"],
            defaults={"name": data["name"], "kind": data["kind"], "description": data["description"]},
        )
        wanted = {t.strip() for t in data["terms"] if t.strip()}
        missing = wanted - set(lexicon.terms.values_list("term", flat=True))
        if missing:  # adding nothing would still touch updated_at, and so the rules' signature
            lexicon_add_terms(lexicon, missing)
        total += len(wanted)
    return total


def _load_rules(rules: list[dict[str, Any]]) -> None:
    for data in rules:
        parse_condition(data["condition"])  # a broken demo rule fails here, not in every scoring batch
        values = {name: data[name] for name in _RULE_FIELDS}
        rule = Rule.objects.filter(code=data["code"]).first()
        if rule is None:
            rule = Rule(code=data["code"], **values)
            rule.full_clean()
            rule.save()
            continue
        changed = [name for name in _RULE_FIELDS if getattr(rule, name) != values[name]]
        if not changed:
            continue
        for name in changed:
            setattr(rule, name, values[name])
        rule.full_clean()
        if "condition" in changed:  # as the admin does: scores record which rule versions they used
            rule.version = F("version") + 1
        rule.save()


def _load_scorecard(data: dict[str, Any]) -> Scorecard:
    published = ScorecardVersion.objects.filter(
        scorecard__name=data["name"], status=ScorecardVersion.Status.PUBLISHED
    ).select_related("scorecard")
    version = published.first()
    if version is None:
        with transaction.atomic():
            version = scorecard_version_publish(scorecard_import(data))
    return version.scorecard


def _load_plan(data: dict[str, Any], scorecard: Scorecard) -> SamplingPlan:
    fields = {k: v for k, v in data.items() if k != "name"}
    plan, _created = SamplingPlan.objects.get_or_create(name=data["name"], defaults={**fields, "scorecard": scorecard})
    reviewers = get_user_model().objects.filter(groups__name=QA_REVIEWER, is_active=True)
    plan.reviewers.add(*reviewers)  # adding those already there changes nothing
    return plan


def _score_all() -> int:
    """Score, in batches of ids, the conversations without a current score: none yet, or one computed
    with other rules than today's."""
    signature = rules_signature()
    current = AutoScore.objects.filter(
        conversation=OuterRef("pk"),
        rules_signature=signature,
        version__status=ScorecardVersion.Status.PUBLISHED,
    )
    pending = Conversation.objects.filter(~Exists(current)).order_by("id").values_list("id", flat=True)
    scored, last_id = 0, 0
    while ids := list(pending.filter(id__gt=last_id)[:BATCH]):
        scored += conversations_score(ids)
        last_id = ids[-1]
    return scored


def _sample_every_day(plan: SamplingPlan) -> None:
    # Midday of each local day: a moment safely inside the plan's period for that day.
    for day in Conversation.objects.filter(started_at__isnull=False).dates("started_at", "day"):
        sampling_run(plan, timezone.make_aware(datetime.combine(day, time(12))))


def _demo_people() -> None:
    """Demo QA leads lead every team; the demo agent user is the busiest human agent without a user."""
    User = get_user_model()
    for lead in User.objects.filter(groups__name=QA_LEAD, is_active=True):
        lead.led_teams.add(*Team.objects.all())
    agent_user = User.objects.filter(groups__name=AGENT, is_active=True).order_by("id").first()
    if agent_user is None or Agent.objects.filter(user=agent_user).exists():
        return
    busiest = (
        Conversation.objects.filter(served_by__kind=AgentKind.HUMAN, served_by__user__isnull=True)
        .values("served_by")
        .annotate(n=Count("id"))
        .order_by("-n", "served_by")
        .first()
    )
    if busiest is not None:
        Agent.objects.filter(pk=busiest["served_by"]).update(user=agent_user)
