"""``make fuzz``: schemathesis over the OpenAPI schema against the real web server, every check.

Run by ``scripts/fuzz.sh`` (which sets ``KBPORTAL_DATA_DIR`` and stops the embedded services afterwards):

1. a fresh database (embedded PostgreSQL only; a configured ``DATABASE_URL`` is migrated, never dropped),
   migrated, with the demo products, published articles and scripts, the answers index, one conversation and
   a few answered questions, so that the endpoints have something to find;
2. API keys: one per scope, which scripts/fuzz.toml gives the operations that need it, and one holding
   every scope (rate limits the run cannot reach: throttling is not under test);
3. gunicorn through ``scripts/serve.sh`` on a free loopback port;
4. ``schemathesis run`` over ``/api/schema/`` with ``--checks all``, every phase, a bounded number of examples
   per operation and a fixed seed; its exit status is this script's;
5. ``artifacts/fuzz/report.md``: requests made, operations covered, checks run, failures.

Environment: ``FUZZ_MAX_EXAMPLES`` (default 50: about a minute of requests on two idle cores),
``FUZZ_SEED`` (default 1), ``FUZZ_PHASES`` (default every phase), ``FUZZ_WORKERS`` (default 1: hypothesis
describes strategies with ``ast.parse``, which Python 3.11 cannot run in two threads at once). Extra
arguments are passed on to ``schemathesis run``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "artifacts" / "fuzz"
DB_NAME = "kbportal_fuzz"
PHASES = "examples,coverage,fuzzing,stateful"
MAX_EXAMPLES = "50"
# Passed to the checks by name, so a check schemathesis adds in a later version is run too ("all").
CHECKS = "all"
sys.path.insert(0, str(ROOT))


def _fresh_database() -> None:
    """Drop the run's own database on the embedded server, so every run starts from the same data."""
    if os.environ.get("DATABASE_URL"):
        return
    import psycopg

    from kbportal import embedded

    os.environ["KBPORTAL_DB_NAME"] = DB_NAME
    admin = embedded.postgres_database("postgres")
    with psycopg.connect(dbname="postgres", user=admin["USER"], host=admin["HOST"], autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    if not os.environ.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(embedded.redis_url()).flushdb()  # caches and rate-limit counters of earlier runs


def _prepare() -> dict[str, str]:
    """Migrate, load a little real data, and issue the keys: ``FUZZ_KEY_ALL`` holding every scope, and one
    per scope (``FUZZ_KEY_ARTICLES_READ`` …) for scripts/fuzz.toml to give each operation the one it needs."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbportal.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from apps.apikeys.scopes import SCOPES
    from apps.apikeys.services import api_key_issue
    from apps.conversations.services.ingest import conversations_ingest
    from apps.demo.knowledge import load_demo_knowledge

    call_command("migrate", "--noinput", verbosity=0)
    load_demo_knowledge()
    call_command("index_answers", verbosity=0)
    conversations_ingest([_CONVERSATION], backfill=True)
    # A rate limit the run cannot reach: throttling is not what is under test.
    keys = {"FUZZ_KEY_ALL": api_key_issue(name="fuzz", scopes=sorted(SCOPES), rate_limit_per_minute=10**6).plaintext}
    issued = {}
    for scope in SCOPES:
        issued[scope] = api_key_issue(name=f"fuzz {scope}", scopes=[scope], rate_limit_per_minute=10**6)
        keys["FUZZ_KEY_" + scope.upper().replace(":", "_")] = issued[scope].plaintext
    _answered(issued["answers"].api_key)
    connections.close_all()
    return keys


def _answered(api_key) -> None:
    """Questions asked with the bots' key, for the choose/ and feedback/ operations to find (scripts/fuzz.toml
    gives them these query ids and suggested articles half of the time; a drawn uuid is always a 404)."""
    from apps.answers.services.answering import Question, question_answer

    results = [
        question_answer(question=Question(text=text, product="mall-app"), api_key=api_key)
        for text in ("退款多久到账", "怎么开发票", "钱怎么还没退回来", "注销账号")
    ]
    articles = {s["article_id"] for r in results for s in r.suggestions}
    articles |= {r.answer["article_id"] for r in results if r.answer}
    # libFuzzer dictionaries: one quoted value a line.
    (OUT / "query_ids.dict").write_text("".join(f'"{r.query_id}"\n' for r in results))
    (OUT / "article_ids.dict").write_text("".join(f'"{a}"\n' for a in sorted(articles)))


# The conversation the schema's example path names (apps/conversations/api/views.py).
_CONVERSATION = {
    "channel": "wechat",
    "external_id": "wx-demo-0001",
    "product": "mall-app",
    "customer": "c-0001",
    "messages": [
        {"id": "m1", "role": "customer", "sent_at": "2026-11-01T10:00:00+08:00", "text": "退款多久能到账？"},
        {"id": "m2", "role": "bot", "sender": "bot-1", "sent_at": "2026-11-01T10:00:02+08:00", "text": "1–3 个工作日"},
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The web server exited with status {server.returncode}; see {OUT / 'server.log'}.")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"The web server did not answer {url} within {timeout:.0f} s.")


@contextlib.contextmanager
def _server(port: int):
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
    }
    log = open(OUT / "server.log", "w")  # noqa: SIM115 (closed below, after the server)
    server = subprocess.Popen(
        ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
        yield
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # gunicorn's master and its workers: its own session
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


def _schemathesis(port: int, keys: dict[str, str], extra: list[str]) -> tuple[int, float]:
    command = [
        str(ROOT / ".venv" / "bin" / "schemathesis"),
        "--config-file",
        str(ROOT / "scripts" / "fuzz.toml"),
        "run",
        f"http://127.0.0.1:{port}/api/schema/",
        "--checks",
        CHECKS,
        "--phases",
        os.environ.get("FUZZ_PHASES", PHASES),
        "--max-examples",
        os.environ.get("FUZZ_MAX_EXAMPLES", MAX_EXAMPLES),
        "--seed",
        os.environ.get("FUZZ_SEED", "1"),
        "--workers",
        os.environ.get("FUZZ_WORKERS", "1"),
        "--header",
        "Authorization: Api-Key " + keys["FUZZ_KEY_ALL"],
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--report",
        "ndjson,junit",
        "--report-ndjson-path",
        str(OUT / "events.ndjson"),
        "--report-junit-path",
        str(OUT / "junit.xml"),
        "--no-color",
        *extra,
    ]
    started = time.monotonic()
    # Hypothesis keeps its caches beside the report, not in the checkout.
    env = {**os.environ, **keys, "HYPOTHESIS_STORAGE_DIRECTORY": str(OUT / ".hypothesis")}
    status = subprocess.call(command, cwd=ROOT, env=env)
    return status, time.monotonic() - started


def _summary(status: int, seconds: float) -> tuple[str, int]:
    """The report, counted from schemathesis's own event stream (every request it sent, every check it ran)."""
    requests = 0
    by_status: Counter[str] = Counter()
    by_phase: Counter[str] = Counter()
    covered: set[str] = set()
    selected = 0
    checks: Counter[str] = Counter()
    failures: set[tuple[str, str, str]] = set()
    for line in (OUT / "events.ndjson").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if "LoadingFinished" in event:
            selected = event["LoadingFinished"]["statistic"]["operations"]["selected"]
        if "ScenarioFinished" not in event:
            continue
        scenario = event["ScenarioFinished"]
        recorder = scenario.get("recorder") or {}
        interactions = [i for i in (recorder.get("interactions") or {}).values() if i.get("response")]
        requests += len(interactions)
        by_phase[scenario["phase"]] += len(interactions)
        for interaction in interactions:
            by_status[str(interaction["response"]["status_code"])] += 1
        # A scenario of the examples, coverage or fuzzing phase tests one operation (and may send it other
        # methods too, for unsupported_method); stateful scenarios chain operations tested on their own too.
        if interactions and scenario["phase"] != "stateful" and recorder.get("label"):
            covered.add(recorder["label"])
        for results in (recorder.get("checks") or {}).values():
            for check in results:
                checks[check["name"]] += 1
                if check["status"] == "failure":
                    failure = (check.get("failure_info") or {}).get("failure") or {}
                    failures.add((check["name"], failure.get("operation", "?"), failure.get("title", "?")))
    failed = Counter(name for name, _operation, _title in failures)
    refused = by_status.get("403", 0)
    ok = status == 0 and not refused
    lines = [
        "# make fuzz",
        "",
        f"schemathesis over `/api/schema/` against gunicorn on loopback: **{'passed' if ok else 'FAILED'}** "
        f"(exit status {status}) in {seconds:.0f} s.",
        "",
        f"schemathesis {_schemathesis_version()}, `--checks {CHECKS}`, phases "
        f"{os.environ.get('FUZZ_PHASES', PHASES)}, {os.environ.get('FUZZ_MAX_EXAMPLES', MAX_EXAMPLES)} examples per "
        f"operation, seed {os.environ.get('FUZZ_SEED', '1')}; events in `events.ndjson`, JUnit in `junit.xml`.",
        "",
        f"- Requests: {requests} ({', '.join(f'{phase} {n}' for phase, n in by_phase.items())})",
        f"- Operations covered: {len(covered)} of {selected} in the schema",
        f"- Responses by status: {', '.join(f'{code}: {n}' for code, n in sorted(by_status.items()))}",
        f"- Checks run: {len(checks)} kinds, {sum(checks.values())} times; unique failures: {len(failures)}",
        f"- 403 responses: {refused} (each operation is called with a key of its scope: expected 0)",
        "",
        "| check | runs | unique failures |",
        "|---|---:|---:|",
        *(f"| {name} | {n} | {failed[name]} |" for name, n in sorted(checks.items())),
        "",
        *(f"- FAILED {name}: {operation}: {title}" for name, operation, title in sorted(failures)),
        "",
        "Operations covered:",
        "",
        *(f"- `{label}`" for label in sorted(covered)),
        "",
    ]
    return "\n".join(lines), refused


def _schemathesis_version() -> str:
    from importlib.metadata import version

    return version("schemathesis")


def main(argv: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.iterdir():  # a report never mixes two runs
        if stale.is_file():
            stale.unlink()
    _fresh_database()
    started = time.monotonic()
    keys = _prepare()
    print(f"fuzz: database and keys ready in {time.monotonic() - started:.0f} s", flush=True)
    port = _free_port()
    with _server(port):
        status, seconds = _schemathesis(port, keys, argv)
    report, refused = _summary(status, seconds)
    (OUT / "report.md").write_text(report, encoding="utf-8")
    print(report)
    if refused:
        print(f"fuzz: FAILED: {refused} requests refused for their key's scope (403)", file=sys.stderr)
        return status or 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
