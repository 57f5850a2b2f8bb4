"""Answers are Markdown rendered to safe HTML; plain prose takes a fast path with the same result."""

import nh3
import pytest

from apps.core.markdown import _converter, render_markdown


@pytest.mark.parametrize(
    "text",
    [
        "亲，退款 1–3 个工作日原路退回哦～",
        "第一段\n第二行\n\n第二段",
        "您好，请提供订单号：20261104，我们马上核实。",
        "价格 a < b & c",
        "",
    ],
)
def test_plain_text_renders_exactly_as_markdown_would(text):
    assert render_markdown(text) == nh3.clean(_converter().reset().convert(text))


def test_markdown_structure_survives_and_scripts_do_not():
    html = render_markdown("1. 打开「我的」\n2. 点 **售后**\n\n<script>alert(1)</script>[x](javascript:alert(1))")
    assert "<ol>" in html and "<strong>售后</strong>" in html
    assert "<script" not in html and "javascript:" not in html
