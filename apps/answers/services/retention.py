"""How long the bot-question log keeps what customers asked (PIPL 最小必要): deleted after
``ANSWER_QUERY_RETENTION_DAYS`` days, in batches, so a big backlog never holds a long lock."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.answers.models import AnswerQuery

PURGE_BATCH = 5000


def answer_queries_purge_old(*, now=None, batch: int = PURGE_BATCH) -> int:
    """Delete logged questions older than the retention period; return how many. Running it again, or after
    it died half-way, deletes only what is still old: the result is the same as one complete run."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ANSWER_QUERY_RETENTION_DAYS)
    table = AnswerQuery._meta.db_table
    deleted = 0
    while True:
        # One set-based statement per batch (the created_at index finds the oldest rows first).
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN "
                f"(SELECT id FROM {table} WHERE created_at < %s ORDER BY created_at LIMIT %s)",
                [cutoff, batch],
            )
            count = cursor.rowcount
        deleted += count
        if count < batch:
            return deleted
