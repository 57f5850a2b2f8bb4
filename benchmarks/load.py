"""Mixed load on loopback (``make load``, ``make soak``): the portal as deployed, under bots, conversation
ingestion, reviewers and a release at once, at several client counts; then every conversation sent must be
stored exactly once and scored exactly once.

The deployment: gunicorn through ``scripts/serve.sh`` (kbportal/gunicorn.conf.py) and a Celery worker on
queues ``celery,qa`` (prefork, 2 processes, as ``make run`` starts it), both with production settings
(DEBUG=0, secure cookies, requests arriving as through a TLS proxy), on the embedded PostgreSQL and Redis of
their own data directory (``KBPORTAL_DATA_DIR``, scripts/load.sh: ``.data/load``). Beat is not started: its
``qa.score_unscored`` safety net would score conversations whose task was lost, and hide the loss.

The database is fresh each run: a copy of a template holding the demo's data (made by ``load_data.build``
through the demo's own commands the first time, and again whenever the code or demo data change).

Clients (closed loop: each sends its next request when the previous one is answered), of each step's N:
60 % bots (``POST /api/v1/answers/``; 80 % repeated questions, 20 % new ones), 20 % systems posting
conversation batches (``POST /api/v1/conversations/``), 20 % reviewers (signed in through the admin's form,
loading ``/qa/`` and a task's review page); at least one of each. One release is recorded through
``POST /api/v1/releases/`` halfway through the first step (the soak: halfway through).

Environment: LOAD_CLIENTS (4,16,32), LOAD_SECONDS (per step, 45), LOAD_SOAK_SECONDS (with --soak, 600),
LOAD_SOAK_CLIENTS (16), LOAD_SAMPLE_SECONDS (soak sampling, 30), LOAD_WARMUP_SECONDS (soak warm-up, 60, with
as many clients as gunicorn has threads), LOAD_REPEATED_SHARE (0.8), LOAD_BATCH_SIZE (conversations per
batch, 10), LOAD_BATCH_PAUSE (seconds between a system's batches, 0), LOAD_REVIEWER_THINK (seconds between a
reviewer's page pairs, 0), LOAD_DRAIN_TIMEOUT (seconds, 300), LOAD_REBUILD=1 (rebuild the template).
WEB_CONCURRENCY and GUNICORN_THREADS reach gunicorn as in ``make run``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import runpy
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime

from common import (
    ROOT,
    free_port,
    percentiles,
    production_env,
    setup_django,
    start_server,
    stop_process_group,
    wait_until_serving,
)

sys.path.insert(0, str(ROOT))

from load_clients import Ledger, Stats, bot, ingestion, record_release, reviewer
from load_data import (
    RELEASE,
    ConversationSource,
    LoadData,
    build,
    fresh_database,
    prepare_run,
    purge_broker,
    refuse_foreign_services,
    save_template,
)
from load_monitor import Database, Watched, drain, exactly_once, log_errors, sample, scoring_work
from load_report import render

OUT = ROOT / "artifacts" / "load"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number.") from None


def _env_levels(name: str, default: str) -> list[int]:
    raw = os.environ.get(name, "").strip() or default
    try:
        levels = [int(n) for n in raw.split(",") if n.strip()]
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a comma-separated list of client counts.") from None
    if not levels or min(levels) < 3:
        raise SystemExit(f"{name}={raw!r}: each step needs at least 3 clients (a bot, a system, a reviewer).")
    return levels


CONFIG = {
    "clients": _env_levels("LOAD_CLIENTS", "4,16,32"),
    "seconds": _env_float("LOAD_SECONDS", 45),
    "soak_seconds": _env_float("LOAD_SOAK_SECONDS", 600),
    "soak_clients": _env_levels("LOAD_SOAK_CLIENTS", "16")[0],
    "sample_seconds": _env_float("LOAD_SAMPLE_SECONDS", 30),
    "warmup_seconds": _env_float("LOAD_WARMUP_SECONDS", 60),
    "repeated_share": _env_float("LOAD_REPEATED_SHARE", 0.8),
    "batch_size": int(_env_float("LOAD_BATCH_SIZE", 10)),
    "batch_pause": _env_float("LOAD_BATCH_PAUSE", 0),
    "reviewer_think": _env_float("LOAD_REVIEWER_THINK", 0),
    "drain_timeout": _env_float("LOAD_DRAIN_TIMEOUT", 300),
}
WORKER_CONCURRENCY = 2  # as `make run` (scripts/run.sh) starts it


def mix(clients: int) -> dict[str, int]:
    """60 % bots, 20 % conversation systems, 20 % reviewers; at least one of each."""
    systems = max(1, round(clients * 0.2))
    reviewers = max(1, round(clients * 0.2))
    return {"bots": clients - systems - reviewers, "systems": systems, "reviewers": reviewers}


def start_worker(env: dict[str, str], log) -> subprocess.Popen:
    """``celery -A kbportal worker`` on queues celery and qa (the command line of tests/conftest.py's worker,
    with ``make run``'s prefork pool of 2), in its own process group; returns once it answers a ping."""
    from kbportal.celery import app

    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "celery",
            "-A",
            "kbportal",
            "worker",
            "-Q",
            "celery,qa",
            f"--concurrency={WORKER_CONCURRENCY}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=load-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "kbportal.settings"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited; see {log.name}")
    stop_process_group(process)
    raise RuntimeError(f"the Celery worker did not answer in 120 s; see {log.name}")


