"""Scoring conversations automatically: rules evaluated in Python over a batch loaded in three queries,
results written set-wise. One :class:`AutoScore` per (conversation, scorecard version), rewritten in
place, and its findings replaced in the same transaction: running a batch twice, or two workers at
once, leaves exactly what one run leaves."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.answers.models import HumanOnlyTopic
from apps.conversations.models import Conversation, Message
from apps.core.generations import GenerationCachedValue
from apps.qa.models import Criterion, Lexicon, LexiconTerm, Rule, ScorecardVersion, Severity
from apps.qa.rules.conditions import parse_condition
from apps.qa.rules.engine import CompiledRule, ConversationView, Evidence, MessageView, RuleSet
from apps.qa.scorecard_maths import NA, Line, outcome_from_rule, score

_SEVERITY_ORDER = [Severity.INFO, Severity.MINOR, Severity.MAJOR, Severity.CRITICAL]
_METRICS = [
    "first_response_seconds",
    "bot_first_response_seconds",
    "human_first_response_seconds",
    "avg_agent_reply_seconds",
    "max_agent_reply_seconds",
    "handle_seconds",
    "sla_breached",
    "bot_failure_streak",
]


# --- the rules, compiled once per process and again only when something changed ------------------

_compiled: GenerationCachedValue[RuleSet] = GenerationCachedValue(
    lambda: compile_rules(Rule.objects.filter(is_active=True).order_by("id"))
)


def rules_signature() -> str:
    """Changes whenever a rule, a lexicon or a human-only topic does (two cheap aggregate queries)."""
    rules = Rule.objects.filter(is_active=True).aggregate(m=Max("updated_at"))["m"]
    lexicons = Lexicon.objects.aggregate(m=Max("updated_at"))["m"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT string_agg(id || ':' || version, ',' ORDER BY id) FROM qa_rule WHERE is_active")
        versions = cursor.fetchone()[0] or ""
        cursor.execute(
            "SELECT md5(string_agg(name || array_to_string(keywords, ','), ';' ORDER BY id)) "
            "FROM answers_humanonlytopic WHERE is_active"
        )
        topics = cursor.fetchone()[0] or ""
    return hashlib.sha256(f"{rules}|{lexicons}|{versions}|{topics}".encode()).hexdigest()


def active_ruleset() -> tuple[str, RuleSet]:
    """The active rules, compiled, with their signature (the generation they were compiled at)."""
    signature = rules_signature()
    return signature, _compiled.at(signature)


def compile_rules(rules) -> RuleSet:
    compiled = [CompiledRule(r.id, r.code, r.severity, parse_condition(r.condition), r.marks_risk) for r in rules]
    lexicons: dict[str, list[str]] = defaultdict(list)
    for code, term in LexiconTerm.objects.values_list("lexicon__code", "term").iterator(chunk_size=20000):
        lexicons[code].append(term)
    topics = [
        k
        for keywords in HumanOnlyTopic.objects.filter(is_active=True).values_list("keywords", flat=True)
        for k in keywords
    ]
    scripts, embed = _scripts_for(compiled)
    return RuleSet(compiled, dict(lexicons), topics, scripts, embed)


def _scripts_for(rules: list[CompiledRule]):
    from apps.qa.rules import conditions as c
    from apps.qa.rules.engine import walk

    scenarios = {n.scenario for r in rules for n in walk(r.tree) if isinstance(n, c.ScriptAdherence)}
    if not scenarios:
        return {}, None
    from apps.answers.embedding import get_embedder
    from apps.knowledge.models import ScriptVersion

    embedder = get_embedder()
    scripts = {}
    for scenario in scenarios:
        texts = list(
            ScriptVersion.objects.filter(status="published", script__scenario__slug=scenario).values_list(
                "text", flat=True
            )
        )
        if texts:
            scripts[scenario] = embedder.passages(texts)
    return scripts, embedder.passages  # a reply and a script are both statements: compared alike


# --- which scorecard a conversation is scored against -------------------------------------------


@dataclass
class _Card:
    version_id: int
    teams: set[int]
    channels: set[int]
    lines: list[Line]
    rule_of: dict[int, int]  # criterion id → rule id (automatic and assisted criteria)


def _published_cards() -> list[_Card]:
    versions = ScorecardVersion.objects.filter(status=ScorecardVersion.Status.PUBLISHED, scorecard__is_active=True)
    cards: dict[int, _Card] = {}
    for version in versions.select_related("scorecard").prefetch_related("scorecard__teams", "scorecard__channels"):
        cards[version.id] = _Card(
            version.id,
            {t.id for t in version.scorecard.teams.all()},
            {ch.id for ch in version.scorecard.channels.all()},
            [],
            {},
        )
    for criterion in Criterion.objects.filter(version_id__in=cards):
        card = cards[criterion.version_id]
        card.lines.append(Line(criterion.id, criterion.kind, criterion.points, criterion.fatal, criterion.allow_na))
        if criterion.mode != Criterion.Mode.MANUAL and criterion.rule_id:
            card.rule_of[criterion.id] = criterion.rule_id
    # The most specific card first: team and channel, then team, then channel, then everyone's.
    return sorted(cards.values(), key=lambda k: (not k.teams, not k.channels, k.version_id))


def _card_for(cards: list[_Card], team_id: int | None, channel_id: int) -> _Card | None:
    for card in cards:
        if (not card.teams or team_id in card.teams) and (not card.channels or channel_id in card.channels):
            return card
    return None


# --- scoring a batch ---------------------------------------------------------------------------


def _views(conversation_ids: list[int]) -> tuple[list[ConversationView], dict[int, dict], dict[int, list[int]]]:
    rows = (
        Conversation.objects.filter(id__in=conversation_ids)
        .order_by("id")
        .values(
            "id",
            "channel_id",
            "channel__code",
            "product__slug",
            "team_id",
            "team__name",
            "csat",
            "tags",
            "handoff",
            "repeat_contact",
            *_METRICS,
        )
    )
    meta = {row["id"]: row for row in rows}
    messages: dict[int, list[MessageView]] = defaultdict(list)
    message_ids: dict[int, list[int]] = defaultdict(list)
    for pk, conversation_id, role, text in (
        Message.objects.filter(conversation_id__in=meta)
        .order_by("conversation_id", "sent_at", "id")
        .values_list("id", "conversation_id", "role", "text")
        .iterator(chunk_size=10000)
    ):
        bucket = messages[conversation_id]
        bucket.append(MessageView(len(bucket), pk, role, text))
        message_ids[conversation_id].append(pk)
    views = [
        ConversationView(
            id=pk,
            messages=messages.get(pk, []),
            channel=row["channel__code"],
            product=row["product__slug"],
            team=row["team__name"],
            csat=row["csat"],
            tags=row["tags"] or [],
            handoff=row["handoff"],
            repeat_contact=row["repeat_contact"],
            metrics={name: row[name] for name in _METRICS},
        )
        for pk, row in meta.items()
    ]
    return views, meta, message_ids


def conversations_score(conversation_ids: list[int]) -> int:
    """Score these conversations against their scorecards; returns how many got a score."""
    if not conversation_ids:
        return 0
    signature, ruleset = active_ruleset()
    cards = _published_cards()
    severity_of = {rule.id: rule.severity for rule in ruleset.rules}
    risk_rules = {rule.id for rule in ruleset.rules if rule.marks_risk}
    views, meta, message_ids = _views(sorted(set(conversation_ids)))
    now = timezone.now()
    scores: list[tuple] = []
    findings: dict[tuple[int, int], list[tuple[int, str, Evidence]]] = {}
    for view in views:
        row = meta[view.id]
        card = _card_for(cards, row["team_id"], row["channel_id"])
        if card is None:
            continue
        fired = ruleset.evaluate(view)
        outcomes = {line.id: NA for line in card.lines}
        kinds = {line.id: line.kind for line in card.lines}
        for criterion_id, rule_id in card.rule_of.items():
            outcomes[criterion_id] = outcome_from_rule(kinds[criterion_id], rule_id in fired)
        result = score(card.lines, outcomes)
        severities = [severity_of[r] for r in fired]
        worst = max(severities, key=_SEVERITY_ORDER.index) if severities else ""
        count = sum(len(evidence) for evidence in fired.values())
        risky = any(rule_id in risk_rules for rule_id in fired)
        scores.append((view.id, card.version_id, result.score, result.fatal, outcomes, count, worst, risky))
        findings[(view.id, card.version_id)] = [
            (rule_id, severity_of[rule_id], e) for rule_id, evidence in fired.items() for e in evidence
        ]
    if scores:
        _store(scores, findings, message_ids, signature, now)
    return len(scores)


def _store(scores, findings, message_ids, signature, now) -> None:
    import json

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO qa_autoscore AS a (conversation_id, version_id, score, fatal, outcomes, finding_count,
                                           worst_severity, risky, rules_signature, computed_at)
            SELECT s.conversation_id, s.version_id, s.score, s.fatal, s.outcomes, s.finding_count,
                   s.worst_severity, s.risky, %s, %s
            FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::boolean[], %s::jsonb[], %s::int[], %s::text[],
                        %s::boolean[])
                 AS s(conversation_id, version_id, score, fatal, outcomes, finding_count, worst_severity, risky)
            ON CONFLICT (conversation_id, version_id) DO UPDATE SET
                score = EXCLUDED.score, fatal = EXCLUDED.fatal, outcomes = EXCLUDED.outcomes,
                finding_count = EXCLUDED.finding_count, worst_severity = EXCLUDED.worst_severity,
                risky = EXCLUDED.risky,
                rules_signature = EXCLUDED.rules_signature, computed_at = EXCLUDED.computed_at
            RETURNING a.id, a.conversation_id, a.version_id
            """,
            [
                signature,
                now,
                [s[0] for s in scores],
                [s[1] for s in scores],
                [Decimal(s[2]) for s in scores],
                [s[3] for s in scores],
                [json.dumps({str(k): v for k, v in s[4].items()}) for s in scores],
                [s[5] for s in scores],
                [s[6] for s in scores],
                [s[7] for s in scores],
            ],
        )
        score_ids = {(conversation_id, version_id): pk for pk, conversation_id, version_id in cursor.fetchall()}
        cursor.execute("DELETE FROM qa_finding WHERE score_id = ANY(%s)", [list(score_ids.values())])
        columns = 'score_id, conversation_id, rule_id, severity, message_id, start, "end", matched, detail'
        with cursor.cursor.copy(f"COPY qa_finding ({columns}) FROM STDIN") as copy:
            for key, items in findings.items():
                ids = message_ids.get(key[0], [])
                for rule_id, severity, e in items:
                    copy.write_row(
                        (
                            score_ids[key],
                            key[0],
                            rule_id,
                            severity,
                            ids[e.message] if e.message is not None else None,
                            e.start,
                            e.end,
                            e.matched[:200],
                            e.detail[:200],
                        )
                    )


def unscored_since(since, *, limit: int = 50_000) -> list[int]:
    """Conversations changed since ``since`` whose score is missing or older than the change: what a lost
    task (a broker that dropped a message, a worker killed before it took one) left behind. Uses the BRIN
    index on ``updated_at``. Nothing while no scorecard is published (QA not set up)."""
    if not ScorecardVersion.objects.filter(
        status=ScorecardVersion.Status.PUBLISHED, scorecard__is_active=True
    ).exists():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id FROM conversations_conversation c
            WHERE c.updated_at >= %s
              AND NOT EXISTS (
                  SELECT 1 FROM qa_autoscore a WHERE a.conversation_id = c.id AND a.computed_at >= c.updated_at
              )
            ORDER BY c.id LIMIT %s
            """,
            [since, limit],
        )
        return [pk for (pk,) in cursor.fetchall()]
