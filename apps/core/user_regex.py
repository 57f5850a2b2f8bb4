"""Regular expressions that people type (QA rules, personal-data patterns), run on RE2 (``google-re2``).

RE2 matches in time linear in the text, whatever the pattern: a pattern such as ``(a+)+$`` cannot stall a
worker on a long message, as it would with Python's backtracking ``re``. The price is that RE2 has no
backreferences (``\\1``, ``(?P=name)``) and no lookaround (``(?=…)``, ``(?<!…)``); a pattern using them is
refused when it is saved, with the reason. Patterns are compiled with bounded memory.
"""

from __future__ import annotations

from typing import Any

import re2
from django.utils.translation import gettext as _

MAX_PATTERN_LENGTH = 2000
_MAX_MEMORY_BYTES = 8 << 20


class UserRegexError(ValueError):
    """The pattern cannot be used; ``str(error)`` says why, in the reader's language."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the reason is returned to the person who typed the pattern, not logged
    options.max_mem = _MAX_MEMORY_BYTES
    return options


def compile_user_regex(pattern: str) -> Any:
    """The compiled pattern (``search``/``finditer``/``fullmatch`` as with ``re``), or :class:`UserRegexError`."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UserRegexError(_("Longer than %(n)s characters.") % {"n": MAX_PATTERN_LENGTH})
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UserRegexError(
            _(
                "Not a valid regular expression for the linear-time engine (RE2): %(reason)s. "
                "Backreferences and lookaround are not supported."
            )
            % {"reason": reason}
        ) from exc
