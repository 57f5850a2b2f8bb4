"""What a writer process of ``import_conversations`` runs. Kept free of Django imports at module level:
a freshly started process imports this module before Django is set up."""

from __future__ import annotations

import os


def setup(database: str) -> None:
    """Set up Django in a new writer process, on the database the importing process uses."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbportal.settings")
    os.environ["KBPORTAL_DB_NAME_OVERRIDE"] = database
    django.setup()


def prepare_and_store(payloads: list, backfill: bool = False) -> list:
    """Check, mask and store one batch. Re-running an import is harmless, so batches need not wait for
    the disk (see ``apps.conversations.services.ingest.store``, which also announces what it stored)."""
    from apps.conversations.services.ingest import prepare, store

    return store(prepare(payloads), durable=False, backfill=backfill)
