"""Reading conversations."""

from __future__ import annotations

from django.db.models import Prefetch

from apps.conversations.models import Conversation, Message


def conversation_by_channel_id(*, channel: str, external_id: str) -> Conversation | None:
    """A conversation with everything its detail view shows, in three queries."""
    return (
        Conversation.objects.select_related("channel", "product", "team", "customer", "sla_tier", "served_by")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("sent_at", "id")))
        .filter(channel__code=channel, external_id=external_id)
        .first()
    )
