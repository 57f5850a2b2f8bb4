"""The dashboard colours a change by what is good for the metric, not by its sign."""

import pytest

from apps.insights.views import _trend


@pytest.mark.parametrize(
    ("metric", "change", "trend"),
    [
        ("frt", -12.0, "better"),  # faster first responses
        ("frt", 8.0, "worse"),
        ("sla_breach_rate", 3.0, "worse"),
        ("handoff_rate", -5.0, "better"),
        ("csat", 2.0, "better"),
        ("fcr", -1.0, "worse"),
        ("bot_answer_rate", 4.0, "better"),
        ("conversations", 40.0, "same"),  # more traffic is neither
        ("csat", None, "same"),
        ("aht", 0.01, "same"),
    ],
)
def test_a_change_reads_better_or_worse_by_the_metrics_direction(metric, change, trend):
    assert _trend(metric, change) == trend
