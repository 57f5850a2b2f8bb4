"""Rule conditions: a JSON tree, checked into typed nodes with every problem reported by its path.

A tree is a node; a node is a combinator or a condition:

- ``{"all": [node, …]}``, ``{"any": [node, …]}``, ``{"not": node}``
- ``{"type": "keywords", "lexicon": "forbidden" | ["a", "b"], "terms": ["…"], "match": "any" | "all" |
  "at_least" | "none", "n": 2, "role": …, "position": …}`` — terms of lexicons (by code) and/or listed
- ``{"type": "regex", "pattern": "…", "exclude": "…", "role": …, "position": …}``
- ``{"type": "near", "conditions": [node, node], "within": 0}`` — both message conditions hit in the same
  message (0) or within N messages of each other
- ``{"type": "missing_phrase", "lexicon"/"terms": …, "role": "agent", "position": "first_agent_reply"}`` —
  fires when the scoped messages exist and none holds a term (a greeting, a closing)
- ``{"type": "timing", "metric": "first_response" | "bot_first_response" | "human_first_response" |
  "avg_reply_gap" | "max_reply_gap" | "handle_time" | "sla_breached", "over_seconds": 60}``
- ``{"type": "negative_emotion", "role": "customer"}``, ``{"type": "impolite", "role": "agent"}``
- ``{"type": "script_adherence", "scenario": "slug", "trigger": node, "min_similarity": 0.93}`` — the
  agent's reply after each trigger hit must be that close (cosine) to a published script of the scenario.
  With the default e5-small embedder unrelated Chinese sentences still score ~0.85–0.90 and a close
  paraphrase ~0.95–0.99: thresholds live in that band
- ``{"type": "bot_failure_streak", "min": 3, "without_handoff": true}``
- ``{"type": "human_only_topic"}`` — the customer raised a human-only topic, the bot answered, and no
  human agent took over afterwards
- ``{"type": "metadata", "field": "channel" | "product" | "team" | "csat" | "tags" | "handoff" |
  "repeat_contact", "op": "eq" | "in" | "not_in" | "lte" | "gte" | "contains", "value": …}``

``role`` is ``customer``, ``agent`` (human), ``bot``, ``any`` or a list of them; ``position`` is
``anywhere`` (default), ``first_reply`` (the first agent or bot message), ``first_agent_reply``,
``last_agent_reply``, ``first_n`` or ``last_n`` (with ``"n_messages": N``).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from apps.core.errors import ValidationFailed
from apps.core.user_regex import UserRegexError, compile_user_regex

ROLES = ("customer", "agent", "bot", "system")
POSITIONS = ("anywhere", "first_reply", "first_agent_reply", "last_agent_reply", "first_n", "last_n")
MATCHES = ("any", "all", "at_least", "none")
TIMING_METRICS = {
    "first_response": "first_response_seconds",
    "bot_first_response": "bot_first_response_seconds",
    "human_first_response": "human_first_response_seconds",
    "avg_reply_gap": "avg_agent_reply_seconds",
    "max_reply_gap": "max_agent_reply_seconds",
    "handle_time": "handle_seconds",
    "sla_breached": "sla_breached",
}
METADATA_FIELDS = ("channel", "product", "team", "csat", "tags", "handoff", "repeat_contact")
METADATA_OPS = ("eq", "in", "not_in", "lte", "gte", "contains")
MAX_DEPTH = 12


@dataclass(frozen=True)
class Scope:
    roles: frozenset[str] = frozenset(ROLES)
    position: str = "anywhere"
    n_messages: int = 0


@dataclass
class Node:
    path: str


@dataclass
class All(Node):
    children: list[Node]


@dataclass
class Any(Node):
    children: list[Node]


@dataclass
class Not(Node):
    child: Node


@dataclass
class Keywords(Node):
    lexicons: list[str]
    terms: list[str]
    match: str
    n: int
    scope: Scope
    term_set: int = -1  # set by the engine: which of its term sets this is


@dataclass
class MissingPhrase(Node):
    lexicons: list[str]
    terms: list[str]
    scope: Scope
    term_set: int = -1


@dataclass
class Regex(Node):
    pattern: typing.Any  # RE2 patterns (apps.core.user_regex): linear time on any text
    exclude: typing.Any
    scope: Scope
    literal: str | None = None  # a piece of text every match contains: the regex runs only where it is
    term_set: int = -1


@dataclass
class Near(Node):
    first: Node
    second: Node
    within: int


@dataclass
class Timing(Node):
    metric: str
    over_seconds: float


@dataclass
class Sentiment(Node):
    kind: str  # negative_emotion | impolite
    scope: Scope


@dataclass
class ScriptAdherence(Node):
    scenario: str
    trigger: Node
    min_similarity: float


@dataclass
class BotFailureStreak(Node):
    minimum: int
    without_handoff: bool


@dataclass
class HumanOnlyTopic(Node):
    term_set: int = -1


@dataclass
class Metadata(Node):
    field: str
    op: str
    value: object


MESSAGE_CONDITIONS = (Keywords, Regex, Sentiment)  # what ``near`` can relate: they hit messages


@dataclass
class Problems:
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)


class InvalidCondition(ValidationFailed):
    """A rule's condition cannot be evaluated: every problem by its path (``$.all[1].role``) in ``errors``
    (the ``field_errors``), all of them in the message."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{p}: {' '.join(m)}" for p, m in errors.items()), field_errors=errors)
        self.errors = errors


