"""What knowledge announces to the apps above it. Knowledge knows nothing of who listens.

``published_knowledge_changed`` is sent after the transaction that changed what bots may see commits: a
version published or rolled back to, an item archived, an import that published. Answers listens to index
the new versions for bots.
"""

from __future__ import annotations

from django.dispatch import Signal

published_knowledge_changed = Signal()
