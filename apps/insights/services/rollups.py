"""Maintaining the daily rollups: the days whose conversations or bot questions changed since the last run
are rebuilt whole, set-wise (one DELETE and one INSERT … SELECT … GROUP BY per table). Running twice, or
after dying half-way, gives the same rows as running once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.insights.models import RollupState

STATE = "daily"
COMMIT_LAG = timedelta(minutes=10)  # a transaction that started before the last run may commit after it
DAYS_PER_TRANSACTION = 31
_LOCK = 0x4B4249  # "KBI": one rollup run at a time

_SERVICE_SUMS = """
    count(*),
    count(c.first_response_seconds), COALESCE(sum(c.first_response_seconds), 0),
    count(c.bot_first_response_seconds), COALESCE(sum(c.bot_first_response_seconds), 0),
    count(c.human_first_response_seconds), COALESCE(sum(c.human_first_response_seconds), 0),
    count(c.handle_seconds), COALESCE(sum(c.handle_seconds), 0),
    count(c.csat), COALESCE(sum(c.csat), 0),
    count(*) FILTER (WHERE c.customer_message_count > 0),
    count(*) FILTER (WHERE c.customer_message_count > 0 AND c.repeat_contact),
    count(*) FILTER (WHERE c.handoff),
    count(*) FILTER (WHERE c.bot_message_count > 0),
    count(c.sla_breached),
    count(*) FILTER (WHERE c.sla_breached)
"""
_SERVICE_COLUMNS = (
    "conversations, first_response_count, first_response_sum, bot_first_response_count, bot_first_response_sum, "
    "human_first_response_count, human_first_response_sum, handle_count, handle_sum, csat_count, csat_sum, "
    "fcr_count, repeat_contacts, handoffs, bot_involved, sla_judged, sla_breached"
)
_DAY = "(c.started_at AT TIME ZONE %(tz)s)::date"
_IN_DAYS = f"c.started_at >= %(lo)s AND c.started_at < %(hi)s AND {_DAY} = ANY(%(days)s)"


def _bounds(days: list[date]) -> dict:
    tz = timezone.get_default_timezone()
    lo = timezone.make_aware(datetime.combine(min(days), datetime.min.time()), tz)
    hi = timezone.make_aware(datetime.combine(max(days) + timedelta(days=1), datetime.min.time()), tz)
    return {"days": days, "lo": lo, "hi": hi, "tz": settings.TIME_ZONE}


def rollup_days_rebuild(days: Iterable[date]) -> int:
    """Rebuild these local days in all rollup tables; returns how many days."""
    days = sorted(set(days))
    for start in range(0, len(days), DAYS_PER_TRANSACTION):
        chunk = days[start : start + DAYS_PER_TRANSACTION]
        params = _bounds(chunk)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM insights_dailyservicestats WHERE day = ANY(%(days)s)", params)
            cursor.execute(
                f"""
                INSERT INTO insights_dailyservicestats (day, channel_id, team_id, product_id, {_SERVICE_COLUMNS})
                SELECT {_DAY}, c.channel_id, c.team_id, c.product_id, {_SERVICE_SUMS}
                FROM conversations_conversation c WHERE {_IN_DAYS}
                GROUP BY 1, 2, 3, 4
                """,
                params,
            )
            cursor.execute("DELETE FROM insights_dailyagentstats WHERE day = ANY(%(days)s)", params)
            cursor.execute(
                f"""
                INSERT INTO insights_dailyagentstats (day, agent_id, team_id, {_SERVICE_COLUMNS})
                SELECT {_DAY}, c.served_by_id, c.team_id, {_SERVICE_SUMS}
                FROM conversations_conversation c WHERE {_IN_DAYS} AND c.served_by_id IS NOT NULL
                GROUP BY 1, 2, 3
                """,
                params,
            )
            cursor.execute("DELETE FROM insights_dailyagentdetailstats WHERE day = ANY(%(days)s)", params)
            cursor.execute(
                f"""
                INSERT INTO insights_dailyagentdetailstats (day, agent_id, channel_id, team_id, product_id,
                                                            {_SERVICE_COLUMNS})
                SELECT {_DAY}, c.served_by_id, c.channel_id, c.team_id, c.product_id, {_SERVICE_SUMS}
                FROM conversations_conversation c WHERE {_IN_DAYS} AND c.served_by_id IS NOT NULL
                GROUP BY 1, 2, 3, 4, 5
                """,
                params,
            )
            cursor.execute("DELETE FROM insights_dailyanswerstats WHERE day = ANY(%(days)s)", params)
            cursor.execute(
                """
                INSERT INTO insights_dailyanswerstats
                    (day, product_id, channel, questions, answered, helpful, unhelpful)
                SELECT (q.created_at AT TIME ZONE %(tz)s)::date, q.product_id, q.channel, count(*),
                       count(*) FILTER (WHERE q.decision = 'answered'),
                       count(*) FILTER (WHERE q.helpful), count(*) FILTER (WHERE NOT q.helpful)
                FROM answers_answerquery q
                WHERE q.created_at >= %(lo)s AND q.created_at < %(hi)s
                  AND (q.created_at AT TIME ZONE %(tz)s)::date = ANY(%(days)s)
                GROUP BY 1, 2, 3
                """,
                params,
            )
    return len(days)


def changed_days(since: datetime) -> list[date]:
    """Local days with a conversation or a bot question (or its feedback) changed since ``since``."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (started_at AT TIME ZONE %(tz)s)::date FROM conversations_conversation
            WHERE updated_at >= %(since)s AND started_at IS NOT NULL
            UNION
            SELECT (created_at AT TIME ZONE %(tz)s)::date FROM answers_answerquery WHERE created_at >= %(since)s
            UNION
            SELECT (created_at AT TIME ZONE %(tz)s)::date FROM answers_answerquery WHERE feedback_at >= %(since)s
            """,
            {"since": since, "tz": settings.TIME_ZONE},
        )
        return sorted(day for (day,) in cursor.fetchall())


def all_days() -> list[date]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT (started_at AT TIME ZONE %(tz)s)::date FROM conversations_conversation
            WHERE started_at IS NOT NULL
            UNION SELECT DISTINCT (created_at AT TIME ZONE %(tz)s)::date FROM answers_answerquery
            """,
            {"tz": settings.TIME_ZONE},
        )
        return sorted(day for (day,) in cursor.fetchall())


def rollups_refresh_pending() -> int:
    """Rebuild the days that changed since the last run (all days on the first run); returns how many.
    One run at a time; the watermark moves only after every changed day is rebuilt."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK])
        if not cursor.fetchone()[0]:
            return 0
        try:
            cursor.execute("SELECT now()")
            started = cursor.fetchone()[0]
            state = RollupState.objects.filter(name=STATE).first()
            days = all_days() if state is None else changed_days(state.watermark - COMMIT_LAG)
            rebuilt = rollup_days_rebuild(days) if days else 0
            RollupState.objects.update_or_create(name=STATE, defaults={"watermark": started})
            return rebuilt
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK])
