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


def prepare_and_store(payloads: list, score: bool = True) -> list:
    """Check, mask and store one batch. Re-running an import is harmless, so batches need not wait for
    the disk (see ``apps.conversations.services.ingest.store``)."""
    from django.db import transaction

    from apps.conversations.services.ingest import prepare, store
    from apps.qa.tasks import enqueue_scoring

    results = store(prepare(payloads), durable=False)
    ids = [r.conversation_id for r in results if r.conversation_id is not None]
    if score:
        transaction.on_commit(lambda: enqueue_scoring(ids))  # QA's workers score what is stored
    return results
