"""Daily rollups behind the dashboards: sums and counts per day and dimension, rebuilt set-wise for the
days whose conversations or bot questions changed (a late conversation rebuilds its day). Averages and
rates are sums over sums, so any date range and any grouping adds up exactly."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Product
from apps.conversations.models import Agent, Channel, Team

_SUMS = [
    "conversations",
    "first_response_count",
    "first_response_sum",
    "bot_first_response_count",
    "bot_first_response_sum",
    "human_first_response_count",
    "human_first_response_sum",
    "handle_count",
    "handle_sum",
    "csat_count",
    "csat_sum",
    "fcr_count",  # conversations with a customer, judged for first-contact resolution
    "repeat_contacts",
    "handoffs",
    "bot_involved",
    "sla_judged",
    "sla_breached",
]


class ServiceFigures(models.Model):
    conversations = models.PositiveIntegerField(default=0)
    first_response_count = models.PositiveIntegerField(default=0)
    first_response_sum = models.FloatField(default=0)
    bot_first_response_count = models.PositiveIntegerField(default=0)
    bot_first_response_sum = models.FloatField(default=0)
    human_first_response_count = models.PositiveIntegerField(default=0)
    human_first_response_sum = models.FloatField(default=0)
    handle_count = models.PositiveIntegerField(default=0)
    handle_sum = models.FloatField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    fcr_count = models.PositiveIntegerField(default=0)
    repeat_contacts = models.PositiveIntegerField(default=0)
    handoffs = models.PositiveIntegerField(default=0)
    bot_involved = models.PositiveIntegerField(default=0)
    sla_judged = models.PositiveIntegerField(default=0)
    sla_breached = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class DailyServiceStats(ServiceFigures):
    """Per local day, channel, team and product."""

    day = models.DateField(_("day"))
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("daily service figures")
        verbose_name_plural = _("daily service figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "team", "product"], name="daily_service_unique", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["day"], name="daily_service_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id}/{self.team_id}/{self.product_id}"


class DailyAgentStats(ServiceFigures):
    """Per local day, agent (the one who served the conversation) and team: small enough to rank every
    agent over a year in milliseconds."""

    day = models.DateField(_("day"))
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("daily agent figures")
        verbose_name_plural = _("daily agent figures")
        constraints = [
            models.UniqueConstraint(fields=["day", "agent", "team"], name="daily_agent_unique", nulls_distinct=False)
        ]
        indexes = [models.Index(fields=["day"], name="daily_agent_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} agent {self.agent_id}"


class DailyAgentDetailStats(ServiceFigures):
    """Per local day, agent, channel, team and product: agents filtered by channel or product."""

    day = models.DateField(_("day"))
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, null=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("daily agent figures by channel and product")
        verbose_name_plural = _("daily agent figures by channel and product")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "agent", "channel", "team", "product"],
                name="daily_agent_detail_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["day"], name="daily_agent_detail_day_idx"),
            models.Index(fields=["channel", "day"], name="daily_agent_detail_channel_idx"),
            models.Index(fields=["product", "day"], name="daily_agent_detail_product_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} agent {self.agent_id} {self.channel_id}/{self.product_id}"


class DailyAnswerStats(models.Model):
    """Bot questions per local day, product and channel: answered, and the feedback on the answers."""

    day = models.DateField(_("day"))
    product = models.ForeignKey(Product, null=True, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=20, blank=True)
    questions = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    helpful = models.PositiveIntegerField(default=0)
    unhelpful = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily bot figures")
        verbose_name_plural = _("daily bot figures")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "product", "channel"], name="daily_answer_unique", nulls_distinct=False
            )
        ]
        indexes = [models.Index(fields=["day"], name="daily_answer_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.product_id}/{self.channel}"


class RollupState(models.Model):
    """How far the rollups have read the changes (a single row)."""

    name = models.CharField(max_length=40, unique=True)
    watermark = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name}: {self.watermark}"


class DigestSent(models.Model):
    """A weekly digest sent: at most one per user, kind and week (the task may run twice)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    week = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "week"], name="one_digest_per_week")]

    def __str__(self) -> str:
        return f"{self.kind} {self.week} → {self.user_id}"
