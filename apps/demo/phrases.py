"""What customers, bots and agents say in the demo conversations (see ``apps.demo.conversations``):
tables the generator draws from, read from demo/conversation_phrases.json and, per feature,
demo/conversation_scripts.json. How often each thing happens stays in the generator."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from apps.demo.files import read_json


@dataclass(frozen=True)
class Script:
    """What customers and agents say about one feature once a human is on it."""

    details: tuple[str, ...]
    findings: tuple[str, ...]
    followups: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Phrases:
    """Every table of demo/conversation_phrases.json, one field per key. Per product: a dict by slug."""

    agent_names: tuple[str, ...]  # agent-01 … agent-30, in order
    bot_senders: dict[str, str]
    welcomes: dict[str, tuple[str, ...]]
    openers: tuple[str, ...]
    phone_openers: tuple[str, ...]
    question_prefixes: tuple[str, ...]
    question_suffixes: tuple[str, ...]
    return_prefixes: tuple[str, ...]
    bot_misunderstood: tuple[str, ...]
    bot_negations: tuple[str, ...]
    handoff_asks: tuple[str, ...]
    bot_transfers: tuple[str, ...]
    bot_human_only: str
    bot_pii_warning: str
    customer_thanks: tuple[str, ...]
    bot_farewells: tuple[str, ...]
    system_timeouts: tuple[str, ...]
    give_ups: tuple[str, ...]
    agent_handoff_openers: tuple[str, ...]
    agent_holds: tuple[str, ...]
    agent_soothes: tuple[str, ...]
    agent_sorry_slow: tuple[str, ...]
    agent_anything_else: tuple[str, ...]
    agent_farewells: tuple[str, ...]
    customer_nothing_else: tuple[str, ...]
    complaints: tuple[str, ...]
    impatient: tuple[str, ...]
    impolite: tuple[str, ...]
    complaint_endings: tuple[str, ...]
    screenshot: str
    # How agents identify the order or the transaction: (what they ask, what they want: order, tail,
    # transaction or either).
    ask_ids: dict[str, tuple[tuple[str, str], ...]]
    phone_ask_ids: dict[str, tuple[tuple[str, str], ...]]
    agent_greetings: tuple[str, ...]  # str.format templates: {title}, {name}
    hotline_greeting: str  # {brand}, {number}
    hotline_brands: dict[str, str]
    # Personal data customers type: {"kind": mobile | id_number | bank_card | email, "templates": […]}
    personal_data: tuple[dict[str, Any], ...]
    email_names: tuple[str, ...]


def _tuples(value: Any) -> Any:
    """JSON lists as tuples, at every depth: the tables are constants."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _tuples(item) for key, item in value.items()}
    return value


@cache
def demo_phrases() -> Phrases:
    """The demo conversations' phrases; a missing or unknown table fails here, naming it."""
    data = read_json("conversation_phrases.json")
    expected = {field.name for field in fields(Phrases)}
    if set(data) != expected:
        missing, unknown = sorted(expected - set(data)), sorted(set(data) - expected)
        raise ValueError(f"demo/conversation_phrases.json: missing {missing}, unknown {unknown}")
    return Phrases(**{key: _tuples(value) for key, value in data.items()})


@cache
def demo_scripts() -> dict[str, Script]:
    """Per feature slug, what customers and agents say about it (demo/conversation_scripts.json)."""
    return {feature: Script(**_tuples(script)) for feature, script in read_json("conversation_scripts.json").items()}
