from __future__ import annotations

import re

from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.conversations.models import Conversation
from apps.conversations.payload import MAX_MESSAGES, MAX_TEXT
from apps.conversations.selectors import conversation_by_channel_id
from apps.conversations.services.ingest import MAX_BATCH, conversations_ingest
from apps.core.api.fields import (
    TRIMMED_PATTERN,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictIntegerField,
    StrictSlugField,
    ecma,
    trimmed_validator,
)
from apps.core.api.schema import api_errors, api_schema
from apps.core.api.serializers import ErrorSerializer, flat_errors
from apps.core.errors import Conflict, NotFound, ValidationFailed

# A channel code as the ingestion stores it (apps.conversations.payload).
CHANNEL_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}\Z"
channel_validator = RegexValidator(
    CHANNEL_PATTERN, gettext_lazy("Lower-case letters, digits, “-” and “_”, e.g. wechat."), "invalid_channel"
)
# What the ingestion refuses for an unknown product, channel, team or agent (a rejected item's error keys).
_UNKNOWN_REFERENCES = {"product", "channel", "team", "messages"}


# The request, checked field by field before the ingestion service sees it: the schema built from these
# serializers is exactly what the endpoint accepts. The service (apps.conversations.payload, shared with file
# imports) checks again, never more strictly, and refuses only what the database knows (unknown references).
class _MessageIn(serializers.Serializer):
    id = StrictCharField(
        max_length=200,
        validators=[trimmed_validator],
        help_text="Message id, unique within the conversation; one already stored is skipped.",
    )
    sent_at = StrictDateTimeField(help_text="RFC 3339 with time zone, e.g. 2026-11-01T10:00:00+08:00.")
    text = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        allow_nul=True,
        max_length=MAX_TEXT,
        help_text="Stored with personal data masked (and NUL characters dropped).",
    )
    type = StrictCharField(
        required=False,
        allow_null=True,
        max_length=30,
        validators=[trimmed_validator],
        help_text="text (the default), image, voice, event …",
    )


@extend_schema_serializer(component_name="ConversationMessageIn")
class CustomerMessageInSerializer(_MessageIn):
    role = StrictChoiceField(choices=["customer", "system"])
    sender = StrictCharField(
        required=False, allow_null=True, max_length=100, validators=[trimmed_validator], help_text="Customer id."
    )


@extend_schema_serializer(component_name="ConversationStaffMessageIn")
class StaffMessageInSerializer(_MessageIn):
    role = StrictChoiceField(choices=["agent", "bot"])
    sender = StrictCharField(max_length=100, validators=[trimmed_validator], help_text="Agent or bot id.")


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="ConversationMessage",
        serializers=[CustomerMessageInSerializer, StaffMessageInSerializer],
        resource_type_field_name=None,
    )
)
class MessageInField(serializers.Field):
    """A message: an agent's or a bot's names its sender, a customer's or the system's may."""

    default_error_messages = {"not_an_object": gettext_lazy("Each message must be an object.")}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_an_object")
        staff = data.get("role") in ("agent", "bot")
        message = (StaffMessageInSerializer if staff else CustomerMessageInSerializer)(data=data)
        if not message.is_valid():
            raise serializers.ValidationError(message.errors)
        return message.validated_data

    def to_representation(self, value):
        return value


@extend_schema_serializer(component_name="ConversationIn")
class ConversationInSerializer(serializers.Serializer):
    channel = StrictCharField(
        max_length=40, validators=[channel_validator], help_text="Channel code, e.g. wechat, wecom, app, web, phone."
    )
    external_id = StrictCharField(
        max_length=200,
        validators=[trimmed_validator],
        help_text="The channel's conversation id; posting it again updates it.",
    )
    product = StrictSlugField(
        required=False, allow_null=True, max_length=50, help_text="Product slug, e.g. mall-app; unknown: 404."
    )
    team = StrictCharField(
        required=False, allow_null=True, max_length=100, validators=[trimmed_validator], help_text="e.g. 售后一组."
    )
    customer = StrictCharField(
        required=False,
        allow_null=True,
        max_length=100,
        validators=[trimmed_validator],
        help_text="Pseudonymous customer id.",
    )
    csat = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    resolution = StrictChoiceField(choices=["resolved", "unresolved"], required=False, allow_null=True)
    tags = serializers.ListField(
        child=StrictCharField(max_length=50),
        required=False,
        allow_null=True,
        max_length=50,
        help_text="Added to stored tags.",
    )
    handoff = StrictBooleanField(
        required=False, allow_null=True, help_text="The channel's own handoff flag, if it has one."
    )
    messages = serializers.ListField(
        child=MessageInField(),
        required=False,
        max_length=MAX_MESSAGES,
        help_text="Message ids must differ (two alike: 409, or the item rejected in a batch).",
    )

    def duplicate_message_ids(self) -> dict[str, list[str]]:
        """Field errors for messages repeating an earlier message's id (the service refuses them too)."""
        seen: set[str] = set()
        errors: dict[str, list[str]] = {}
        for index, message in enumerate(self.validated_data.get("messages") or []):
            if message["id"] in seen:
                errors[f"messages[{index}].id"] = [_("Duplicate message id “%(id)s”.") % {"id": message["id"]}]
            seen.add(message["id"])
        return errors