class Load:
    """The deployment under load and the clients' shared state across steps."""

    def __init__(self, port: int, data: LoadData, watched: Watched, database: Database) -> None:
        self.port = port
        self.data = data
        self.watched = watched
        self.database = database
        self.ledger = Ledger()
        self.source = ConversationSource(uuid.uuid4().hex[:8])
        self.release: dict | None = None
        self.release_stats = Stats()
        self.seed = 0

    def warm_up(self) -> None:
        """Every gunicorn worker loads its vocabulary, verifier and embedder on its first questions."""
        stats = Stats()
        stop = threading.Event()
        threads = [
            threading.Thread(target=bot, args=(self.port, stats, stop, self.data, 10_000 + i, 0.0), daemon=True)
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        time.sleep(8)
        stop.set()
        for thread in threads:
            thread.join()

    def _threads(self, clients: int, stats: Stats, stop: threading.Event) -> list[threading.Thread]:
        parts = mix(clients)
        threads = []
        for _ in range(parts["bots"]):
            self.seed += 1
            args = (self.port, stats, stop, self.data, self.seed, CONFIG["repeated_share"])
            threads.append(threading.Thread(target=bot, args=args, name=f"bot-{self.seed}", daemon=True))
        for _ in range(parts["systems"]):
            args = (
                self.port,
                stats,
                stop,
                self.data,
                self.source,
                self.ledger,
                CONFIG["batch_size"],
                CONFIG["batch_pause"],
            )
            threads.append(threading.Thread(target=ingestion, args=args, name="system", daemon=True))
        for n in range(parts["reviewers"]):
            self.seed += 1
            username, password = self.data.reviewers[n % len(self.data.reviewers)]
            args = (self.port, stats, stop, username, password, self.seed, CONFIG["reviewer_think"])
            threads.append(threading.Thread(target=reviewer, args=args, name=f"reviewer-{username}", daemon=True))
        return threads

    def _record_release_at(self, delay: float, stop: threading.Event) -> threading.Thread:
        def run() -> None:
            if not stop.wait(delay):
                self.release = record_release(self.port, self.release_stats, self.data, RELEASE)

        thread = threading.Thread(target=run, name="release", daemon=True)
        thread.start()
        return thread

    def step(self, clients: int, seconds: float, *, release: bool, sample_every: float | None = None) -> dict:
        """``clients`` clients for ``seconds``; samples memory and connections at the start and the end (and
        every ``sample_every`` seconds when given)."""
        stats = Stats()
        stop = threading.Event()
        samples = [sample(self.watched, self.database)]
        threads = self._threads(clients, stats, stop)
        start = time.perf_counter()
        releaser = None
        try:
            for thread in threads:
                thread.start()
            releaser = self._record_release_at(seconds / 2, stop) if release else None
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                time.sleep(min(left, sample_every or left))
                if sample_every and deadline - time.monotonic() > 1:
                    samples.append(sample(self.watched, self.database))
        finally:
            stop.set()  # also on Ctrl-C: the clients finish their request and stop
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        if releaser:
            releaser.join()
        samples.append(sample(self.watched, self.database))
        endpoints = {}
        for endpoint in sorted(stats.statuses):
            latencies = stats.latencies[endpoint]
            endpoints[endpoint] = {
                "requests": len(latencies),
                "throughput": len(latencies) / wall,
                **percentiles(latencies),
                "errors": sum(stats.errors[endpoint].values()),
                "statuses": {str(k): v for k, v in stats.statuses[endpoint].items()},
                "error_examples": stats.examples[endpoint],
                "retried": len(stats.retried[endpoint]),
                "retry_examples": stats.retried[endpoint][:5],
            }
        # Requests only: not the checks of answers' bodies recorded beside them ("… [items rejected]").
        requests = [e for e in stats.latencies if "[" not in e and " " in e]
        everything = [ms for e in requests for ms in stats.latencies[e]]
        total = {
            "requests": len(everything),
            "throughput": len(everything) / wall,
            **percentiles(everything),
            "errors": sum(sum(errors.values()) for errors in stats.errors.values()),
            "retried": sum(len(retried) for retried in stats.retried.values()),
        }
        return {
            "clients": clients,
            "mix": mix(clients),
            "seconds": wall,
            "endpoints": endpoints,
            "total": total,
            "samples": samples,
        }


def server_answer_times(since: datetime) -> dict:
    """The answer service's own time per request (``AnswerQuery.latency_ms``), cached and not: what the
    client-side latency adds to it is queueing and the HTTP stack."""
    from django.db import connection

    from apps.answers.models import AnswerQuery

    result = {}
    for cached in (True, False):
        values = list(
            AnswerQuery.objects.filter(created_at__gte=since, cached=cached).values_list("latency_ms", flat=True)
        )
        result["cached" if cached else "uncached"] = {"count": len(values), **percentiles(values)}
    connection.close()
    return result


def release_outcome(release: dict | None) -> dict:
    from django.db import connection

    from apps.catalog.models import Release
    from apps.knowledge.models import ReleaseStaleCheck, StaleFlag

    if release is None:
        return {"recorded": False}
    row = Release.objects.get(pk=release["id"])
    outcome = {
        "recorded": True,
        "version": row.version,
        "stale_check_done": ReleaseStaleCheck.objects.filter(release=row).exists(),
        "stale_flags": StaleFlag.objects.filter(release=row).count(),
    }
    connection.close()
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak", action="store_true", help="one client count held for LOAD_SOAK_SECONDS")
    soak = parser.parse_args().soak
    OUT.mkdir(parents=True, exist_ok=True)
    started_at = datetime.now(UTC)
    refuse_foreign_services()
    db_name = os.environ.setdefault("KBPORTAL_DB_NAME", "kbportal_load")

    t0 = time.perf_counter()
    from_template = fresh_database(db_name)
    setup_django()  # migrates (nothing to do on a copy of the template)
    build_seconds = {} if from_template else build()
    if not from_template:
        save_template(db_name)
    data = prepare_run()
    purge_broker()
    setup_seconds = time.perf_counter() - t0
    print(f"database ready in {setup_seconds:.0f} s ({'template copy' if from_template else 'built'})", flush=True)

    port = free_port()
    env = production_env(port=port, KBPORTAL_DB_NAME=db_name)
    server_conf = runpy.run_path(str(ROOT / "kbportal" / "gunicorn.conf.py"))
    with open(OUT / "gunicorn.log", "w") as server_log, open(OUT / "worker.log", "w") as worker_log:
        server = start_server(env, log=server_log)
        worker = None
        try:
            worker = start_worker(env, worker_log)
            wait_until_serving(server, port)
            database = Database(db_name)
            watched = Watched.find(server_pid=server.pid, worker_pid=worker.pid)
            load = Load(port, data, watched, database)
            load.warm_up()
            load_started = datetime.now(UTC)
            steps = []
            if soak:
                if CONFIG["warmup_seconds"]:
                    # Enough clients to keep every gunicorn thread busy: each thread that serves opens its own
                    # database connection and touches its own allocator arena, memory that would otherwise
                    # arrive during the soak, thread by thread, and look like growth.
                    warm = max(CONFIG["soak_clients"], server_conf["workers"] * server_conf["threads"])
                    print(f"soak warm-up: {warm} clients, {CONFIG['warmup_seconds']:.0f} s", flush=True)
                    load.step(warm, CONFIG["warmup_seconds"], release=False)
                print(f"soak: {CONFIG['soak_clients']} clients, {CONFIG['soak_seconds']:.0f} s", flush=True)
                steps.append(
                    load.step(
                        CONFIG["soak_clients"],
                        CONFIG["soak_seconds"],
                        release=True,
                        # At least six samples, so that each third holds two.
                        sample_every=min(CONFIG["sample_seconds"], CONFIG["soak_seconds"] / 6),
                    )
                )
            else:
                for n, clients in enumerate(CONFIG["clients"]):
                    print(f"step: {clients} clients, {CONFIG['seconds']:.0f} s", flush=True)
                    steps.append(load.step(clients, CONFIG["seconds"], release=n == 0))
            print("waiting for the worker to drain", flush=True)
            drained, drain_seconds = drain(timeout=CONFIG["drain_timeout"])
            after_drain = sample(watched, database)
            database.close()
        finally:
            stop_process_group(server)
            if worker is not None:
                stop_process_group(worker, timeout=60)
    check = exactly_once(load.ledger.sent, load.ledger.accepted)
    with open(OUT / "conversations.csv", "w") as ids:  # every id sent, for the record
        ids.write("external_id,messages,accepted\n")
        for external_id, messages in load.ledger.sent.items():
            ids.write(f"{external_id},{messages},{int(external_id in load.ledger.accepted)}\n")
    results = {
        "mode": "soak" if soak else "steps",
        "started_at": started_at.isoformat(),
        "machine": {
            "cores": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(),
            "commit": subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip(),
        },
        "config": CONFIG,
        "server": {
            "workers": server_conf["workers"],
            "threads": server_conf["threads"],
            "embedding_threads": server_conf["embedding_threads"],
            "celery_concurrency": WORKER_CONCURRENCY,
        },
        "setup": {
            "seconds": setup_seconds,
            "from_template": from_template,
            "build_seconds": build_seconds,
            "counts": data.counts,
        },
        "steps": steps,
        "release": {
            **release_outcome(load.release),
            "request": {
                "latency_ms": load.release_stats.latencies.get("POST /api/v1/releases/", []),
                "statuses": {str(k): n for k, n in load.release_stats.statuses["POST /api/v1/releases/"].items()},
                "error_examples": dict(load.release_stats.examples),
            },
        },
        "answer_service_times": server_answer_times(load_started),
        "drain": {"drained": drained, "seconds": drain_seconds, "after": after_drain},
        "exactly_once": check,
        "scoring_work": scoring_work(OUT / "worker.log"),
        "rejected_items": dict(list(load.ledger.rejected.items())[:20]),
        "log_errors": {
            "Server log": log_errors(OUT / "gunicorn.log"),
            "Worker log": log_errors(OUT / "worker.log"),
        },
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    report, failures = render(results)
    (OUT / "report.md").write_text(report)
    print(report)
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
