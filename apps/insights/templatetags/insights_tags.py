"""Formatting dashboard figures: seconds, percentages, scores and counts."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def metric(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "score":
        return f"{value:.2f}"
    return f"{value:,.0f}"


@register.filter
def get(row: dict, key: str):
    return row.get(key)
