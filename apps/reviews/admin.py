"""Reviews in the admin, read-only: the workspace (/qa/) is where they are made."""

from __future__ import annotations

from django.contrib import admin

from apps.reviews.models import CalibrationSession, Dispute, Review, ReviewRevision


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RevisionInline(admin.TabularInline):
    model = ReviewRevision
    extra = 0
    can_delete = False
    readonly_fields = ["at", "reason", "score", "fatal", "by"]
    fields = readonly_fields


@admin.register(Review)
class ReviewAdmin(ReadOnly):
    list_display = ["conversation", "version", "reviewer", "status", "score", "fatal", "seconds_spent", "submitted_at"]
    list_filter = ["status", "fatal", "version__scorecard"]
    list_select_related = ["conversation", "version__scorecard", "reviewer"]
    inlines = [RevisionInline]


@admin.register(Dispute)
class DisputeAdmin(ReadOnly):
    list_display = ["review", "criterion", "raised_by", "status", "decided_by", "created_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["review__conversation", "review__reviewer", "criterion", "raised_by", "decided_by"]


@admin.register(CalibrationSession)
class CalibrationSessionAdmin(ReadOnly):
    list_display = ["name", "version", "created_by", "status", "created_at"]
