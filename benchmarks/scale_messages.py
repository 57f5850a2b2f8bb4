"""Part 1 of the scale benchmark: ``conversations_message`` as one table vs partitioned by ``sent_at`` month.

At each size the same rows are in both tables (``scale_data``), and the statements the portal sends to
``conversations_message`` are timed on each, interleaved, median of five rounds:

- transcript: a recent conversation's messages, as the review page and the conversation API read them
  (``apps/reviews/views.py``, ``apps/conversations/selectors.py``): by conversation, ordered by time;
- metrics: ``recompute_metrics``' statement (``apps/conversations/services/metrics.py``) for a batch of
  1,000 recent conversations, as every ingestion batch runs it (in a transaction rolled back); also, as a
  diagnostic, with the planner's nested loops off (its final join is misestimated as the conversations
  table grows; the difference is what that costs, on either table);
- scoring load: the messages of 500 recent conversations, as ``conversations_score`` loads them;
- ingestion: the 6,000 messages of 500 new conversations by COPY, then the 12,000 of 1,000 conversations,
  half of them just stored, through the known-conversation path (``INSERT … ON CONFLICT DO NOTHING``), as
  ``apps/conversations/services/ingest.py`` writes them (rolled back, foreign keys checked row by row);
- retention: the oldest full month removed: ``DELETE`` then ``VACUUM`` on the plain table, ``DETACH`` then
  ``DROP`` of its partition on the partitioned one; seconds and WAL bytes (what a replica must replay).

None of these statements names ``sent_at``: every one finds messages by conversation. On the partitioned
table they therefore look into every partition; the "+ time bound" variants add the bound a conversation
row gives (``sent_at`` between its ``started_at`` and ``ended_at``), which prunes to one partition (on the
plain table the same bound separates the cost of partitioning from that of the extra condition).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from scale_data import (
    PARTITIONED,
    PLAIN,
    build_conversations,
    build_messages,
    build_partitioned,
    one,
    sizes,
    sql,
    wal_bytes_since,
    wal_lsn,
)
from scale_data import reset as reset_data

MODES = ("plain", "plain + time bound", "partitioned", "partitioned + time bound")
ROUNDS = 5
COLUMNS = "conversation_id, external_id, role, sender, agent_id, sent_at, text, type, masked_count"
TYPES = ["int8", "text", "text", "text", "int8", "timestamptz", "text", "text", "int2"]


def _table(mode: str) -> str:
    return PLAIN if mode.startswith("plain") else PARTITIONED


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- the statements -------------------------------------------------------------------------------


def transcript(mode: str, conversations: list[tuple]) -> float:
    """Milliseconds per conversation."""
    table, bound = _table(mode), mode.endswith("bound")
    query = f"SELECT id, conversation_id, role, sender, sent_at, text FROM {table} WHERE conversation_id = %s"
    if bound:
        query += " AND sent_at >= %s AND sent_at <= %s"
    query += " ORDER BY sent_at, id"

    def run() -> None:
        with connection.cursor() as cursor:
            for pk, started, ended in conversations:
                cursor.execute(query, [pk, started, ended] if bound else [pk])
                cursor.fetchall()

    return _timed(run) * 1000 / len(conversations)


def _recompute_sql(mode: str) -> str:
    from apps.conversations.services.metrics import _RECOMPUTE

    source = "FROM conversations_message m\n    WHERE m.conversation_id = ANY(%(ids)s::bigint[])"
    if source not in _RECOMPUTE:
        raise RuntimeError("metrics._RECOMPUTE changed: update scale_messages._recompute_sql")
    replaced = f"FROM {_table(mode)} m\n    WHERE m.conversation_id = ANY(%(ids)s::bigint[])"
    if mode.endswith("bound"):
        replaced += " AND m.sent_at >= %(lo)s AND m.sent_at <= %(hi)s"
    return _RECOMPUTE.replace(source, replaced)


def recompute(mode: str, batches: list[tuple], *, nestloop: bool = True) -> float:
    """Milliseconds per batch of 1,000 conversations (each batch's UPDATE rolled back). ``nestloop=False``:
    a diagnostic, the planner without nested-loop joins (see ``measure``)."""
    from django.conf import settings

    statement = _recompute_sql(mode)
    total = 0.0
    for ids, lo, hi in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            if not nestloop:
                cursor.execute("SET LOCAL enable_nestloop = off")
            params = {"ids": ids, "lo": lo, "hi": hi, "failure": settings.CONVERSATIONS_BOT_FAILURE_PATTERN}
            total += _timed(lambda cursor=cursor, params=params: cursor.execute(statement, params))
            transaction.set_rollback(True)
    return total * 1000 / len(batches)


def scoring_load(mode: str, batches: list[tuple]) -> float:
    """Milliseconds per batch of 500 conversations."""
    table, bound = _table(mode), mode.endswith("bound")
    query = f"SELECT id, conversation_id, role, text FROM {table} WHERE conversation_id = ANY(%s)"
    if bound:
        query += " AND sent_at >= %s AND sent_at <= %s"
    query += " ORDER BY conversation_id, sent_at, id"

    def run() -> None:
        with connection.cursor() as cursor:
            for ids, lo, hi in batches:
                cursor.execute(query, [ids, lo, hi] if bound else [ids])
                cursor.fetchall()

    return _timed(run) * 1000 / len(batches)


def ingest(mode: str, incoming: list[list[tuple]]) -> tuple[float, float]:
    """(ms for COPY of 500 new conversations' messages, ms for the known-conversation path of 12,000 rows
    of which 6,000 are stored already); foreign keys checked as each row goes in; rolled back."""
    table = _table(mode)
    conflict = "(conversation_id, external_id)" if table == PLAIN else "(conversation_id, external_id, sent_at)"
    new = [row for rows in incoming[:500] for row in rows]
    known = [row for rows in incoming for row in rows]  # the first 500 conversations again, then 500 more
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_message (conversation_id bigint, external_id text, "
            "role text, sender text, agent_id bigint, sent_at timestamptz, text text, type text, "
            "masked_count smallint) ON COMMIT DELETE ROWS"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(TYPES)
            for row in new:
                copy.write_row(row)
        copied = time.perf_counter() - started
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY incoming_message ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(TYPES)
            for row in known:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({COLUMNS}) SELECT {COLUMNS} FROM incoming_message "
            f"ORDER BY conversation_id, external_id ON CONFLICT {conflict} DO NOTHING"
        )
        inserted = cursor.rowcount
        upserted = time.perf_counter() - started
        if inserted != len(known) - len(new):
            raise RuntimeError(f"{mode}: {inserted} rows inserted, {len(known) - len(new)} expected")
        transaction.set_rollback(True)
    return copied * 1000, upserted * 1000


def partitions_scanned(mode: str, conversation: tuple) -> int:
    table, bound = _table(mode), mode.endswith("bound")
    query = f"EXPLAIN (FORMAT JSON) SELECT id FROM {table} WHERE conversation_id = %s"
    if bound:
        query += " AND sent_at >= %s AND sent_at <= %s"
    plan = one(query, list(conversation) if bound else [conversation[0]])

    def relations(node: dict) -> int:
        own = 1 if "Relation Name" in node else 0
        return own + sum(relations(child) for child in node.get("Plans", []))

    return relations(plan[0]["Plan"])


def retention(partitions: list[tuple]) -> dict:
    """Remove the oldest full month from both tables."""
    name, start, end = partitions[1]  # the first partition holds a partial month
    lo, hi = f"{start:%Y-%m-%d} 00:00:00+08", f"{end:%Y-%m-%d} 00:00:00+08"
    rows = one(f"SELECT count(*) FROM {name}")
    lsn = wal_lsn()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {PLAIN} WHERE conversation_id IN (SELECT id FROM conversations_conversation "
            "WHERE started_at >= %s AND started_at < %s)",
            [lo, hi],
        )
        deleted = cursor.rowcount
    delete_seconds = time.perf_counter() - started
    delete_wal = wal_bytes_since(lsn)
    lsn = wal_lsn()
    started = time.perf_counter()
    sql(f"VACUUM {PLAIN}")
    vacuum_seconds = time.perf_counter() - started
    vacuum_wal = wal_bytes_since(lsn)
    lsn = wal_lsn()
    started = time.perf_counter()
    sql(f"ALTER TABLE {PARTITIONED} DETACH PARTITION {name}")
    sql(f"DROP TABLE {name}")
    drop_seconds = time.perf_counter() - started
    drop_wal = wal_bytes_since(lsn)
    return {
        "month": f"{start:%Y-%m}",
        "partition_rows": rows,
        "deleted_rows": deleted,
        "delete_seconds": delete_seconds,
        "delete_wal_bytes": delete_wal,
        "vacuum_seconds": vacuum_seconds,
        "vacuum_wal_bytes": vacuum_wal,
        "drop_seconds": drop_seconds,
        "drop_wal_bytes": drop_wal,
    }


# --- one size ---------------------------------------------------------------------------------------


def _samples() -> dict:
    sql("SELECT setseed(0.42)")
    recent = sql(
        "SELECT id, started_at, ended_at FROM conversations_conversation "
        "WHERE started_at >= now() - interval '7 days' ORDER BY random() LIMIT 500"
    )
    latest = sql(
        "SELECT id, started_at, ended_at FROM conversations_conversation WHERE external_id LIKE 's-%%' "
        "ORDER BY id DESC LIMIT 5000"
    )[::-1]

    def batches(size: int) -> list[tuple]:
        return [
            ([r[0] for r in chunk], min(r[1] for r in chunk), max(r[2] for r in chunk))
            for chunk in (latest[i : i + size] for i in range(0, len(latest), size))
        ]

    return {"transcripts": recent, "recompute": batches(1000), "scoring": batches(500)[:10]}


def _incoming() -> list[list[tuple]]:
    """1,000 conversations of the last day (rows committed, no messages yet), and the 12 messages of each
    as ingestion would COPY them."""
    build_conversations(1000, days=1, end=timezone.now(), prefix="in")
    rows = sql(
        "SELECT id, served_by_id, started_at FROM conversations_conversation WHERE external_id LIKE 'in-%%' ORDER BY id"
    )
    roles = ["customer", "bot", "customer", "agent"] * 3
    text = "您好，请问退款多久能到账？我昨天申请的"
    conversations = []
    for pk, agent, started in rows:
        messages = []
        for k, role in enumerate(roles):
            sent = started + timedelta(seconds=30 * k)
            messages.append((pk, f"m{k + 1}", role, "", agent if role == "agent" else None, sent, text, "text", 0))
        conversations.append(messages)
    return conversations


def measure(messages: int, log) -> dict:
    reset_data()
    conversations = messages // 12
    built = {"conversations_seconds": build_conversations(conversations, days=395)}
    built["messages_seconds"], rows = build_messages(progress=None)
    built["partitioned_seconds"], partitions = build_partitioned()
    started = time.perf_counter()
    sql(f"VACUUM (ANALYZE) {PLAIN}")
    built["vacuum_analyze_plain_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    sql(f"VACUUM (ANALYZE) {PARTITIONED}")
    built["vacuum_analyze_partitioned_seconds"] = time.perf_counter() - started
    sql("ANALYZE conversations_conversation")
    log(
        f"  {rows:,} messages in {len(partitions)} monthly partitions; built in "
        f"{sum(v for k, v in built.items() if not k.startswith('vacuum')):.0f} s"
    )
    samples = _samples()
    incoming = _incoming()
    timings: dict[str, dict[str, list[float]]] = {mode: {} for mode in MODES}
    for round_ in range(ROUNDS):
        order = MODES[round_ % len(MODES) :] + MODES[: round_ % len(MODES)]  # a different mode first each round
        for mode in order:
            t = timings[mode]
            t.setdefault("transcript_ms", []).append(transcript(mode, samples["transcripts"]))
            t.setdefault("recompute_ms", []).append(recompute(mode, samples["recompute"]))
            t.setdefault("scoring_load_ms", []).append(scoring_load(mode, samples["scoring"]))
            if not mode.endswith("bound"):  # writes do not name sent_at
                # The statement's last join is estimated at one row as the conversations table grows, and
                # becomes nested loops over the 1,000-row CTEs (O(batch²)); this shows what that costs.
                t.setdefault("recompute_no_nestloop_ms", []).append(
                    recompute(mode, samples["recompute"], nestloop=False)
                )
                copied, upserted = ingest(mode, incoming)
                t.setdefault("ingest_copy_ms", []).append(copied)
                t.setdefault("ingest_known_ms", []).append(upserted)
    medians = {mode: {k: statistics.median(v) for k, v in t.items()} for mode, t in timings.items()}
    scanned = {mode: partitions_scanned(mode, samples["transcripts"][0]) for mode in MODES}
    size = sizes()
    removed = retention(partitions)
    return {
        "messages": rows,
        "conversations": conversations,
        "partitions": len(partitions),
        "build": built,
        "queries": medians,
        "rounds": timings,
        "relations_scanned_per_transcript": scanned,
        "sizes": size,
        "retention": removed,
    }


def cleanup() -> None:
    reset_data()
