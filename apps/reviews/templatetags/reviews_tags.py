"""Labels for codes the workspace shows: risks and message roles, in the reader's language."""

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
