"""Part 2 of the scale benchmark: dashboards and reports vs writes — the case for a read replica.

At each size (conversations over a year, ``scale_data.build_conversations``):

- the rollups built from nothing by the Celery task's own function (``rollups_refresh_pending``: every day), what
  ``manage.py rollup_insights --all`` does; later the incremental run after a day's ingestion;
- the service dashboard page's queries (``apps.insights.selectors``: summary and previous period, series by
  day and week, breakdowns by channel, team, product and agent) for a month, a quarter and a year;
- a year-long report over the raw conversations (by week and team: volumes, FRT, AHT, CSAT, SLA breaches),
  the kind of query a BI tool or an analyst runs — the portal itself reads rollups;
- ingestion (``conversations_ingest``, batches of 1,000 demo conversations with their messages, one
  process) alone, next to 2 processes reloading the dashboard non-stop, and next to 1 process running the
  year report non-stop: conversations/s, and the database CPU each workload used.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import date, timedelta
from itertools import islice

from django.utils import timezone
from scale_data import build_conversations, one, sql
from scale_data import reset as reset_data
from scale_procs import Meter, run_together

RAW_REPORT = """
SELECT date_trunc('week', c.started_at AT TIME ZONE 'Asia/Shanghai') AS week, c.team_id, count(*),
       avg(c.first_response_seconds), avg(c.human_first_response_seconds), avg(c.handle_seconds), avg(c.csat),
       count(*) FILTER (WHERE c.sla_breached), count(*) FILTER (WHERE c.handoff)
