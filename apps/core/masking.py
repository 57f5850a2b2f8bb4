"""Personal data in customers' chat messages, masked before a message is stored.

Kinds and masked forms (kind names are what ``MaskResult.counts`` is keyed by):

- ``mobile``: mainland mobile numbers ``1[3-9]`` + 9 digits, optionally after ``+86``/``0086``/``86`` (with
  or without a space or hyphen) and optionally written ``138 1234 5678`` / ``138-1234-5678``. Masked to
  ``138****5678``: the country prefix is kept as written, the separators inside the number are dropped.
- ``id_card``: 18-character resident ID numbers with a valid GB 11643-1999 check character and birth date.
  Masked to the first 4 + ``**********`` + the last 4 (``1101**********002X``).
- ``bank_card``: 16–19 digits passing the Luhn check, optionally in groups of 4 split by one space or
  hyphen. Every digit but the last 4 becomes ``*``, separators are kept (``**** **** **** ***4 567``).
- ``email``: masked to its first character, ``***`` and the domain (``z***@example.com.cn``).
- each extra pattern (``PII_EXTRA_PATTERNS``, name → regex): every match becomes ``*`` × its length, counted
  under its name. A match overlapping one of the built-in kinds is left to the built-in kind.

Full-width digits and letters (``１３８…``, ``Ｘ``) are matched as their ASCII forms. Masked values are
written in ASCII; the text around them is left as the customer wrote it.

Masking is idempotent for the built-in kinds: no masked form contains a run that matches again.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from apps.core.user_regex import UserRegexError, compile_user_regex

# Full-width → ASCII maps one character to one, so offsets found in the probe are offsets in the original.
_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
)

# Anything a built-in kind needs: 11+ digits (single spaces or hyphens between them allowed), an "@", or a
# full-width letter or digit (rare; such text is normalised and checked in full). Everything else is
# returned untouched without further work — most messages.
_BUILTIN_TRIGGER = r"[0-9](?:[ -]?[0-9]){10}|@|[０-９Ａ-Ｚａ-ｚ]"

# One pass over the text finds every built-in candidate; checksums and dates are checked in Python.
# Order matters where candidates start at the same place: an e-mail such as 13812345678@163.com is an
# e-mail, an 18-character run is tried as an ID card before a bank card.
_BUILTIN = re.compile(
    r"""
    (?<![A-Za-z0-9._%+-])(?P<email>[A-Za-z0-9._%+-]+)@(?P<domain>(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![A-Za-z0-9-])
    | (?<![0-9A-Za-z])(?P<id_card>[0-9]{17}[0-9Xx])(?![0-9A-Za-z])
    | (?<![0-9])(?P<bank_card>[0-9]{4}(?P<bsep>[ -]?)[0-9]{4}(?P=bsep)[0-9]{4}(?P=bsep)[0-9]{4}(?:(?P=bsep)[0-9]{1,3})?)
      (?![0-9])(?!(?P=bsep)[0-9])
    | (?<![0-9])(?P<prefix>(?:\+86|0086|86)[ -]?)?
      (?P<mobile>1[3-9][0-9](?P<msep>[ -]?)[0-9]{4}(?P=msep)[0-9]{4})(?![0-9])(?!(?P=msep)[0-9])
    """,
    re.VERBOSE,
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class MaskResult:
    text: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def is_valid_id_card(number: str) -> bool:
    """GB 11643-1999: 17 digits, a birth date YYYYMMDD at positions 7–14, and a mod-11 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if not 1900 <= year <= 2100:
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    remainder = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS, strict=False)) % 11
    return _ID_CHECK[remainder] == number[17].upper()


def passes_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_bank_card(card: str) -> str:
    keep = 4
    out = []
    for char in reversed(card):
        if char.isdigit():
            out.append(char if keep > 0 else "*")
            keep -= 1
        else:
            out.append(char)
    return "".join(reversed(out))


