"""Shared set-up for benchmarks: Django on a dedicated database (``kbportal_bench``), timing helpers."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbportal.settings")
    os.environ.setdefault("KBPORTAL_DB_NAME", "kbportal_bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset_knowledge() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE knowledge_staleflag, knowledge_similarquestion, knowledge_channelanswer, "
            "knowledge_articleversion_features, knowledge_articleversion, knowledge_article, knowledge_category, "
            "catalog_release_changed_features, catalog_release, catalog_feature, catalog_product "
            "RESTART IDENTITY CASCADE"
        )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def report(name: str, lines: list[str], data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    print(f"\n== {name} ==")
    for line in lines:
        print(line)


# --- The real server, as `make run` starts it (bench_answers.py still has its own copies of these) ---


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 by rank (the sample at that rank, no interpolation); zeros for no samples."""
    if not samples:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}
    ordered = sorted(samples)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def production_env(*, port: int, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG=0: no per-query bookkeeping) on loopback, for the server and the worker.
    The database is the caller's ``KBPORTAL_DB_NAME``; the embedded services those of ``KBPORTAL_DATA_DIR``."""
    return {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_server(env: dict[str, str], *, log: Any = None) -> Any:
    """``scripts/serve.sh`` (gunicorn with kbportal/gunicorn.conf.py) in its own process group; the
    returned process's pid is gunicorn's master (the script ends with ``exec``)."""
    import subprocess

    return subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "serve.sh")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        start_new_session=True,
    )


def wait_until_serving(process: Any, port: int, *, timeout: float = 120.0) -> None:
    """Until ``/healthz`` answers 200 (database and broker reachable), or fail if the process exits."""
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with status {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port}/healthz within {timeout:.0f} s")


def stop_process_group(process: Any, *, timeout: float = 30.0) -> None:
    """SIGTERM to the process group a ``start_new_session`` child leads; SIGKILL if it outlives ``timeout``."""
    import signal
    import subprocess

    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