FROM conversations_conversation c
WHERE c.started_at >= now() - interval '365 days'
GROUP BY 1, 2 ORDER BY 1, 2
"""
CONDITIONS = ("ingestion alone", "+ 2 dashboard loops", "+ 1 year-report loop")


def page(filters) -> None:
    """Every query the service dashboard page makes (apps/insights/views.py: dashboard)."""
    from apps.insights.selectors import breakdown, series, summary

    summary(filters)
    summary(filters.previous())
    series(filters, "day")
    series(filters, "week")
    for by in ("channel", "team", "product", "agent"):
        breakdown(filters, by)


def page_ms(days: int, runs: int = 5) -> float:
    from apps.insights.selectors import Filters

    end = date.today()
    filters = Filters(end - timedelta(days=days - 1), end)
    page(filters)  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        page(filters)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def raw_report_ms(runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        sql(RAW_REPORT)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# --- the loops (each in its own process) ---------------------------------------------------------------


def ingest_loop(window, seed: int) -> dict:
    from apps.conversations.services.ingest import conversations_ingest
    from apps.demo.conversations import generate_conversations

    meter = Meter()
    stream = generate_conversations(10_000_000, seed=seed, start=timezone.localtime(), days=1)
    batch = list(islice(stream, 1000))
    conversations_ingest(list(islice(stream, 200)), backfill=True)  # connection, masker and caches warm
    messages = 0
    window.wait()
    meter.start()
    while window.open():
        started = time.perf_counter()
        results = conversations_ingest(batch, backfill=True)
        meter.busy += time.perf_counter() - started
        meter.units += sum(r.status != "rejected" for r in results)
        messages += sum(len(item["messages"]) for item in batch)
        batch = list(islice(stream, 1000))  # generating the next batch is not counted as ingestion
    meter.extra["messages"] = messages
    return meter.result()


def dashboard_loop(window, seed: int) -> dict:
    from apps.insights.selectors import Filters

    rng = random.Random(seed)
    teams = [pk for (pk,) in sql("SELECT id FROM conversations_team")]
    channels = [pk for (pk,) in sql("SELECT id FROM conversations_channel")]
    end = date.today()
    meter = Meter()
    window.wait()
    meter.start()
    while window.open():
        days = rng.choice((7, 30, 91, 365))
        kind = rng.random()
        filters = Filters(
            end - timedelta(days=days - 1),
            end,
            team=rng.choice(teams) if kind < 0.3 else None,
            channel=rng.choice(channels) if 0.3 <= kind < 0.5 else None,
        )
        started = time.perf_counter()
        page(filters)
        elapsed = time.perf_counter() - started
        meter.busy += elapsed
        meter.latencies.append(elapsed * 1000)
        meter.units += 1
    return meter.result()


def report_loop(window) -> dict:
    meter = Meter()
    window.wait()
    meter.start()
    while window.open():
        started = time.perf_counter()
        sql(RAW_REPORT)
        elapsed = time.perf_counter() - started
        meter.busy += elapsed
        meter.latencies.append(elapsed * 1000)
        meter.units += 1
    return meter.result()


def _drop_ingested() -> None:
    """Back to the size being measured: the conversations a loop ingested go (their messages first)."""
    sql("TRUNCATE conversations_message, qa_finding CASCADE")
    sql("DELETE FROM conversations_conversation WHERE external_id NOT LIKE 's-%%'")
    sql("VACUUM (ANALYZE) conversations_conversation")


def concurrency(seconds: float, rounds: int, seed: int, log) -> tuple[dict, dict]:
    runs: dict[str, list[dict]] = {name: [] for name in CONDITIONS}
    incremental = {}
    for round_ in range(rounds):
        for n, name in enumerate(CONDITIONS):
            seed += 1
            jobs = [("ingest", ingest_loop, (seed,))]
            if name == "+ 2 dashboard loops":
                jobs += [("dashboard 1", dashboard_loop, (seed,)), ("dashboard 2", dashboard_loop, (seed + 1000,))]
            elif name == "+ 1 year-report loop":
                jobs += [("report", report_loop, ())]
            load = os.getloadavg()[0]
            result = run_together(jobs, seconds=seconds)
            result["loadavg_before"] = load
            runs[name].append(result)
            log(
                f"    round {round_ + 1} {name:<22} ingestion {result['ingest']['per_busy_second']:7.0f} conv/s"
                + "".join(
                    f", {job} {r['units']} runs (p50 {statistics.median(r['latencies_ms']):.0f} ms)"
                    for job, r in result.items()
                    if job not in ("ingest", "loadavg_before") and r.get("latencies_ms")
                )
            )
            if round_ == 0 and n == 0:
                from apps.insights.services.rollups import rollups_refresh_pending

                started = time.perf_counter()
                days = rollups_refresh_pending()
                incremental = {"days": days, "seconds": time.perf_counter() - started}
            _drop_ingested()
    return runs, incremental


def _without_latencies(result: dict) -> dict:
    return {
        job: {k: v for k, v in r.items() if k != "latencies_ms"} if isinstance(r, dict) else r
        for job, r in result.items()
    }


def summarize(runs: dict[str, list[dict]]) -> dict:
    """Medians over rounds: ingestion rate, and per loop what it did and the CPU it took (own and database)."""
    out = {}
    for name, results in runs.items():
        row: dict = {
            "ingest_per_second": statistics.median(r["ingest"]["per_busy_second"] for r in results),
            "ingest_db_cpu_per_conversation_ms": statistics.median(
                1000 * (r["ingest"]["db_cpu_seconds"] or 0) / max(1, r["ingest"]["units"]) for r in results
            ),
        }
        loops = [job for job in results[0] if job not in ("ingest", "loadavg_before")]
        if loops:
            row["loop_runs_per_second"] = statistics.median(sum(r[job]["per_second"] for job in loops) for r in results)
            row["loop_p50_ms"] = statistics.median(
                statistics.median(lat for job in loops for lat in r[job]["latencies_ms"]) for r in results
            )
            row["loop_db_cores"] = statistics.median(
                sum((r[job]["db_cpu_seconds"] or 0) / r[job]["wall_seconds"] for job in loops) for r in results
            )
            row["loop_client_cores"] = statistics.median(
                sum(r[job]["cpu_seconds"] / r[job]["wall_seconds"] for job in loops) for r in results
            )
        row["loadavg_before"] = [r["loadavg_before"] for r in results]
        out[name] = row
    alone = out[CONDITIONS[0]]["ingest_per_second"]
    for row in out.values():
        row["ingest_ratio"] = row["ingest_per_second"] / alone if alone else 0.0
    return out


def measure(conversations: int, *, seconds: float, rounds: int, log) -> dict:
    from apps.insights.services.rollups import rollups_refresh_pending

    reset_data()
    built = build_conversations(conversations, days=365)
    sql("VACUUM (ANALYZE) conversations_conversation")
    started = time.perf_counter()
    days = rollups_refresh_pending()  # no state yet: every day
    full = time.perf_counter() - started
    rollup_rows = one("SELECT count(*) FROM insights_dailyagentdetailstats")
    pages = {f"{days_}d": page_ms(days_) for days_ in (30, 91, 365)}
    report = raw_report_ms()
    log(
        f"  {conversations:,} conversations (built in {built:.0f} s): full rollup {full:.1f} s ({days} days), "
        f"dashboard page " + ", ".join(f"{k} {v:.0f} ms" for k, v in pages.items()) + f", year report {report:.0f} ms"
    )
    runs, incremental = concurrency(seconds, rounds, conversations % 997, log)
    return {
        "conversations": conversations,
        "build_seconds": built,
        "rollup_full_seconds": full,
        "rollup_days": days,
        "rollup_detail_rows": rollup_rows,
        "rollup_incremental": incremental,
        "page_ms": pages,
        "year_report_ms": report,
        "concurrency": summarize(runs),
        "runs": {name: [_without_latencies(result) for result in results] for name, results in runs.items()},
    }
