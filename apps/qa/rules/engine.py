"""Evaluating rules on conversations: every term of every lexicon the rules use is matched in one
Aho-Corasick pass per message; the condition trees then only look up those hits.

Pure Python over plain data (:class:`ConversationView`): no database access here (``apps.qa.services``
loads conversations and rules, and stores what fires).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ahocorasick_rs

from apps.qa import sentiment
from apps.qa.rules import conditions as c
from apps.qa.rules import details
from apps.qa.rules.text import fold_keeping_spans

MAX_EVIDENCE_PER_RULE = 50


@dataclass(slots=True)
class MessageView:
    index: int
    id: int | None
    role: str
    text: str
    norm: str = ""
    hits: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)  # term set → (term, start, end)


@dataclass
class ConversationView:
    id: int
    messages: list[MessageView]
    channel: str = ""
    product: str | None = None
    team: str | None = None
    csat: int | None = None
    tags: list[str] = field(default_factory=list)
    handoff: bool = False
    repeat_contact: bool = False
    metrics: dict[str, float | bool | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Evidence:
    message: int | None  # index in the conversation's messages
    start: int | None = None
    end: int | None = None
    matched: str = ""
    detail: str = ""


@dataclass(slots=True)
class Result:
    fired: bool
    evidence: list[Evidence]


@dataclass
class CompiledRule:
    id: int
    code: str
    severity: str
    tree: c.Node
    marks_risk: bool = False


# An embedding function for script adherence: texts → unit vectors (rows), as numpy arrays.
Embed = Callable[[list[str]], "object"]


class RuleSet:
    """Rules compiled together. ``lexicons`` maps a lexicon code to its terms; ``scripts`` maps a script
    scenario slug to the unit embeddings of its published scripts (only needed by script rules)."""

    def __init__(
        self,
        rules: list[CompiledRule],
        lexicons: dict[str, list[str]],
        human_only_terms: Iterable[str] = (),
        scripts: dict[str, object] | None = None,
        embed: Embed | None = None,
    ) -> None:
        self.rules = rules
        self._scripts = scripts or {}
        self._embed = embed
        self._set_terms: list[list[str]] = []  # term set → its terms (normalized, distinct)
        self._set_keys: dict[tuple, int] = {}
        for rule in rules:
            for node in walk(rule.tree):
                if isinstance(node, c.Keywords | c.MissingPhrase):
                    terms = [t for code in node.lexicons for t in lexicons.get(code, ())] + node.terms
                    node.term_set = self._term_set(("terms", tuple(node.lexicons), tuple(node.terms)), terms)
                elif isinstance(node, c.Regex) and node.literal:
                    node.term_set = self._term_set(("literal", node.literal), [node.literal])
                elif isinstance(node, c.HumanOnlyTopic):
                    node.term_set = self._term_set(("human_only",), list(human_only_terms))
        patterns: dict[str, list[tuple[int, int]]] = {}  # pattern → (term set, term index)
        for set_id, terms in enumerate(self._set_terms):
            for term_index, term in enumerate(terms):
                patterns.setdefault(term, []).append((set_id, term_index))
        self._pattern_owners = list(patterns.values())
        self._automaton = (
            ahocorasick_rs.AhoCorasick(list(patterns), implementation=ahocorasick_rs.Implementation.DFA)
            if patterns
            else None
        )

    def _term_set(self, key: tuple, terms: list[str]) -> int:
        if key not in self._set_keys:
            distinct = list(dict.fromkeys(t for t in (fold_keeping_spans(term.strip()) for term in terms) if t))
            self._set_keys[key] = len(self._set_terms)
            self._set_terms.append(distinct)
        return self._set_keys[key]

    def term(self, set_id: int, term_index: int) -> str:
        return self._set_terms[set_id][term_index]

    # --- evaluation -------------------------------------------------------------------------------

    def prepare(self, conversation: ConversationView) -> None:
        """Normalize every message and find every term in it: one pass per message."""
        find = self._automaton.find_matches_as_indexes if self._automaton is not None else None
        owners = self._pattern_owners
        for message in conversation.messages:
            message.norm = fold_keeping_spans(message.text)
            message.hits = {}
            if find is None or not message.norm:
                continue
            for pattern, start, end in find(message.norm, overlapping=True):
                for set_id, term_index in owners[pattern]:
                    message.hits.setdefault(set_id, []).append((term_index, start, end))

    def evaluate(self, conversation: ConversationView) -> dict[int, list[Evidence]]:
        """The rules that fire on the conversation, each with its evidence."""
        self.prepare(conversation)
        context = _Context(self, conversation)
        fired: dict[int, list[Evidence]] = {}
        for rule in self.rules:
            result = context.eval(rule.tree)
            if result.fired:
                # A reviewer reads the first hits; a message repeating a term 10,000 times stores 50 of them.
                fired[rule.id] = result.evidence[:MAX_EVIDENCE_PER_RULE] or [Evidence(None, detail=rule.code)]
        return fired


class _Context:
    """One conversation under evaluation, with what its conditions share (scopes, sentiment cues)."""

    def __init__(self, ruleset: RuleSet, conversation: ConversationView) -> None:
        self.ruleset = ruleset
        self.conversation = conversation
        self._scopes: dict[c.Scope, list[MessageView]] = {}
        self._sentiment: dict[tuple[str, int], list[sentiment.Cue]] = {}

    def eval(self, node: c.Node) -> Result:
        return _EVALUATORS[type(node)](self, node)

    def scoped(self, scope: c.Scope) -> list[MessageView]:
        if scope not in self._scopes:
            self._scopes[scope] = _in_scope(self.conversation.messages, scope)
        return self._scopes[scope]

    def cues(self, kind: str, message: MessageView) -> list[sentiment.Cue]:
        key = (kind, message.index)
        if key not in self._sentiment:
            detect = sentiment.negative_emotion if kind == "negative_emotion" else sentiment.impolite
            self._sentiment[key] = detect(message.text)
        return self._sentiment[key]


def _in_scope(messages: list[MessageView], scope: c.Scope) -> list[MessageView]:
    position = scope.position
    if position == "first_n":
        messages = messages[: scope.n_messages]
    elif position == "last_n":
        messages = messages[-scope.n_messages :]
    elif position in ("first_reply", "first_agent_reply", "last_agent_reply"):
        roles = ("agent", "bot") if position == "first_reply" else ("agent",)
        replies = [m for m in messages if m.role in roles]
        if not replies:
            return []
        messages = [replies[-1] if position == "last_agent_reply" else replies[0]]
    return [m for m in messages if m.role in scope.roles]


def walk(node: c.Node) -> Iterable[c.Node]:
    yield node
    if isinstance(node, c.All | c.Any):
        for child in node.children:
            yield from walk(child)
    elif isinstance(node, c.Not):
        yield from walk(node.child)
    elif isinstance(node, c.Near):
        yield from walk(node.first)
        yield from walk(node.second)
    elif isinstance(node, c.ScriptAdherence):
        yield from walk(node.trigger)


# --- evaluators, one per node type ---------------------------------------------------------------


def _all(ctx: _Context, node: c.All) -> Result:
    evidence: list[Evidence] = []
    for child in node.children:
        result = ctx.eval(child)
        if not result.fired:
            return Result(False, [])
        evidence += result.evidence
    return Result(True, evidence)


def _any(ctx: _Context, node: c.Any) -> Result:
    evidence: list[Evidence] = []
    fired = False
    for child in node.children:
        result = ctx.eval(child)
        if result.fired:
            fired = True
            evidence += result.evidence
    return Result(fired, evidence)


def _not(ctx: _Context, node: c.Not) -> Result:
    return Result(not ctx.eval(node.child).fired, [])


def _term_hits(ctx: _Context, set_id: int, messages: list[MessageView]) -> list[tuple[MessageView, int, int, int]]:
    return [(m, t, s, e) for m in messages for (t, s, e) in m.hits.get(set_id, ())]


def _keywords(ctx: _Context, node: c.Keywords) -> Result:
    hits = _term_hits(ctx, node.term_set, ctx.scoped(node.scope))
    evidence = [Evidence(m.index, s, e, m.text[s:e]) for m, _t, s, e in hits]
    if node.match == "none":
        return Result(not hits, [])
    distinct = {t for _m, t, _s, _e in hits}
    if node.match == "any":
        fired = bool(hits)
    elif node.match == "all":
        fired = len(distinct) == len(ctx.ruleset._set_terms[node.term_set]) and bool(distinct)
    else:
        fired = len(distinct) >= node.n
    return Result(fired, evidence if fired else [])


def _missing_phrase(ctx: _Context, node: c.MissingPhrase) -> Result:
    scoped = ctx.scoped(node.scope)
    if not scoped or _term_hits(ctx, node.term_set, scoped):
        return Result(False, [])
    return Result(True, [Evidence(scoped[0].index, detail=details.MISSING_PHRASE)])


def _regex(ctx: _Context, node: c.Regex) -> Result:
    evidence: list[Evidence] = []
    for message in ctx.scoped(node.scope):
        if node.literal is not None and node.term_set not in message.hits:
            continue  # the text lacks a piece every match contains: the regex cannot match
        if node.exclude is not None and node.exclude.search(message.text):
            continue
        for match in node.pattern.finditer(message.text):
            if match.end() > match.start():
                evidence.append(Evidence(message.index, match.start(), match.end(), match.group()[:200]))
    return Result(bool(evidence), evidence)


def _near(ctx: _Context, node: c.Near) -> Result:
    """Linear in the hits (after sorting their message indices): each side's hits in messages that have a
    hit of the other side within ``within`` messages."""
    first, second = ctx.eval(node.first), ctx.eval(node.second)
    if not (first.fired and second.fired):
        return Result(False, [])
    first_messages = sorted({e.message for e in first.evidence if e.message is not None})
    second_messages = sorted({e.message for e in second.evidence if e.message is not None})
    close_first = _close_to(first_messages, second_messages, node.within)
    close_second = _close_to(second_messages, first_messages, node.within)
    evidence = [e for e in first.evidence if e.message in close_first]
    seen = set(evidence)
    evidence += [e for e in second.evidence if e.message in close_second and e not in seen]
    return Result(bool(evidence), evidence)


def _close_to(these: list[int], others: list[int], within: int) -> set[int]:
    """The message indices in ``these`` with one in ``others`` at most ``within`` away (both sorted)."""
    close: set[int] = set()
    j = 0
    for index in these:
        while j < len(others) and others[j] < index - within:
            j += 1
        if j < len(others) and others[j] <= index + within:
            close.add(index)
    return close


def _timing(ctx: _Context, node: c.Timing) -> Result:
    value = ctx.conversation.metrics.get(c.TIMING_METRICS[node.metric])
    if node.metric == "sla_breached":
        return Result(value is True, [Evidence(None, detail=details.SLA_BREACHED)] if value is True else [])
    fired = isinstance(value, int | float) and not isinstance(value, bool) and value > node.over_seconds
    detail = details.timing_detail(node.metric, value, node.over_seconds) if fired else ""
    return Result(fired, [Evidence(None, detail=detail)] if fired else [])


def _sentiment(ctx: _Context, node: c.Sentiment) -> Result:
    evidence = [
        Evidence(m.index, cue.start, cue.end, cue.text)
        for m in ctx.scoped(node.scope)
        for cue in ctx.cues(node.kind, m)
    ]
    return Result(bool(evidence), evidence)


def _script(ctx: _Context, node: c.ScriptAdherence) -> Result:
    scripts = ctx.ruleset._scripts.get(node.scenario)
    embed = ctx.ruleset._embed
    trigger = ctx.eval(node.trigger)
    if not trigger.fired or scripts is None or embed is None:
        return Result(False, [])
    messages = ctx.conversation.messages
    replies: dict[int, MessageView] = {}
    for hit in trigger.evidence:
        if hit.message is None:
            continue
        reply = next((m for m in messages[hit.message + 1 :] if m.role == "agent"), None)
        if reply is not None:
            replies[reply.index] = reply
    if not replies:
        return Result(False, [])
    ordered = list(replies.values())
    vectors = embed([m.text for m in ordered])
    similarities = (vectors @ scripts.T).max(axis=1)  # type: ignore[union-attr]
    evidence = [
        Evidence(m.index, detail=details.script_detail(float(s), node.min_similarity))
        for m, s in zip(ordered, similarities, strict=True)
        if float(s) < node.min_similarity
    ]
    return Result(bool(evidence), evidence)


def _failure_streak(ctx: _Context, node: c.BotFailureStreak) -> Result:
    streak = ctx.conversation.metrics.get("bot_failure_streak") or 0
    fired = streak >= node.minimum and not (node.without_handoff and ctx.conversation.handoff)
    return Result(fired, [Evidence(None, detail=details.streak_detail(streak))] if fired else [])


def _human_only(ctx: _Context, node: c.HumanOnlyTopic) -> Result:
    """The customer raised a human-only topic, the bot replied, and no human took over afterwards (a bot
    that says it is transferring, followed by an agent, handled it right)."""
    messages = ctx.conversation.messages
    evidence: list[Evidence] = []
    for message in messages:
        if message.role != "customer" or node.term_set not in message.hits:
            continue
        later = messages[message.index + 1 :]
        answer = next((m for m in later if m.role != "system"), None)
        if answer is None or answer.role != "bot" or any(m.role == "agent" for m in later):
            continue
        _t, start, end = message.hits[node.term_set][0]
        evidence += [Evidence(message.index, start, end, message.text[start:end]), Evidence(answer.index)]
    return Result(bool(evidence), evidence)


def _metadata(ctx: _Context, node: c.Metadata) -> Result:
    conversation = ctx.conversation
    value = getattr(conversation, node.field)
    expected = node.value
    if node.op == "eq":
        fired = value == expected
    elif node.op == "in":
        fired = value in expected  # type: ignore[operator]
    elif node.op == "not_in":
        fired = value not in expected  # type: ignore[operator]
    elif node.op == "contains":
        fired = isinstance(value, list) and expected in value
    elif value is None or isinstance(value, list):
        fired = False
    else:
        fired = value <= expected if node.op == "lte" else value >= expected  # type: ignore[operator]
    return Result(fired, [Evidence(None, detail=f"{node.field} = {value}")] if fired else [])


_EVALUATORS: dict[type, Callable[[_Context, c.Node], Result]] = {
    c.All: _all,
    c.Any: _any,
    c.Not: _not,
    c.Keywords: _keywords,
    c.MissingPhrase: _missing_phrase,
    c.Regex: _regex,
    c.Near: _near,
    c.Timing: _timing,
    c.Sentiment: _sentiment,
    c.ScriptAdherence: _script,
    c.BotFailureStreak: _failure_streak,
    c.HumanOnlyTopic: _human_only,
    c.Metadata: _metadata,
}
