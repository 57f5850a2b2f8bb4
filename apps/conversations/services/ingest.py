"""Bringing conversations in: one code path for the REST API, file imports and the demo generator.

A batch is checked and masked item by item in Python first (:func:`prepare`; a bad conversation is
reported and writes nothing), then written set-wise in one transaction (:func:`store`): dimensions with
``INSERT … ON CONFLICT DO NOTHING``, conversations with one upsert, the messages of new conversations
with COPY straight into the table, those of known conversations with COPY into a temporary table and one
``INSERT … SELECT … ON CONFLICT DO NOTHING`` (so a message id already stored is never duplicated), and
metrics with two statements. Posting the same conversation again, or concurrently, converges on the same
rows: conversations are upserted in a fixed order, so concurrent batches never deadlock.

Repeat contacts look across a customer's conversations, so two transactions writing conversations of the
same customer at once would each miss the other's. A transaction therefore first takes a transaction-level
advisory lock on each of its customers' buckets (:func:`customer_bucket`), in ascending order: writers of
the same customer take turns, writers of different customers (almost always) do not wait.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.conversations.models import Agent, AgentKind, Channel, Customer, Team
from apps.conversations.payload import ConversationIn, PayloadErrors, parse_conversation
from apps.conversations.services.metrics import recompute_metrics
from apps.core.masking import masker_from_settings

MAX_BATCH = 1000
CUSTOMER_BUCKETS = 256  # advisory locks per transaction at most: well inside PostgreSQL's lock table
_LOCK_SPACE = 0x4B42  # the advisory-lock class of customer buckets ("KB")


def customer_bucket(customer: str) -> int:
    """The lock bucket of a customer (stable across processes: import writers are split by it)."""
    return zlib.crc32(customer.encode()) % CUSTOMER_BUCKETS


@dataclass
class ItemResult:
    index: int
    channel: str | None
    external_id: str | None
    status: str  # created | updated | rejected
    messages_added: int = 0
    errors: dict[str, list[str]] = field(default_factory=dict)
    conversation_id: int | None = None  # the stored conversation (not part of the API's answer)

    def as_dict(self) -> dict:
        body = {"index": self.index, "channel": self.channel, "external_id": self.external_id, "status": self.status}
        if self.status == "rejected":
            body["errors"] = self.errors
        else:
            body["messages_added"] = self.messages_added
        return body


@dataclass
class Prepared:
    """A batch checked and masked in Python, ready for :func:`store` (which only talks to the database)."""

    results: list[ItemResult]
    parsed: list[tuple[int, ConversationIn]]


def prepare(raw_items: Iterable[object]) -> Prepared:
    """Check every conversation and mask its messages' personal data; nothing touches the database.

    An item is a conversation as sent (a dict), or the JSON text of one (a line of a file import, decoded
    here, in the writer process, rather than decoded and pickled over by the reading process)."""
    results: list[ItemResult] = []
    parsed: list[tuple[int, ConversationIn]] = []
    masker = masker_from_settings() if settings.PII_MASKING else None
    for index, raw in enumerate(raw_items):
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError as exc:
                errors = {"non_field_errors": [_("not valid JSON (%(error)s)") % {"error": exc}]}
                results.append(ItemResult(index, None, None, "rejected", errors=errors))
                continue
        try:
            item = parse_conversation(raw)
        except PayloadErrors as exc:
            channel = raw.get("channel") if isinstance(raw, dict) else None
            external_id = raw.get("external_id") if isinstance(raw, dict) else None
            results.append(ItemResult(index, _str(channel), _str(external_id), "rejected", errors=exc.errors))
            continue
        if masker is not None:
            for message in item.messages:
                if message.text:
                    masked = masker.mask(message.text)
                    message.text, message.masked_count = masked.text, masked.total
        results.append(ItemResult(index, item.channel, item.external_id, "pending"))
        parsed.append((index, item))
    return Prepared(results, parsed)


def store(batch: Prepared, *, create_unknown: bool | None = None, durable: bool = True) -> list[ItemResult]:
    """Write a prepared batch in one transaction; one result per item, in order.

    ``durable=False`` (file imports, which can simply be run again) commits without waiting for the
    write-ahead log to reach the disk: a database crash may lose the last batches, never corrupt them.
    """
    create_unknown = settings.CONVERSATIONS_CREATE_UNKNOWN if create_unknown is None else create_unknown
    results, parsed = batch.results, batch.parsed
    if parsed:
        try:
            with transaction.atomic():
                if not durable:
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit = off")
                _write(parsed, results, create_unknown)
        except OperationalError:
            raise  # the database is unavailable (restarting, connection lost): nothing was written; retry
        except DatabaseError:
            # Something only the database could refuse: find the culprit by writing items one by one.
            for index, item in parsed:
                try:
                    with transaction.atomic():
                        _write([(index, item)], results, create_unknown)
                except OperationalError:
                    raise  # unavailable part-way: what is written stays written (a resend skips it)
                except DatabaseError as exc:
                    results[index].status = "rejected"
                    results[index].errors = {"non_field_errors": [_("Could not be stored: %(e)s") % {"e": exc}]}
    return results


def ingest_conversations(
    raw_items: Iterable[object], *, create_unknown: bool | None = None, durable: bool = True
) -> list[ItemResult]:
    """Check, mask and store conversations as sent (dicts); one result per item, in order."""
    return store(prepare(raw_items), create_unknown=create_unknown, durable=durable)


def _str(value: object) -> str | None:
    return str(value)[:200] if isinstance(value, str | int) and not isinstance(value, bool) else None


# --- the set-wise write ------------------------------------------------------------------------


def _ids(model, key: str, values: set[str], create: bool, defaults=None) -> dict[str, int]:
    """Ids of dimension rows by natural key, creating the missing ones when allowed."""
    if not values:
        return {}
    table, column = model._meta.db_table, model._meta.get_field(key).column
    lookup = f"SELECT {column}, id FROM {table} WHERE {column} = ANY(%s)"  # one array, not 10,000 parameters
    with connection.cursor() as cursor:
        cursor.execute(lookup, [sorted(values)])
        found = dict(cursor.fetchall())
        missing = sorted(values - found.keys())
        if missing and create:
            model.objects.bulk_create(
                [model(**{key: value}, **(defaults(value) if defaults else {})) for value in missing],
                ignore_conflicts=True,
            )
            cursor.execute(lookup, [missing])
            found.update(cursor.fetchall())
    return found


def _reject(results: list[ItemResult], index: int, path: str, message: str) -> None:
    results[index].status = "rejected"
    results[index].errors.setdefault(path, []).append(message)


def _agent_senders(item: ConversationIn) -> set[str]:
    return {m.sender for m in item.messages if m.role in ("agent", "bot")}


def _lock_customers(parsed: list[tuple[int, ConversationIn]]) -> None:
    buckets = sorted({customer_bucket(item.customer) for _index, item in parsed if item.customer})
    if buckets:
        with connection.cursor() as cursor:
            # unnest yields the sorted array in order: every transaction locks in ascending order.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, b) FROM unnest(%s::int[]) AS b", [_LOCK_SPACE, buckets])


def _write(parsed: list[tuple[int, ConversationIn]], results: list[ItemResult], create_unknown: bool) -> None:
    _lock_customers(parsed)
    # First what can reject a conversation (unknown products; unknown channels, teams and agents when they
    # are not to be created), so that a rejected conversation creates nothing, not even a team.
    products = dict(
        Product.objects.filter(slug__in={i.product for _n, i in parsed if i.product}).values_list("slug", "pk")
    )
    known_channels = _ids(Channel, "code", {i.channel for _n, i in parsed}, False)
    known_teams = _ids(Team, "name", {i.team for _n, i in parsed if i.team}, False)
    known_agents = _ids(Agent, "code", set().union(*(_agent_senders(i) for _n, i in parsed)), False)
    for index, item in parsed:
        if item.product and item.product not in products:
            _reject(results, index, "product", _("Unknown product “%(v)s”.") % {"v": item.product})
        if create_unknown:
            continue
        if item.channel not in known_channels:
            _reject(results, index, "channel", _("Unknown channel “%(v)s”.") % {"v": item.channel})
        if item.team and item.team not in known_teams:
            _reject(results, index, "team", _("Unknown team “%(v)s”.") % {"v": item.team})
        unknown_agents = sorted(_agent_senders(item) - known_agents.keys())
        if unknown_agents:
            _reject(results, index, "messages", _("Unknown agents: %(v)s.") % {"v": ", ".join(unknown_agents)})
    parsed = [(index, item) for index, item in parsed if results[index].status != "rejected"]

    # Then the dimensions of the accepted conversations, created on first sight. A new human agent joins
    # the team of the conversation it first appears in.
    agent_kinds: dict[str, str] = {}
    agent_teams: dict[str, str] = {}
    for _index, item in parsed:
        for message in item.messages:
            if message.role in ("agent", "bot"):
                agent_kinds.setdefault(message.sender, AgentKind.BOT if message.role == "bot" else AgentKind.HUMAN)
                if message.role == "agent" and item.team:
                    agent_teams.setdefault(message.sender, item.team)
    channels = _ids(Channel, "code", {i.channel for _n, i in parsed}, True, lambda code: {"name": code})
    teams = _ids(Team, "name", {i.team for _n, i in parsed if i.team}, True)
    agents = _ids(
        Agent,
        "code",
        set(agent_kinds),
        True,
        lambda code: {"kind": agent_kinds[code], "team_id": teams.get(agent_teams.get(code, ""))},
    )
    customers = _ids(Customer, "external_id", {i.customer for _n, i in parsed if i.customer}, True)

    accepted: dict[tuple[int, str], tuple[list[int], ConversationIn]] = {}
    for index, item in parsed:
        key = (channels[item.channel], item.external_id)
        if key in accepted:  # the same conversation twice in one batch: one upsert, all messages
            indexes, first = accepted[key]
            indexes.append(index)
            known = {m.external_id for m in first.messages}
            first.messages += [m for m in item.messages if m.external_id not in known]
            for name in ("product", "team", "customer", "csat", "resolution", "handoff"):
                if getattr(item, name) is not None:
                    setattr(first, name, getattr(item, name))
            first.tags = sorted(set(first.tags or []) | set(item.tags or [])) if (first.tags or item.tags) else None
        else:
            accepted[key] = ([index], item)
    if not accepted:
        return

    keys = sorted(accepted)  # a fixed order: concurrent batches lock conversations in the same order
    rows = [accepted[k][1] for k in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO conversations_conversation AS c (
                channel_id, external_id, product_id, team_id, customer_id, tags, csat, resolution, stated_handoff,
                received_at, updated_at, message_count, customer_message_count, agent_message_count,
                bot_message_count, handoff, bot_failure_streak, repeat_contact, masked_count)
            SELECT s.channel_id, s.external_id, s.product_id, s.team_id, s.customer_id,
                   ARRAY(SELECT jsonb_array_elements_text(COALESCE(s.tags, '[]'::jsonb))), s.csat,
                   COALESCE(s.resolution, ''), s.handoff, now(), now(), 0, 0, 0, 0, false, 0, false, 0
            FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::jsonb[],
                        %s::smallint[], %s::text[], %s::boolean[])
                 AS s(channel_id, external_id, product_id, team_id, customer_id, tags, csat, resolution, handoff)
            ON CONFLICT (channel_id, external_id) DO UPDATE SET
                product_id = COALESCE(EXCLUDED.product_id, c.product_id),
                team_id = COALESCE(EXCLUDED.team_id, c.team_id),
                customer_id = COALESCE(EXCLUDED.customer_id, c.customer_id),
                tags = ARRAY(SELECT DISTINCT t FROM unnest(c.tags || EXCLUDED.tags) AS t ORDER BY t),
                csat = COALESCE(EXCLUDED.csat, c.csat),
                resolution = COALESCE(NULLIF(EXCLUDED.resolution, ''), c.resolution),
                stated_handoff = COALESCE(EXCLUDED.stated_handoff, c.stated_handoff),
                updated_at = now()
            RETURNING c.id, c.channel_id, c.external_id, (c.xmax = 0) AS created
            """,
            [
                [k[0] for k in keys],
                [k[1] for k in keys],
                [products.get(r.product) if r.product else None for r in rows],
                [teams.get(r.team) if r.team else None for r in rows],
                [customers.get(r.customer) if r.customer else None for r in rows],
                [json.dumps(r.tags, ensure_ascii=False) if r.tags else None for r in rows],
                [r.csat for r in rows],
                [r.resolution for r in rows],
                [r.handoff for r in rows],
            ],
        )
        stored = {
            (channel_id, external_id): (pk, created) for pk, channel_id, external_id, created in cursor.fetchall()
        }

        def rows(keys_: list[tuple[int, str]]):
            for key in keys_:
                conversation_id = stored[key][0]
                for m in accepted[key][1].messages:
                    agent_id = agents.get(m.sender) if m.role in ("agent", "bot") else None
                    yield (
                        conversation_id,
                        m.external_id,
                        m.role,
                        m.sender,
                        agent_id,
                        m.sent_at,
                        m.text,
                        m.type,
                        m.masked_count,
                    )

        columns = "conversation_id, external_id, role, sender, agent_id, sent_at, text, type, masked_count"
        # Binary COPY: no text escaping here, no timestamp parsing in the server.
        types = ["int8", "text", "text", "text", "int8", "timestamptz", "text", "text", "int2"]
        added: dict[int, int] = {}
        # New conversations (this transaction holds their rows): nothing of theirs is stored yet, so their
        # messages go straight in with COPY.
        new = [key for key in keys if stored[key][1]]
        if new:
            with cursor.cursor.copy(f"COPY conversations_message ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows(new):
                    copy.write_row(row)
            for key in new:
                added[stored[key][0]] = len(accepted[key][1].messages)
        # Known conversations: through a temporary table, skipping the message ids already stored.
        known = [key for key in keys if not stored[key][1]]
        if known:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS incoming_message (conversation_id bigint, external_id text, "
                "role text, sender text, agent_id bigint, sent_at timestamptz, text text, type text, "
                "masked_count smallint) ON COMMIT DELETE ROWS"
            )
            with cursor.cursor.copy(f"COPY incoming_message ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in rows(known):
                    copy.write_row(row)
            cursor.execute(
                f"""
                INSERT INTO conversations_message ({columns})
                SELECT {columns} FROM incoming_message ORDER BY conversation_id, external_id
                ON CONFLICT (conversation_id, external_id) DO NOTHING
                RETURNING conversation_id
                """
            )
            for (conversation_id,) in cursor.fetchall():
                added[conversation_id] = added.get(conversation_id, 0) + 1
            cursor.execute("DELETE FROM incoming_message")
    recompute_metrics([pk for pk, _created in stored.values()])
    for key in keys:
        pk, created = stored[key]
        for n, index in enumerate(accepted[key][0]):
            results[index].status = "created" if created and n == 0 else "updated"
            results[index].conversation_id = pk
            results[index].messages_added = added.get(pk, 0) if n == 0 else 0