def parse_condition(tree: object) -> Node:
    """The typed tree, or :class:`InvalidCondition` listing every problem by path (``$.all[1].role``)."""
    problems = Problems()
    node = _node(tree, "$", problems, 0)
    if problems.errors or node is None:
        raise InvalidCondition(problems.errors or {"$": [_("Not a condition.")]})
    return node


def _node(raw: object, path: str, problems: Problems, depth: int) -> Node | None:
    if depth > MAX_DEPTH:
        problems.add(path, _("Nested too deeply (at most %(n)s levels).") % {"n": MAX_DEPTH})
        return None
    if not isinstance(raw, dict):
        problems.add(path, _("A condition must be an object."))
        return None
    for combinator in ("all", "any"):
        if combinator in raw:
            children_raw = raw[combinator]
            if not isinstance(children_raw, list) or not children_raw:
                problems.add(f"{path}.{combinator}", _("A non-empty list of conditions."))
                return None
            children = [_node(c, f"{path}.{combinator}[{i}]", problems, depth + 1) for i, c in enumerate(children_raw)]
            kids = [c for c in children if c is not None]
            return All(path, kids) if combinator == "all" else Any(path, kids)
    if "not" in raw:
        child = _node(raw["not"], f"{path}.not", problems, depth + 1)
        return Not(path, child) if child is not None else None
    kind = raw.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        problems.add(
            f"{path}.type",
            _("One of: all, any, not, or a type: %(types)s.") % {"types": ", ".join(sorted(_PARSERS))},
        )
        return None
    return parser(raw, path, problems, depth)


def _scope(raw: dict, path: str, problems: Problems, default_roles: tuple[str, ...] = ROLES) -> Scope:
    role = raw.get("role", "any")
    roles: tuple[str, ...]
    if role == "any":
        roles = default_roles
    elif isinstance(role, str) and role in ROLES:
        roles = (role,)
    elif isinstance(role, list) and role and all(isinstance(r, str) and r in ROLES for r in role):
        roles = tuple(role)
    else:
        problems.add(f"{path}.role", _("One of: any, %(roles)s, or a list of them.") % {"roles": ", ".join(ROLES)})
        roles = default_roles
    position = raw.get("position", "anywhere")
    if position not in POSITIONS:
        problems.add(f"{path}.position", _("One of: %(v)s.") % {"v": ", ".join(POSITIONS)})
        position = "anywhere"
    n_messages = raw.get("n_messages", 0)
    if position in ("first_n", "last_n") and (
        not isinstance(n_messages, int) or isinstance(n_messages, bool) or n_messages < 1
    ):
        problems.add(f"{path}.n_messages", _("A whole number of messages, at least 1."))
        n_messages = 1
    return Scope(frozenset(roles), position, n_messages if isinstance(n_messages, int) else 0)


