"""Findings' details are stored in one fixed form and read in the reviewer's language."""

import pytest
from django.utils import translation

from apps.qa.rules.details import (
    MISSING_PHRASE,
    SLA_BREACHED,
    detail_label,
    script_detail,
    streak_detail,
    timing_detail,
)


@pytest.mark.parametrize(
    ("stored", "chinese"),
    [
        (MISSING_PHRASE, "缺少必需的话术"),
        (SLA_BREACHED, "SLA 超时"),
        (timing_detail("human_first_response", 85.4, 60), "人工首次响应 85 秒，超过允许的 60 秒"),
        (script_detail(0.6234, 0.7), "与最接近的标准话术相似度 0.62，低于 0.70"),
        (streak_detail(3), "机器人连续 3 次未能解答"),
        ("csat = 1", "csat = 1"),  # a metadata condition's detail is shown as it is
    ],
)
def test_each_stored_detail_reads_in_chinese(stored, chinese):
    with translation.override("zh-hans"):
        assert detail_label(stored) == chinese
