from __future__ import annotations

import uuid
from dataclasses import asdict

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.answers.services.answering import (
    MAX_QUESTION_LENGTH,
    MAX_SUGGESTIONS,
    MIN_SUGGESTIONS,
    Question,
    feedback_record,
    question_answer,
)
from apps.answers.services.choices import suggestion_choose
from apps.core.api.errors import conflict_on, not_found_on
from apps.core.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSlugField,
    version_validator,
)
from apps.core.api.schema import api_errors, api_schema
from apps.core.api.serializers import ErrorSerializer
from apps.core.errors import NotFound
from apps.core.versions import validate_version
from apps.knowledge.models import Channel

HANDOFF_REASONS = ["low_confidence", "human_only_topic", "failure_streak", "no_match"]

# Letters and digits of the scripts customers write in (ASCII and Latin-1 letters, CJK ideographs, kana,
# hangul, full-width letters and digits); every one is a word to answers.text.normalize_for_retrieval (a test checks).
WORD_CHARS = (
    r"0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u3041-\u3096\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff"
    r"\uac00-\ud7a3\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
)
# A question has at least one of them (punctuation, emoji or spaces alone ask nothing), and no NUL.
QUESTION_PATTERN = rf"^[^\x00]*[{WORD_CHARS}][^\x00]*\Z"
question_validator = RegexValidator(QUESTION_PATTERN, _("Ask a question: at least one letter or digit."), "no_words")


