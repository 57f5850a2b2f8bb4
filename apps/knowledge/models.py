"""Versioned knowledge: FAQ articles and scripts (话术), their versions and stale flags.

An article or script is a stable identity; what it says lives in immutable versions. Editing creates a
new version from a base version; exactly one version per item can be published (a partial unique
constraint); publishing supersedes the previous one.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Feature, Product, Release
from apps.core.versions import validate_version

external_id_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$",
    _("Use letters, digits, '.', '_', ':' or '-' (up to 100 characters), starting with a letter or digit."),
)


class Channel(models.TextChoices):
    WECHAT = "wechat", _("WeChat customer service")
    WECOM = "wecom", _("WeCom")
    APP = "app", _("In-app chat")
    WEB = "web", _("Web chat")
    PHONE = "phone", _("Phone")
    MINIPROGRAM = "miniprogram", _("Mini program")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Simplified Chinese")
    ZH_HANT = "zh-hant", _("Traditional Chinese")
    EN = "en", _("English")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    ARCHIVED = "archived", _("Archived")


class Category(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="categories", verbose_name=_("product"))
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["product__name", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="category_name_unique_per_product")]

    def __str__(self) -> str:
        return f"{self.product.name} · {self.name}"


def default_verification_days() -> int:
    return settings.KNOWLEDGE_DEFAULT_VERIFICATION_DAYS


class KnowledgeItem(models.Model):
    """What articles and scripts share: identity, ownership and verification."""

    external_id = models.CharField(_("external ID"), max_length=100, unique=True, validators=[external_id_validator])
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("verifier"),
        help_text=_("Who confirms this is still correct; defaults to the owner."),
    )
    verification_interval_days = models.PositiveIntegerField(
        _("verification interval (days)"),
        default=default_verification_days,
        validators=[MinValueValidator(1)],
    )
    last_verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True, editable=False)
    needs_verification = models.BooleanField(_("needs verification"), default=False, editable=False)
    compliance_sensitive = models.BooleanField(
        _("compliance-sensitive"),
        default=False,
        help_text=_("Authors cannot approve their own versions of compliance-sensitive content."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.external_id


class KnowledgeVersion(models.Model):
    """What article and script versions share: number, workflow state and applicability."""

    number = models.PositiveIntegerField(_("version"), editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT, editable=False
    )
    based_on_number = models.PositiveIntegerField(_("based on version"), null=True, blank=True, editable=False)
    change_note = models.CharField(_("change note"), max_length=200, blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True, verbose_name=_("tags"))
    min_product_version = models.CharField(
        _("from product version"), max_length=40, blank=True, validators=[validate_version]
    )
    max_product_version = models.CharField(
        _("up to product version"), max_length=40, blank=True, validators=[validate_version]
    )
    # Sortable forms of the range (apps.core.versions.version_key), compared in SQL.
    min_product_version_key = ArrayField(models.PositiveIntegerField(), null=True, blank=True, editable=False)
    max_product_version_key = ArrayField(models.PositiveIntegerField(), null=True, blank=True, editable=False)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    content_hash = models.CharField(max_length=64, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    review_comment = models.CharField(_("review comment"), max_length=500, blank=True, editable=False)

    class Meta:
        abstract = True


class Article(KnowledgeItem):
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="articles", verbose_name=_("category")
    )

    class Meta:
        verbose_name = _("FAQ article")
        verbose_name_plural = _("FAQ articles")
        ordering = ["external_id"]
        permissions = [
            ("publish_content", _("Can approve, publish and roll back articles and scripts")),
            ("archive_content", _("Can archive articles and scripts")),
            ("verify_content", _("Can verify articles and scripts")),
            ("import_content", _("Can import articles and scripts")),
        ]
        indexes = [models.Index(fields=["product", "needs_verification"], name="article_product_verify_idx")]


class ArticleVersion(KnowledgeVersion):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions", verbose_name=_("article"))
    standard_question = models.CharField(_("standard question"), max_length=300)
    answer = models.TextField(_("answer (Markdown)"))
    answer_html = models.TextField(editable=False)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS)
    features = models.ManyToManyField(Feature, blank=True, related_name="article_versions", verbose_name=_("features"))

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_number_unique"),
            models.UniqueConstraint(
                fields=["article"], condition=Q(status="published"), name="one_published_version_per_article"
            ),
        ]
        indexes = [models.Index(fields=["status", "article"], name="article_version_status_idx")]

    def __str__(self) -> str:
        return f"{self.article.external_id} v{self.number}"

    @property
    def item(self) -> Article:
        return self.article


class SimilarQuestion(models.Model):
    version = models.ForeignKey(
        ArticleVersion, on_delete=models.CASCADE, related_name="similar_questions", verbose_name=_("version")
    )
    text = models.CharField(_("similar question"), max_length=300)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("similar question")
        verbose_name_plural = _("similar questions")
        ordering = ["version", "position"]

    def __str__(self) -> str:
        return self.text


class ChannelAnswer(models.Model):
    version = models.ForeignKey(
        ArticleVersion, on_delete=models.CASCADE, related_name="channel_answers", verbose_name=_("version")
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    answer = models.TextField(_("answer (Markdown)"))
    answer_html = models.TextField(editable=False)

    class Meta:
        verbose_name = _("channel answer")
        verbose_name_plural = _("channel answers")
        ordering = ["version", "channel"]
        constraints = [models.UniqueConstraint(fields=["version", "channel"], name="channel_answer_unique_per_version")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}"


class ScriptScenario(models.Model):
    """A situation agents speak in (开场白, 安抚, 催付 …) and the placeholders its scripts may use."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    placeholders = ArrayField(
        models.CharField(max_length=40),
        default=list,
        blank=True,
        verbose_name=_("placeholders"),
        help_text=_("Names scripts may use as {name}, e.g. customer_name, order_id."),
    )

    class Meta:
        verbose_name = _("script scenario")
        verbose_name_plural = _("script scenarios")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Script(KnowledgeItem):
    scenario = models.ForeignKey(
        ScriptScenario, on_delete=models.PROTECT, related_name="scripts", verbose_name=_("scenario")
    )

    class Meta:
        verbose_name = _("script")
        verbose_name_plural = _("scripts")
        ordering = ["external_id"]
        indexes = [models.Index(fields=["product", "needs_verification"], name="script_product_verify_idx")]


