"""Knowledge's panel on the admin home page: what is waiting for editors and verifiers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.knowledge.selectors import work_queue_counts


def work_queues_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("knowledge.view_article"):
        return None
    return {"queues": work_queue_counts(user=request.user)}