def _builtin_hit(match: re.Match[str]) -> tuple[str, str] | None:
    """(kind, masked form) for a candidate that really is personal data, else None."""
    if email := match["email"]:
        return "email", f"{email[0]}***@{match['domain']}"
    if id_card := match["id_card"]:
        if is_valid_id_card(id_card):
            return "id_card", f"{id_card[:4]}**********{id_card[-4:]}"
        # An 18-digit number that is no ID card may still be a bank card.
        if id_card.isdigit() and passes_luhn(id_card):
            return "bank_card", _mask_bank_card(id_card)
        return None
    if card := match["bank_card"]:
        if passes_luhn(card.replace(match["bsep"], "") if match["bsep"] else card):
            return "bank_card", _mask_bank_card(card)
        return None
    mobile = match["mobile"]
    if match["msep"]:
        mobile = mobile.replace(match["msep"], "")
    return "mobile", f"{match['prefix'] or ''}{mobile[:3]}****{mobile[-4:]}"


class Masker:
    """Masks personal data in one message at a time; build once and reuse (patterns are compiled here)."""

    def __init__(self, extra_patterns: dict[str, str] | None = None) -> None:
        # The deployer's extra patterns run on RE2 (linear time on any message, apps/core/user_regex.py).
        self._extras: list[tuple[str, Any]] = []
        for name, pattern in (extra_patterns or {}).items():
            if not isinstance(pattern, str):
                raise ImproperlyConfigured(f"PII extra pattern {name!r} must be a string.")
            try:
                compiled = compile_user_regex(pattern)
            except UserRegexError as exc:
                raise ImproperlyConfigured(f"PII extra pattern {name!r}: {exc}") from exc
            if compiled.fullmatch(""):
                raise ImproperlyConfigured(f"PII extra pattern {name!r} matches empty text; it would mask nothing.")
            self._extras.append((name, compiled))
        # The fast path: one search decides whether a built-in kind can match at all.
        self._trigger = re.compile(_BUILTIN_TRIGGER)

    def mask(self, text: str) -> MaskResult:
        if not text or (self._trigger.search(text) is None and not any(p.search(text) for _n, p in self._extras)):
            return MaskResult(text, {})
        probe = text.translate(_FULLWIDTH)
        hits: list[tuple[int, int, str, str]] = []  # start, end, kind, masked form
        for match in _BUILTIN.finditer(probe):
            if hit := _builtin_hit(match):
                hits.append((match.start(), match.end(), *hit))
        if self._extras:
            hits = self._with_extras(probe, hits)
        if not hits:
            return MaskResult(text, {})
        parts: list[str] = []
        counts: dict[str, int] = {}
        position = 0
        for start, end, kind, masked in hits:
            parts.append(text[position:start])
            parts.append(masked)
            counts[kind] = counts.get(kind, 0) + 1
            position = end
        parts.append(text[position:])
        return MaskResult("".join(parts), counts)

    def _with_extras(self, probe: str, builtin: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
        # Every pattern's matches; where they overlap, the leftmost wins, then the pattern listed first.
        found = sorted(
            (match.start(), order, match.end(), name)
            for order, (name, pattern) in enumerate(self._extras)
            for match in pattern.finditer(probe)
            if match.end() > match.start()
        )
        extra: list[tuple[int, int, str, str]] = []
        for start, _order, end, name in found:
            if extra and start < extra[-1][1]:
                continue
            extra.append((start, end, name, "*" * (end - start)))
        if not extra:
            return builtin
        if not builtin:
            return extra
        # An extra match overlapping a built-in kind leaves it to the built-in kind (both lists are sorted and
        # free of overlaps within themselves: one pass).
        kept, j = [], 0
        for hit in extra:
            while j < len(builtin) and builtin[j][1] <= hit[0]:
                j += 1
            if j == len(builtin) or builtin[j][0] >= hit[1]:
                kept.append(hit)
        return sorted(builtin + kept)


@lru_cache(maxsize=1)
def masker_from_settings() -> Masker:
    """The process-wide masker, built once from ``settings.PII_EXTRA_PATTERNS`` (name → regex)."""
    return Masker(getattr(settings, "PII_EXTRA_PATTERNS", {}))


@receiver(setting_changed)
def _rebuild_masker(*, setting: str, **kwargs: object) -> None:
    # Tests override PII_EXTRA_PATTERNS; a cached masker would keep the old patterns.
    if setting == "PII_EXTRA_PATTERNS":
        masker_from_settings.cache_clear()


def mask_text(text: str) -> str:
    """Any free text a person typed (a bot question, a comment, a note, a reason), with personal data masked
    as messages are: what is stored or exported is this, never the original."""
    return masker_from_settings().mask(text).text if text else text
