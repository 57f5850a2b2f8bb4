"""Concurrent load for the scale benchmark: forked processes that each loop one kind of work (ingestion,
dashboard pages, scoring …) over the same time window, and report how much they did and what it cost.

Each process has its own database connection (the parent closes its own before forking). Besides its own
CPU time, a process reports the CPU time of its PostgreSQL backend (read from /proc: the embedded server
runs on this machine), so the database's share of a workload is measured, not guessed.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_FORK = multiprocessing.get_context("fork")
_TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (None when not readable)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Window:
    """The shared time window: every process starts its measured work at ``begin`` and stops at ``end``
    (``time.monotonic`` is system-wide, so the clocks agree across processes)."""

    begin: float
    end: float

    def wait(self) -> None:
        delay = self.begin - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def open(self) -> bool:
        return time.monotonic() < self.end


@dataclass
class Meter:
    """What a loop did in its window: units of work, the seconds spent in the measured call, and CPU."""

    units: int = 0
    busy: float = 0.0
    latencies: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    _cpu: float = 0.0
    _db: float | None = None
    _wall: float = 0.0

    def start(self) -> None:
        self._cpu, self._db, self._wall = own_cpu(), backend_cpu(), time.monotonic()

    def result(self) -> dict[str, Any]:
        wall = time.monotonic() - self._wall
        db = backend_cpu()
        return {
            "units": self.units,
            "busy_seconds": self.busy,
            "wall_seconds": wall,
            "per_second": self.units / wall if wall else 0.0,
            "per_busy_second": self.units / self.busy if self.busy else 0.0,
            "cpu_seconds": own_cpu() - self._cpu,
            "db_cpu_seconds": None if db is None or self._db is None else db - self._db,
            "latencies_ms": self.latencies,
            **self.extra,
        }


def _child(name: str, target: Callable[..., dict], args: tuple, queue) -> None:
    try:
        from django.conf import settings

        settings.DEBUG = False  # no per-query bookkeeping in the measured processes (production behaviour)
        queue.put((name, "ok", target(*args)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        queue.put((name, "error", traceback.format_exc()))


def run_together(
    jobs: list[tuple[str, Callable[..., dict], tuple]],
    *,
    seconds: float,
    warmup: float = 8.0,
    during: Callable[[Window], dict] | None = None,
) -> dict[str, dict]:
    """Fork one process per job ``(name, target, args)``; each target is called as
    ``target(window, *args)`` and returns a dict. ``during(window)``, if given, runs in this process
    meanwhile (its result under the name "during"). Returns ``{name: result}`` once all have finished."""
    from django.db import connections

    connections.close_all()
    begin = time.monotonic() + warmup
    window = Window(begin, begin + seconds)
    queue = _FORK.Queue()
    processes = []
    for name, target, args in jobs:
        process = _FORK.Process(target=_child, args=(name, target, (window, *args), queue), name=name, daemon=True)
        process.start()
        processes.append(process)
    results: dict[str, dict] = {}
    errors = []
    if during is not None:
        results["during"] = during(window)
    for _ in processes:
        name, status, value = queue.get(timeout=seconds + warmup + 600)
        if status == "error":
            errors.append(f"{name}: {value}")
        else:
            results[name] = value
    for process in processes:
        process.join(timeout=60)
    if errors:
        raise RuntimeError("a load process failed:\n" + "\n".join(errors))
    return results
