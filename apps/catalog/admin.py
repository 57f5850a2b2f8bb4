from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from apps.catalog.models import Feature, Product, Release
from apps.catalog.services import release_announce, release_save
from apps.core.admin_base import ModelAdmin, TabularInline


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
    list_display = ["product", "version", "released_at", "feature_list", "source"]
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
    ]
    readonly_fields = ["source", "recorded_by"]

    def get_readonly_fields(self, request, obj=None):
        # A recorded release is history: its product and version never change.
        return self.readonly_fields + (["product", "version"] if obj else [])

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product").prefetch_related("changed_features")

    @admin.display(description=gettext_lazy("changed features"))
    def feature_list(self, obj: Release) -> str:
        return ", ".join(f.name for f in obj.changed_features.all()) or "—"

    def save_model(self, request, obj: Release, form, change) -> None:
        try:
            release_save(release=obj, by=request.user)
        except ValidationError as exc:  # the form validated the version already; keep the admin free of 500s
            messages.error(request, " ".join(exc.messages))

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        # After the changed features are saved: listeners (the stale check) run once this request commits.
        release_announce(release=form.instance, by=request.user)
