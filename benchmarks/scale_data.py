"""Data for the scale benchmark (``bench_scale.py``), generated set-wise in SQL.

- Conversations spread evenly over a span of days ending now, ids in time order (as they arrive), with the
  dimensions and metric spreads of ``bench_insights.py`` (5 channels, 4 teams, 3 products, 400 agents).
- Their messages: 12 per conversation (the demo generator's mean is 12.0), 11-49 s apart, the demo's role
  mix (customer 5, bot 3, agent 3, system 1 of 12), text cut from the demo generator's own Chinese with its
  lengths (mean ~22 characters, nine in ten short, one in ten 40-110), inserted in conversation order into
  ``scale_message_plain``, a table defined as ``conversations_message`` is (same columns, the same three
  indexes and two foreign keys, added after loading; the keys NOT VALID: the generated rows are consistent by
  construction, and every row inserted later is checked).
- The same rows copied into ``scale_message_month``: that table range-partitioned by ``sent_at`` month
  (Asia/Shanghai months), with what partitioning forces on the keys: the primary key becomes
  ``(id, sent_at)``, the unique key ``(conversation_id, external_id, sent_at)``.

Both are built the same way (rows first, then indexes), so neither has fresher indexes than the other.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone

PLAIN = "scale_message_plain"
PARTITIONED = "scale_message_month"
ROLES = ["customer", "bot", "customer", "bot", "customer", "bot", "customer", "agent", "customer", "agent", "agent"]
ROLES.append("system")  # 12 in all
PRODUCTS = ("mall-app", "wallet-app", "travel-app")
TEAMS = ("售后一组", "售后二组", "售前组", "金融组")
AGENTS = 400
BOTS = 3


def sql(statement: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def one(statement: str, params=None):
    return sql(statement, params)[0][0]


def wal_lsn() -> str:
    return one("SELECT pg_current_wal_lsn()::text")


def wal_bytes_since(lsn: str) -> int:
    return int(one("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", [lsn]))


SNIPPETS = 997


def snippets() -> None:
    """A temporary table of message texts cut from the demo's Chinese with the demo's lengths: nine in ten
    5-29 characters, one in ten 40-109 (mean ~22)."""
    corpus = text_corpus()
    rows = []
    for n in range(SNIPPETS):
        length = 40 + n % 70 if n % 10 == 0 else 5 + (n * 7) % 25
        start = (n * 131) % (len(corpus) - 120)
        rows.append((n, corpus[start : start + length]))
    sql("CREATE TEMP TABLE IF NOT EXISTS scale_snippet (n int PRIMARY KEY, text text NOT NULL)")
    sql("TRUNCATE scale_snippet")
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO scale_snippet VALUES (%s, %s)", rows)
    sql("ANALYZE scale_snippet")


def text_corpus(chars: int = 4000) -> str:
    """Real Chinese from the demo generator's conversations, as one string to cut messages from."""
    from apps.demo.conversations import generate_conversations

    parts: list[str] = []
    size = 0
    for conversation in generate_conversations(400, seed=42):
        for message in conversation["messages"]:
            text = message.get("text") or ""
            parts.append(text)
            size += len(text)
        if size >= chars:
            break
    return "".join(parts)[:chars]


def reset() -> None:
    """Empty every table that holds conversations or what was derived from them; dimensions are rebuilt."""
    sql(
        "TRUNCATE insights_dailyservicestats, insights_dailyagentstats, insights_dailyagentdetailstats, "
        "insights_dailyanswerstats, insights_rollupstate, qa_finding, qa_autoscore, qa_reviewtask, reviews_review "
        "CASCADE"
    )
    sql(
        "TRUNCATE conversations_message, conversations_conversation, conversations_customer, conversations_agent "
        "RESTART IDENTITY CASCADE"
    )
    drop_copies()


def drop_copies() -> None:
    sql(f"DROP TABLE IF EXISTS {PARTITIONED}, {PLAIN}")


def dimensions() -> dict[str, list[int]]:
    """Products, teams and agents (400 humans, 3 bots); the ids the generators pick from."""
    from apps.catalog.models import Product
    from apps.conversations.models import Team

    for slug in PRODUCTS:
        Product.objects.get_or_create(slug=slug, defaults={"name": slug})
    for name in TEAMS:
        Team.objects.get_or_create(name=name)
    if not one("SELECT count(*) FROM conversations_agent"):
        sql(
            "INSERT INTO conversations_agent (code, name, kind, created_at) "
            "SELECT 'agent-' || n, '坐席' || n, 'human', now() - interval '2 years' FROM generate_series(1, %s) n",
            [AGENTS],
        )
        sql(
            "INSERT INTO conversations_agent (code, name, kind, created_at) "
            "SELECT 'bot-' || n, '机器人' || n, 'bot', now() - interval '2 years' FROM generate_series(1, %s) n",
            [BOTS],
        )
    return {
        "channels": one("SELECT array_agg(id ORDER BY id) FROM conversations_channel"),
        "teams": one("SELECT array_agg(id ORDER BY id) FROM conversations_team WHERE name = ANY(%s)", [list(TEAMS)]),
        "products": one("SELECT array_agg(id ORDER BY id) FROM catalog_product WHERE slug = ANY(%s)", [list(PRODUCTS)]),
        "humans": one("SELECT array_agg(id ORDER BY id) FROM conversations_agent WHERE kind = 'human'"),
        "bots": one("SELECT array_agg(id ORDER BY id) FROM conversations_agent WHERE kind = 'bot'"),
    }


