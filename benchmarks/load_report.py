"""The load test's Markdown report (artifacts/load/report.md) and its verdict: what failed, if anything."""

from __future__ import annotations

from statistics import mean

GROUPS = ["gunicorn", "celery worker", "postgres", "redis"]

# Soak tolerances: how much more the last third of the soak may hold than the first third (means of the
# samples in each third) before it counts as growth. See ``_soak_growth`` for why these values.
MEMORY_TOLERANCE = {  # group → (MiB per process that runs our code, MiB for the whole group)
    "gunicorn": (20.0, 0.0),  # per worker (the master runs none of our code)
    "celery worker": (16.0, 0.0),  # per pool process
    "postgres": (0.0, 64.0),  # private memory (RSS minus shared pages): see _soak_growth
    "redis": (0.0, 64.0),  # used_memory
}
CONNECTION_TOLERANCE = 2  # more connections in the last third's peak than in the first third's


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def _statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{k}×{v}" for k, v in sorted(statuses.items()))


def _memory_cell(sample: dict, group: str) -> str:
    memory = sample["memory"][group]
    if group == "postgres":
        return f"{memory['rss_mib']:,.0f} ({memory['private_mib']:,.0f} private, {memory['processes']} proc)"
    if group == "redis":
        return f"{memory['rss_mib']:,.0f} (used {sample['redis_used_mib']:,.0f})"
    # The root process first (gunicorn's master, the worker's parent), then its children.
    return f"{memory['rss_mib']:,.0f} = " + " + ".join(f"{rss:,.0f}" for rss in memory["pids"].values())


