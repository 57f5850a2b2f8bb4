"""What a finding says, stored once in a fixed (English, code-like) form and shown in the reader's language.

The engine writes details with the functions below; ``detail_label`` reads them back for display, so a
reviewer working in Chinese never sees "missing phrase" or "human_first_response 85 s > 60 s".
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MISSING_PHRASE = "missing phrase"
SLA_BREACHED = "SLA breached"

METRIC_LABELS = {
    "first_response": gettext_lazy("first response"),
    "bot_first_response": gettext_lazy("bot first response"),
    "human_first_response": gettext_lazy("human first response"),
    "avg_reply_gap": gettext_lazy("average reply gap"),
    "max_reply_gap": gettext_lazy("longest reply gap"),
    "handle_time": gettext_lazy("handle time"),
}

_TIMING = re.compile(r"^(?P<metric>\w+) (?P<value>-?\d+) s > (?P<limit>-?\d+) s$")
_SCRIPT = re.compile(r"^closest script (?P<similarity>[\d.]+) < (?P<minimum>[\d.]+)$")
_STREAK = re.compile(r"^bot failure streak (?P<n>\d+)$")


def timing_detail(metric: str, value: float, limit: float) -> str:
    return f"{metric} {value:.0f} s > {limit:.0f} s"


def script_detail(similarity: float, minimum: float) -> str:
    return f"closest script {similarity:.2f} < {minimum:.2f}"


def streak_detail(streak: int) -> str:
    return f"bot failure streak {streak}"


def detail_label(detail: str) -> str:
    """A stored detail in the reader's language (anything else, such as ``field = value``, as stored)."""
    if detail == MISSING_PHRASE:
        return _("a required phrase is missing")
    if detail == SLA_BREACHED:
        return _("SLA breached")
    if match := _TIMING.match(detail):
        metric = match["metric"]
        return _("%(metric)s %(value)s s, over the %(limit)s s allowed") % {
            "metric": METRIC_LABELS.get(metric, metric),
            "value": match["value"],
            "limit": match["limit"],
        }
    if match := _SCRIPT.match(detail):
        return _("closest script phrase %(similarity)s alike, below %(minimum)s") % {
            "similarity": match["similarity"],
            "minimum": match["minimum"],
        }
    if match := _STREAK.match(detail):
        return _("the bot failed %(n)s times in a row") % {"n": match["n"]}
    return detail