def build_conversations(count: int, *, days: int, end: datetime | None = None, prefix: str = "s") -> float:
    """``count`` conversations evenly over the ``days`` days ending at ``end`` (now); returns seconds."""
    ids = dimensions()
    end = end or timezone.now()
    started = time.perf_counter()
    # An agent works in one team and mostly one channel (one conversation in ten on another); products vary.
    sql(
        """
        INSERT INTO conversations_conversation (
            channel_id, external_id, team_id, product_id, served_by_id, started_at, ended_at, received_at,
            updated_at, tags, resolution, message_count, customer_message_count, agent_message_count,
            bot_message_count, first_response_seconds, bot_first_response_seconds, human_first_response_seconds,
            handle_seconds, handoff, bot_failure_streak, repeat_contact, masked_count, csat, sla_breached)
        SELECT (%(channels)s::bigint[])[1 + (agent + CASE WHEN n %% 10 = 0 THEN 1 ELSE 0 END)
                                            %% cardinality(%(channels)s::bigint[])],
               %(prefix)s || '-' || n,
               (%(teams)s::bigint[])[1 + agent %% cardinality(%(teams)s::bigint[])],
               (%(products)s::bigint[])[1 + (n / 3) %% cardinality(%(products)s::bigint[])],
               (%(humans)s::bigint[])[agent], started, started + interval '6 minutes', started, started, '{}', '',
               12, 5, 3, 3,
               5 + (n %% 40), CASE WHEN n %% 3 > 0 THEN 2 + n %% 5 END, 20 + (n * 13) %% 300,
               200 + (n * 17) %% 900, n %% 3 = 0, (n %% 5)::smallint, n %% 11 = 0, 0,
               CASE WHEN n %% 2 = 0 THEN 1 + n %% 5 END, n %% 17 = 0
        FROM (SELECT n, 1 + (n * 7919) %% %(agents)s AS agent,
                     %(start)s + (n::float8 / %(count)s) * (%(end)s - %(start)s) AS started
              FROM generate_series(1::bigint, %(count)s::bigint) n) g
        ORDER BY n
        """,
        {
            **ids,
            "agents": len(ids["humans"]),
            "count": count,
            "start": end - timedelta(days=days),
            "end": end - timedelta(minutes=7),  # the newest conversation has ended by now
            "prefix": prefix,
        },
    )
    return time.perf_counter() - started


