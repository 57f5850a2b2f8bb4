"""Dashboard reads: every figure is a sum over sums of the daily rollups, for any date range, filter and
grouping, so each query reads a few thousand rollup rows at most, never the conversations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from django.db import connection
from django.utils.translation import gettext_lazy as _

from apps.accounts import roles
from apps.catalog.models import Product
from apps.conversations.models import Agent, Channel, Team

# metric → (label, SQL numerator, SQL denominator, unit)
METRICS: dict[str, tuple] = {
    "conversations": (_("conversations"), "sum(conversations)", None, "count"),
    "frt": (_("first response"), "sum(first_response_sum)", "sum(first_response_count)", "s"),
    "bot_frt": (_("bot first response"), "sum(bot_first_response_sum)", "sum(bot_first_response_count)", "s"),
    "human_frt": (_("human first response"), "sum(human_first_response_sum)", "sum(human_first_response_count)", "s"),
    "aht": (_("handle time (AHT)"), "sum(handle_sum)", "sum(handle_count)", "s"),
    "fcr": (_("first-contact resolution"), "sum(fcr_count) - sum(repeat_contacts)", "sum(fcr_count)", "%"),
    "csat": (_("CSAT"), "sum(csat_sum)", "sum(csat_count)", "score"),
    "handoff_rate": (_("handoff rate"), "sum(handoffs)", "sum(bot_involved)", "%"),
    "sla_breach_rate": (_("SLA breach rate"), "sum(sla_breached)", "sum(sla_judged)", "%"),
}
BOT_METRICS: dict[str, tuple] = {
    "bot_answer_rate": (_("bot answer rate"), "sum(answered)", "sum(questions)", "%"),
    "helpful_rate": (_("helpful rate"), "sum(helpful)", "sum(helpful) + sum(unhelpful)", "%"),
}
# By agent, "handoff rate" would read 100 % for every human (a bot-involved conversation an agent served
# was handed off by definition) and 0 % for every bot (a handed-off conversation is served by the human).
# The agent table shows instead what share of each agent's conversations came from a bot's handoff.
AGENT_METRICS: dict[str, tuple] = {
    **{key: value for key, value in METRICS.items() if key != "handoff_rate"},
    "from_bot_rate": (_("received from a bot"), "sum(handoffs)", "sum(conversations)", "%"),
}


def metrics_for(by: str | None) -> dict[str, tuple]:
    """The columns of a breakdown: by agent, the handoff rate is replaced by "received from a bot"."""
    return AGENT_METRICS if by == "agent" else METRICS


DIMENSIONS = {
    "channel": ("channel_id", "conversations_channel", "name"),
    "team": ("team_id", "conversations_team", "name"),
    "product": ("product_id", "catalog_product", "name"),
    "agent": ("agent_id", "conversations_agent", "COALESCE(NULLIF(name, ''), code)"),
}


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    channel: int | None = None
    team: int | None = None
    product: int | None = None
    agent: int | None = None
    teams: tuple[int, ...] | None = None  # the teams the viewer may see (a lead's); None: all

    def previous(self) -> Filters:
        length = (self.end - self.start).days + 1
        return replace(self, start=self.start - timedelta(days=length), end=self.start - timedelta(days=1))


def teams_visible_to(user) -> tuple[int, ...] | None:
    """The teams whose figures this person reads: a lead's own teams; administrators every team (None)."""
    if roles.is_administrator(user):
        return None
    return tuple(Team.objects.filter(leads=user).values_list("pk", flat=True))


def filter_choices(filters: Filters) -> dict:
    """What the dashboard's filters offer: ``channels``, ``teams`` (those the viewer reads), ``products``, and
    ``agent`` (the one chosen, or None). Querysets, read when the page shows them."""
    return {
        "channels": Channel.objects.only("id", "name"),
        "teams": Team.objects.only("id", "name").filter(**({} if filters.teams is None else {"pk__in": filters.teams})),
        "products": Product.objects.only("id", "name"),
        "agent": Agent.objects.filter(pk=filters.agent).first() if filters.agent else None,
    }


