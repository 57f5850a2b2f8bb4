"""Conversation files, read as a stream: JSON Lines (one conversation a line) and CSV (one message a row,
rows of a conversation together). Each yields ``(line number, conversation dict)`` or a rejected line,
holding at most one conversation in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from apps.conversations.formats.wecom import WecomRejected

Rejected = WecomRejected  # (line, error): the same shape for every format

CSV_COLUMNS = [
    "channel",
    "conversation_id",
    "product",
    "team",
    "customer",
    "csat",
    "resolution",
    "tags",
    "message_id",
    "role",
    "sender",
    "sent_at",
    "text",
    "type",
]
_CONVERSATION_COLUMNS = ("product", "team", "customer", "resolution")


def read_jsonl_text(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """``(line number, JSON text)`` of each non-blank line, not decoded: the importer's writer processes
    decode them (``apps.conversations.services.ingest.prepare`` takes JSON text)."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, dict] | Rejected]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield Rejected(number, f"invalid JSON: {exc}")
            continue
        yield number, item


def read_csv(lines: Iterable[str]) -> Iterator[tuple[int, dict] | Rejected]:
    reader = csv.DictReader(lines)
    missing = [
        c for c in ("channel", "conversation_id", "message_id", "role", "sent_at") if c not in (reader.fieldnames or [])
    ]
    if missing:
        yield Rejected(1, f"missing columns: {', '.join(missing)} (expected: {', '.join(CSV_COLUMNS)})")
        return
    current: dict | None = None
    first_line = 0
    for row in reader:
        number = reader.line_num
        key = (row.get("channel") or "", row.get("conversation_id") or "")
        if current is None or (current["channel"], current["external_id"]) != key:
            if current is not None:
                yield first_line, current
            current, first_line = _conversation(row), number
        current["messages"].append(
            {
                "id": row.get("message_id") or "",
                "role": row.get("role") or "",
                "sender": row.get("sender") or None,
                "sent_at": row.get("sent_at") or "",
                "text": row.get("text") or "",
                "type": row.get("type") or "text",
            }
        )
    if current is not None:
        yield first_line, current


def _conversation(row: dict) -> dict:
    conversation: dict = {"channel": row.get("channel") or "", "external_id": row.get("conversation_id") or ""}
    for column in _CONVERSATION_COLUMNS:
        if row.get(column):
            conversation[column] = row[column]
    if row.get("csat"):
        csat = row["csat"].strip()
        conversation["csat"] = int(csat) if csat.isdigit() else csat
    if row.get("tags"):
        conversation["tags"] = [t.strip() for t in row["tags"].split(";") if t.strip()]
    conversation["messages"] = []
    return conversation
