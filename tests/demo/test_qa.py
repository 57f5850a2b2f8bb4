"""The demo QA setup (demo/qa_*.json): valid rules, loading it again changes nothing, and on the demo
conversations it scores everything, finds forbidden phrases and complaints, and fills review queues."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import QA_REVIEWER
from apps.conversations.models import Conversation
from apps.conversations.services.ingest import MAX_BATCH, conversations_ingest
from apps.demo.conversations import generate_conversations
from apps.demo.qa import demo_qa_setup, load_demo_qa
from apps.qa.models import (
    AutoScore,
    Criterion,
    Finding,
    Lexicon,
    LexiconTerm,
    ReviewTask,
    Rule,
    SamplingPlan,
    SamplingRun,
    Scorecard,
    ScorecardVersion,
)
from apps.qa.rules.conditions import parse_condition
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

SETUP = demo_qa_setup()
LEXICONS, RULES, SCORECARD = SETUP.lexicons, SETUP.rules, SETUP.scorecard

MODELS = [
    Lexicon,
    LexiconTerm,
    Rule,
    Scorecard,
    ScorecardVersion,
    Criterion,
    SamplingPlan,
    SamplingRun,
    ReviewTask,
    AutoScore,
    Finding,
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def demo_conversations() -> int:
    ProductFactory(slug="mall-app")
    ProductFactory(slug="wallet-app")
    stream = generate_conversations(300, seed=1)
    while batch := list(itertools.islice(stream, MAX_BATCH)):
        results = conversations_ingest(batch, backfill=True)
        assert all(r.status == "created" for r in results), [r.errors for r in results if r.errors]
    return Conversation.objects.count()


@pytest.mark.parametrize("rule", RULES, ids=[r["code"] for r in RULES])
def test_every_demo_rule_parses(rule):
    parse_condition(rule["condition"])


def test_every_lexicon_and_rule_the_demo_refers_to_is_in_the_demo():
    lexicons = {lexicon["code"] for lexicon in LEXICONS}
    used = {
        code
        for rule in RULES
        for code in _lexicon_codes(rule["condition"])  # every lexicon a rule matches must be loaded
    }
    assert used <= lexicons
    rules = {rule["code"] for rule in RULES}
    assert {c["rule"] for s in SCORECARD["sections"] for c in s["criteria"] if c.get("rule")} <= rules


def _lexicon_codes(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        lexicon = node.get("lexicon")
        if lexicon:
            yield from [lexicon] if isinstance(lexicon, str) else lexicon
        for value in node.values():
            yield from _lexicon_codes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _lexicon_codes(item)


def test_loading_twice_creates_no_duplicates_and_changes_nothing():
    first = load_demo_qa()
    after_first = counts()
    rules_before = list(Rule.objects.order_by("code").values_list("code", "version", "updated_at"))
    lexicons_before = list(Lexicon.objects.order_by("code").values_list("code", "term_count", "updated_at"))

    second = load_demo_qa()

    assert counts() == after_first
    assert list(Rule.objects.order_by("code").values_list("code", "version", "updated_at")) == rules_before
    assert list(Lexicon.objects.order_by("code").values_list("code", "term_count", "updated_at")) == lexicons_before
    assert first == second
    assert after_first["Lexicon"] == len(LEXICONS) and after_first["Rule"] == len(RULES)
    assert ScorecardVersion.objects.get().status == ScorecardVersion.Status.PUBLISHED


def test_the_plan_is_reviewed_by_the_qa_reviewers():
    reviewer = UserFactory()
    reviewer.groups.add(Group.objects.get(name=QA_REVIEWER))
    UserFactory()  # not a reviewer

    load_demo_qa()

    assert list(SamplingPlan.objects.get().reviewers.all()) == [reviewer]


def test_on_the_demo_conversations_qa_scores_all_finds_things_and_queues_reviews(demo_conversations):
    reviewer = UserFactory()
    reviewer.groups.add(Group.objects.get(name=QA_REVIEWER))

    result = load_demo_qa()

    assert result["scored"] == demo_conversations == AutoScore.objects.count()
    for code in ("forbidden-phrases", "complaint-words"):
        assert Finding.objects.filter(rule__code=code).exists(), code
    assert result["tasks"] == ReviewTask.objects.count() > 0
    assert ReviewTask.objects.filter(reason=ReviewTask.Reason.RISK).exists()
    assert ReviewTask.objects.filter(reason__in=[ReviewTask.Reason.RANDOM, ReviewTask.Reason.NEW_AGENT]).exists()
    assert not ReviewTask.objects.filter(assignee=None).exists()

    again = load_demo_qa()

    assert again["scored"] == 0 and again["tasks"] == result["tasks"]
