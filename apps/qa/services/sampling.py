"""Sampling plans (抽检): which conversations of a period people review, chosen in one SQL statement.

Per agent (and per channel / team / product when the plan stratifies), a random share of the period's
conversations, at least ``min_per_agent`` and at most ``max_per_agent`` (never more than there are);
agents new within ``new_agent_days`` (counted from their first conversation) get
``new_agent_rate_percent`` instead. Every risky conversation is
taken on top of the quota: a fatal or severe finding, a rule that marks risk (negative emotion,
complaint words …), CSAT at or under ``low_csat``, an SLA breach, a bot failure streak. Excluded: the
conversations already queued for the scorecard version, and those under ``min_messages``.

Reproducible: the order within each agent's conversations is a hash of the conversation id seeded by
the run (the seed is derived from the plan and period, and stored). Idempotent per (plan, period): the
run and its tasks are written in one transaction, and a period already run adds nothing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import Conflict
from apps.qa.models import SamplingPlan, SamplingRun, ScorecardVersion
from apps.qa.services.assignment import tasks_assign

_STRATA = {"channel": "c.channel_id", "team": "c.team_id", "product": "c.product_id"}


class SamplingError(Conflict):
    """The plan cannot be sampled as it stands (its scorecard has no published version)."""


@dataclass(frozen=True)
class RunResult:
    run: SamplingRun
    created: bool
    sampled: int
    risky: int


def period_bounds(plan: SamplingPlan, moment: datetime) -> tuple[datetime, datetime]:
    """The plan's period holding ``moment``, in the current time zone: a day, or a week from Monday."""
    local = timezone.localtime(moment).replace(hour=0, minute=0, second=0, microsecond=0)
    if plan.period == SamplingPlan.Period.WEEK:
        local -= timedelta(days=local.weekday())
        return local, local + timedelta(days=7)
    return local, local + timedelta(days=1)


def run_seed(plan: SamplingPlan, period_start: datetime) -> int:
    return zlib.crc32(f"{plan.pk}:{period_start.isoformat()}".encode())


_SQL = """
WITH period AS (
    SELECT c.id, c.served_by_id AS agent_id, {strata_columns} c.csat, c.sla_breached, c.bot_failure_streak
    FROM conversations_conversation c
    WHERE c.started_at >= %(start)s AND c.started_at < %(end)s
      AND c.served_by_id IS NOT NULL
      AND c.message_count >= %(min_messages)s
      {filters}
      AND NOT EXISTS (SELECT 1 FROM qa_reviewtask t WHERE t.conversation_id = c.id AND t.version_id = %(version)s)
), agents AS (
    -- An agent is new from their first conversation (or from when the system first saw them, if earlier
    -- conversations were never imported): one index lookup per agent of the period.
    SELECT p.agent_id, %(new_days)s > 0 AND LEAST(a.created_at, (
               SELECT min(f.started_at) FROM conversations_conversation f WHERE f.served_by_id = p.agent_id
           )) > %(start)s - %(new_days)s * interval '1 day' AS new_agent
    FROM (SELECT DISTINCT agent_id FROM period) p
    JOIN conversations_agent a ON a.id = p.agent_id
), base AS (
    SELECT c.id, c.agent_id, {strata_base} g.new_agent,
           array_remove(ARRAY[
               CASE WHEN s.fatal THEN 'fatal' END,
               CASE WHEN s.worst_severity IN ('major', 'critical') THEN 'severe' END,
               CASE WHEN s.risky THEN 'rule' END,
               CASE WHEN c.csat <= %(low_csat)s THEN 'low_csat' END,
               CASE WHEN c.sla_breached THEN 'sla' END,
               CASE WHEN c.bot_failure_streak >= %(streak)s THEN 'bot_failures' END
           ], NULL) AS risks
    FROM period c
    JOIN agents g ON g.agent_id = c.agent_id
    LEFT JOIN qa_autoscore s ON s.conversation_id = c.id AND s.version_id = %(version)s
), ranked AS (
    SELECT b.id, b.new_agent,
           row_number() OVER per_agent AS rank,
           count(*) OVER (PARTITION BY {partition}) AS total
    FROM base b
    WHERE cardinality(b.risks) = 0 OR NOT %(include_risky)s
    WINDOW per_agent AS (PARTITION BY {partition} ORDER BY hashint8extended(b.id, %(seed)s), b.id)
), chosen AS (
    SELECT id, CASE WHEN new_agent THEN 'new_agent' ELSE 'random' END AS reason, ARRAY[]::text[] AS risks
    FROM ranked
    WHERE rank <= LEAST(total, %(max)s, GREATEST(%(min)s, ceil(total * CASE WHEN new_agent THEN %(new_rate)s
                                                                            ELSE %(rate)s END / 100.0)))
    UNION ALL
    SELECT id, 'risk', risks FROM base WHERE %(include_risky)s AND cardinality(risks) > 0
)
INSERT INTO qa_reviewtask (conversation_id, version_id, run_id, reason, risks, state, due_at, skip_reason,
                           created_at, updated_at)
SELECT id, %(version)s, %(run)s, reason, risks, 'pending', %(due)s, '', now(), now() FROM chosen
ON CONFLICT (conversation_id, version_id) DO NOTHING
RETURNING id, reason
"""


