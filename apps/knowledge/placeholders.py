"""Placeholders in scripts: ``{customer_name}``. Anything else in braces is an error with its position."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class PlaceholderProblem:
    offset: int  # 0-based character offset
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return _("line %(line)s, column %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def find_placeholders(text: str) -> list[str]:
    return re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", text)


def check_placeholders(text: str, declared: list[str] | set[str]) -> list[PlaceholderProblem]:
    """Every ``{…}`` must be a declared name; stray, empty, nested or unclosed braces are reported."""
    declared = set(declared)
    problems: list[PlaceholderProblem] = []

    def report(offset: int, message: str) -> None:
        line, column = _position(text, offset)
        problems.append(PlaceholderProblem(offset, line, column, message))

    i = 0
    while i < len(text):
        char = text[i]
        if char == "}":
            report(i, _("“}” without a matching “{”."))
            i += 1
            continue
        if char != "{":
            i += 1
            continue
        end = i + 1
        while end < len(text) and text[end] not in "{}\n":
            end += 1
        if end >= len(text) or text[end] != "}":
            report(i, _("“{” is not closed by “}” on the same line."))
            i += 1
            continue
        name = text[i + 1 : end]
        if not name:
            report(i, _("Empty placeholder “{}”."))
        elif not _NAME.match(name):
            report(i, _("“{%(name)s}” is not a valid placeholder name (letters, digits and _ only).") % {"name": name})
        elif name not in declared:
            allowed = ", ".join(sorted(declared)) or _("none")
            report(
                i,
                _("“{%(name)s}” is not declared for this scenario (declared: %(allowed)s).")
                % {"name": name, "allowed": allowed},
            )
        i = end + 1
    return problems
