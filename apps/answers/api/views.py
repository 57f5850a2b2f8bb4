from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.answers.services.answering import (
    MAX_QUESTION_LENGTH,
    MAX_SUGGESTIONS,
    MIN_SUGGESTIONS,
    Question,
    answer_question,
    feedback_record,
)
from apps.answers.services.choices import suggestion_choose
from apps.core.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictSlugField,
)
from apps.core.api.schema import api_errors
from apps.core.api.serializers import ErrorSerializer
from apps.core.versions import validate_version
from apps.knowledge.models import Channel

HANDOFF_REASONS = ["low_confidence", "human_only_topic", "failure_streak", "no_match"]


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

    @extend_schema_serializer(component_name="AnswerRequest")
    class InputSerializer(serializers.Serializer):
        question = StrictCharField(
            max_length=MAX_QUESTION_LENGTH,
            trim_whitespace=True,
            help_text="The customer's question, as typed (any Chinese script).",
        )
        channel = StrictChoiceField(
            choices=Channel.choices,
            required=False,
            help_text="Selects the channel's own answer text when there is one.",
        )
        product = StrictSlugField(required=False, help_text="Product slug, e.g. `mall-app`; narrows the search to it.")
        product_version = StrictCharField(
            required=False,
            max_length=40,
            validators=[validate_version],
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
            **api_errors("answers", body=True),
        },
        tags=["answers"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = answer_question(
            question=Question(
                text=data["question"],
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
        responses={
            200: OutputSerializer,
            **api_errors("answers", not_found=True, body=True),
            409: OpenApiResponse(
                ErrorSerializer,
                description="The question was not answered with suggestions, a different choice was recorded, "
                "or the article is no longer published.",
            ),
        },
        tags=["answers"],
    )
    def post(self, request: Request, query_id) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = suggestion_choose(
            query_id=query_id, article_id=serializer.validated_data["article_id"], api_key=request.auth
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
        responses={204: None, **api_errors("answers", not_found=True, body=True)},
        tags=["answers"],
    )
    def post(self, request: Request, query_id) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback_record(
            query_id=query_id,
            helpful=serializer.validated_data["helpful"],
            comment=serializer.validated_data.get("comment", ""),
            api_key=request.auth,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
