"""Output shapes of the read API (what integrations and offline bots sync)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fields import (
    QueryBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictDateTimeField,
    StrictSlugField,
)
from apps.knowledge.models import ArticleVersion, Channel, external_id_validator

# The path parameter of the detail endpoints: what an article's or script's external id may be.
EXTERNAL_ID_PATTERN = external_id_validator.regex.pattern


class StaleReasonSerializer(serializers.Serializer):
    release = serializers.CharField(source="release.version")
    released_at = serializers.DateTimeField(source="release.released_at")
    reason = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    flagged_at = serializers.DateTimeField(source="created_at")


class ChannelFilterSerializer(serializers.Serializer):
    """Read from ``apps.core.api.fields.query_values``: an empty value is refused like any other bad one."""

    channel = StrictChoiceField(
        choices=Channel.choices, required=False, help_text="Answer text for this channel, if it has one."
    )


class FilterSerializer(ChannelFilterSerializer):
    product = StrictSlugField(required=False, max_length=60, help_text="Product slug, e.g. `mall-app`.")
    feature = StrictSlugField(required=False, max_length=60, help_text="Feature slug, e.g. `refund`.")
    stale = QueryBooleanField(required=False, help_text="Only items flagged stale (`true`) or not (`false`).")
    needs_verification = QueryBooleanField(required=False, help_text="Only items due for verification, or not.")
    updated_since = StrictDateTimeField(
        required=False,
        help_text="Only items changed since then, inclusive (a new version, a stale flag raised or cleared, a "
        "verification). To sync, pass the `Sync-Cursor` header of your previous list response: nothing "
        "committed after it was given out is skipped, though an item may come back twice.",
    )


class ArticleFilterSerializer(FilterSerializer):
    category = StrictCharField(required=False, max_length=100, help_text="Category name, e.g. 退款与售后.")


class ScriptFilterSerializer(FilterSerializer):
    scenario = StrictSlugField(required=False, max_length=60, help_text="Script scenario slug.")


class _ItemFields(serializers.Serializer):
    version = serializers.IntegerField(source="number")
    features = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField())
    min_product_version = serializers.CharField()
    max_product_version = serializers.CharField()
    valid_from = serializers.DateTimeField(allow_null=True, help_text="Null: valid since publication.")
    valid_until = serializers.DateTimeField(allow_null=True, help_text="Null: no end date.")
    stale = serializers.SerializerMethodField()
    stale_reasons = serializers.SerializerMethodField()
    needs_verification = serializers.SerializerMethodField()
    published_at = serializers.DateTimeField()

    def get_features(self, version) -> list[str]:
        return sorted(f.slug for f in version.features.all())

    def get_stale(self, version) -> bool:
        return bool(version.item.open_stale_flags)

    @extend_schema_field(StaleReasonSerializer(many=True))
    def get_stale_reasons(self, version) -> list[dict]:
        return StaleReasonSerializer(version.item.open_stale_flags, many=True).data

    def get_needs_verification(self, version) -> bool:
        return version.item.needs_verification


class ArticleSerializer(_ItemFields):
    external_id = serializers.CharField(source="article.external_id")
    product = serializers.CharField(source="article.product.slug")
    category = serializers.SerializerMethodField()
    standard_question = serializers.CharField()
    similar_questions = serializers.SerializerMethodField()
    answer = serializers.SerializerMethodField()
    answer_html = serializers.SerializerMethodField()
    channel_answers = serializers.SerializerMethodField()
    language = serializers.CharField()

    def _channel_answer(self, version: ArticleVersion):
        channel = self.context.get("channel")
        if not channel:
            return None
        return next((c for c in version.channel_answers.all() if c.channel == channel), None)

    def get_category(self, version: ArticleVersion) -> str | None:
        return version.article.category.name if version.article.category else None

    def get_similar_questions(self, version: ArticleVersion) -> list[str]:
        return [q.text for q in version.similar_questions.all()]

    def get_answer(self, version: ArticleVersion) -> str:
        # With ?channel=…, "answer" is what that channel shows (its own answer, else the default).
        specific = self._channel_answer(version)
        return specific.answer if specific else version.answer

    def get_answer_html(self, version: ArticleVersion) -> str:
        specific = self._channel_answer(version)
        return specific.answer_html if specific else version.answer_html

    def get_channel_answers(self, version: ArticleVersion) -> dict[str, str]:
        return {c.channel: c.answer for c in version.channel_answers.all()}


class ScriptSerializer(_ItemFields):
    external_id = serializers.CharField(source="script.external_id")
    product = serializers.CharField(source="script.product.slug")
    scenario = serializers.CharField(source="script.scenario.slug")
    placeholders = serializers.ListField(source="script.scenario.placeholders", child=serializers.CharField())
    title = serializers.CharField()
    text = serializers.CharField()
    channels = serializers.ListField(child=serializers.CharField())
