"""The release admin, with what knowledge adds to it: the stale flags each release raised, whether its
stale check ran, and running it again. Catalog's admin records releases and knows nothing of flags."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.catalog.admin import ReleaseAdmin
from apps.catalog.models import Release
from apps.knowledge.services.stale import release_queue_stale_check


class ReleaseWithStaleFlagsAdmin(ReleaseAdmin):
    list_display = [*ReleaseAdmin.list_display, "flagged", "stale_check_done_at"]
    actions = ["recheck_stale"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("stale_check")
            .annotate(
                open_flags=Count("stale_flags", filter=Q(stale_flags__cleared_at__isnull=True)),
                all_flags=Count("stale_flags"),
            )
        )

    def get_fields(self, request, obj=None):
        return [*super().get_fields(request, obj), "stale_check_done_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "stale_check_done_at"]

    @admin.display(description=gettext_lazy("flagged (open / all)"))
    def flagged(self, obj: Release) -> str:
        url = reverse("admin:knowledge_staleflag_changelist") + f"?release__id__exact={obj.pk}"
        return format_html('<a href="{}">{} / {}</a>', url, obj.open_flags, obj.all_flags)

    @admin.display(description=gettext_lazy("stale check done at"), ordering="stale_check__done_at")
    def stale_check_done_at(self, obj: Release):
        check = getattr(obj, "stale_check", None) if obj.pk else None
        return check.done_at if check else None

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)  # announces the release: knowledge checks it
        messages.info(request, _("Stale check queued: content linked to the changed features will be flagged."))

    @admin.action(description=gettext_lazy("Run the stale check again"), permissions=["change"])
    def recheck_stale(self, request, queryset) -> None:
        for release in queryset:
            release_queue_stale_check(release=release, by=request.user)
        self.message_user(request, _("%(n)s stale check(s) queued.") % {"n": queryset.count()}, messages.SUCCESS)


admin.site.unregister(Release)
admin.site.register(Release, ReleaseWithStaleFlagsAdmin)
