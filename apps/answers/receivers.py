"""How answers listens to the apps below it, and what it adds to the admin home page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.core.queueing import enqueue


def on_published_knowledge_changed(sender, **kwargs) -> None:
    """``knowledge.signals.published_knowledge_changed``: index the newly published versions for bots (the
    5-minute ``answers.index_published`` beat catches up if the broker is away)."""
    from apps.answers.tasks import index_published_task

    enqueue(index_published_task)


def knowledge_gaps_panel(request: HttpRequest) -> dict[str, Any] | None:
    """The link to the questions bots could not answer, for whoever may read bot questions."""
    return {} if request.user.has_perm("answers.view_answerquery") else None
