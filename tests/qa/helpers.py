"""Building QA test data through the product's own services: conversations through ingestion,
scorecards through their services."""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.conversations.models import Conversation
from apps.conversations.services.ingest import ingest_conversations
from apps.qa.models import Criterion, Lexicon, LexiconTerm, Rule, Scorecard, ScorecardVersion, Section
from apps.qa.services.scorecards import scorecard_version_new_draft, scorecard_version_publish

DAY = datetime.fromisoformat("2026-11-02T00:00:00+08:00")  # a Monday


def conversations(count: int, *, agent: str = "agent-a", start: int = 0, day: datetime = DAY, **fields) -> list[int]:
    """``count`` conversations served by ``agent`` on ``day``; returns their ids."""
    items = []
    for n in range(start, start + count):
        t0 = day + timedelta(hours=9, minutes=n)
        items.append(
            {
                "channel": fields.get("channel", "wechat"),
                "external_id": f"{agent}-{day:%m%d}-{n}",
                "team": fields.get("team", "售后一组"),
                "customer": f"u-{agent}-{n}",
                **({"csat": fields["csat"]} if "csat" in fields else {}),
                "messages": fields.get("messages")
                or [
                    {"id": "m1", "role": "customer", "sender": f"u-{n}", "sent_at": t0.isoformat(), "text": "在吗"},
                    {
                        "id": "m2",
                        "role": "agent",
                        "sender": agent,
                        "sent_at": (t0 + timedelta(seconds=20)).isoformat(),
                        "text": fields.get("reply", "您好，请问有什么可以帮您"),
                    },
                    {
                        "id": "m3",
                        "role": "customer",
                        "sender": f"u-{n}",
                        "sent_at": (t0 + timedelta(seconds=60)).isoformat(),
                        "text": "好的谢谢",
                    },
                ],
            }
        )
    results = ingest_conversations(items, backfill=True)
    assert all(r.status in ("created", "updated") for r in results), [r.errors for r in results]
    return list(
        Conversation.objects.filter(external_id__in=[i["external_id"] for i in items]).values_list("id", flat=True)
    )


def forbidden_rule(**fields) -> Rule:
    lexicon, _ = Lexicon.objects.get_or_create(code="forbidden", defaults={"name": "服务禁语", "kind": "forbidden"})
    LexiconTerm.objects.get_or_create(lexicon=lexicon, term="不知道")
    LexiconTerm.objects.get_or_create(lexicon=lexicon, term="自己看")
    return Rule.objects.create(
        code=fields.pop("code", "forbidden-phrases"),
        name="服务禁语",
        severity=fields.pop("severity", "major"),
        condition={"type": "keywords", "lexicon": "forbidden", "role": "agent"},
        **fields,
    )


def greeting_rule() -> Rule:
    return Rule.objects.create(
        code="greeting",
        name="首次回复问候",
        severity="minor",
        condition={"type": "missing_phrase", "terms": ["您好", "你好"], "position": "first_agent_reply"},
    )


def published_scorecard(rules: list[Rule], *, manual: int = 1, name: str = "售后质检") -> ScorecardVersion:
    scorecard = Scorecard.objects.create(name=name)
    draft = scorecard_version_new_draft(scorecard)
    section = Section.objects.create(version=draft, title="服务规范")
    for n, rule in enumerate(rules):
        Criterion.objects.create(
            version=draft,
            section=section,
            title=rule.name,
            mode="automatic",
            points=50,
            rule=rule,
            position=n,
            severity=rule.severity,
        )
    for n in range(manual):
        Criterion.objects.create(version=draft, section=section, title=f"解决问题 {n}", mode="manual", points=20)
    return scorecard_version_publish(draft)