def sampling_run(plan: SamplingPlan, period_start: datetime) -> RunResult:
    """Sample the plan's period starting at ``period_start`` and queue (and assign) the review tasks."""
    version = ScorecardVersion.objects.filter(
        scorecard=plan.scorecard_id, status=ScorecardVersion.Status.PUBLISHED
    ).first()
    if version is None:
        raise SamplingError(_("The plan's scorecard has no published version."))
    start, end = period_bounds(plan, period_start)
    existing = SamplingRun.objects.filter(plan=plan, period_start=start).first()
    if existing is not None:
        return RunResult(existing, False, 0, 0)
    seed = run_seed(plan, start)
    try:
        with transaction.atomic():
            run = SamplingRun.objects.create(plan=plan, period_start=start, period_end=end, seed=seed)
            rows = _sample(plan, version, run, start, end, seed)
            run.sampled = len(rows)
            run.risky = sum(1 for _pk, reason in rows if reason == "risk")
            run.save(update_fields=["sampled", "risky"])
            tasks_assign(plan, [pk for pk, _reason in rows])
    except IntegrityError:  # another worker ran the same period at the same moment: theirs stands
        return RunResult(SamplingRun.objects.get(plan=plan, period_start=start), False, 0, 0)
    return RunResult(run, True, run.sampled, run.risky)


def _sample(plan, version, run, start, end, seed) -> list[tuple[int, str]]:
    strata = [s for s in plan.strata if s in _STRATA]
    filters, params = [], {}
    channel_ids = list(plan.channels.values_list("id", flat=True))
    team_ids = list(plan.teams.values_list("id", flat=True))
    if channel_ids:
        filters.append("AND c.channel_id = ANY(%(channels)s)")
        params["channels"] = channel_ids
    if team_ids:
        filters.append("AND c.team_id = ANY(%(teams)s)")
        params["teams"] = team_ids
    sql = _SQL.format(
        strata_columns="".join(f"{_STRATA[s]} AS {s}_id, " for s in strata),
        strata_base="".join(f"c.{s}_id, " for s in strata),
        filters="\n      ".join(filters),
        partition=", ".join(["b.agent_id", *(f"b.{s}_id" for s in strata)]),
    )
    params.update(
        start=start,
        end=end,
        new_days=plan.new_agent_days,
        low_csat=plan.low_csat,
        streak=plan.failure_streak,
        version=version.pk,
        min_messages=plan.min_messages,
        include_risky=plan.include_risky,
        seed=seed,
        max=plan.max_per_agent,
        min=plan.min_per_agent,
        rate=plan.rate_percent,
        new_rate=plan.new_agent_rate_percent,
        run=run.pk,
        due=timezone.now() + timedelta(days=plan.due_days),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def sampling_plans_run_due(now: datetime | None = None) -> list[RunResult]:
    """Sample every active plan's last finished period that has not been sampled (a beat task calls
    this; running it again does nothing)."""
    now = now or timezone.now()
    results = []
    for plan in SamplingPlan.objects.filter(is_active=True):
        start, _end = period_bounds(plan, now)
        previous_start, _previous_end = period_bounds(plan, start - timedelta(seconds=1))
        try:
            results.append(sampling_run(plan, previous_start))
        except SamplingError:
            continue
    return results
