"""What conversations announces to the apps above it (they connect in their ``AppConfig.ready()``).

Sent after the commit, so a receiver (or a worker it queues work for) always sees the rows.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Conversations were stored (created, or updated with new messages or fields), and committed.
#: Arguments: ``ids`` (the stored conversations' ids, each once, ascending) and ``backfill`` (True for a bulk
#: load of past conversations, which follow-up work such as QA scoring may leave to its sweeper).
conversations_stored = Signal()
