from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.catalog.models import Feature, Product, Release
from apps.catalog.services import release_schedule_stale_check
from apps.core.admin_base import ModelAdmin, TabularInline
from apps.core.versions import version_key


class FeatureInline(TabularInline):
    model = Feature
    fields = ["slug", "name"]
    extra = 1


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    sidebar_icon = "inventory_2"
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FeatureInline]


@admin.register(Feature)
class FeatureAdmin(ModelAdmin):
    sidebar_icon = "extension"
    list_display = ["name", "slug", "product"]
    list_filter = ["product"]
    search_fields = ["name", "slug"]


@admin.register(Release)
class ReleaseAdmin(ModelAdmin):
    sidebar_icon = "new_releases"
    list_display = ["product", "version", "released_at", "feature_list", "flagged", "source", "stale_check_done_at"]
    list_filter = ["product", "source"]
    search_fields = ["version", "notes"]
    ordering = ["product__name", "-version_key"]
    filter_horizontal = ["changed_features"]
    fields = [
        "product",
        "version",
        "released_at",
        "changed_features",
        "notes",
        "source",
        "recorded_by",
        "stale_check_done_at",
    ]
    readonly_fields = ["source", "recorded_by", "stale_check_done_at"]
    actions = ["recheck_stale"]

    def get_readonly_fields(self, request, obj=None):
        # A recorded release is history: its product and version never change.
        return self.readonly_fields + (["product", "version"] if obj else [])

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("product")
            .prefetch_related("changed_features")
            .annotate(
                open_flags=Count("stale_flags", filter=Q(stale_flags__cleared_at__isnull=True)),
                all_flags=Count("stale_flags"),
            )
        )

    @admin.display(description=gettext_lazy("flagged (open / all)"))
    def flagged(self, obj: Release) -> str:
        url = reverse("admin:knowledge_staleflag_changelist") + f"?release__id__exact={obj.pk}"
        return format_html('<a href="{}">{} / {}</a>', url, obj.open_flags, obj.all_flags)

    @admin.display(description=gettext_lazy("changed features"))
    def feature_list(self, obj: Release) -> str:
        return ", ".join(f.name for f in obj.changed_features.all()) or "—"

    def save_model(self, request, obj: Release, form, change) -> None:
        try:
            obj.version_key = version_key(obj.version)
        except ValidationError as exc:  # the form validated it already; keep the admin free of 500s
            messages.error(request, " ".join(exc.messages))
            return
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # After the changed features are saved; the task runs once this request's transaction commits.
        release_schedule_stale_check(release=form.instance, by=request.user)
        messages.info(request, _("Stale check queued: content linked to the changed features will be flagged."))

    @admin.action(description=gettext_lazy("Run the stale check again"), permissions=["change"])
    def recheck_stale(self, request, queryset) -> None:
        for release in queryset:
            release_schedule_stale_check(release=release, by=request.user)
        self.message_user(request, _("%(n)s stale check(s) queued.") % {"n": queryset.count()}, messages.SUCCESS)
