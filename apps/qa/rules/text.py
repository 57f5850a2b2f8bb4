"""Text as rules match it: one character in, one character out (so a match's span is also its span in
the original message): Traditional → Simplified, full-width → half-width, upper → lower case."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0).lower()
    table[0x3000] = " "
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    # Character by character (one per line, so OpenCC's phrase tables cannot join neighbours): only the
    # conversions that keep one character.
    chars = [chr(c) for c in range(0x4E00, 0xA000) if unicodedata.category(chr(c)) == "Lo"]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) == len(chars):
        for before, after in zip(chars, converted, strict=True):
            if len(after) == 1 and after != before:
                table[ord(before)] = after
    return table


def fold_keeping_spans(text: str) -> str:
    """The form rules match: the same length as the text, character for character, so a match's span is also
    its span in the original (unlike :func:`apps.answers.text.normalize_for_retrieval`, which turns
    punctuation into spaces and collapses them)."""
    return text.translate(_table())
