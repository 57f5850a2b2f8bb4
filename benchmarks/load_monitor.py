"""What the load test watches besides response times: each process's memory, the database's connections, the
broker's queues; waiting for the worker to drain; and the exactly-once check of the conversations sent."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

MIB = 1024 * 1024


@dataclass
class Watched:
    """The processes of the deployment under load, by group: each group is a root process and its children."""

    roots: dict[str, int]  # group → pid of its root process

    @classmethod
    def find(cls, *, server_pid: int, worker_pid: int) -> Watched:
        from kbportal import embedded

        data = embedded.data_dir()
        postmaster = int((data / "pg" / "postmaster.pid").read_text().split()[0])
        redis = int((data / "redis" / "redis.pid").read_text().strip())
        return cls({"gunicorn": server_pid, "celery worker": worker_pid, "postgres": postmaster, "redis": redis})

    def memory(self) -> dict[str, dict]:
        """Per group: resident memory (RSS) summed over its processes, and the processes. PostgreSQL's
        backends each map the shared buffers, so their RSS sum counts what they touched of them once per
        backend; ``private_mib`` (RSS minus shared pages) is what each process holds for itself."""
        groups: dict[str, dict] = {}
        for group, pid in self.roots.items():
            try:
                root = psutil.Process(pid)
                processes = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                groups[group] = {"rss_mib": 0.0, "private_mib": 0.0, "processes": 0, "pids": {}}
                continue
            rss = private = 0
            # CPU seconds: the live processes' own, plus what the root's exited children used (the kernel adds
            # a reaped child's time to its parent's): PostgreSQL backends come and go with connections.
            try:
                reaped = root.cpu_times()
                cpu = reaped.children_user + reaped.children_system
            except psutil.NoSuchProcess:
                cpu = 0.0
            pids: dict[int, float] = {}
            for process in processes:
                try:
                    info = process.memory_info()
                    times = process.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                rss += info.rss
                private += info.rss - info.shared
                cpu += times.user + times.system
                pids[process.pid] = round(info.rss / MIB, 1)
            groups[group] = {
                "rss_mib": round(rss / MIB, 1),
                "private_mib": round(private / MIB, 1),
                "processes": len(pids),
                "pids": pids,
                "cpu_s": round(cpu, 2),
            }
        return groups


class Database:
    """Counts on the load database, from a connection to the server's ``postgres`` database (so the
    monitor's own connection is never among those counted)."""

    def __init__(self, name: str) -> None:
        from load_data import _maintenance

        self.name = name
        self.conn = _maintenance()

    def connections(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT coalesce(state, 'none'), count(*) FROM pg_stat_activity WHERE datname = %s GROUP BY 1",
            [self.name],
        ).fetchall()
        states = dict(rows)
        return {"total": sum(states.values()), **states}

    def close(self) -> None:
        self.conn.close()


def broker_depths() -> dict[str, int]:
    """Messages waiting in the ``celery`` and ``qa`` queues, and those a worker holds unacknowledged."""
    import redis
    from django.conf import settings

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return {"celery": broker.llen("celery"), "qa": broker.llen("qa"), "unacked": broker.hlen("unacked")}


def redis_memory_mib() -> float:
    import redis
    from django.conf import settings

    return round(redis.Redis.from_url(settings.CELERY_BROKER_URL).info("memory")["used_memory"] / MIB, 1)


def sample(watched: Watched, database: Database) -> dict:
    own = psutil.Process().cpu_times()
    return {
        "t": time.time(),
        "load_average": psutil.getloadavg()[0],
        "driver_cpu_s": round(own.user + own.system, 2),  # the clients share the cores with the server
        "memory": watched.memory(),
        "connections": database.connections(),
        "broker": broker_depths(),
        "redis_used_mib": redis_memory_mib(),
    }


def drain(*, timeout: float) -> tuple[bool, float]:
    """Wait until both queues are empty and no task is held (acks are late: a running task stays in
    ``unacked`` until it is done), three polls in a row. Returns (drained, seconds waited)."""
    start = time.monotonic()
    quiet = 0
    while time.monotonic() - start < timeout:
        depths = broker_depths()
        quiet = quiet + 1 if not any(depths.values()) else 0
        if quiet >= 3:
            return True, time.monotonic() - start
        time.sleep(1)
    return False, time.monotonic() - start


# --- every conversation sent: stored once, scored once -------------------------------------------------

