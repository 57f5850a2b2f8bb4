"""Bringing conversations in: one code path for the REST API, file imports and the demo generator.

A batch is checked and masked item by item in Python first (:func:`prepare`; a bad conversation is
reported and writes nothing), then written set-wise in one transaction (:func:`store`): dimensions with
``INSERT … ON CONFLICT DO NOTHING``, conversations with one upsert, the messages of new conversations
with COPY straight into the table, those of known conversations with COPY into a temporary table and one
``INSERT … SELECT … ON CONFLICT DO NOTHING`` (so a message id already stored is never duplicated), and
metrics with two statements. Posting the same conversation again, or concurrently, converges on the same
rows: conversations are upserted in a fixed order, so concurrent batches never deadlock.
Once committed, what was stored is announced with ``conversations_stored`` (``apps.conversations.signals``)
to the apps above: QA queues it for scoring unless it is a backfill.

Repeat contacts look across a customer's conversations, so two transactions writing conversations of the
same customer at once would each miss the other's. A transaction therefore first takes a transaction-level
advisory lock on each of its customers' buckets (:func:`customer_bucket`), in ascending order: writers of
the same customer take turns, writers of different customers (almost always) do not wait.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils.translation import gettext as _

from apps.catalog.models import Product
from apps.conversations.models import Agent, AgentKind, Channel, Conversation, Customer, Team
from apps.conversations.payload import ConversationIn, PayloadErrors, parse_conversation
from apps.conversations.services.metrics import recompute_metrics
from apps.conversations.signals import conversations_stored
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


def store(
    batch: Prepared, *, create_unknown: bool | None = None, durable: bool = True, backfill: bool = False
) -> list[ItemResult]:
    """Write a prepared batch in one transaction; one result per item, in order.

    ``durable=False`` (file imports, which can simply be run again) commits without waiting for the
    write-ahead log to reach the disk: a database crash may lose the last batches, never corrupt them.

    Once committed, the stored conversations are announced with :data:`conversations_stored` (QA queues
    them for scoring unless ``backfill``).
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
    _announce_after_commit(results, backfill=backfill)
    return results


def conversations_ingest(
    raw_items: Iterable[object], *, create_unknown: bool | None = None, durable: bool = True, backfill: bool = False
) -> list[ItemResult]:
    """Check, mask and store conversations as sent (dicts); one result per item, in order."""
    return store(prepare(raw_items), create_unknown=create_unknown, durable=durable, backfill=backfill)


def _announce_after_commit(results: list[ItemResult], *, backfill: bool) -> None:
    """Send :data:`conversations_stored` for the stored conversations once the caller's transaction commits
    (at once when there is none). Robustly: the conversations are committed by then, so a receiver's failure
    is logged (``django.dispatch``), never raised into the request or import that stored them; what it did
    not do, its sweeper does (``qa.score_unscored`` for scoring)."""
    ids = sorted({r.conversation_id for r in results if r.conversation_id is not None})
    if ids:
        transaction.on_commit(lambda: conversations_stored.send_robust(sender=Conversation, ids=ids, backfill=backfill))


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


Key = tuple[int, str]  # a conversation's identity: (channel id, external id)
Merged = dict[Key, tuple[list[int], ConversationIn]]  # a conversation: the indexes that sent it, all it says

_COLUMNS = "conversation_id, external_id, role, sender, agent_id, sent_at, text, type, masked_count"
# Binary COPY: no text escaping here, no timestamp parsing in the server.
_TYPES = ["int8", "text", "text", "text", "int8", "timestamptz", "text", "text", "int2"]


@dataclass
class _Dimensions:
    """Ids of the batch's channels, teams, agents and customers by natural key."""

    channels: dict[str, int]
    teams: dict[str, int]
    agents: dict[str, int]
    customers: dict[str, int]


def _write(parsed: list[tuple[int, ConversationIn]], results: list[ItemResult], create_unknown: bool) -> None:
    """Store a batch set-wise in the current transaction and fill in the results of its items."""
    _lock_customers(parsed)
    products = _reject_unknown(parsed, results, create_unknown)
    parsed = [(index, item) for index, item in parsed if results[index].status != "rejected"]
    dimensions = _create_dimensions(parsed)
    merged = _merge_repeats(parsed, dimensions.channels)
    if not merged:
        return
    keys = sorted(merged)  # a fixed order: concurrent batches lock conversations in the same order
    stored = _upsert_conversations(keys, merged, products, dimensions)
    # New conversations (this transaction holds their rows): nothing of theirs is stored yet.
    added = _copy_messages_of_new([key for key in keys if stored[key][1]], merged, stored, dimensions.agents)
    known = [key for key in keys if not stored[key][1]]
    for conversation_id, count in _copy_messages_of_known(known, merged, stored, dimensions.agents).items():
        added[conversation_id] = added.get(conversation_id, 0) + count
    recompute_metrics([pk for pk, _created in stored.values()])
    _fill_results(results, keys, merged, stored, added)


