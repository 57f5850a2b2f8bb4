from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin_base import ModelAdmin
from apps.core.errors import DomainError
from apps.knowledge.models import ArticleVersion, ScriptVersion, StaleFlag
from apps.knowledge.services import workflow


class OpenFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", _("Open")), ("no", _("Cleared"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


@admin.register(StaleFlag)
class StaleFlagAdmin(ModelAdmin):
    """The stale queue: what releases made possibly wrong, oldest first."""

    sidebar_icon = "report"

    list_display = ["content", "release", "reason", "changed_features", "created_at", "cleared_at", "cleared_because"]
    # The first column links to the flagged article or script itself (a flag has nothing to edit); a second,
    # row-wide link around it would nest one link in another.
    list_display_links = None
    list_filter = [OpenFilter, "reason", "release__product", "release"]
    search_fields = ["article__external_id", "script__external_id", "release__version"]
    list_select_related = ["article", "script", "release__product"]
    ordering = ["cleared_at", "created_at"]
    actions = ["verify_content"]

    def has_verify_permission(self, request) -> bool:
        """Who may verify content may clear its flags by verifying it; a viewer may not."""
        return request.user.has_perm("knowledge.verify_content")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # What editors recognise: the question (or script title) and the features' names, not ids and slugs.
        latest_question = ArticleVersion.objects.filter(article=OuterRef("article")).order_by("-number")
        latest_title = ScriptVersion.objects.filter(script=OuterRef("script")).order_by("-number")
        return (
            super()
            .get_queryset(request)
            .annotate(
                item_text=Coalesce(
                    Subquery(latest_question.values("standard_question")[:1]),
                    Subquery(latest_title.values("title")[:1]),
                ),
                feature_names=RawSQL(
                    "SELECT array_agg(f.name ORDER BY f.name) FROM catalog_feature f "
                    "JOIN catalog_release r ON r.product_id = f.product_id "
                    "WHERE r.id = knowledge_staleflag.release_id AND f.slug = ANY(knowledge_staleflag.features)",
                    [],
                ),
            )
        )

    @admin.display(description=gettext_lazy("article or script"))
    def content(self, obj: StaleFlag) -> str:
        item = obj.article or obj.script
        url_name = "admin:knowledge_article_change" if obj.article_id else "admin:knowledge_script_change"
        from django.urls import reverse

        return format_html(
            '<a href="{}">{}</a> <span class="kb-muted">{}</span>',
            reverse(url_name, args=[item.pk]),
            obj.item_text or item.external_id,
            item.external_id,
        )

    @admin.display(description=gettext_lazy("changed features"))
    def changed_features(self, obj: StaleFlag) -> str:
        return "、".join(obj.feature_names or obj.features) or "—"

    @admin.action(description=gettext_lazy("Verify the flagged content (still correct)"), permissions=["verify"])
    def verify_content(self, request, queryset) -> None:
        done = 0
        for flag in queryset.filter(Q(cleared_at__isnull=True)).select_related("article", "script"):
            try:
                workflow.item_verify(item=flag.article or flag.script, by=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
        self.message_user(request, _("%(n)s verified.") % {"n": done}, messages.SUCCESS)