_CHECK_SQL = """
WITH sent(external_id, messages) AS (SELECT * FROM unnest(%s::text[], %s::int[])),
conv AS (
    SELECT c.id, c.external_id, c.updated_at FROM conversations_conversation c JOIN sent s USING (external_id)
),
msgs AS (
    SELECT m.conversation_id, count(*) AS n FROM conversations_message m JOIN conv ON conv.id = m.conversation_id
    GROUP BY 1
),
scores AS (
    SELECT a.conversation_id,
           count(*) FILTER (WHERE v.status = 'published') AS published,
           count(*) FILTER (WHERE a.computed_at < conv.updated_at) AS stale
    FROM qa_autoscore a JOIN conv ON conv.id = a.conversation_id JOIN qa_scorecardversion v ON v.id = a.version_id
    GROUP BY 1
)
SELECT s.external_id, s.messages, count(conv.id), coalesce(sum(msgs.n), 0), coalesce(sum(scores.published), 0),
       coalesce(sum(scores.stale), 0)
FROM sent s
LEFT JOIN conv USING (external_id)
LEFT JOIN msgs ON msgs.conversation_id = conv.id
LEFT JOIN scores ON scores.conversation_id = conv.id
GROUP BY s.external_id, s.messages
"""


def exactly_once(sent: dict[str, int], accepted: set[str]) -> dict:
    """Every conversation sent (external id → its number of messages) must be stored exactly once with
    all its messages, and have exactly one automatic score against the published scorecard version,
    computed after the conversation's last change.

    What "scored exactly once" can mean here: ``AutoScore`` is unique per (conversation, scorecard version)
    (constraint ``auto_score_unique_per_version``) and scoring again rewrites that row, so a duplicate row
    is impossible; what can go wrong is a missing score (a lost task), a score from a version that is not
    the published one, or a score older than the conversation (the conversation changed after it was
    scored). The demo scorecard applies to every team and channel, so each conversation needs exactly one.
    """
    from django.db import connection

    ids = sorted(sent)
    with connection.cursor() as cursor:
        cursor.execute(_CHECK_SQL, [ids, [sent[i] for i in ids]])
        rows = cursor.fetchall()
    connection.close()
    missing = [r[0] for r in rows if r[2] == 0]
    duplicated = [r[0] for r in rows if r[2] > 1]
    messages_off = [r[0] for r in rows if r[2] == 1 and r[3] != r[1]]
    unscored = [r[0] for r in rows if r[2] == 1 and r[4] == 0]
    scored_twice = [r[0] for r in rows if r[4] > 1]
    stale = [r[0] for r in rows if r[5] > 0]
    stored_once = sum(1 for r in rows if r[2] == 1)
    scored_once = sum(1 for r in rows if r[2] == 1 and r[4] == 1 and r[5] == 0)
    not_accepted = sorted(set(sent) - accepted)
    ok = len(rows) == len(sent) and stored_once == len(sent) == scored_once and not messages_off
    return {
        "ok": ok,
        "sent": len(sent),
        "accepted": len(accepted),
        "sent_not_accepted": not_accepted[:20],
        "sent_not_accepted_count": len(not_accepted),
        "stored_once": stored_once,
        "missing": missing[:20],
        "missing_count": len(missing),
        "duplicated": duplicated[:20],
        "duplicated_count": len(duplicated),
        "messages_mismatch": messages_off[:20],
        "messages_mismatch_count": len(messages_off),
        "scored_once": scored_once,
        "unscored": unscored[:20],
        "unscored_count": len(unscored),
        "scored_more_than_once": scored_twice[:20],
        "scored_more_than_once_count": len(scored_twice),
        "stale_scores": stale[:20],
        "stale_scores_count": len(stale),
    }


_SCORING_DONE = re.compile(r"Task qa\.score_conversations\[[^\]]+\] succeeded in [0-9.]+s: (\d+)")


def scoring_work(worker_log: Path) -> dict[str, int]:
    """What the worker's log says it did: scoring tasks that succeeded and the conversations they scored
    in total (a conversation scored twice, by a redelivered or repeated task, counts twice)."""
    text = worker_log.read_text(errors="replace")
    results = [int(n) for n in _SCORING_DONE.findall(text)]
    return {
        "tasks": len(results),
        "conversations_scored": sum(results),
        "task_failures": len(re.findall(r"Task qa\.score_conversations\[[^\]]+\] (?:raised|retry)", text)),
    }


_ERROR_LINE = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b|/ERROR\]|/CRITICAL\]|\[ERROR\]|\[CRITICAL\]")


def log_errors(path: Path, *, context: int = 40) -> dict:
    """Error lines in a log (Django's request errors, gunicorn's worker timeouts, Celery's task failures),
    with the lines after the first one (its traceback) as evidence."""
    lines = path.read_text(errors="replace").splitlines()
    hits = [n for n, line in enumerate(lines) if _ERROR_LINE.search(line)]
    first = lines[hits[0] : hits[0] + context] if hits else []
    return {"file": path.name, "count": len(hits), "first": first}
