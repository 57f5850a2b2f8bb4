"""Automatic scoring: every conversation against its scorecard, findings with evidence, and the same
result however many times (or however concurrently) a batch runs."""

from decimal import Decimal

import pytest

from apps.conversations.models import Message
from apps.qa.models import AutoScore, Finding, Rule
from apps.qa.services.scoring import conversations_score
from tests.factories import ProductFactory, conversations, forbidden_rule, greeting_rule, published_scorecard

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _product():
    ProductFactory(slug="mall-app")


def test_a_conversation_is_scored_with_findings_that_show_why():
    version = published_scorecard([forbidden_rule(), greeting_rule()])
    [rude] = conversations(1, reply="这个我不知道，你自己看")
    [polite] = conversations(1, start=1)
    assert conversations_score([rude, polite]) == 2
    rude_score = AutoScore.objects.get(conversation_id=rude, version=version)
    # Forbidden phrases fail (0 of 50), the greeting is missing too (0 of 50); the manual criterion is N/A.
    assert rude_score.score == Decimal("0.00") and rude_score.worst_severity == "major"
    findings = Finding.objects.filter(score=rude_score, rule__code="forbidden-phrases").select_related("message")
    assert sorted(f.matched for f in findings) == ["不知道", "自己看"]
    for finding in findings:
        assert finding.message.text[finding.start : finding.end] == finding.matched
    assert AutoScore.objects.get(conversation_id=polite).score == Decimal("100.00")


def test_scoring_twice_leaves_one_score_and_the_same_findings():
    published_scorecard([forbidden_rule()])
    ids = conversations(3, reply="不知道")
    conversations_score(ids)
    first = sorted(Finding.objects.values_list("conversation_id", "matched", "start"))
    conversations_score(ids)
    conversations_score(ids[:2])
    assert AutoScore.objects.count() == 3
    assert sorted(Finding.objects.values_list("conversation_id", "matched", "start")) == first


def test_a_changed_rule_changes_the_score_on_rescoring():
    rule = forbidden_rule()
    published_scorecard([rule])
    [pk] = conversations(1, reply="您好，不知道")
    conversations_score([pk])
    assert AutoScore.objects.get().score == Decimal("0.00")
    Rule.objects.filter(pk=rule.pk).update(condition={"type": "keywords", "terms": ["滚"], "role": "agent"}, version=2)
    conversations_score([pk])
    assert AutoScore.objects.get().score == Decimal("100.00") and not Finding.objects.exists()


def test_without_a_scorecard_for_its_team_a_conversation_is_not_scored():
    version = published_scorecard([forbidden_rule()])
    version.scorecard.channels.create(code="phone-only", name="phone")  # the card now applies to that channel only
    [pk] = conversations(1)
    assert conversations_score([pk]) == 0 and not AutoScore.objects.exists()


def test_script_adherence_flags_an_agent_reply_far_from_the_scenarios_scripts():
    from tests.factories import published_script

    published_script(text="非常抱歉给您带来不便，您的退款申请已经提交，预计 1 到 3 个工作日原路退回。")
    rule = Rule.objects.create(
        code="refund-script",
        name="退款话术",
        severity="minor",
        condition={
            "type": "script_adherence",
            "scenario": "refund",
            "min_similarity": 0.95,
            "trigger": {"type": "keywords", "terms": ["退款"], "role": "customer"},
        },
    )
    published_scorecard([rule])

    def reply(text: str) -> list:
        return [
            {"id": "m1", "role": "customer", "sender": "u", "sent_at": "2026-11-02T10:00:00+08:00", "text": "我要退款"},
            {"id": "m2", "role": "agent", "sender": "agent-a", "sent_at": "2026-11-02T10:00:20+08:00", "text": text},
        ]

    [close] = conversations(1, messages=reply("抱歉给您带来不便，退款申请已提交，1 到 3 个工作日原路退回。"))
    [far] = conversations(1, start=1, messages=reply("明天再说吧"))
    conversations_score([close, far])
    assert not Finding.objects.filter(conversation_id=close).exists()
    [finding] = Finding.objects.filter(conversation_id=far)
    assert finding.message.text == "明天再说吧" and finding.detail.startswith("closest script")


def test_the_safety_net_finds_conversations_without_an_up_to_date_score():
    from datetime import timedelta

    from django.utils import timezone

    from apps.conversations.models import Conversation
    from apps.qa.services.scoring import unscored_since

    scored, lost = conversations(1), conversations(1, start=1)
    assert unscored_since(timezone.now() - timedelta(hours=1)) == []  # no scorecard yet: nothing to score
    published_scorecard([forbidden_rule()])
    conversations_score(scored)
    since = timezone.now() - timedelta(hours=1)
    assert unscored_since(since) == lost
    Conversation.objects.filter(pk__in=scored).update(updated_at=timezone.now() + timedelta(seconds=1))
    assert sorted(unscored_since(since)) == sorted(scored + lost)  # changed after its score: scored again


def test_a_one_megabyte_message_is_scored_with_a_bounded_number_of_findings():
    # A pasted log or a flood: 1 MB from the agent, the forbidden phrase 20,000 times, a regex and a proximity
    # rule over it. Scoring is linear in the text and stores at most 50 findings per rule.
    regex = Rule.objects.create(
        code="contact-outside",
        name="私下联系",
        severity="major",
        condition={"type": "regex", "pattern": "(自己看)+订单", "role": "agent"},
    )
    near = Rule.objects.create(
        code="forbidden-near-refund",
        name="退款时的禁语",
        severity="major",
        condition={
            "type": "near",
            "conditions": [
                {"type": "keywords", "lexicon": "forbidden", "role": "agent"},
                {"type": "keywords", "terms": ["退款"], "role": "customer"},
            ],
            "within": 1,
        },
    )
    published_scorecard([forbidden_rule(), regex, near])
    flood = ("不知道，你自己看订单" + "好" * 40) * 20_000
    assert len(flood) == 1_000_000
    [conversation_id] = conversations(
        1,
        messages=[
            {"id": "m1", "role": "customer", "sender": "u-1", "sent_at": "2026-11-02T10:00:00+08:00", "text": "退款呢"},
            {"id": "m2", "role": "agent", "sender": "agent-a", "sent_at": "2026-11-02T10:00:20+08:00", "text": "稍等"},
        ],
    )
    # Ingestion stops messages at 20,000 characters; the engine must not rely on it (older data, a raised limit).
    Message.objects.filter(conversation_id=conversation_id, external_id="m2").update(text=flood)
    assert conversations_score([conversation_id]) == 1
    score = AutoScore.objects.get(conversation_id=conversation_id)
    per_rule = {
        code: Finding.objects.filter(score=score, rule__code=code).count()
        for code in ("forbidden-phrases", "contact-outside", "forbidden-near-refund")
    }
    assert per_rule == {"forbidden-phrases": 50, "contact-outside": 50, "forbidden-near-refund": 50}
