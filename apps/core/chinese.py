"""Chinese scripts: one place converts between Simplified and Traditional, for bots' questions and for
the admin's search alike (退款審核 finds what 退款审核 finds)."""

from __future__ import annotations

import opencc

_t2s = opencc.OpenCC("tw2sp")  # Traditional (incl. Taiwan phrasing: 軟體 → 软件) → Simplified
_s2t = opencc.OpenCC("s2twp")  # Simplified → Traditional with Taiwan phrasing
_s2hk = opencc.OpenCC("s2hk")  # Simplified → Traditional as written in Hong Kong


def to_simplified(text: str) -> str:
    return _t2s.convert(text)


def script_variants(text: str) -> list[str]:
    """The text in Simplified and in Traditional (Taiwan, Hong Kong) writing, without duplicates: stored
    content may be in any of them."""
    simplified = to_simplified(text)
    variants = [text, simplified, _s2t.convert(simplified), _s2hk.convert(simplified)]
    return list(dict.fromkeys(v for v in variants if v))
