"""The sync cursor of list endpoints: the ``updated_since`` a client passes next time so that it misses nothing.

Change times (a version's ``published_at``, a stale flag's ``flagged_at``…) are taken when a transaction writes,
but the row is seen by others only once that transaction commits, possibly seconds later. A cursor of "now"
would therefore skip a change written just before by a transaction still open, committed after the list was
read. The cursor is the start of the oldest transaction still open in the database (now, if none is older),
minus :data:`SYNC_CURSOR_OVERLAP` for clock skew between the application servers and the database and for the
moment between taking a timestamp and the transaction's first statement. It is read *before* the list, so
anything the list does not show was written at or after the cursor, and ``updated_since`` is inclusive (``>=``):
an item can come back twice, never be skipped.

A transaction left open for long holds the cursor back (clients then re-fetch more than they need); it never
lets one skip. ``pg_stat_activity`` shows the start of other sessions' transactions to the same database role
(or a role with ``pg_read_all_stats``): the one the portal's processes share.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from drf_spectacular.utils import OpenApiParameter

SYNC_CURSOR_HEADER = "Sync-Cursor"
SYNC_CURSOR_OVERLAP = timedelta(seconds=5)

_OLDEST_OPEN_TRANSACTION = """
SELECT LEAST(statement_timestamp(), MIN(xact_start))
FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend'
  AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
"""


def sync_cursor() -> datetime:
    """The ``updated_since`` to pass next time; read it before the list it goes with."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:  # activity is read once per transaction unless the snapshot is cleared
            cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(_OLDEST_OPEN_TRANSACTION)
        (oldest,) = cursor.fetchone()
    return oldest - SYNC_CURSOR_OVERLAP


def cursor_text(cursor: datetime) -> str:
    """The cursor as RFC 3339 in UTC with microseconds, ready for a query string (``…Z``, no ``+``)."""
    return cursor.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def sync_cursor_header(*codes: int) -> OpenApiParameter:
    """The schema of the cursor header, on the responses with status ``codes``."""
    return OpenApiParameter(
        SYNC_CURSOR_HEADER,
        {"type": "string", "format": "date-time"},
        OpenApiParameter.HEADER,
        response=list(codes),
        description=(
            "Pass it as `updated_since` on your next poll to get everything changed since this response "
            "(inclusive, with a few seconds of overlap: an item may come back twice, none is skipped). When "
            "reading several pages, keep the cursor of the *first* page. Items archived or unpublished since "
            "do not appear in such a delta: compare with a full listing now and then (cheap with `If-None-Match`)."
        ),
    )
