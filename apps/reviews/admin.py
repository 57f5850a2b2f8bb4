"""Reviews in the admin, read-only: the workspace (/qa/) is where they are made."""

from __future__ import annotations

from django.contrib import admin

from apps.core.admin_base import ModelAdmin, TabularInline
from apps.reviews.models import CalibrationSession, Dispute, Review, ReviewRevision


class ReadOnly(ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RevisionInline(TabularInline):
    model = ReviewRevision
    extra = 0
    can_delete = False
    readonly_fields = ["at", "reason", "score", "fatal", "by"]
    fields = readonly_fields


@admin.register(Review)
class ReviewAdmin(ReadOnly):
    sidebar_icon = "grading"
    list_display = ["conversation", "version", "reviewer", "status", "score", "fatal", "seconds_spent", "submitted_at"]
    list_filter = ["status", "fatal", "version__scorecard"]
    list_select_related = ["conversation", "version__scorecard", "reviewer"]
    inlines = [RevisionInline]


@admin.register(Dispute)
class DisputeAdmin(ReadOnly):
    sidebar_icon = "gavel"
    list_display = ["review", "criterion", "raised_by", "status", "decided_by", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["review__conversation", "review__reviewer", "criterion", "raised_by", "decided_by"]


@admin.register(CalibrationSession)
class CalibrationSessionAdmin(ReadOnly):
    sidebar_icon = "balance"
    list_display = ["name", "version", "created_by", "status", "created_at"]
