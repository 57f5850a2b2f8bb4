"""What bots ask and how they are answered: vocabulary, decision settings, the index and the log."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from apps.catalog.models import Product
from apps.knowledge.models import Article, ArticleVersion, Channel

EMBEDDING_DIMENSIONS = 384


class Synonym(models.Model):
    """Words customers use for the same thing (尿不湿 = 纸尿裤): all map to the canonical term."""

    canonical = models.CharField(_("canonical term"), max_length=50, unique=True)
    variants = ArrayField(
        models.CharField(max_length=50),
        verbose_name=_("variants"),
        help_text=_("Other words for the same thing, comma-separated in the form."),
    )

    class Meta:
        verbose_name = _("synonym")
        verbose_name_plural = _("synonyms")
        ordering = ["canonical"]

    def __str__(self) -> str:
        return f"{self.canonical} = {' / '.join(self.variants)}"


class Term(models.Model):
    """A word the segmenter must keep whole (product names, features, campaign names)."""

    text = models.CharField(_("term"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("dictionary term")
        verbose_name_plural = _("dictionary terms")
        ordering = ["text"]

    def __str__(self) -> str:
        return self.text


class HumanOnlyTopic(models.Model):
    """A topic bots must never answer (资金安全, 产品缺陷, 隐私泄露): questions about it go to a human."""

    name = models.CharField(_("topic"), max_length=50, unique=True)
    keywords = ArrayField(
        models.CharField(max_length=50),
        verbose_name=_("keywords"),
        help_text=_("A question containing any of these, or an answer tagged with the topic, is handed off."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("human-only topic")
        verbose_name_plural = _("human-only topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AnswerThreshold(models.Model):
    """The confidence at or above which a bot answers; the most specific matching row applies."""

    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        verbose_name=_("product"),
        help_text=_("Empty: every product."),
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, blank=True, help_text=_("Empty: every channel.")
    )
    threshold = models.FloatField(_("threshold"), validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])

    class Meta:
        verbose_name = _("answer threshold")
        verbose_name_plural = _("answer thresholds")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "channel"], name="answer_threshold_unique_scope", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=models.Q(threshold__gte=0, threshold__lte=1), name="answer_threshold_between_0_and_1"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.product or _('all products')} · {self.get_channel_display() or _('all channels')}: {self.threshold}"
        )


class QuestionEntry(models.Model):
    """One standard or similar question of a published version, indexed for both retrieval branches."""

    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    is_standard = models.BooleanField(default=False)
    is_answer = models.BooleanField(default=False)  # the answer text as a passage, not a question
    embedded_text = models.CharField(max_length=300, default="")  # normalised, synonyms folded
    lexemes = ArrayField(models.CharField(max_length=60))
    # The same tokens as a tsvector, kept by PostgreSQL, for the GIN-indexed lexical branch.
    lexeme_vector = models.GeneratedField(
        expression=Func(F("lexemes"), function="array_to_tsvector"), output_field=SearchVectorField(), db_persist=True
    )
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)

    class Meta:
        indexes = [
            models.Index(fields=["version"], name="question_entry_version_idx"),
            GinIndex(fields=["lexeme_vector"], name="question_entry_lexemes_gin"),
            HnswIndex(
                name="question_entry_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.text


class TokenStat(models.Model):
    """How many index entries contain a token (document frequency), for IDF-weighted lexical scores.

    The row with the empty token holds the number of entries. Rebuilt set-wise after indexing.
    """

    token = models.CharField(max_length=60, primary_key=True)
    entries = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.token}: {self.entries}"


class Decision(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    LOW_CONFIDENCE = "low_confidence", _("Low confidence")
    HUMAN_ONLY_TOPIC = "human_only_topic", _("Human-only topic")
    FAILURE_STREAK = "failure_streak", _("Failure streak")
    NO_MATCH = "no_match", _("No match")


class AnswerQuery(models.Model):
    """Every question a bot asked, what was decided, how confident and how fast: the raw material of gaps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now, db_index=True)
    question = models.CharField(_("question"), max_length=500)
    normalized = models.CharField(_("normalised question"), max_length=500)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("product"))
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    product_version = models.CharField(_("product version"), max_length=40, blank=True)
    session_id = models.CharField(_("session"), max_length=100, blank=True, db_index=True)
    decision = models.CharField(_("decision"), max_length=20, choices=Decision.choices)
    confidence = models.FloatField(_("confidence"))
    article = models.ForeignKey(
        Article,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answer_queries",
        verbose_name=_("answered with"),
    )
    version_number = models.PositiveIntegerField(_("version"), null=True, blank=True)
    top_candidate = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("best guess")
    )
    cached = models.BooleanField(_("from cache"), default=False)
    latency_ms = models.FloatField(_("latency (ms)"))
    api_key = models.ForeignKey("apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    helpful = models.BooleanField(_("helpful"), null=True, blank=True)
    feedback_comment = models.CharField(_("feedback comment"), max_length=500, blank=True)
    feedback_at = models.DateTimeField(_("feedback at"), null=True, blank=True)
    gap_resolved_at = models.DateTimeField(_("gap resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bot question")
        verbose_name_plural = _("bot questions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["article", "helpful"], name="answer_query_article_idx"),
            models.Index(fields=["decision", "created_at"], name="answer_query_decision_idx"),
            models.Index(
                fields=["feedback_at"], name="answer_query_feedback_idx", condition=Q(feedback_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.question