def _memory_table(rows: list[tuple[str, dict]]) -> list[str]:
    lines = [
        "| when | gunicorn: master + workers | celery: parent + pool | postgres | redis | DB connections (active) "
        "| queued celery / qa / unacked |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, sample in rows:
        connections = sample["connections"]
        broker = sample["broker"]
        lines.append(
            f"| {label} | "
            + " | ".join(_memory_cell(sample, g) for g in GROUPS)
            + f" | {connections['total']} ({connections.get('active', 0)}) "
            f"| {broker['celery']} / {broker['qa']} / {broker['unacked']} |"
        )
    return lines


def _soak_growth(samples: list[dict], requests: int, max_connections: int) -> tuple[list[str], list[str]]:
    """First third against last third of the soak's samples (means), after a warm-up.

    Why these tolerances. Before the first sample the warm-up has run as many clients as gunicorn has
    threads, so every thread has served (its database connection is open, its allocator arena touched), the
    embedder is loaded and the caches each process keeps are filled; under a constant load what is left to
    grow is a leak. Measured on this machine (2 cores, shared with other work, load average 14 to 20): with
    that warm-up, gunicorn's two workers grew +7 MiB between the thirds of a 120 s soak and +21 MiB in a 600 s
    one, most of it in the first minutes and levelling off (+6 MiB in the last five and a half); the Celery
    worker +1 MiB; PostgreSQL's private memory +15 to +37 MiB between the thirds' means, single samples
    swinging by up to 90 MiB as backends are recycled (CONN_MAX_AGE=60) and replaced; Redis' used_memory
    +2 MiB in 120 s, +13 MiB in 600 s. Hence:

    - gunicorn: 20 MiB per worker process, Celery: 16 MiB per pool process: above that steady drift and
      small enough that a leak of a couple of KiB per request fails a 10-minute soak (the report prints
      the smallest per-request leak this run would have caught, from its own request count);
    - PostgreSQL: judged on private memory (RSS minus shared pages), not RSS: RSS counts the shared buffers
      each backend touched, which grow by design while the tables grow (every batch adds rows); 64 MiB,
      above what those swings do to a mean of several samples. A backend lives a minute (CONN_MAX_AGE), so
      a leak in one cannot pile up; what can (the postmaster, autovacuum, ever more backends) shows here or
      in the connection count;
    - Redis: 64 MiB of used_memory. It grows by design: cached retrievals and task results live for an hour
      (ANSWER_CACHE_SECONDS, CELERY_RESULT_EXPIRES), longer than the soak, so every new question adds one;
      64 MiB is several times that and still catches a queue that never drains;
    - connections: persistent (CONN_MAX_AGE), opened by the threads that serve, so the count moves by a
      few; more than 2 above the first third's peak, or above the ceiling (gunicorn workers × threads +
      Celery pool processes + 1), is growth.
    """
    start, end = samples[0]["t"], samples[-1]["t"]
    third = (end - start) / 3
    first = [s for s in samples if s["t"] <= start + third]
    last = [s for s in samples if s["t"] >= end - third]
    between = requests * 2 / 3  # requests between the middles of the first and the last third
    lines = [
        f"Samples: {len(samples)} over {end - start:,.0f} s; first third {len(first)} samples, "
        f"last third {len(last)} (means compared); about {between:,.0f} requests between the thirds' middles.",
        "",
        "| process group | first third (MiB) | last third (MiB) | growth | tolerance | smallest leak caught "
        "| verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    failures = []
    for group in GROUPS:
        if group == "postgres":
            value = lambda s: s["memory"]["postgres"]["private_mib"]  # noqa: E731
            label = "postgres (private)"
        elif group == "redis":
            value = lambda s: s["redis_used_mib"]  # noqa: E731
            label = "redis (used_memory)"
        else:
            value = lambda s, g=group: s["memory"][g]["rss_mib"]  # noqa: E731
            label = f"{group} (RSS)"
        before, after = mean(value(s) for s in first), mean(value(s) for s in last)
        per_process, whole = MEMORY_TOLERANCE[group]
        ours = max(1, samples[0]["memory"][group]["processes"] - 1)  # not gunicorn's master, not Celery's parent
        tolerance = whole + per_process * ours
        ok = after - before <= tolerance
        lines.append(
            f"| {label} | {before:,.1f} | {after:,.1f} | {after - before:+,.1f} | {tolerance:,.1f} "
            f"| {tolerance * 1024 / max(between, 1):,.1f} KiB/request | {'ok' if ok else '**grew**'} |"
        )
        if not ok:
            failures.append(f"{group} memory grew by {after - before:,.1f} MiB (tolerance {tolerance:,.1f})")
    peak_first = max(s["connections"]["total"] for s in first)
    peak_last = max(s["connections"]["total"] for s in last)
    peak = max(s["connections"]["total"] for s in samples)
    connections_ok = peak_last <= peak_first + CONNECTION_TOLERANCE and peak <= max_connections
    lines.append(
        f"| DB connections (peak) | {peak_first} | {peak_last} | {peak_last - peak_first:+d} "
        f"| +{CONNECTION_TOLERANCE}, ceiling {max_connections} | | {'ok' if connections_ok else '**grew**'} |"
    )
    if not connections_ok:
        failures.append(f"DB connections grew: peak {peak_first} → {peak_last} (ceiling {max_connections})")
    return lines, failures


def render(results: dict) -> tuple[str, list[str]]:
    failures: list[str] = []
    soak = results["mode"] == "soak"
    config, server, setup = results["config"], results["server"], results["setup"]
    machine = results["machine"]
    lines = [
        f"# Load test ({'soak' if soak else 'steps'}), {results['started_at'][:19]} UTC, commit {machine['commit']}",
        "",
        f"Loopback, {machine['cores']} cores shared with whatever else runs (load average at the start "
        f"{', '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}). "
        f"gunicorn {server['workers']} workers × {server['threads']} threads (embedder "
        f"{server['embedding_threads']} thread(s) each), Celery worker prefork × {server['celery_concurrency']} "
        "on queues celery,qa; production settings (DEBUG=0); embedded PostgreSQL and Redis.",
        "",
        f"Database: {'a copy of the template' if setup['from_template'] else 'built from the demo commands'} "
        f"in {setup['seconds']:.0f} s: " + ", ".join(f"{v} {k}" for k, v in setup["counts"].items()) + ".",
        "",
        "Clients per step: 60 % bots (80 % repeated, 20 % new questions), 20 % systems posting batches of "
        f"{config['batch_size']} conversations, 20 % reviewers (signed in; /qa/ and a review page), at least one "
        "of each; closed loop (the next request when the previous is answered"
        + (f"; {config['batch_pause']} s between batches" if config["batch_pause"] else "")
        + (f"; {config['reviewer_think']} s reviewer think time" if config["reviewer_think"] else "")
        + "). Latencies are the clients' (request sent → whole answer read). Errors: exceptions (refused, reset, "
        "timed out after 60 s) and any status but the one the request must get (so a redirect to the sign-in "
        "page counts too); a batch item the API rejected counts under `[items rejected]`.",
        "",
        "## Throughput, latency and errors per endpoint",
        "",
        "| clients (bots/systems/reviewers) | endpoint | requests | req/s | p50 ms | p95 ms | p99 ms "
        "| errors | statuses |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    total_errors = 0
    for step in results["steps"]:
        m = step["mix"]
        who = f"{step['clients']} ({m['bots']}/{m['systems']}/{m['reviewers']})"
        for endpoint, r in step["endpoints"].items():
            total_errors += r["errors"]
            lines.append(
                f"| {who} | {endpoint} | {r['requests']:,} | {r['throughput']:,.1f} | {_ms(r['p50'])} "
                f"| {_ms(r['p95'])} | {_ms(r['p99'])} | {r['errors']} | {_statuses(r['statuses'])}"
                + (f" (+{r['retried']} sent again after a keep-alive reset)" if r.get("retried") else "")
                + " |"
            )
        t = step["total"]
        lines.append(
            f"| {who} | **all requests** | {t['requests']:,} | {t['throughput']:,.1f} | {_ms(t['p50'])} "
            f"| {_ms(t['p95'])} | {_ms(t['p99'])} | {t['errors']} | {step['seconds']:.0f} s |"
        )
    if total_errors:
        failures.append(f"{total_errors} failed requests")
    retried = [
        (step["clients"], endpoint, example)
        for step in results["steps"]
        for endpoint, r in step["endpoints"].items()
        for example in r.get("retry_examples", [])
    ]
    if retried:
        total = sum(step["total"].get("retried", 0) for step in results["steps"])
        lines += [
            "",
            f"**Keep-alive resets: {total}.** A request sent on a kept-alive connection failed before any answer: "
            "gunicorn closed the connection as idle (its `keepalive`, 2 s, counted from when its main loop "
            "took the connection back) while the request was on its way, unread. Each was sent again once on a "
            "new connection, as browsers do (a request gunicorn never read was never processed), and is not "
            "counted as an error; a worker that died instead would show in its process ids and the server log, "
            "which fail the run. Examples: "
            + "; ".join(f"{clients} clients, {endpoint}: {example}" for clients, endpoint, example in retried[:5])
            + ".",
        ]
    times = results["answer_service_times"]
    lines += [
        "",
        "The answer service's own time (`AnswerQuery.latency_ms`, all steps): cached p50/p95/p99 "
        f"{_ms(times['cached']['p50'])}/{_ms(times['cached']['p95'])}/{_ms(times['cached']['p99'])} ms "
        f"({times['cached']['count']:,} questions), uncached "
        f"{_ms(times['uncached']['p50'])}/{_ms(times['uncached']['p95'])}/{_ms(times['uncached']['p99'])} ms "
        f"({times['uncached']['count']:,}).",
        "",
        "## CPU, memory and database connections",
        "",
        "CPU during each step, in cores (CPU seconds of each group's processes, exited ones included, "
        "÷ the step's seconds; "
        f"the machine has {machine['cores']}; the load driver's client threads run on the same cores), and "
        "the 1-minute load average at the step's end (other people's work included):",
        "",
        "| clients | gunicorn | celery worker | postgres | redis | load driver | load average |",
        "|---|---|---|---|---|---|---|",
    ]
    for step in results["steps"]:
        first, last = step["samples"][0], step["samples"][-1]
        used = [(last["memory"][g]["cpu_s"] - first["memory"][g]["cpu_s"]) / step["seconds"] for g in GROUPS]
        driver = (last["driver_cpu_s"] - first["driver_cpu_s"]) / step["seconds"]
        lines.append(
            f"| {step['clients']} | " + " | ".join(f"{u:.2f}" for u in used) + f" | {driver:.2f} "
            f"| {last['load_average']:.1f} |"
        )
    lines += [
        "",
        "Memory in MiB: RSS summed over each group's processes (gunicorn and Celery: the parent, then each "
        "child). PostgreSQL's sum counts the shared buffers once per backend that touched them; *private* is "
        "RSS minus shared pages. Redis: process RSS and `used_memory`. Connections: `pg_stat_activity` rows "
        "for the load database (the monitor's own connection is to another database); queues: messages waiting "
        "in the broker and tasks a worker holds.",
        "",
    ]
    rows = []
    for step in results["steps"]:
        rows.append((f"{step['clients']} clients, start", step["samples"][0]))
        rows.append((f"{step['clients']} clients, end", step["samples"][-1]))
    rows.append(("after the drain", results["drain"]["after"]))
    every = [s for step in results["steps"] for s in step["samples"]] + [results["drain"]["after"]]
    for group in ("gunicorn", "celery worker"):  # a process replaced (crash, timeout, time limit) is a finding
        pids = [sorted(s["memory"][group]["pids"]) for s in every]
        changed = next((p for p in pids if p != pids[0]), None)
        if changed is not None:
            failures.append(f"{group} processes were replaced during the run: {pids[0]} → {changed}")
    lines += _memory_table(rows)
    max_connections = server["workers"] * server["threads"] + server["celery_concurrency"] + 1
    if soak:
        growth, growth_failures = _soak_growth(
            results["steps"][0]["samples"], results["steps"][0]["total"]["requests"], max_connections
        )
        failures += growth_failures
        lines += ["", "## Soak: growth, first third against last third", "", *growth, ""]
        lines += ["Every sample:", ""]
        start = results["steps"][0]["samples"][0]["t"]
        lines += _memory_table([(f"+{s['t'] - start:,.0f} s", s) for s in results["steps"][0]["samples"]])

    release = results["release"]
    lines += ["", "## The release", ""]
    if release["recorded"]:
        latency = release["request"]["latency_ms"]
        lines.append(
            f"`POST /api/v1/releases/` recorded {release['version']} "
            f"({_ms(latency[0]) if latency else '?'} ms); stale check "
            f"{'done' if release['stale_check_done'] else '**not done**'} after the drain, "
            f"{release['stale_flags']} stale flags."
        )
        if not release["stale_check_done"]:
            failures.append("the release's stale check did not run")
    else:
        lines.append(f"**Not recorded**: {release['request']}")
        failures.append("the release was not recorded")

    drain = results["drain"]
    check = results["exactly_once"]
    work = results["scoring_work"]
    lines += [
        "",
        "## Every conversation sent: stored once, scored once",
        "",
        f"Worker drained: {'yes' if drain['drained'] else '**no**'}, {drain['seconds']:.0f} s after the last "
        "client stopped (queues empty, no task held, three polls in a row). Every id sent, with its messages "
        "and whether the API accepted it: artifacts/load/conversations.csv.",
        "",
        "| check | count |",
        "|---|---|",
        f"| conversations sent | {check['sent']:,} |",
        f"| accepted by the API (created/updated) | {check['accepted']:,} |",
        f"| stored exactly once | {check['stored_once']:,} |",
        f"| missing / stored more than once | {check['missing_count']} / {check['duplicated_count']} |",
        f"| stored with a different number of messages than sent | {check['messages_mismatch_count']} |",
        f"| scored exactly once (one score, published version, not older than the conversation) "
        f"| {check['scored_once']:,} |",
        f"| unscored / more than one score / score older than the conversation "
        f"| {check['unscored_count']} / {check['scored_more_than_once_count']} / {check['stale_scores_count']} |",
        f"| scoring tasks run (worker log) / conversations scored by them | {work['tasks']:,} / "
        f"{work['conversations_scored']:,} |",
        f"| scoring task failures or retries (worker log) | {work['task_failures']} |",
        "",
        f"**{'PASS' if check['ok'] else 'FAIL'}**"
        + ("" if check["ok"] else f": {_first_ids(check)}")
        + (
            ""
            if work["conversations_scored"] == check["accepted"]
            else f" (the worker scored {work['conversations_scored']:,} times for {check['accepted']:,} "
            "conversations: at-least-once delivery or a retry scored some again; the rows stay one per "
            "conversation)"
        ),
    ]
    if not drain["drained"]:
        failures.append(f"the worker did not drain within {config['drain_timeout']:.0f} s")
    if not check["ok"]:
        failures.append("conversations not stored or scored exactly once")

    examples = [
        (step["clients"], endpoint, example)
        for step in results["steps"]
        for endpoint, r in step["endpoints"].items()
        for example in r["error_examples"]
    ]
    if examples or results["rejected_items"]:
        lines += ["", "## Error examples", ""]
        for clients, endpoint, example in examples[:20]:
            lines += [f"- {clients} clients, {endpoint}:", "", "  ```", f"  {example[:800]}", "  ```"]
        for external_id, errors in results["rejected_items"].items():
            lines.append(f"- rejected {external_id}: {errors}")
    for name, excerpt in results["log_errors"].items():
        if excerpt["count"]:
            lines += [
                "",
                f"## {name}: {excerpt['count']} error lines (artifacts/load/{excerpt['file']})",
                "",
                "```",
                *excerpt["first"],
                "```",
            ]
            failures.append(f"{excerpt['count']} error lines in the {name.lower()}")
    lines += ["", "## Verdict", ""]
    lines.append("PASS" if not failures else "FAIL: " + "; ".join(failures))
    lines.append("")
    return "\n".join(lines), failures


def _first_ids(check: dict) -> str:
    parts = []
    for name in ("missing", "duplicated", "messages_mismatch", "unscored", "scored_more_than_once", "stale_scores"):
        if check[name]:
            parts.append(f"{name.replace('_', ' ')}: {', '.join(check[name][:5])}")
    return "; ".join(parts)