class ScriptVersion(KnowledgeVersion):
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions", verbose_name=_("script"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("script text"))
    channels = ArrayField(
        models.CharField(max_length=20, choices=Channel.choices),
        default=list,
        blank=True,
        verbose_name=_("channels"),
        help_text=_("Empty means every channel."),
    )
    features = models.ManyToManyField(Feature, blank=True, related_name="script_versions", verbose_name=_("features"))

    class Meta:
        verbose_name = _("script version")
        verbose_name_plural = _("script versions")
        ordering = ["script", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["script", "number"], name="script_version_number_unique"),
            models.UniqueConstraint(
                fields=["script"], condition=Q(status="published"), name="one_published_version_per_script"
            ),
        ]
        indexes = [models.Index(fields=["status", "script"], name="script_version_status_idx")]

    def __str__(self) -> str:
        return f"{self.script.external_id} v{self.number}"

    @property
    def item(self) -> Script:
        return self.script


class StaleReason(models.TextChoices):
    FEATURE_CHANGED = "feature_changed", _("A release changed a linked feature")
    RANGE_ENDED = "range_ended", _("The release is past the content's applicable product versions")


class StaleFlag(models.Model):
    """A release made an article or script possibly out of date. Open until verified or republished."""

    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="stale_flags", verbose_name=_("article")
    )
    script = models.ForeignKey(
        Script, null=True, blank=True, on_delete=models.CASCADE, related_name="stale_flags", verbose_name=_("script")
    )
    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, related_name="stale_flags", verbose_name=_("release")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=StaleReason.choices)
    features = ArrayField(models.CharField(max_length=60), default=list, blank=True, verbose_name=_("changed features"))
    created_at = models.DateTimeField(_("flagged at"), default=timezone.now, editable=False)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("cleared by"),
    )
    cleared_because = models.CharField(_("cleared because"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("stale flag")
        verbose_name_plural = _("stale flags")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(article__isnull=False, script__isnull=True) | Q(article__isnull=True, script__isnull=False),
                name="stale_flag_on_article_or_script",
            ),
            # Processing the same release twice must not flag anything twice.
            models.UniqueConstraint(
                fields=["article", "release", "reason"],
                condition=Q(article__isnull=False),
                name="stale_flag_unique_article_release_reason",
            ),
            models.UniqueConstraint(
                fields=["script", "release", "reason"],
                condition=Q(script__isnull=False),
                name="stale_flag_unique_script_release_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["article"], condition=Q(cleared_at__isnull=True), name="stale_flag_open_article_idx"),
            models.Index(fields=["script"], condition=Q(cleared_at__isnull=True), name="stale_flag_open_script_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.article or self.script} · {self.release}"


class ReleaseStaleCheck(models.Model):
    """The stale check of a release has run: its flags are in. A release without one is still to check
    (the sweeper ``knowledge.check_unchecked_releases`` catches checks that were never queued)."""

    release = models.OneToOneField(
        Release, primary_key=True, on_delete=models.CASCADE, related_name="stale_check", verbose_name=_("release")
    )
    done_at = models.DateTimeField(_("stale check done at"), default=timezone.now)

    class Meta:
        verbose_name = _("stale check")
        verbose_name_plural = _("stale checks")

    def __str__(self) -> str:
        return f"{self.release} · {self.done_at:%Y-%m-%d %H:%M}"
