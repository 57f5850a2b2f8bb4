"""Conversations from the service channels, their messages (PII masked before storage) and the service
metrics computed for each conversation at ingestion.

Sized for 10^8 messages: messages are keyed by a bigint and clustered by conversation; every query the
QA and dashboard modules run goes through one of the indexes declared here. Partitioning path (see
docs in README "Conversations at scale"): range-partition ``conversations_message`` by ``sent_at``
month, with ``(conversation_id, external_id, sent_at)`` as the unique key.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Product


class ChannelKind(models.TextChoices):
    WECHAT_KF = "wechat_kf", _("WeChat customer service")
    WECOM = "wecom", _("WeCom")
    APP = "app", _("App chat")
    WEB = "web", _("Web chat")
    PHONE = "phone", _("Phone transcript")
    OTHER = "other", _("Other")


class Channel(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("As sent by integrations, e.g. wechat."))
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices, default=ChannelKind.OTHER)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name or self.code


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    business_hours = models.JSONField(
        _("business hours"),
        null=True,
        blank=True,
        help_text=_(
            'Empty: around the clock. Otherwise e.g. {"timezone": "Asia/Shanghai", "weekdays": [1, 2, 3, 4, 5], '
            '"start": "09:00", "end": "21:00"} (weekdays 1 = Monday … 7 = Sunday). Response times count only '
            "business time."
        ),
    )
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="led_teams",
        verbose_name=_("QA leads"),
        help_text=_("They see this team's reviews and rule on its agents' disputes."),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentKind(models.TextChoices):
    HUMAN = "human", _("Human")
    BOT = "bot", _("Bot")


class Agent(models.Model):
    code = models.CharField(_("agent id"), max_length=100, unique=True, help_text=_("The sender id channels use."))
    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=AgentKind.choices, default=AgentKind.HUMAN)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("team"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent",
        verbose_name=_("portal user"),
    )
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name or self.code


class Customer(models.Model):
    """A customer by the pseudonymous id the channel gives (never a name or a phone number)."""

    external_id = models.CharField(_("customer id"), max_length=100, unique=True)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.external_id


class SlaTier(models.Model):
    """A first-response target. A conversation gets the most urgent tier whose tags it carries, else its
    product's tier, else the default tier."""

    name = models.CharField(_("name"), max_length=50, unique=True, help_text=_("e.g. 紧急, 普通, 金融"))
    first_response_seconds = models.PositiveIntegerField(_("first response target (seconds)"))
    urgency = models.PositiveSmallIntegerField(_("urgency"), default=100, help_text=_("Lower is more urgent."))
    match_tags = ArrayField(
        models.CharField(max_length=50), default=list, blank=True, verbose_name=_("conversation tags")
    )
    products = models.ManyToManyField(Product, blank=True, verbose_name=_("products"), related_name="+")
    is_default = models.BooleanField(_("default tier"), default=False)

    class Meta:
        verbose_name = _("SLA tier")
        verbose_name_plural = _("SLA tiers")
        ordering = ["urgency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_sla_tier")
        ]

    def __str__(self) -> str:
        return self.name


class Resolution(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    UNRESOLVED = "unresolved", _("Unresolved")
    UNKNOWN = "", _("Unknown")


class Conversation(models.Model):
    # The foreign keys are indexed by the composite indexes below (each leads one), not a second time.
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, verbose_name=_("channel"), db_index=False)
    external_id = models.CharField(_("conversation id"), max_length=200)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("product"), db_index=False
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("team"), db_index=False
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("customer"), db_index=False
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True, verbose_name=_("tags"))
    csat = models.PositiveSmallIntegerField(_("CSAT"), null=True, blank=True)
    resolution = models.CharField(
        _("resolution"), max_length=12, choices=Resolution.choices, default=Resolution.UNKNOWN, blank=True
    )
    stated_handoff = models.BooleanField(_("handoff stated by the channel"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # --- metrics, recomputed set-wise whenever messages arrive (apps.conversations.services.metrics) ---
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    customer_message_count = models.PositiveIntegerField(_("customer messages"), default=0)
    agent_message_count = models.PositiveIntegerField(_("agent messages"), default=0)
    bot_message_count = models.PositiveIntegerField(_("bot messages"), default=0)
    first_response_seconds = models.FloatField(_("first response (s)"), null=True, blank=True)
    bot_first_response_seconds = models.FloatField(_("bot first response (s)"), null=True, blank=True)
    human_first_response_seconds = models.FloatField(_("human first response (s)"), null=True, blank=True)
    handoff = models.BooleanField(_("handed off"), default=False)
    handoff_at = models.DateTimeField(_("handed off at"), null=True, blank=True)
    avg_agent_reply_seconds = models.FloatField(_("average agent reply (s)"), null=True, blank=True)
    max_agent_reply_seconds = models.FloatField(_("longest agent reply (s)"), null=True, blank=True)
    handle_seconds = models.FloatField(_("handle time (s)"), null=True, blank=True)
    bot_failure_streak = models.PositiveSmallIntegerField(_("longest bot failure streak"), default=0)
    repeat_contact = models.BooleanField(_("customer came back"), default=False)
    sla_tier = models.ForeignKey(
        SlaTier, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("SLA tier"), related_name="+"
    )
    sla_target_seconds = models.PositiveIntegerField(_("SLA target (s)"), null=True, blank=True)
    sla_breached = models.BooleanField(_("SLA breached"), null=True, blank=True)
    masked_count = models.PositiveIntegerField(_("PII masked"), default=0)
    served_by = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("served by"),
        help_text=_("The human agent who wrote most replies (the bot when no human took part)."),
    )

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="conversation_unique_per_channel"),
            models.CheckConstraint(condition=Q(csat__gte=1, csat__lte=5) | Q(csat__isnull=True), name="csat_1_to_5"),
        ]
        indexes = [
            models.Index(fields=["started_at"], name="conversation_started_idx"),
            models.Index(fields=["team", "started_at"], name="conversation_team_idx"),
            models.Index(fields=["product", "started_at"], name="conversation_product_idx"),
            models.Index(fields=["customer", "product", "started_at"], name="conversation_repeat_idx"),
            GinIndex(fields=["tags"], name="conversation_tags_idx"),
            models.Index(fields=["served_by", "started_at"], name="conversation_served_by_idx"),
            # What changed since a moment (dashboards' rollups, QA's safety net): a BRIN index costs next
            # to nothing at ingestion and stays tiny, since rows arrive roughly in update order.
            BrinIndex(fields=["updated_at"], name="conversation_updated_brin"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id}"


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Bot")
    SYSTEM = "system", _("System")


class Message(models.Model):
    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation"), db_index=False
    )
    external_id = models.CharField(_("message id"), max_length=200)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    sender = models.CharField(_("sender"), max_length=100, blank=True)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("agent"), db_index=False
    )
    sent_at = models.DateTimeField(_("sent"))
    text = models.TextField(_("text"), blank=True)
    type = models.CharField(_("type"), max_length=30, default="text")
    masked_count = models.PositiveSmallIntegerField(_("PII masked"), default=0)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        # (conversation, external_id) serves every lookup of a conversation's messages too: a conversation
        # has tens of messages, sorted by time in memory. A second index led by conversation would cost an
        # insertion per message and its size again at 10^8 messages.
        constraints = [
            models.UniqueConstraint(fields=["conversation", "external_id"], name="message_unique_per_conversation")
        ]
        indexes = [
            models.Index(fields=["agent", "sent_at"], name="message_agent_idx", condition=Q(agent__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.sent_at:%Y-%m-%d %H:%M:%S}"