def _query_id(raw: str) -> uuid.UUID:
    """The path's query id (the URL takes any text, so that a malformed one gets the API's JSON 404)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(_("No such answer.")) from None


_QUERY_ID = OpenApiParameter("query_id", uuid.UUID, OpenApiParameter.PATH, description="The answer's `query_id`.")


@extend_schema_serializer(component_name="Answer")
class AnswerSerializer(serializers.Serializer):
    article_id = serializers.CharField(help_text="The article's external id.")
    version = serializers.IntegerField(help_text="The published version answered from.")
    question = serializers.CharField(help_text="The article's standard question.")
    text = serializers.CharField(help_text="The answer for the requested channel (Markdown).")


@extend_schema_serializer(component_name="AnswerSuggestion")
class SuggestionSerializer(serializers.Serializer):
    article_id = serializers.CharField(help_text="Send it to /api/v1/answers/{query_id}/choose/ when picked.")
    question = serializers.CharField(help_text="The article's standard question, to show as 您是不是想问.")


@extend_schema_serializer(component_name="AnswerCandidate")
class CandidateSerializer(serializers.Serializer):
    article_id = serializers.CharField()
    question = serializers.CharField()
    score = serializers.FloatField(help_text="Calibrated probability that this article is the right one, 0..1.")


class _DecisionSerializer(serializers.Serializer):
    query_id = serializers.UUIDField(help_text="Send feedback or a choice to /api/v1/answers/{query_id}/….")
    confidence = serializers.FloatField(help_text="Calibrated probability that the best candidate is right.")
    candidates = CandidateSerializer(many=True, help_text="Best guesses, best first (top_k of them).")


@extend_schema_serializer(component_name="AnswerDecisionAnswer")
class AnsweredSerializer(_DecisionSerializer):
    decision = serializers.ChoiceField(choices=["answer"], help_text="直接回答: show the answer.")
    handoff = serializers.BooleanField(help_text="Always false.")
    handoff_reason = serializers.ChoiceField(choices=HANDOFF_REASONS, allow_null=True, help_text="Always null.")
    answer = AnswerSerializer()
    suggestions = SuggestionSerializer(many=True, help_text="Always empty.")


@extend_schema_serializer(component_name="AnswerDecisionClarify")
class ClarifySerializer(_DecisionSerializer):
    decision = serializers.ChoiceField(
        choices=["clarify"], help_text="推荐问: show the suggestions and send the customer's pick to choose/."
    )
    handoff = serializers.BooleanField(help_text="Always false.")
    handoff_reason = serializers.ChoiceField(choices=HANDOFF_REASONS, allow_null=True, help_text="Always null.")
    answer = AnswerSerializer(allow_null=True, help_text="Always null.")
    suggestions = serializers.ListField(
        child=SuggestionSerializer(),
        min_length=MIN_SUGGESTIONS,
        max_length=MAX_SUGGESTIONS,
        help_text="The closest standard questions, best first.",
    )


@extend_schema_serializer(component_name="AnswerDecisionHandoff")
class HandoffSerializer(_DecisionSerializer):
    decision = serializers.ChoiceField(choices=["handoff"], help_text="转人工: hand the customer to a human.")
    handoff = serializers.BooleanField(help_text="Always true.")
    handoff_reason = serializers.ChoiceField(choices=HANDOFF_REASONS)
    answer = AnswerSerializer(allow_null=True, help_text="Always null.")
    suggestions = SuggestionSerializer(many=True, help_text="Always empty.")


class AnswerApi(APIView):
    """``POST /api/v1/answers/``: answer directly, suggest the closest questions, or hand off."""

    required_scope = "answers"
    schema = api_schema(
        links={
            200: {
                "choose": ("v1_answers_choose_create", {"query_id": "$response.body#/query_id"}),
                "feedback": ("v1_answers_feedback_create", {"query_id": "$response.body#/query_id"}),
            }
        }
    )

    @extend_schema_serializer(component_name="AnswerRequest")
    class InputSerializer(serializers.Serializer):
        question = StrictCharField(
            max_length=MAX_QUESTION_LENGTH,
            validators=[question_validator],
            help_text="The customer's question, as typed (any Chinese script), with at least one letter or digit.",
        )
        channel = StrictChoiceField(
            choices=Channel.choices,
            required=False,
            help_text="Selects the channel's own answer text when there is one.",
        )
        product = StrictSlugField(
            required=False,
            max_length=60,
            help_text="Product slug, e.g. `mall-app`; narrows the search to it. Unknown: 404.",
        )
        product_version = StrictCharField(
            required=False,
            max_length=40,
            validators=[version_validator, validate_version],
            help_text="The customer's app version, e.g. `5.3.0`.",
        )
        session_id = StrictCharField(
            required=False,
            max_length=100,
            help_text="Conversation id; three failed answers in a row hand off.",
        )
        top_k = StrictIntegerField(required=False, min_value=1, max_value=10, help_text="How many candidates to list.")

    @extend_schema(
        request=InputSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="AnswerResponse",
                serializers={"answer": AnsweredSerializer, "clarify": ClarifySerializer, "handoff": HandoffSerializer},
                resource_type_field_name="decision",
            ),
            **api_errors("answers", body=True, not_found="No such product."),
        },
        tags=["answers"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with not_found_on("product"):
            result = question_answer(
                question=Question(
                    text=data["question"].strip(),
                    channel=data.get("channel", ""),
                    product=data.get("product", ""),
                    product_version=data.get("product_version", ""),
                    session_id=data.get("session_id", ""),
                    top_k=data.get("top_k", 3),
                ),
                api_key=request.auth,
            )
        # The result is plain data already; building it by hand keeps serializer cost off the hot path.
        return Response(asdict(result))


class ChooseApi(APIView):
    """``POST /api/v1/answers/{query_id}/choose/``: the suggestion the customer picked, or none of them."""

    required_scope = "answers"

    @extend_schema_serializer(component_name="AnswerChoice")
    class InputSerializer(serializers.Serializer):
        article_id = StrictCharField(
            allow_null=True,
            max_length=100,
            help_text="One of the suggestions' article_id, or null for 'none of these'.",
        )

    @extend_schema_serializer(component_name="AnswerChoiceResult")
    class OutputSerializer(serializers.Serializer):
        query_id = serializers.UUIDField()
        answer = AnswerSerializer(allow_null=True, help_text="The chosen article's answer; null for none of these.")
        handoff = serializers.BooleanField(
            help_text="True after 'none of these' when one more failure would hand the session off anyway: "
            "hand off now rather than asking the customer to rephrase."
        )

    @extend_schema(
        request=InputSerializer,
        parameters=[_QUERY_ID],
        responses={
            200: OutputSerializer,
            **api_errors("answers", not_found="No such answer (or another key's).", body=True),
            409: OpenApiResponse(
                ErrorSerializer,
                description="The question was not answered with suggestions, the article was not among them, "
                "a different choice was recorded, or the article is no longer published.",
            ),
        },
        tags=["answers"],
    )
    def post(self, request: Request, query_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with conflict_on("article_id"):
            result = suggestion_choose(
                query_id=_query_id(query_id), article_id=serializer.validated_data["article_id"], api_key=request.auth
            )
        return Response(asdict(result))


class FeedbackApi(APIView):
    """``POST /api/v1/answers/{query_id}/feedback/``: whether the answer helped the customer."""

    required_scope = "answers"

    @extend_schema_serializer(component_name="AnswerFeedback")
    class InputSerializer(serializers.Serializer):
        helpful = StrictBooleanField()
        comment = StrictCharField(required=False, allow_blank=True, max_length=500)

    @extend_schema(
        request=InputSerializer,
        parameters=[_QUERY_ID],
        responses={204: None, **api_errors("answers", not_found="No such answer (or another key's).", body=True)},
        tags=["answers"],
    )
    def post(self, request: Request, query_id: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback_record(
            query_id=_query_id(query_id),
            helpful=serializer.validated_data["helpful"],
            comment=serializer.validated_data.get("comment", ""),
            api_key=request.auth,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
