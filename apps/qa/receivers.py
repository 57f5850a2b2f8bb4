"""How QA reacts to what lower apps announce (connected in :class:`apps.qa.apps.QaConfig`)."""

from __future__ import annotations

from typing import Any

from apps.qa.tasks import enqueue_scoring


def score_stored_conversations(sender: Any, *, ids: list[int], backfill: bool, **kwargs: Any) -> None:
    """Stored conversations are scored by QA's workers; a backfill is left to the ``qa.score_unscored``
    sweeper or a rescoring job, so that a bulk load does not flood the ``qa`` queue."""
    if not backfill:
        enqueue_scoring(ids)
