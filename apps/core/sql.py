"""Raw SQL reads, for the reports that aggregate in the database what the ORM would say less plainly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection


def fetch_rows(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> list[tuple]:
    """Every row of one query, as tuples in the order of its SELECT list. ``params`` fills the query's
    ``%s`` placeholders (a sequence) or its ``%(name)s`` ones (a mapping); values are never formatted in."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
