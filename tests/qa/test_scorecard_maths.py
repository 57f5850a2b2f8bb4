"""Scorecard maths: points on 0–100, N/A out of the denominator, deductions, bonuses, fatal criteria."""

from decimal import Decimal

import pytest

from apps.qa.scorecard_maths import FAIL, NA, PASS, InvalidOutcome, Line, outcome_from_rule, score

pytestmark = pytest.mark.django_db

D = Decimal
GREETING = Line(1, "standard", D(20))
SOLUTION = Line(2, "standard", D(60))
CLOSING = Line(3, "standard", D(20))
RUDE = Line(4, "deduction", D(15))
EMPATHY = Line(5, "bonus", D(10))
LEAK = Line(6, "standard", D(10), fatal=True)


def test_passed_standard_criteria_earn_their_share_of_100():
    assert score([GREETING, SOLUTION, CLOSING], {1: PASS, 2: PASS, 3: FAIL}).score == D("80.00")


def test_na_leaves_the_denominator():
    # Closing N/A: 80 points possible, 20 + 60 earned.
    assert score([GREETING, SOLUTION, CLOSING], {1: PASS, 2: PASS, 3: NA}).score == D("100.00")
    assert score([GREETING, SOLUTION, CLOSING], {1: FAIL, 2: PASS, 3: NA}).score == D("75.00")


def test_deductions_and_bonuses_are_points_on_the_scale_clamped_to_0_100():
    lines = [GREETING, SOLUTION, CLOSING, RUDE, EMPATHY]
    assert score(lines, {1: PASS, 2: PASS, 3: FAIL, 4: FAIL, 5: FAIL}).score == D("65.00")
    assert score(lines, {1: PASS, 2: PASS, 3: PASS, 4: PASS, 5: PASS}).score == D("100.00")  # capped
    assert score(lines, {1: FAIL, 2: FAIL, 3: FAIL, 4: FAIL, 5: FAIL}).score == D("0.00")  # floored


def test_a_failed_fatal_criterion_zeroes_the_score():
    result = score([GREETING, SOLUTION, LEAK, EMPATHY], {1: PASS, 2: PASS, 6: FAIL, 5: PASS})
    assert result.score == D("0.00") and result.fatal


def test_nothing_applicable_scores_100_and_bad_outcomes_are_refused():
    assert score([GREETING], {1: NA}).score == D("100.00")
    with pytest.raises(InvalidOutcome):
        score([GREETING], {1: "maybe"})


def test_a_firing_rule_fails_a_criterion_but_earns_a_bonus():
    assert outcome_from_rule("standard", fired=True) == FAIL
    assert outcome_from_rule("deduction", fired=False) == PASS
    assert outcome_from_rule("bonus", fired=True) == PASS