def _terms(raw: dict, path: str, problems: Problems) -> tuple[list[str], list[str]]:
    lexicons = raw.get("lexicon", [])
    if isinstance(lexicons, str):
        lexicons = [lexicons]
    if not isinstance(lexicons, list) or not all(isinstance(x, str) and x for x in lexicons):
        problems.add(f"{path}.lexicon", _("A lexicon code or a list of them."))
        lexicons = []
    terms = raw.get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
        problems.add(f"{path}.terms", _("A list of non-empty terms."))
        terms = []
    if not lexicons and not terms:
        problems.add(path, _("Give a lexicon or terms."))
    return lexicons, [t.strip() for t in terms]


def _keywords(raw: dict, path: str, problems: Problems, depth: int) -> Node:
    lexicons, terms = _terms(raw, path, problems)
    match = raw.get("match", "any")
    if match not in MATCHES:
        problems.add(f"{path}.match", _("One of: %(v)s.") % {"v": ", ".join(MATCHES)})
    n = raw.get("n", 1)
    if match == "at_least" and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        problems.add(f"{path}.n", _("A whole number, at least 1."))
        n = 1
    return Keywords(path, lexicons, terms, match, n if isinstance(n, int) else 1, _scope(raw, path, problems))


def _missing_phrase(raw: dict, path: str, problems: Problems, depth: int) -> Node:
    lexicons, terms = _terms(raw, path, problems)
    return MissingPhrase(path, lexicons, terms, _scope(raw, path, problems, ("agent",)))


def _regex(raw: dict, path: str, problems: Problems, depth: int) -> Node | None:
    compiled: dict[str, typing.Any] = {"pattern": None, "exclude": None}
    for key in ("pattern", "exclude"):
        value = raw.get(key)
        if value is None and key == "exclude":
            continue
        if not isinstance(value, str) or not value:
            problems.add(f"{path}.{key}", _("A regular expression."))
            continue
        try:
            compiled[key] = compile_user_regex(value)
        except UserRegexError as exc:
            problems.add(f"{path}.{key}", str(exc))
    scope = _scope(raw, path, problems)
    if compiled["pattern"] is None:
        return None
    return Regex(path, compiled["pattern"], compiled["exclude"], scope, required_literal(compiled["pattern"].pattern))


def _near(raw: dict, path: str, problems: Problems, depth: int) -> Node | None:
    conditions = raw.get("conditions")
    if not isinstance(conditions, list) or len(conditions) != 2:
        problems.add(f"{path}.conditions", _("Exactly two conditions."))
        return None
    nodes = [_node(c, f"{path}.conditions[{i}]", problems, depth + 1) for i, c in enumerate(conditions)]
    for i, node in enumerate(nodes):
        if node is not None and not isinstance(node, MESSAGE_CONDITIONS):
            problems.add(
                f"{path}.conditions[{i}]",
                _("Proximity relates conditions that hit messages: keywords, regex, emotion."),
            )
    within = raw.get("within", 0)
    if not isinstance(within, int) or isinstance(within, bool) or within < 0:
        problems.add(f"{path}.within", _("0 (the same message) or a number of messages."))
        within = 0
    if any(n is None for n in nodes):
        return None
    return Near(path, nodes[0], nodes[1], within)  # type: ignore[arg-type]


