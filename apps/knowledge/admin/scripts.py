from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy

from apps.core.admin_base import ModelAdmin
from apps.knowledge.admin.base import (
    FeatureFilter,
    ReadOnlyVersionAdmin,
    StaleFilter,
    StatusFilter,
    VersionedItemAdmin,
)
from apps.knowledge.admin.forms import ScriptVersionForm
from apps.knowledge.models import Channel, Script, ScriptScenario, ScriptVersion, VersionStatus


class ScriptChannelFilter(admin.SimpleListFilter):
    """Scripts usable on a channel: those naming it, and those for every channel."""

    title = gettext_lazy("channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.choices

    def queryset(self, request, queryset):
        if self.value():
            usable = ScriptVersion.objects.filter(script=OuterRef("pk"), status=VersionStatus.PUBLISHED).filter(
                Q(channels__contains=[self.value()]) | Q(channels=[])
            )
            return queryset.filter(Exists(usable))
        return queryset


@admin.register(ScriptScenario)
class ScriptScenarioAdmin(ModelAdmin):
    sidebar_icon = "forum"
    list_display = ["name", "slug", "placeholder_list"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    @admin.display(description=gettext_lazy("placeholders"))
    def placeholder_list(self, obj: ScriptScenario) -> str:
        return ", ".join("{" + p + "}" for p in obj.placeholders) or "—"


@admin.register(Script)
class ScriptAdmin(VersionedItemAdmin):
    sidebar_icon = "chat"
    form_class = ScriptVersionForm
    list_display = [
        "external_id",
        "title",
        "scenario",
        "product",
        "published_version",
        "stale",
        "verification",
        "owner",
        "updated",
    ]
    list_filter = [
        StatusFilter,
        "product",
        "scenario",
        FeatureFilter,
        StaleFilter,
        "needs_verification",
        "owner",
        "verifier",
        ScriptChannelFilter,
    ]
    search_fields = ["external_id", "versions__title", "versions__text"]
    fields = [
        "external_id",
        "product",
        "scenario",
        "owner",
        "verifier",
        "verification_interval_days",
        "compliance_sensitive",
        "needs_verification",
        "last_verified_at",
    ]

    def get_queryset(self, request):
        latest = ScriptVersion.objects.filter(script=OuterRef("pk")).order_by("-number")
        published = ScriptVersion.objects.filter(script=OuterRef("pk"), status=VersionStatus.PUBLISHED)
        return (
            super()
            .get_queryset(request)
            .select_related("scenario")
            .annotate(
                latest_title=Subquery(latest.values("title")[:1]),
                published_number=Subquery(published.values("number")[:1]),
            )
        )

    def _form_kwargs(self, item: Script) -> dict:
        return {"product": item.product, "placeholders": item.scenario.placeholders}

    @admin.display(description=gettext_lazy("title"), ordering="latest_title")
    def title(self, obj: Script) -> str:
        return obj.latest_title or ""

    @admin.display(description=gettext_lazy("published version"), ordering="published_number")
    def published_version(self, obj: Script) -> str:
        return f"v{obj.published_number}" if obj.published_number else "—"


@admin.register(ScriptVersion)
class ScriptVersionAdmin(ReadOnlyVersionAdmin):
    sidebar_icon = "history"
    list_display = ["__str__", "title", "status", "author", "created_at", "published_at"]
    list_filter = ["status", "script__scenario", "script__product"]
    search_fields = ["script__external_id", "title", "text"]
    list_select_related = ["script", "author"]
    item_field = "script"
    content_fields = ["title", "text", "channels"]
