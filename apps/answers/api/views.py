from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.answers.services.answering import MAX_QUESTION_LENGTH, Question, answer_question, feedback_record
from apps.core.api.schema import api_errors
from apps.core.versions import validate_version
from apps.knowledge.models import Channel


class AnswerApi(APIView):
    """``POST /api/v1/answers/``: the best published answer for a customer's question, or a handoff."""

    required_scope = "answers"

    @extend_schema_serializer(component_name="AnswerRequest")
    class InputSerializer(serializers.Serializer):
        question = serializers.CharField(
            max_length=MAX_QUESTION_LENGTH,
            trim_whitespace=True,
            help_text="The customer's question, as typed (any Chinese script).",
        )
        channel = serializers.ChoiceField(
            choices=Channel.choices,
            required=False,
            default="",
            help_text="Selects the channel's own answer text when there is one.",
        )
        product = serializers.SlugField(required=False, default="", help_text="Product slug, e.g. `mall-app`.")
        product_version = serializers.CharField(
            required=False,
            default="",
            max_length=40,
            validators=[validate_version],
            help_text="The customer's app version, e.g. `5.3.0`.",
        )
        session_id = serializers.CharField(
            required=False,
            default="",
            max_length=100,
            help_text="Conversation id; three failed answers in a row hand off.",
        )
        top_k = serializers.IntegerField(
            required=False, default=3, min_value=1, max_value=10, help_text="How many candidates to list."
        )

    @extend_schema_serializer(component_name="Answer")
    class AnswerSerializer(serializers.Serializer):
        article_id = serializers.CharField(help_text="The article's external id.")
        version = serializers.IntegerField(help_text="The published version answered from.")
        question = serializers.CharField(help_text="The article's standard question.")
        text = serializers.CharField(help_text="The answer for the requested channel (Markdown).")

    @extend_schema_serializer(component_name="AnswerCandidate")
    class CandidateSerializer(serializers.Serializer):
        article_id = serializers.CharField()
        question = serializers.CharField()
        score = serializers.FloatField(help_text="Confidence-scaled score, 0..1.")

    @extend_schema_serializer(component_name="AnswerResponse")
    class OutputSerializer(serializers.Serializer):
        query_id = serializers.UUIDField(help_text="Send feedback to /api/v1/answers/{query_id}/feedback/.")
        handoff = serializers.BooleanField(help_text="True: hand the customer to a human.")
        handoff_reason = serializers.ChoiceField(
            choices=["low_confidence", "human_only_topic", "failure_streak", "no_match"], allow_null=True
        )
        confidence = serializers.FloatField(help_text="Calibrated probability that the best answer is right.")
        answer = serializers.DictField(allow_null=True, help_text="Null when handing off.")
        candidates = serializers.ListField(child=serializers.DictField(), help_text="Best guesses, best first.")

    @extend_schema(
        request=InputSerializer, responses={200: OutputSerializer, **api_errors("answers")}, tags=["answers"]
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = answer_question(
            question=Question(
                text=data["question"],
                channel=data["channel"],
                product=data["product"],
                product_version=data["product_version"],
                session_id=data["session_id"],
                top_k=data["top_k"],
            ),
            api_key=request.auth,
        )
        # The result is plain data already; building it by hand keeps serializer cost off the hot path.
        return Response(asdict(result))


class FeedbackApi(APIView):
    """``POST /api/v1/answers/{query_id}/feedback/``: whether the answer helped the customer."""

    required_scope = "answers"

    @extend_schema_serializer(component_name="AnswerFeedback")
    class InputSerializer(serializers.Serializer):
        helpful = serializers.BooleanField()
        comment = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    @extend_schema(
        request=InputSerializer,
        responses={204: None, **api_errors("answers", not_found=True)},
        tags=["answers"],
    )
    def post(self, request: Request, query_id) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feedback_record(
            query_id=query_id,
            helpful=serializer.validated_data["helpful"],
            comment=serializer.validated_data["comment"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
