"""A conversation as the review page shows it: messages with their reply gaps, the handoff marker, and
each message's text cut into segments so that machine findings can be highlighted where they are."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_MASKED = re.compile(r"[*＊]{3,}")


@dataclass
class Segment:
    text: str
    finding: int | None = None  # finding id
    severity: str = ""
    rule: str = ""
    masked: bool = False


@dataclass
class Line:
    id: int
    role: str
    sender: str
    sent_at: datetime
    gap_seconds: float | None
    handoff_before: bool
    segments: list[Segment] = field(default_factory=list)
    findings: list = field(default_factory=list)


def _masked_segments(text: str, **marks) -> list[Segment]:
    segments, position = [], 0
    for match in _MASKED.finditer(text):
        if match.start() > position:
            segments.append(Segment(text[position : match.start()], **marks))
        segments.append(Segment(match.group(), masked=True, **marks))
        position = match.end()
    if position < len(text):
        segments.append(Segment(text[position:], **marks))
    return segments


def segments_of(text: str, findings: list) -> list[Segment]:
    """Cut ``text`` at the findings' spans (overlapping spans: the first wins)."""
    spans = sorted((f for f in findings if f.start is not None and f.end), key=lambda f: (f.start, -f.end))
    segments: list[Segment] = []
    position = 0
    for finding in spans:
        if finding.start < position or finding.end > len(text):
            continue
        if finding.start > position:
            segments += _masked_segments(text[position : finding.start])
        segments += _masked_segments(
            text[finding.start : finding.end],
            finding=finding.pk,
            severity=finding.severity,
            rule=finding.rule.name,
        )
        position = finding.end
    if position < len(text):
        segments += _masked_segments(text[position:])
    return segments


def transcript(messages: list, findings: list, handoff_at: datetime | None) -> list[Line]:
    by_message: dict[int, list] = {}
    for finding in findings:
        if finding.message_id is not None:
            by_message.setdefault(finding.message_id, []).append(finding)
    lines: list[Line] = []
    previous = None
    handoff_shown = False
    for message in messages:
        before = bool(handoff_at and not handoff_shown and message.sent_at >= handoff_at)
        handoff_shown |= before
        own = by_message.get(message.pk, [])
        lines.append(
            Line(
                id=message.pk,
                role=message.role,
                sender=message.sender,
                sent_at=message.sent_at,
                gap_seconds=(message.sent_at - previous).total_seconds() if previous else None,
                handoff_before=before,
                segments=segments_of(message.text, own),
                findings=own,
            )
        )
        previous = message.sent_at
    return lines
