"""Labels for codes the workspace shows (risks, message roles) and durations, in the reader's language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

RISKS = {
    "fatal": _("fatal finding"),
    "severe": _("severe finding"),
    "rule": _("risk rule"),
    "low_csat": _("low CSAT"),
    "sla": _("SLA breach"),
    "bot_failures": _("bot failure streak"),
}
ROLES = {"customer": _("customer"), "agent": _("agent"), "bot": _("bot"), "system": _("system")}


@register.filter
def risk_label(code: str) -> str:
    return RISKS.get(code, code)


@register.filter
def role_label(code: str) -> str:
    return ROLES.get(code, code)


@register.filter
def duration(seconds: float | None) -> str:
    """17 s, 6 min 5 s, 2 h 3 min; "—" when unknown (never "— s")."""
    if seconds is None:
        return "—"
    total = round(float(seconds))
    if abs(total) < 60:
        return _("%(s)s s") % {"s": total}
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return _("%(m)s min %(s)s s") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}


@register.filter
def severity_label(code: str) -> str:
    from apps.qa.models import Severity

    return Severity(code).label if code in Severity.values else code


@register.filter
def finding_detail(detail: str) -> str:
    from apps.qa.rules.details import detail_label

    return detail_label(detail or "")


@register.filter
def revision_reason(reason: str) -> str:
    from apps.reviews.services import revision_reason_label

    return revision_reason_label(reason or "")


MODES = {"automatic": _("automatic"), "assisted": _("assisted"), "manual": _("manual")}


@register.filter
def mode_label(code: str) -> str:
    """The criterion's mode in a word (the full label explains it in the scorecard admin)."""
    return MODES.get(code, code)