@extend_schema_serializer(component_name="ConversationBatchIn")
class ConversationBatchInSerializer(serializers.Serializer):
    conversations = serializers.ListField(
        child=serializers.JSONField(allow_null=True),
        min_length=1,
        max_length=MAX_BATCH,
        help_text="Each a ConversationIn; an item that is not valid is rejected in `results`, the others stored.",
    )


class ConversationIngestResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    channel = serializers.CharField(allow_null=True)
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "updated", "rejected"])
    messages_added = serializers.IntegerField(required=False, help_text="New messages stored.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field path → messages, when rejected.",
    )


class ConversationBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = ConversationIngestResultSerializer(many=True)


def _checked(raw: object) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(field errors, duplicate message ids) of one conversation as sent."""
    serializer = ConversationInSerializer(data=raw)
    if not serializer.is_valid():
        return flat_errors(serializer.errors), {}
    return {}, serializer.duplicate_message_ids()


def _label(value: object) -> str | None:
    """A rejected item's channel or external id as the results show it (the ingestion's rule)."""
    return str(value)[:200] if isinstance(value, str | int) and not isinstance(value, bool) else None


class ConversationsApi(APIView):
    """``POST /api/v1/conversations/``: one conversation, or ``{"conversations": [...]}`` (up to 1,000)."""

    required_scope = "conversations:write"
    schema = api_schema(
        body_required=True,
        links={
            201: {
                "conversation": (
                    "v1_conversations_retrieve",
                    {"channel": "$response.body#/channel", "external_id": "$response.body#/external_id"},
                )
            }
        },
    )

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="ConversationsRequest",
            serializers=[ConversationInSerializer, ConversationBatchInSerializer],
            resource_type_field_name=None,
        ),
        responses={
            200: PolymorphicProxySerializer(
                component_name="ConversationsResult",
                serializers=[ConversationIngestResultSerializer, ConversationBatchResultSerializer],
                resource_type_field_name=None,
            ),
            201: ConversationIngestResultSerializer,
            **api_errors(
                "conversations:write",
                body=True,
                not_found="A single conversation names an unknown product (or channel, team or agent, where "
                "those are not created on first sight); nothing was stored.",
            ),
            409: OpenApiResponse(ErrorSerializer, description="Two messages of a single conversation share an id."),
        },
        tags=["conversations"],
        description=(
            "Idempotent by (channel, external_id): sending a conversation again updates it and adds only new "
            "messages. A single conversation answers 201 (created) or 200 (updated) with its result. A batch "
            '(`{"conversations": [...]}`) answers 200 with one result per item; a bad item is rejected with its '
            "errors and writes nothing, the others are stored."
        ),
    )
    def post(self, request: Request) -> Response:
        data = request.data
        if isinstance(data, dict) and "conversations" in data:
            return self._batch(data)
        errors, duplicates = _checked(data)
        if errors:
            raise ValidationFailed(_("The conversation was not stored."), field_errors=errors)
        if duplicates:
            raise Conflict(_("Two messages share an id; the conversation was not stored."), field_errors=duplicates)
        [result] = conversations_ingest([data])
        if result.status == "rejected":
            if set(result.errors) <= _UNKNOWN_REFERENCES:
                raise NotFound(_("The conversation was not stored."), field_errors=result.errors)
            raise ValidationFailed(_("The conversation was not stored."), field_errors=result.errors)
        code = status.HTTP_201_CREATED if result.status == "created" else status.HTTP_200_OK
        return Response(result.as_dict(), status=code)

    def _batch(self, data: dict) -> Response:
        batch = ConversationBatchInSerializer(data=data)
        if not batch.is_valid():
            raise ValidationFailed(
                _("“conversations” must be a list of 1 to %(n)s conversations.") % {"n": MAX_BATCH},
                field_errors={"conversations": [_("1 to %(n)s conversations.") % {"n": MAX_BATCH}]},
            )
        items = data["conversations"]
        bodies: list[dict | None] = []
        to_store = []
        for index, item in enumerate(items):
            errors, duplicates = _checked(item)
            if errors or duplicates:
                channel = item.get("channel") if isinstance(item, dict) else None
                external_id = item.get("external_id") if isinstance(item, dict) else None
                bodies.append(
                    {
                        "index": index,
                        "channel": _label(channel),
                        "external_id": _label(external_id),
                        "status": "rejected",
                        "errors": errors or duplicates,
                    }
                )
            else:
                bodies.append(None)
                to_store.append((index, item))
        results = conversations_ingest([item for _index, item in to_store])
        for (index, _item), result in zip(to_store, results, strict=True):
            bodies[index] = {**result.as_dict(), "index": index}
        counts = {s: sum(1 for body in bodies if body["status"] == s) for s in ("created", "updated", "rejected")}
        return Response({**counts, "results": bodies})


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


@extend_schema_serializer(component_name="ConversationMetrics")
class _MetricsOut(serializers.Serializer):
    message_count = serializers.IntegerField()
    customer_message_count = serializers.IntegerField()
    agent_message_count = serializers.IntegerField()
    bot_message_count = serializers.IntegerField()
    first_response_seconds = serializers.FloatField(allow_null=True)
    bot_first_response_seconds = serializers.FloatField(allow_null=True)
    human_first_response_seconds = serializers.FloatField(allow_null=True)
    handoff = serializers.BooleanField()
    handoff_at = serializers.DateTimeField(allow_null=True)
    avg_agent_reply_seconds = serializers.FloatField(allow_null=True)
    max_agent_reply_seconds = serializers.FloatField(allow_null=True)
    handle_seconds = serializers.FloatField(allow_null=True)
    bot_failure_streak = serializers.IntegerField()
    repeat_contact = serializers.BooleanField()
    sla_target_seconds = serializers.IntegerField(allow_null=True)
    sla_breached = serializers.BooleanField(allow_null=True)
    masked_count = serializers.IntegerField(help_text="Personal data items masked out of the messages.")
    sla_tier = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="StoredMessage")
class _MessageOut(serializers.Serializer):
    id = serializers.CharField()
    role = serializers.ChoiceField(choices=["customer", "agent", "bot", "system"])
    sender = serializers.CharField(allow_blank=True)
    sent_at = serializers.DateTimeField()
    text = serializers.CharField(allow_blank=True, help_text="As stored: personal data masked.")
    type = serializers.CharField()
    masked_count = serializers.IntegerField()


@extend_schema_serializer(component_name="Conversation")
class ConversationOutSerializer(serializers.Serializer):
    """The shape of :func:`conversation_body` (built by hand: a conversation has many messages)."""

    channel = serializers.CharField()
    external_id = serializers.CharField()
    product = serializers.CharField(allow_null=True)
    team = serializers.CharField(allow_null=True)
    customer = serializers.CharField(allow_null=True)
    served_by = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    csat = serializers.IntegerField(allow_null=True)
    resolution = serializers.ChoiceField(choices=["resolved", "unresolved"], allow_null=True)
    metrics = _MetricsOut()
    messages = _MessageOut(many=True)


_CHANNEL = re.compile(CHANNEL_PATTERN)
_TRIMMED = re.compile(TRIMMED_PATTERN)


class ConversationDetailApi(APIView):
    """``GET /api/v1/conversations/{channel}/{external_id}/``: the stored (masked) conversation and its metrics."""

    required_scope = "conversations:read"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "channel",
                {"type": "string", "pattern": ecma(CHANNEL_PATTERN)},
                OpenApiParameter.PATH,
                examples=[OpenApiExample("wechat", value="wechat")],
            ),
            OpenApiParameter(
                "external_id",
                {"type": "string", "maxLength": 200, "pattern": ecma(TRIMMED_PATTERN)},
                OpenApiParameter.PATH,
                description="The conversation id as sent.",
                examples=[OpenApiExample("wx-demo-0001", value="wx-demo-0001")],
            ),
        ],
        responses={
            200: ConversationOutSerializer,
            **api_errors("conversations:read", not_found="No such conversation."),
        },
        tags=["conversations"],
    )
    def get(self, request: Request, channel: str, external_id: str) -> Response:
        # Any path reaches this view (so that every answer is JSON); what no conversation can have is not found.
        conversation = None
        if _CHANNEL.match(channel) and len(external_id) <= 200 and _TRIMMED.match(external_id):
            conversation = conversation_by_channel_id(channel=channel, external_id=external_id)
        if conversation is None:
            raise NotFound(_("No such conversation."))
        return Response(conversation_body(conversation))