def _reject_unknown(
    parsed: list[tuple[int, ConversationIn]], results: list[ItemResult], create_unknown: bool
) -> dict[str, int]:
    """Reject the conversations naming an unknown product (or an unknown channel, team or agent when those
    are not to be created), before anything is written, so that a rejected conversation creates nothing, not
    even a team. Returns the ids of the batch's known products by slug."""
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
    return products


def _create_dimensions(parsed: list[tuple[int, ConversationIn]]) -> _Dimensions:
    """The dimensions of the accepted conversations, created on first sight. A new human agent joins the team
    of the conversation it first appears in."""
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
    return _Dimensions(channels, teams, agents, customers)


def _merge_repeats(parsed: list[tuple[int, ConversationIn]], channels: dict[str, int]) -> Merged:
    """The batch by conversation: the same conversation sent twice in one batch becomes one upsert with all
    its messages, the later item's fields winning and the tags joined."""
    merged: Merged = {}
    for index, item in parsed:
        key = (channels[item.channel], item.external_id)
        if key in merged:
            indexes, first = merged[key]
            indexes.append(index)
            known = {m.external_id for m in first.messages}
            first.messages += [m for m in item.messages if m.external_id not in known]
            for name in ("product", "team", "customer", "csat", "resolution", "handoff"):
                if getattr(item, name) is not None:
                    setattr(first, name, getattr(item, name))
            first.tags = sorted(set(first.tags or []) | set(item.tags or [])) if (first.tags or item.tags) else None
        else:
            merged[key] = ([index], item)
    return merged


def _upsert_conversations(
    keys: list[Key], merged: Merged, products: dict[str, int], dimensions: _Dimensions
) -> dict[Key, tuple[int, bool]]:
    """Insert or update the conversations in one statement, in ``keys`` order; (id, created) by key. What a
    resend leaves out (null, empty) keeps its stored value; tags are joined."""
    rows = [merged[k][1] for k in keys]
    teams, customers = dimensions.teams, dimensions.customers
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
        return {(channel_id, external_id): (pk, created) for pk, channel_id, external_id, created in cursor.fetchall()}


def _message_rows(
    keys: list[Key], merged: Merged, stored: dict[Key, tuple[int, bool]], agents: dict[str, int]
) -> Iterator[tuple]:
    """The message rows of these conversations, in ``_COLUMNS`` order."""
    for key in keys:
        conversation_id = stored[key][0]
        for m in merged[key][1].messages:
            agent_id = agents.get(m.sender) if m.role in ("agent", "bot") else None
            yield conversation_id, m.external_id, m.role, m.sender, agent_id, m.sent_at, m.text, m.type, m.masked_count


def _copy_messages_of_new(
    keys: list[Key], merged: Merged, stored: dict[Key, tuple[int, bool]], agents: dict[str, int]
) -> dict[int, int]:
    """Messages of conversations this transaction created go straight into the table with COPY (none of theirs
    can be stored yet). Messages added by conversation id."""
    if not keys:
        return {}
    copy_in = f"COPY conversations_message ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_in) as copy:
        copy.set_types(_TYPES)
        for row in _message_rows(keys, merged, stored, agents):
            copy.write_row(row)
    return {stored[key][0]: len(merged[key][1].messages) for key in keys}


def _copy_messages_of_known(
    keys: list[Key], merged: Merged, stored: dict[Key, tuple[int, bool]], agents: dict[str, int]
) -> dict[int, int]:
    """Messages of conversations already stored go through a temporary table, skipping the message ids
    already stored (a resend adds only what is new). Messages added by conversation id."""
    added: dict[int, int] = {}
    if not keys:
        return added
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_message (conversation_id bigint, external_id text, "
            "role text, sender text, agent_id bigint, sent_at timestamptz, text text, type text, "
            "masked_count smallint) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy(f"COPY incoming_message ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_TYPES)
            for row in _message_rows(keys, merged, stored, agents):
                copy.write_row(row)
        cursor.execute(
            f"""
            INSERT INTO conversations_message ({_COLUMNS})
            SELECT {_COLUMNS} FROM incoming_message ORDER BY conversation_id, external_id
            ON CONFLICT (conversation_id, external_id) DO NOTHING
            RETURNING conversation_id
            """
        )
        for (conversation_id,) in cursor.fetchall():
            added[conversation_id] = added.get(conversation_id, 0) + 1
        cursor.execute("DELETE FROM incoming_message")
    return added


def _fill_results(
    results: list[ItemResult],
    keys: list[Key],
    merged: Merged,
    stored: dict[Key, tuple[int, bool]],
    added: dict[int, int],
) -> None:
    """Each item's outcome. A conversation sent twice in one batch: its first item counts the creation and
    the messages added, the later ones are updates that added nothing."""
    for key in keys:
        pk, created = stored[key]
        for n, index in enumerate(merged[key][0]):
            results[index].status = "created" if created and n == 0 else "updated"
            results[index].conversation_id = pk
            results[index].messages_added = added.get(pk, 0) if n == 0 else 0
