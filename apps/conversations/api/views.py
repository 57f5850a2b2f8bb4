from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.conversations.models import Conversation
from apps.conversations.selectors import conversation_by_channel_id
from apps.conversations.services.ingest import MAX_BATCH, ingest_conversations
from apps.core.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictIntegerField,
)
from apps.core.api.schema import api_errors
from apps.core.errors import NotFound, ValidationFailed


# The request as the OpenAPI description shows it. The API checks it with apps.conversations.payload (the
# path file imports share), which is as strict about JSON types as these fields.
class MessageInSerializer(serializers.Serializer):
    id = StrictCharField(help_text="Message id, unique within the conversation; a repeated id is skipped.")
    role = StrictChoiceField(choices=["customer", "agent", "bot", "system"])
    sender = StrictCharField(required=False, help_text="Customer, agent or bot id (required for agent/bot).")
    sent_at = StrictDateTimeField(help_text="ISO 8601 with time zone, e.g. 2026-11-01T10:00:00+08:00.")
    text = StrictCharField(required=False, help_text="Stored with personal data masked.")
    type = StrictCharField(required=False, default="text", help_text="text, image, voice, event …")


class ConversationInSerializer(serializers.Serializer):
    channel = StrictCharField(help_text="Channel code, e.g. wechat, wecom, app, web, phone.")
    external_id = StrictCharField(help_text="The channel's conversation id; posting it again updates it.")
    product = StrictCharField(required=False, help_text="Product slug, e.g. mall-app.")
    team = StrictCharField(required=False, help_text="Team name, e.g. 售后一组.")
    customer = StrictCharField(required=False, help_text="Pseudonymous customer id.")
    csat = StrictIntegerField(required=False, min_value=1, max_value=5)
    resolution = StrictChoiceField(choices=["resolved", "unresolved"], required=False)
    tags = serializers.ListField(child=StrictCharField(), required=False, help_text="Added to stored tags.")
    handoff = StrictBooleanField(required=False, help_text="The channel's own handoff flag, if it has one.")
    messages = MessageInSerializer(many=True, required=False)


class ConversationIngestResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    channel = serializers.CharField(allow_null=True)
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "updated", "rejected"])
    messages_added = serializers.IntegerField(required=False, help_text="New messages stored.")
    errors = serializers.DictField(required=False, help_text="Field path → messages, when rejected.")


class ConversationsApi(APIView):
    """``POST /api/v1/conversations/``: one conversation, or ``{"conversations": [...]}`` (up to 1,000)."""

    required_scope = "conversations:write"

    @extend_schema(
        request=ConversationInSerializer,
        responses={
            200: inline_serializer(
                "ConversationBatchResult",
                {
                    "created": serializers.IntegerField(),
                    "updated": serializers.IntegerField(),
                    "rejected": serializers.IntegerField(),
                    "results": ConversationIngestResultSerializer(many=True),
                },
            ),
            201: ConversationIngestResultSerializer,
            **api_errors("conversations:write", body=True),
        },
        tags=["conversations"],
        description=(
            "Idempotent by (channel, external_id): sending a conversation again updates it and adds only new "
            'messages. A batch (`{"conversations": [...]}`) answers 200 with one result per item; a bad item '
            "is rejected with its errors and writes nothing, the others are stored."
        ),
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if isinstance(data, dict) and "conversations" in data:
            items = data["conversations"]
            if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
                raise ValidationFailed(
                    _("“conversations” must be a list of 1 to %(n)s conversations.") % {"n": MAX_BATCH},
                    field_errors={"conversations": [_("1 to %(n)s conversations.") % {"n": MAX_BATCH}]},
                )
            results = ingest_conversations(items)
            _score_later(results)
            counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "updated", "rejected")}
            return Response({**counts, "results": [r.as_dict() for r in results]})
        [result] = ingest_conversations([data])
        _score_later([result])
        if result.status == "rejected":
            raise ValidationFailed(_("The conversation was not stored."), field_errors=result.errors)
        code = status.HTTP_201_CREATED if result.status == "created" else status.HTTP_200_OK
        return Response(result.as_dict(), status=code)


METRICS = [
    "message_count",
    "customer_message_count",
    "agent_message_count",
    "bot_message_count",
    "first_response_seconds",
    "bot_first_response_seconds",
    "human_first_response_seconds",
    "handoff",
    "handoff_at",
    "avg_agent_reply_seconds",
    "max_agent_reply_seconds",
    "handle_seconds",
    "bot_failure_streak",
    "repeat_contact",
    "sla_target_seconds",
    "sla_breached",
    "masked_count",
]


def conversation_body(conversation: Conversation) -> dict:
    metrics = {name: getattr(conversation, name) for name in METRICS}
    metrics["handoff_at"] = conversation.handoff_at.isoformat() if conversation.handoff_at else None
    metrics["sla_tier"] = conversation.sla_tier.name if conversation.sla_tier else None
    return {
        "channel": conversation.channel.code,
        "external_id": conversation.external_id,
        "product": conversation.product.slug if conversation.product else None,
        "team": conversation.team.name if conversation.team else None,
        "customer": conversation.customer.external_id if conversation.customer else None,
        "served_by": conversation.served_by.code if conversation.served_by else None,
        "started_at": conversation.started_at.isoformat() if conversation.started_at else None,
        "ended_at": conversation.ended_at.isoformat() if conversation.ended_at else None,
        "tags": conversation.tags,
        "csat": conversation.csat,
        "resolution": conversation.resolution or None,
        "metrics": metrics,
        "messages": [
            {
                "id": m.external_id,
                "role": m.role,
                "sender": m.sender,
                "sent_at": m.sent_at.isoformat(),
                "text": m.text,
                "type": m.type,
                "masked_count": m.masked_count,
            }
            for m in conversation.messages.all()
        ],
    }


class ConversationDetailApi(APIView):
    """``GET /api/v1/conversations/{channel}/{external_id}/``: the stored (masked) conversation and its metrics."""

    required_scope = "conversations:read"

    @extend_schema(
        responses={
            200: OpenApiResponse(description="Conversation, `metrics` and `messages` as stored (masked)."),
            **api_errors("conversations:read", not_found=True),
        },
        tags=["conversations"],
    )
    def get(self, request: Request, channel: str, external_id: str) -> Response:
        conversation = conversation_by_channel_id(channel=channel, external_id=external_id)
        if conversation is None:
            raise NotFound(_("No such conversation."))
        return Response(conversation_body(conversation))


def _score_later(results) -> None:
    """Stored conversations are scored by QA's workers (after the commit, so they can read them)."""
    from apps.qa.tasks import enqueue_scoring

    ids = [r.conversation_id for r in results if r.conversation_id is not None]
    if ids:
        transaction.on_commit(lambda: enqueue_scoring(ids))
