"""Telling the rest of the portal that what bots may see has changed.

Bots read published knowledge through caches and an index. Every publish, rollback, archive or
publishing import calls ``published_knowledge_changed()``: it bumps the knowledge generation (cached
answers carry the generation they were computed at, so they die with it) and, once committed, announces
it (``apps.knowledge.signals.published_knowledge_changed``): answers then indexes the new versions.
"""

from __future__ import annotations

from django.db import transaction

from apps.core.generations import bump_generation, generation
from apps.knowledge import signals

GENERATION_KEY = "knowledge:generation"


def knowledge_generation() -> int:
    return generation(GENERATION_KEY)


def _bump() -> None:
    bump_generation(GENERATION_KEY)


def published_knowledge_changed() -> None:
    # Bump now and again after commit: a request that read the old generation while this transaction
    # was open may have cached an answer computed from pre-commit rows; the second bump retires it.
    _bump()
    transaction.on_commit(_bump)
    transaction.on_commit(lambda: signals.published_knowledge_changed.send_robust(sender=None), robust=True)
