"""Numbers from query strings and form fields, read defensively: ``²``, ``1e9``, ``٣`` or a 30-digit id is
not a number we use (``str.isdigit`` says yes to the first and third, and the database refuses the last),
so it counts as absent, never as a 500."""

from __future__ import annotations

import re

_PLAIN_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits, below PostgreSQL's integer limit


def plain_int(value: object, default: int | None = None, *, minimum: int | None = None, maximum: int | None = None):
    """``value`` as an int if it is a plain decimal number (clamped to [minimum, maximum]), else ``default``."""
    text = str(value).strip() if value is not None else ""
    if not _PLAIN_NUMBER.fullmatch(text):
        return default
    number = int(text)
    if minimum is not None:
        number = max(number, minimum)
    if maximum is not None:
        number = min(number, maximum)
    return number


def is_plain_int(value: object) -> bool:
    return plain_int(value) is not None
