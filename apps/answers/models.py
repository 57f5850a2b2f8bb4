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


class AnswerPolicy(models.Model):
    """How sure a bot must be to answer directly, per product and channel; the most specific row applies.

    Editors set the precision they want from direct answers; both thresholds follow from it through the
    knowledge base's latest confidence fit. An explicit threshold overrides what follows from the target.
    """

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
    target_precision = models.FloatField(
        _("target precision of direct answers"),
        default=0.97,
        validators=[MinValueValidator(0.5), MaxValueValidator(0.999)],
        help_text=_("Share of direct answers that must be right, e.g. 0.97. The thresholds follow from it."),
    )
    answer_threshold = models.FloatField(
        _("answer threshold (override)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("Leave empty to follow the target. A confidence at or above it answers directly."),
    )
    clarify_threshold = models.FloatField(
        _("suggestion threshold (override)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_(
            "Leave empty to follow the target. Below the answer threshold and at or above this one, the bot "
            "offers the closest standard questions; below it, it hands off."
        ),
    )

    class Meta:
        verbose_name = _("answer policy")
        verbose_name_plural = _("answer policies")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "channel"], name="answer_policy_unique_scope", nulls_distinct=False
            ),
            models.CheckConstraint(
                condition=models.Q(target_precision__gte=0.5, target_precision__lte=0.999),
                name="answer_policy_target_between_half_and_one",
            ),
            models.CheckConstraint(
                condition=models.Q(answer_threshold__isnull=True)
                | models.Q(answer_threshold__gte=0, answer_threshold__lte=1),
                name="answer_policy_answer_threshold_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=models.Q(clarify_threshold__isnull=True)
                | models.Q(clarify_threshold__gte=0, clarify_threshold__lte=1),
                name="answer_policy_clarify_threshold_between_0_and_1",
            ),
        ]

    def __str__(self) -> str:
        scope = f"{self.product or _('all products')} · {self.get_channel_display() or _('all channels')}"
        return f"{scope}: {self.target_precision:.1%}"


class ConfidenceFit(models.Model):
    """One fit of the confidence model for a knowledge base (product empty) or one product of it."""

    created_at = models.DateTimeField(_("fitted at"), default=timezone.now, db_index=True)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("product"), related_name="+"
    )
    fingerprint = models.CharField(_("content fingerprint"), max_length=64)
    examples = models.PositiveIntegerField(_("questions"))
    pairs = models.PositiveIntegerField(_("pairs"))
    positives = models.PositiveIntegerField(_("right pairs"))
    outcomes = models.PositiveIntegerField(_("real outcomes used"), default=0)
    model = models.JSONField(_("model"))
    curve = models.JSONField(_("precision curve"), help_text=_("[confidence, precision, answered share] points."))
    clarify_threshold = models.FloatField(_("suggestion threshold"))
    expected_precision = models.FloatField(_("expected precision of direct answers at the default target"))
    expected_answer_rate = models.FloatField(_("expected share answered directly at the default target"))
    seconds = models.FloatField(_("duration (s)"))

    class Meta:
        verbose_name = _("confidence fit")
        verbose_name_plural = _("confidence fits")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["product", "-created_at"], name="confidence_fit_latest_idx")]

    def __str__(self) -> str:
        return f"{self.product or _('all products')} · {self.created_at:%Y-%m-%d %H:%M}"


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
    CLARIFY = "clarify", _("Suggested questions")
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
    api_key = models.ForeignKey(
        "apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("api key")
    )
    helpful = models.BooleanField(_("helpful"), null=True, blank=True)
    feedback_comment = models.CharField(_("feedback comment"), max_length=500, blank=True)
    feedback_at = models.DateTimeField(_("feedback at"), null=True, blank=True)
    gap_resolved_at = models.DateTimeField(_("gap resolved at"), null=True, blank=True)
    suggested_articles = ArrayField(
        models.BigIntegerField(), verbose_name=_("suggested articles"), default=list, blank=True
    )
    chosen_article = models.ForeignKey(
        Article,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("chosen suggestion"),
    )
    chosen_at = models.DateTimeField(
        _("chosen at"), null=True, blank=True, help_text=_("Set with no article: the customer chose none of them.")
    )

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
            models.Index(fields=["chosen_at"], name="answer_query_chosen_idx", condition=Q(chosen_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.question