def build_messages(*, chunk: int = 50_000, progress=None) -> tuple[float, int]:
    """Twelve messages for every conversation into ``scale_message_plain``, in conversation (= time) order,
    then its indexes and foreign keys; returns (seconds, rows)."""
    ids = dimensions()
    snippets()
    low, high = sql("SELECT min(id), max(id) FROM conversations_conversation")[0]
    sql(f"DROP TABLE IF EXISTS {PLAIN}")
    sql(
        f"CREATE TABLE {PLAIN} (LIKE conversations_message INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)"
    )
    started = time.perf_counter()
    rows = 0
    for first in range(low, high + 1, chunk):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {PLAIN}
                    (conversation_id, external_id, role, sender, agent_id, sent_at, text, type, masked_count)
                SELECT c.id, 'm' || k, r.role,
                       CASE r.role WHEN 'agent' THEN 'agent-' || c.served_by_id
                                   WHEN 'bot' THEN 'bot-' || (1 + c.id %% %(bot_count)s)
                                   WHEN 'customer' THEN 'u-' || c.id ELSE '' END,
                       CASE r.role WHEN 'agent' THEN c.served_by_id
                                   WHEN 'bot' THEN (%(bots)s::bigint[])[1 + c.id %% %(bot_count)s] END,
                       c.started_at + ((k - 1) * 30 + CASE WHEN k > 1 THEN (c.id * k) %% 20 ELSE 0 END)
                                      * interval '1 second',
                       s.text,
                       'text', 0
                FROM conversations_conversation c
                CROSS JOIN LATERAL (SELECT k, (%(roles)s::text[])[k] AS role FROM generate_series(1, 12) k) r
                JOIN scale_snippet s ON s.n = (c.id * 12 + r.k) %% %(snippets)s
                WHERE c.id >= %(first)s AND c.id < %(last)s
                ORDER BY c.id, r.k
                """,
                {
                    "first": first,
                    "last": first + chunk,
                    "bots": ids["bots"],
                    "bot_count": len(ids["bots"]),
                    "snippets": SNIPPETS,
                    "roles": ROLES,
                },
            )
            rows += cursor.rowcount
        if progress:
            progress(rows)
    sql("SET maintenance_work_mem = '256MB'")
    # conversations_message's own indexes (apps/conversations/models.py), under their own names.
    sql(f"ALTER TABLE {PLAIN} ADD PRIMARY KEY (id)")
    sql(f"ALTER TABLE {PLAIN} ADD CONSTRAINT {PLAIN}_unique UNIQUE (conversation_id, external_id)")
    sql(f"CREATE INDEX {PLAIN}_agent ON {PLAIN} (agent_id, sent_at) WHERE agent_id IS NOT NULL")
    _foreign_keys(PLAIN)
    sql("RESET maintenance_work_mem")
    return time.perf_counter() - started, rows


def _foreign_keys(table: str) -> None:
    """The same foreign keys as conversations_message: checked on every insert, deferred to commit as Django's
    are. NOT VALID: the generated rows are consistent by construction, new rows are checked."""
    for column, target in (("conversation_id", "conversations_conversation"), ("agent_id", "conversations_agent")):
        sql(
            f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) REFERENCES {target} (id) "
            "DEFERRABLE INITIALLY DEFERRED NOT VALID"
        )


def month_starts(first: date, last: date) -> list[date]:
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _bound(day: date) -> str:
    return f"{day:%Y-%m-%d} 00:00:00+08"  # Asia/Shanghai months (TIME_ZONE)


def build_partitioned() -> tuple[float, list[tuple[str, date, date]]]:
    """Copy ``scale_message_plain`` into a table partitioned by ``sent_at`` month (one partition ahead of
    the current month, as a beat task would create it); returns (seconds, partitions)."""
    sql(f"DROP TABLE IF EXISTS {PARTITIONED}")
    low, high = sql(
        "SELECT (min(sent_at) AT TIME ZONE 'Asia/Shanghai')::date, (max(sent_at) AT TIME ZONE 'Asia/Shanghai')::date "
        f"FROM {PLAIN}"
    )[0]
    months = month_starts(low, (high.replace(day=1) + timedelta(days=32)).replace(day=1))
    started = time.perf_counter()
    sql(
        f"CREATE TABLE {PARTITIONED} (LIKE {PLAIN} INCLUDING DEFAULTS INCLUDING IDENTITY "
        "INCLUDING CONSTRAINTS) PARTITION BY RANGE (sent_at)"
    )
    partitions = []
    for start, end in zip(months, [*months[1:], (months[-1] + timedelta(days=32)).replace(day=1)], strict=True):
        name = f"{PARTITIONED}_{start:%Y_%m}"
        sql(f"CREATE TABLE {name} PARTITION OF {PARTITIONED} FOR VALUES FROM ('{_bound(start)}') TO ('{_bound(end)}')")
        partitions.append((name, start, end))
    sql(f"INSERT INTO {PARTITIONED} SELECT * FROM {PLAIN}")
    sql("SET maintenance_work_mem = '256MB'")
    sql(f"ALTER TABLE {PARTITIONED} ADD PRIMARY KEY (id, sent_at)")
    sql(f"ALTER TABLE {PARTITIONED} ADD CONSTRAINT {PARTITIONED}_unique UNIQUE (conversation_id, external_id, sent_at)")
    sql(f"CREATE INDEX {PARTITIONED}_agent ON {PARTITIONED} (agent_id, sent_at) WHERE agent_id IS NOT NULL")
    _foreign_keys(PARTITIONED)
    sql(f"SELECT setval(pg_get_serial_sequence('{PARTITIONED}', 'id'), (SELECT max(id) FROM {PLAIN}))")
    sql("RESET maintenance_work_mem")
    return time.perf_counter() - started, partitions


def sizes() -> dict[str, dict[str, int]]:
    """Heap and index bytes of the plain table and of the partitioned one (its partitions summed)."""
    plain = sql(f"SELECT pg_table_size('{PLAIN}'), pg_indexes_size('{PLAIN}'), (SELECT count(*) FROM {PLAIN})")[0]
    part = sql(
        f"SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)), count(*) FILTER (WHERE isleaf) "
        f"FROM pg_partition_tree('{PARTITIONED}') WHERE isleaf"
    )[0]
    return {
        "plain": {"table": int(plain[0]), "indexes": int(plain[1]), "rows": int(plain[2])},
        "partitioned": {"table": int(part[0]), "indexes": int(part[1]), "partitions": int(part[2])},
    }
