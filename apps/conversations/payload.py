"""Conversations as integrations send them: parsed and checked in plain Python, without touching the
database, so one bad conversation in a batch is reported on its own and costs the others nothing.

Errors are keyed by the path of the offending field, e.g. ``messages[2].sent_at``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from apps.conversations.models import Resolution, Role

MAX_MESSAGES = 5000
MAX_TEXT = 20000
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ROLES = {r.value for r in Role}
_RESOLUTIONS = {r.value for r in Resolution}


@dataclass(slots=True)
class MessageIn:
    external_id: str
    role: str
    sender: str
    sent_at: datetime
    text: str
    type: str = "text"
    masked_count: int = 0  # personal data masked out of ``text`` (set by the ingestion service)


@dataclass
class ConversationIn:
    channel: str
    external_id: str
    product: str | None = None
    team: str | None = None
    customer: str | None = None
    csat: int | None = None
    resolution: str | None = None
    tags: list[str] | None = None
    handoff: bool | None = None
    messages: list[MessageIn] = field(default_factory=list)


class PayloadErrors(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _path(where: str | tuple[int, str]) -> str:
    # Message field paths are built only when there is an error to report (a file has millions).
    return where if isinstance(where, str) else f"messages[{where[0]}].{where[1]}"


def _text(value: object, where: str | tuple[int, str], errors: dict, *, required: bool, max_length: int) -> str | None:
    if type(value) is str:  # the common case, checked in a few operations (millions of messages a file)
        text = value.strip()
        if text and len(text) <= max_length and "\x00" not in text:
            return text
    path = _path(where)
    if value is None or value == "":
        if required:
            errors[path] = [_("This field is required.")]
        return None
    if not isinstance(value, str):  # a number is refused, not turned into a string: JSON types are strict
        errors[path] = [_("Must be a string.")]
        return None
    text = value.strip()
    if "\x00" in text:
        errors[path] = [_("Must not contain NUL characters.")]
        return None
    if len(text) > max_length:
        errors[path] = [_("At most %(n)s characters.") % {"n": max_length}]
        return None
    if not text and required:
        errors[path] = [_("This field is required.")]
        return None
    return text or None


def _timestamp(value: object, where: str | tuple[int, str], errors: dict) -> datetime | None:
    if type(value) is str and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
    path = _path(where)
    if not isinstance(value, str) or not value:
        errors[path] = [_("Required: an ISO 8601 date and time with a time zone, e.g. 2026-11-01T10:00:00+08:00.")]
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors[path] = [_("Not an ISO 8601 date and time: “%(value)s”.") % {"value": value[:40]}]
        return None
    if moment.tzinfo is None:
        errors[path] = [_("Add the time zone (e.g. +08:00): “%(value)s”.") % {"value": value[:40]}]
        return None
    return moment


def _message(raw: object, i: int, errors: dict) -> MessageIn | None:
    if not isinstance(raw, dict):
        errors[f"messages[{i}]"] = [_("Each message must be an object.")]
        return None
    before = len(errors)
    external_id = _text(raw.get("id"), (i, "id"), errors, required=True, max_length=200)
    role = raw.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        errors[f"messages[{i}].role"] = [_("One of: %(roles)s.") % {"roles": ", ".join(sorted(_ROLES))}]
    sender = _text(raw.get("sender"), (i, "sender"), errors, required=role in ("agent", "bot"), max_length=100)
    sent_at = _timestamp(raw.get("sent_at"), (i, "sent_at"), errors)
    text = raw.get("text", "")
    if text is None:
        text = ""
    if isinstance(text, str) and "\x00" in text:  # PostgreSQL text cannot hold NUL; channels do send it
        text = text.replace("\x00", "")
    if not isinstance(text, str):
        errors[f"messages[{i}].text"] = [_("Must be a string.")]
    elif len(text) > MAX_TEXT:
        errors[f"messages[{i}].text"] = [_("At most %(n)s characters.") % {"n": MAX_TEXT}]
    kind = _text(raw.get("type", "text"), (i, "type"), errors, required=False, max_length=30) or "text"
    if len(errors) > before:
        return None
    return MessageIn(external_id, role, sender or "", sent_at, text, kind)  # type: ignore[arg-type]


def parse_conversation(raw: object) -> ConversationIn:
    """A checked conversation, or :class:`PayloadErrors` with every problem found (not just the first)."""
    if not isinstance(raw, dict):
        raise PayloadErrors({"non_field_errors": [_("A conversation must be a JSON object.")]})
    errors: dict[str, list[str]] = {}
    channel = _text(raw.get("channel"), "channel", errors, required=True, max_length=40)
    if channel and not _CODE.match(channel):
        errors["channel"] = [_("Lower-case letters, digits, “-” and “_”, e.g. wechat.")]
    external_id = _text(raw.get("external_id"), "external_id", errors, required=True, max_length=200)
    product = _text(raw.get("product"), "product", errors, required=False, max_length=50)
    team = _text(raw.get("team"), "team", errors, required=False, max_length=100)
    customer = _text(raw.get("customer"), "customer", errors, required=False, max_length=100)
    csat = raw.get("csat")
    if csat is not None and (isinstance(csat, bool) or not isinstance(csat, int) or not 1 <= csat <= 5):
        errors["csat"] = [_("A whole number from 1 to 5.")]
    resolution = raw.get("resolution")
    if resolution is not None and (not isinstance(resolution, str) or resolution not in _RESOLUTIONS):
        errors["resolution"] = [_("One of: resolved, unresolved.")]
    tags = raw.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or len(tags) > 50 or not all(isinstance(t, str) and 0 < len(t) <= 50 for t in tags)
    ):
        errors["tags"] = [_("A list of at most 50 tags of 1–50 characters.")]
    handoff = raw.get("handoff")
    if handoff is not None and not isinstance(handoff, bool):
        errors["handoff"] = [_("true or false.")]
    raw_messages = raw.get("messages", [])
    messages: list[MessageIn] = []
    if not isinstance(raw_messages, list):
        errors["messages"] = [_("A list of messages.")]
    elif len(raw_messages) > MAX_MESSAGES:
        errors["messages"] = [_("At most %(n)s messages per conversation.") % {"n": MAX_MESSAGES}]
    else:
        seen: set[str] = set()
        for i, item in enumerate(raw_messages):
            message = _message(item, i, errors)
            if message is None:
                continue
            if message.external_id in seen:
                errors[f"messages[{i}].id"] = [_("Duplicate message id “%(id)s”.") % {"id": message.external_id}]
            seen.add(message.external_id)
            messages.append(message)
    if errors:
        raise PayloadErrors(errors)
    return ConversationIn(
        channel=channel,  # type: ignore[arg-type]
        external_id=external_id,  # type: ignore[arg-type]
        product=product,
        team=team,
        customer=customer,
        csat=csat,
        resolution=resolution,
        tags=sorted(set(tags)) if tags is not None else None,
        handoff=handoff,
        messages=messages,
    )