def _timing(raw: dict, path: str, problems: Problems, depth: int) -> Node:
    metric = raw.get("metric")
    if metric not in TIMING_METRICS:
        problems.add(f"{path}.metric", _("One of: %(v)s.") % {"v": ", ".join(TIMING_METRICS)})
    over = raw.get("over_seconds", 0)
    if metric != "sla_breached" and (isinstance(over, bool) or not isinstance(over, int | float) or over < 0):
        problems.add(f"{path}.over_seconds", _("A number of seconds."))
        over = 0
    return Timing(path, metric if isinstance(metric, str) else "", float(over or 0))


def _sentiment(kind: str, default_role: str):
    def parse(raw: dict, path: str, problems: Problems, depth: int) -> Node:
        return Sentiment(path, kind, _scope(raw, path, problems, (default_role,)))

    return parse


def _script(raw: dict, path: str, problems: Problems, depth: int) -> Node | None:
    scenario = raw.get("scenario")
    if not isinstance(scenario, str) or not scenario:
        problems.add(f"{path}.scenario", _("The slug of a script scenario."))
    similarity = raw.get("min_similarity", 0.93)
    if isinstance(similarity, bool) or not isinstance(similarity, int | float) or not 0 < similarity <= 1:
        problems.add(f"{path}.min_similarity", _("A number above 0, at most 1."))
        similarity = 0.93
    trigger = _node(raw.get("trigger"), f"{path}.trigger", problems, depth + 1)
    if trigger is not None and not isinstance(trigger, MESSAGE_CONDITIONS):
        problems.add(f"{path}.trigger", _("A condition that hits messages: keywords, regex, emotion."))
    if trigger is None or not isinstance(scenario, str):
        return None
    return ScriptAdherence(path, scenario, trigger, float(similarity))


def _failure_streak(raw: dict, path: str, problems: Problems, depth: int) -> Node:
    minimum = raw.get("min", 3)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        problems.add(f"{path}.min", _("A whole number, at least 1."))
        minimum = 3
    without = raw.get("without_handoff", True)
    if not isinstance(without, bool):
        problems.add(f"{path}.without_handoff", _("true or false."))
        without = True
    return BotFailureStreak(path, minimum, without)


def _human_only(raw: dict, path: str, problems: Problems, depth: int) -> Node:
    return HumanOnlyTopic(path)


def _metadata(raw: dict, path: str, problems: Problems, depth: int) -> Node:
    name, op, value = raw.get("field"), raw.get("op", "eq"), raw.get("value")
    if name not in METADATA_FIELDS:
        problems.add(f"{path}.field", _("One of: %(v)s.") % {"v": ", ".join(METADATA_FIELDS)})
    if op not in METADATA_OPS:
        problems.add(f"{path}.op", _("One of: %(v)s.") % {"v": ", ".join(METADATA_OPS)})
    if op in ("in", "not_in") and not isinstance(value, list):
        problems.add(f"{path}.value", _("A list of values."))
    if op in ("lte", "gte") and (isinstance(value, bool) or not isinstance(value, int | float)):
        problems.add(f"{path}.value", _("A number."))
    return Metadata(path, name if isinstance(name, str) else "", op if isinstance(op, str) else "eq", value)


_PARSERS = {
    "keywords": _keywords,
    "missing_phrase": _missing_phrase,
    "regex": _regex,
    "near": _near,
    "timing": _timing,
    "negative_emotion": _sentiment("negative_emotion", "customer"),
    "impolite": _sentiment("impolite", "agent"),
    "script_adherence": _script,
    "bot_failure_streak": _failure_streak,
    "human_only_topic": _human_only,
    "metadata": _metadata,
}


def required_literal(pattern: str) -> str | None:
    """The longest run of plain characters every match must contain (top-level, outside any group,
    alternation or repetition), if two characters or longer: the regex is run only on text holding it."""
    import re._parser as sre_parse  # the standard library's own regex parser

    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    best, run = "", ""
    for op, arg in parsed:
        if op is sre_parse.LITERAL:
            run += chr(arg)
            continue
        best, run = max(best, run, key=len), ""
    best = max(best, run, key=len)
    return best if len(best) >= 2 else None