def _where(filters: Filters, *, agent_table: bool) -> tuple[str, dict]:
    clauses = ["day >= %(start)s", "day <= %(end)s"]
    params: dict = {"start": filters.start, "end": filters.end}
    for name in ("channel", "team", "product"):
        value = getattr(filters, name)
        if value is not None:
            clauses.append(f"{name}_id = %({name})s")
            params[name] = value
    if filters.agent is not None:
        clauses.append("agent_id = %(agent)s")
        params["agent"] = filters.agent
    if filters.teams is not None:
        clauses.append("team_id = ANY(%(teams)s)")
        params["teams"] = list(filters.teams)
    return " AND ".join(clauses), params


def _table(filters: Filters, by: str | None = None) -> str:
    """The smallest rollup that has every column the query filters or groups on."""
    agent = filters.agent is not None or by == "agent"
    if not agent:
        return "insights_dailyservicestats"
    if filters.channel is not None or filters.product is not None or by in ("channel", "product"):
        return "insights_dailyagentdetailstats"
    return "insights_dailyagentstats"


def _ratio(numerator: str, denominator: str | None, unit: str) -> str:
    if denominator is None:
        return f"COALESCE({numerator}, 0)::float8"
    scale = "100.0 * " if unit == "%" else ""
    return f"{scale}({numerator})::float8 / NULLIF({denominator}, 0)"


def _select(metrics: dict[str, tuple] = METRICS) -> str:
    return ", ".join(f"{_ratio(num, den, unit)} AS {key}" for key, (_l, num, den, unit) in metrics.items())


def summary(filters: Filters) -> dict[str, float | None]:
    where, params = _where(filters, agent_table=filters.agent is not None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_select()} FROM {_table(filters)} WHERE {where}", params)
        row = cursor.fetchone()
        values = dict(zip(METRICS, row, strict=True))
        values.update(_bot_summary(cursor, filters))
    return values


def _bot_where(filters: Filters) -> tuple[str, dict]:
    clauses = ["day >= %(start)s", "day <= %(end)s"]
    params: dict = {"start": filters.start, "end": filters.end}
    if filters.product is not None:
        clauses.append("product_id = %(product)s")
        params["product"] = filters.product
    if filters.channel is not None:
        clauses.append("channel = (SELECT code FROM conversations_channel WHERE id = %(channel)s)")
        params["channel"] = filters.channel
    return " AND ".join(clauses), params


def _bot_summary(cursor, filters: Filters) -> dict[str, float | None]:
    where, params = _bot_where(filters)
    select = ", ".join(f"{_ratio(num, den, unit)} AS {key}" for key, (_l, num, den, unit) in BOT_METRICS.items())
    cursor.execute(f"SELECT {select} FROM insights_dailyanswerstats WHERE {where}", params)
    return dict(zip(BOT_METRICS, cursor.fetchone(), strict=True))


def series(filters: Filters, grain: str = "day") -> list[dict]:
    """Every metric per day or week (weeks from Monday)."""
    bucket = "date_trunc('week', day)::date" if grain == "week" else "day"
    where, params = _where(filters, agent_table=filters.agent is not None)
    bot_where, bot_params = _bot_where(filters)
    bot_select = ", ".join(f"{_ratio(n, d, u)} AS {k}" for k, (_l, n, d, u) in BOT_METRICS.items())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.bucket, {", ".join(f"s.{k}" for k in METRICS)}, {", ".join(f"b.{k}" for k in BOT_METRICS)}
            FROM (SELECT {bucket} AS bucket, {_select()} FROM {_table(filters)} WHERE {where} GROUP BY 1) s
            LEFT JOIN (SELECT {bucket} AS bucket, {bot_select} FROM insights_dailyanswerstats WHERE {bot_where}
                       GROUP BY 1) b ON b.bucket = s.bucket
            ORDER BY 1
            """,
            {**params, **bot_params},
        )
        keys = ["bucket", *METRICS, *BOT_METRICS]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def breakdown(filters: Filters, by: str, *, limit: int = 200) -> list[dict]:
    """Every metric per channel, team, product or agent, the busiest first."""
    column, table, label = DIMENSIONS[by]
    metrics = metrics_for(by)
    where, params = _where(filters, agent_table=by == "agent")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.{column}, (SELECT {label} FROM {table} WHERE id = r.{column}), {_select(metrics)}
            FROM {_table(filters, by)} r WHERE {where}
            GROUP BY r.{column} ORDER BY conversations DESC NULLS LAST LIMIT %(limit)s
            """,
            {**params, "limit": limit},
        )
        keys = ["id", "name", *metrics]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
