"""Insights pages (/insights/): the service dashboard and knowledge health. Thin views over selectors;
every table exports to CSV (``?export=name``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.accounts import roles
from apps.core.csv_export import csv_response
from apps.core.params import plain_int
from apps.insights import knowledge_health
from apps.insights.selectors import (
    BOT_METRICS,
    DIMENSIONS,
    METRICS,
    Filters,
    breakdown,
    filter_choices,
    metrics_for,
    series,
    summary,
    teams_visible_to,
)


def allowed(may_open: Callable[[Any], bool]):
    """The door of an insights page: signed in, and ``may_open`` (an ``accounts.roles`` predicate, the same
    one its link in the portal menu asks)."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not may_open(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


# Which way is better: response times, handle time, handoffs and SLA breaches should go down; the rest up.
LOWER_IS_BETTER = {"frt", "bot_frt", "human_frt", "aht", "handoff_rate", "sla_breach_rate"}
NEUTRAL = {"conversations"}  # more conversations is neither good nor bad


def _trend(key: str, change: float | None) -> str:
    """``better``, ``worse`` or ``same``: how a change reads, by the metric's direction (for its colour)."""
    if change is None or abs(change) < 0.05 or key in NEUTRAL:
        return "same"
    return "better" if (change < 0) == (key in LOWER_IS_BETTER) else "worse"


def _date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _int(value: str | None) -> int | None:
    return plain_int(value)


def _filters(request: HttpRequest) -> Filters:
    today = timezone.localdate()
    end = _date(request.GET.get("end"), today)
    start = _date(request.GET.get("start"), end - timedelta(days=27))
    if start > end:
        start, end = end, start
    start = max(start, end - timedelta(days=731))  # at most two years at a time
    return Filters(
        start=start,
        end=end,
        channel=_int(request.GET.get("channel")),
        team=_int(request.GET.get("team")),
        product=_int(request.GET.get("product")),
        agent=_int(request.GET.get("agent")),
        teams=teams_visible_to(request.user),
    )


def _drill(filters: Filters, by: str, pk) -> str:
    """The admin's conversation list for one row of a breakdown, in the same date range."""
    tz = timezone.get_current_timezone()
    params = {
        "started_at__gte": timezone.make_aware(
            timezone.datetime.combine(filters.start, timezone.datetime.min.time()), tz
        ).isoformat(),
        "started_at__lt": timezone.make_aware(
            timezone.datetime.combine(filters.end + timedelta(days=1), timezone.datetime.min.time()), tz
        ).isoformat(),
    }
    for name in ("channel", "team", "product"):
        value = pk if by == name else getattr(filters, name)
        if value is not None:
            params[f"{name}__id__exact"] = value
    agent = pk if by == "agent" else filters.agent
    if agent is not None:
        params["agent"] = agent
    return reverse("admin:conversations_conversation_changelist") + "?" + urlencode(params)


@require_GET
@allowed(roles.is_qa_lead)
def dashboard(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    grain = "week" if request.GET.get("grain") == "week" else "day"
    labels = {k: v[0] for k, v in {**METRICS, **BOT_METRICS}.items()}
    units = {k: v[3] for k, v in {**METRICS, **BOT_METRICS}.items()}
    export = request.GET.get("export")
    if export:
        if export == "series":
            rows = series(filters, grain)
            return csv_response(
                "insights-series.csv", ["bucket", *labels], [[r["bucket"], *(r[k] for k in labels)] for r in rows]
            )
        if export in DIMENSIONS:
            rows = breakdown(filters, export)
            columns = metrics_for(export)
            return csv_response(
                f"insights-{export}.csv",
                ["id", "name", *columns],
                [[r["id"], r["name"], *(r[k] for k in columns)] for r in rows],
            )
        raise Http404
    now, before = summary(filters), summary(filters.previous())
    cards = []
    for key, label in labels.items():
        value, previous = now.get(key), before.get(key)
        change = None if value is None or previous in (None, 0) else 100.0 * (value - previous) / previous
        cards.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "previous": previous,
                "change": change,
                "unit": units[key],
                "trend": _trend(key, change),
            }
        )
    breakdowns = []
    for by, title in (
        ("channel", _("By channel")),
        ("team", _("By team")),
        ("product", _("By product")),
        ("agent", _("By agent")),
    ):
        rows = breakdown(filters, by, limit=50)
        for row in rows:
            row["drill"] = _drill(filters, by, row["id"])
        columns = metrics_for(by)
        breakdowns.append(
            {
                "by": by,
                "title": title,
                "rows": rows,
                "columns": [(k, columns[k][3]) for k in columns],
                "labels": [str(columns[k][0]) for k in columns],
            }
        )
    points = series(filters, grain)
    query = request.GET.copy()
    return render(
        request,
        "insights/dashboard.html",
        {
            "filters": filters,
            "grain": grain,
            "cards": cards,
            "has_data": bool(now.get("conversations")),
            "breakdowns": breakdowns,
            "chart": {
                "labels": [p["bucket"].isoformat() for p in points],
                "series": {k: [p[k] for p in points] for k in labels},
                "names": {k: str(v) for k, v in labels.items()},
            },
            **filter_choices(filters),
            "query": query.urlencode(),
        },
    )


@require_GET
@allowed(roles.may_read_knowledge_health)
def knowledge(request: HttpRequest) -> HttpResponse:
    health = knowledge_health.product_health()
    helpful = knowledge_health.least_helpful()
    unused = knowledge_health.unused_articles()
    gaps = knowledge_health.unanswered_topics()
    releases = knowledge_health.release_effects()
    export = request.GET.get("export")
    tables = {
        "products": (
            [
                "product",
                "stale articles",
                "stale scripts",
                "oldest stale (days)",
                "overdue articles",
                "overdue scripts",
                "oldest overdue (days)",
                "unused articles (30 days)",
            ],
            [
                [
                    h.product.name,
                    h.stale_articles,
                    h.stale_scripts,
                    h.oldest_stale_days,
                    h.overdue_articles,
                    h.overdue_scripts,
                    h.oldest_overdue_days,
                    h.unused_articles,
                ]
                for h in health
            ],
        ),
        "helpful": (
            ["article", "product", "helpful", "unhelpful", "helpful %"],
            [[r["external_id"], r["product"], r["helpful"], r["unhelpful"], round(r["rate"], 1)] for r in helpful],
        ),
        "unused": (["article", "product"], [[r["external_id"], r["product"]] for r in unused]),
        "gaps": (["question", "asked", "product"], [[r["question"], r["count"], r["product"]] for r in gaps]),
        "releases": (
            ["product", "version", "released", "flagged", "fixed", "open"],
            [[r["product"], r["version"], r["released_at"], r["flagged"], r["fixed"], r["open"]] for r in releases],
        ),
    }
    if export:
        if export not in tables:
            raise Http404
        header, rows = tables[export]
        return csv_response(f"knowledge-{export}.csv", header, rows)
    return render(
        request,
        "insights/knowledge.html",
        {"health": health, "helpful": helpful, "unused": unused, "gaps": gaps, "releases": releases},
    )
