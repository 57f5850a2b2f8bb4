"""How a scorecard turns criterion outcomes into a score on 0–100. The same maths for machine scores and
reviewers' scores.

Each criterion has an outcome: ``pass``, ``fail`` or ``na`` (not applicable; only where the criterion
allows it).

- **standard** criteria share the base: ``base = 100 × points earned ÷ points possible``, where a pass
  earns the criterion's points, a fail earns none, and N/A leaves the criterion out of both (so N/A never
  lowers nor raises a score). No applicable standard criterion: the base is 100.
- **deduction** criteria take their points off the base when failed.
- **bonus** criteria add their points when passed (met).
- The result is clamped to 0–100.
- **fatal** (一票否决): any fatal criterion failed makes the score 0, whatever else.

For rule-linked criteria: a standard or deduction criterion fails when its rule fires; a bonus is met
when its rule fires.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from apps.core.errors import ValidationFailed

PASS, FAIL, NA = "pass", "fail", "na"
OUTCOMES = (PASS, FAIL, NA)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Line:
    """A criterion as scoring sees it."""

    id: int
    kind: str  # standard | deduction | bonus
    points: Decimal
    fatal: bool = False
    allow_na: bool = True


@dataclass(frozen=True, slots=True)
class Score:
    score: Decimal
    fatal: bool
    earned: Decimal
    possible: Decimal
    deducted: Decimal
    bonus: Decimal


class InvalidOutcome(ValidationFailed):
    """An outcome that is not pass, fail or N/A."""


def outcome_from_rule(kind: str, fired: bool) -> str:
    if kind == "bonus":
        return PASS if fired else FAIL
    return FAIL if fired else PASS


def score(lines: Iterable[Line], outcomes: dict[int, str]) -> Score:
    """The score of these criteria with these outcomes (criterion id → pass / fail / na; a missing
    outcome counts as N/A)."""
    earned = possible = deducted = bonus = Decimal(0)
    fatal = False
    for line in lines:
        outcome = outcomes.get(line.id, NA)
        if outcome not in OUTCOMES:
            raise InvalidOutcome(
                _("Criterion %(id)s: %(outcome)s is not one of %(outcomes)s.")
                % {"id": line.id, "outcome": repr(outcome), "outcomes": ", ".join(OUTCOMES)}
            )
        if outcome == NA:
            continue
        if line.fatal and outcome == FAIL:
            fatal = True
        if line.kind == "standard":
            possible += line.points
            earned += line.points if outcome == PASS else 0
        elif line.kind == "deduction" and outcome == FAIL:
            deducted += line.points
        elif line.kind == "bonus" and outcome == PASS:
            bonus += line.points
    base = HUNDRED * earned / possible if possible else HUNDRED
    value = Decimal(0) if fatal else min(HUNDRED, max(Decimal(0), base - deducted + bonus))
    return Score(value.quantize(Decimal("0.01"), ROUND_HALF_UP), fatal, earned, possible, deducted, bonus)
