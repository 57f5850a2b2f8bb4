"""Conversations in the admin: read-only transcripts with their metrics; teams, agents, channels and SLA
tiers managed by QA leads."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.conversations.models import Agent, Channel, Conversation, Customer, Message, SlaTier, Team
from apps.core.admin_base import ModelAdmin, TabularInline
from apps.core.params import is_plain_int


@admin.register(Channel)
class ChannelAdmin(ModelAdmin):
    sidebar_icon = "hub"
    list_display = ["code", "name", "kind"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(Team)
class TeamAdmin(ModelAdmin):
    sidebar_icon = "groups"
    list_display = ["name", "business_hours"]
    filter_horizontal = ["leads"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        """Who leads a team decides who reads its conversations: only someone who may manage people (an
        administrator) changes it; a lead edits their teams' hours but cannot make themselves a lead."""
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("auth.change_user"):
            readonly.append("leads")
        return readonly


@admin.register(Agent)
class AgentAdmin(ModelAdmin):
    sidebar_icon = "badge"
    list_display = ["code", "name", "kind", "team", "user", "created_at"]
    list_select_related = ["team", "user"]  # both may be empty, so Django would not join them by itself
    list_filter = ["kind", "team"]
    search_fields = ["code", "name", "user__username"]
    autocomplete_fields = ["user"]
    readonly_fields = ["code", "created_at"]


@admin.register(SlaTier)
class SlaTierAdmin(ModelAdmin):
    sidebar_icon = "timer"
    list_display = ["name", "first_response_seconds", "urgency", "match_tags", "is_default"]
    filter_horizontal = ["products"]


@admin.register(Customer)
class CustomerAdmin(ModelAdmin):
    sidebar_icon = "person"
    list_display = ["external_id", "first_seen_at"]
    search_fields = ["external_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MessageInline(TabularInline):
    model = Message
    fields = ["sent_at", "role", "sender", "type", "text", "masked_count"]
    readonly_fields = fields
    ordering = ["sent_at", "id"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class AgentFilter(admin.SimpleListFilter):
    """The agent who served the conversation (``?agent=<id>``, as the dashboards link to it). Agents are
    too many to list: the filter shows the one chosen."""

    title = _("served by")
    parameter_name = "agent"

    def lookups(self, request, model_admin):
        value = self.value()
        agent = Agent.objects.filter(pk=value).first() if is_plain_int(value) else None
        return [(str(agent.pk), agent.name or agent.code)] if agent else []

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(served_by_id=int(value)) if is_plain_int(value) else queryset


@admin.register(Conversation)
class ConversationAdmin(ModelAdmin):
    """Transcripts are as the channel sent them (masked): nothing here edits them."""

    sidebar_icon = "forum"

    list_display = [
        "external_id",
        "channel",
        "product",
        "team",
        "started_at",
        "message_count",
        "first_response_seconds",
        "human_first_response_seconds",
        "handoff",
        "sla_breached",
        "repeat_contact",
        "csat",
    ]
    list_filter = [
        "channel",
        "team",
        "product",
        AgentFilter,
        "handoff",
        "sla_breached",
        "repeat_contact",
        "sla_tier",
        "csat",
    ]
    search_fields = ["=external_id", "=customer__external_id"]
    date_hierarchy = "started_at"
    list_select_related = ["channel", "product", "team"]
    show_full_result_count = False  # counting 10^8 rows is not a page view
    inlines = [MessageInline]
    fieldsets = [
        (None, {"fields": ["channel", "external_id", "product", "team", "customer", "tags", "csat", "resolution"]}),
        (
            _("Metrics"),
            {
                "fields": [
                    ("started_at", "ended_at"),
                    ("message_count", "customer_message_count", "agent_message_count", "bot_message_count"),
                    ("first_response_seconds", "bot_first_response_seconds", "human_first_response_seconds"),
                    ("handoff", "handoff_at"),
                    ("avg_agent_reply_seconds", "max_agent_reply_seconds", "handle_seconds"),
                    ("bot_failure_streak", "repeat_contact"),
                    ("sla_tier", "sla_target_seconds", "sla_breached"),
                    "masked_count",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Conversation._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
