"""Human reviews (人工质检): a reviewer's scores of a conversation against a scorecard version, the agent's
disputes (申诉) of them, and calibration sessions (校准) where reviewers score the same conversations blind."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.conversations.models import Conversation
from apps.qa.models import Criterion, ReviewTask, ScorecardVersion


class CalibrationSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    name = models.CharField(_("name"), max_length=200)
    version = models.ForeignKey(ScorecardVersion, on_delete=models.PROTECT, related_name="+", verbose_name=_("version"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="calibration_sessions", verbose_name=_("reviewers")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("calibration session")
        verbose_name_plural = _("calibration sessions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class CalibrationItem(models.Model):
    session = models.ForeignKey(CalibrationSession, on_delete=models.CASCADE, related_name="items")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("calibration conversation")
        verbose_name_plural = _("calibration conversations")
        ordering = ["session", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "conversation"], name="calibration_item_unique")]

    def __str__(self) -> str:
        return f"{self.session} · {self.conversation}"


class Review(models.Model):
    """One reviewer's scoring of one conversation: a draft saved as they work, then submitted once."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")

    task = models.OneToOneField(
        ReviewTask, null=True, blank=True, on_delete=models.CASCADE, related_name="review", verbose_name=_("task")
    )
    calibration_item = models.ForeignKey(
        CalibrationItem,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reviews",
        verbose_name=_("calibration item"),
    )
    is_reference = models.BooleanField(_("reference"), default=False)  # the lead's answer in a calibration
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("conversation")
    )
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("version")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("reviewer")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    outcomes = models.JSONField(_("outcomes"), default=dict)  # criterion id → pass / fail / na
    criterion_notes = models.JSONField(default=dict, verbose_name=_("criterion notes"))  # criterion id → text
    finding_verdicts = models.JSONField(
        default=dict, verbose_name=_("finding verdicts")
    )  # finding id → confirmed / overturned (复核)
    message_notes = models.JSONField(default=dict, verbose_name=_("message notes"))  # message id → text
    comment = models.TextField(_("comment"), blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    fatal = models.BooleanField(_("fatal"), default=False)
    seconds_spent = models.PositiveIntegerField(_("active seconds"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["calibration_item", "reviewer"],
                condition=Q(calibration_item__isnull=False),
                name="one_review_per_calibration_reviewer",
            )
        ]
        indexes = [
            models.Index(fields=["reviewer", "submitted_at"], name="review_reviewer_idx"),
            models.Index(fields=["conversation"], name="review_conversation_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation} · {self.reviewer}"


class ReviewRevision(models.Model):
    """The score as it stood after each change that counts (submission, a ruling on a dispute)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="revisions")
    outcomes = models.JSONField(default=dict)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True)
    fatal = models.BooleanField(default=False)
    reason = models.CharField(_("reason"), max_length=200)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review revision")
        verbose_name_plural = _("review revisions")
        ordering = ["review", "at", "id"]

    def __str__(self) -> str:
        return f"{self.review_id}: {self.reason}"


class Dispute(models.Model):
    """An agent's appeal (申诉) against one criterion of a submitted review, and its ruling."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        OVERTURNED = "overturned", _("overturned")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="disputes", verbose_name=_("review"))
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+", verbose_name=_("criterion"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("ruling note"), blank=True)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["review", "criterion"], name="one_dispute_per_criterion")]

    def __str__(self) -> str:
        return f"{self.review} · {self.criterion}"
