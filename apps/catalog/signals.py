"""What catalog announces to the apps above it. Catalog knows nothing of who listens.

``release_recorded`` is sent after the transaction that recorded or edited a release commits, with
``release`` (a :class:`~apps.catalog.models.Release`) and ``again``: ``True`` when a retry recorded a
release that already existed unchanged (listeners may then skip work they have done already).
Knowledge listens to flag the articles and scripts the release made stale.
"""

from __future__ import annotations

from django.dispatch import Signal

release_recorded = Signal()
