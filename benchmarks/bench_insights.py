"""Dashboard queries over a year of 1,000,000 conversations.

The conversations are generated in SQL (a year, 5 channels, 4 teams, 3 products, 400 agents, realistic
metric spreads); the rollups are built by the Celery task itself (``insights.rollup_pending``, applied here),
timed; then every query the dashboard page makes is timed (median of 5) for a month, a quarter and the
whole year, unfiltered and filtered. Target: every chart under 300 ms.

    cd benchmarks && ../.venv/bin/python bench_insights.py [conversations]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, timedelta

from common import report, setup_django
from django.utils import timezone

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


def build(count: int) -> float:
    from django.db import connection

    from apps.catalog.models import Product
    from apps.conversations.models import Team

    for slug in ("mall-app", "wallet-app", "travel-app"):
        Product.objects.get_or_create(slug=slug, defaults={"name": slug})
    for name in ("售后一组", "售后二组", "售前组", "金融组"):
        Team.objects.get_or_create(name=name)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE insights_dailyservicestats, insights_dailyagentstats, insights_dailyagentdetailstats, "
            "insights_dailyanswerstats, "
            "insights_rollupstate, qa_finding, qa_autoscore, qa_reviewtask, reviews_review CASCADE"
        )
        cursor.execute(
            "TRUNCATE conversations_message, conversations_conversation, conversations_customer, "
            "conversations_agent RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            "INSERT INTO conversations_agent (code, name, kind, created_at) "
            "SELECT 'agent-' || n, '坐席' || n, 'human', now() - interval '2 years' FROM generate_series(1, 400) n"
        )
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM conversations_channel")
        channels = cursor.fetchone()[0]
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM conversations_team")
        teams = cursor.fetchone()[0]
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM catalog_product")
        products = cursor.fetchone()[0]
        started = time.perf_counter()
        # An agent works in one team and mostly one channel (one conversation in ten on another); products vary.
        cursor.execute(
            """
            INSERT INTO conversations_conversation (
                channel_id, external_id, team_id, product_id, served_by_id, started_at, ended_at, received_at,
                updated_at, tags, resolution, message_count, customer_message_count, agent_message_count,
                bot_message_count, first_response_seconds, bot_first_response_seconds, human_first_response_seconds,
                handle_seconds, handoff, bot_failure_streak, repeat_contact, masked_count, csat, sla_breached)
            SELECT (%(channels)s::bigint[])[1 + (agent + CASE WHEN n %% 10 = 0 THEN 1 ELSE 0 END)
                                                %% cardinality(%(channels)s::bigint[])],
                   'c-' || n,
                   (%(teams)s::bigint[])[1 + agent %% cardinality(%(teams)s::bigint[])],
                   (%(products)s::bigint[])[1 + (n / 3) %% cardinality(%(products)s::bigint[])],
                   agent, started, started + interval '6 minutes', started, started, '{}', '', 12, 6, 4, 2,
                   5 + (n %% 40), CASE WHEN n %% 3 > 0 THEN 2 + n %% 5 END, 20 + (n * 13) %% 300,
                   200 + (n * 17) %% 900, n %% 3 = 0, (n %% 5)::smallint, n %% 11 = 0, 0,
                   CASE WHEN n %% 2 = 0 THEN 1 + n %% 5 END, n %% 17 = 0
            FROM (SELECT n, 1 + (n * 7919) %% 400 AS agent,
                         %(start)s + (n::float8 / %(count)s) * interval '365 days' AS started
                  FROM generate_series(1::bigint, %(count)s::bigint) n) g
            """,
            {
                "channels": channels,
                "teams": teams,
                "products": products,
                "count": count,
                "start": timezone.now() - timedelta(days=365),
            },
        )
        cursor.execute("ANALYZE conversations_conversation")
    return time.perf_counter() - started


def median_ms(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    setup_django()
    from apps.conversations.models import Channel, Team
    from apps.insights.selectors import Filters, breakdown, series, summary
    from apps.insights.tasks import rollup_pending_task

    built = build(COUNT)
    started = time.perf_counter()
    days = rollup_pending_task.apply().get()  # the Celery task itself, run in this process
    rollup_seconds = time.perf_counter() - started
    # Late arrivals: 1,000 conversations of three past days change (new messages, new CSAT): the next run
    # rebuilds those days only.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_conversation SET csat = 5, updated_at = now() WHERE id IN ("
            "SELECT id FROM conversations_conversation WHERE started_at::date IN "
            "(current_date - 10, current_date - 40, current_date - 200) LIMIT 1000)"
        )
    started = time.perf_counter()
    again = rollup_pending_task.apply().get()
    incremental = time.perf_counter() - started

    end = date.today()
    team = Team.objects.order_by("id").values_list("id", flat=True).first()
    channel = Channel.objects.order_by("id").values_list("id", flat=True).first()
    ranges = {"month": 30, "quarter": 91, "year": 365}
    results: dict[str, dict[str, float]] = {}
    lines = [
        f"{COUNT:,} conversations over a year (built in {built:.1f} s); rollups by the Celery task (insights.rollup_pending): "
        f"{days} days in {rollup_seconds:.1f} s; after 1,000 late changes the next run rebuilt the {again} days they touched "
        f"in {incremental:.2f} s",
    ]
    worst = 0.0
    for name, length in ranges.items():
        for label, filters in (
            ("all", Filters(end - timedelta(days=length - 1), end)),
            ("one team", Filters(end - timedelta(days=length - 1), end, team=team)),
            ("one channel", Filters(end - timedelta(days=length - 1), end, channel=channel)),
        ):
            queries = {
                "summary + previous period": lambda f=filters: (summary(f), summary(f.previous())),
                "series by day": lambda f=filters: series(f, "day"),
                "series by week": lambda f=filters: series(f, "week"),
                "by channel": lambda f=filters: breakdown(f, "channel"),
                "by team": lambda f=filters: breakdown(f, "team"),
                "by product": lambda f=filters: breakdown(f, "product"),
                "by agent": lambda f=filters: breakdown(f, "agent"),
            }
            timings = {query: median_ms(fn) for query, fn in queries.items()}
            results[f"{name}/{label}"] = timings
            worst = max(worst, *timings.values())
            lines.append(
                f"  {name:>7} {label:>11}: " + ", ".join(f"{query} {ms:.0f} ms" for query, ms in timings.items())
            )
    lines.append(f"slowest dashboard query: {worst:.0f} ms (target < 300 ms per chart)")
    report(
        "insights",
        lines,
        {
            "conversations": COUNT,
            "rollup_seconds": rollup_seconds,
            "days": days,
            "queries_ms": results,
            "slowest_ms": worst,
        },
    )


if __name__ == "__main__":
    main()
