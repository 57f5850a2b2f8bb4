from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.admin_base import ModelAdmin, StackedInline, TabularInline
from apps.core.errors import DomainError, ValidationFailed
from apps.core.markdown import render_markdown
from apps.knowledge.admin.base import (
    FeatureFilter,
    ReadOnlyVersionAdmin,
    StaleFilter,
    StatusFilter,
    VersionedItemAdmin,
)
from apps.knowledge.admin.forms import ArticleVersionForm, ImportForm
from apps.knowledge.formats import SPREADSHEET_COLUMNS, read_rows
from apps.knowledge.models import (
    Article,
    ArticleVersion,
    Category,
    Channel,
    ChannelAnswer,
    SimilarQuestion,
    VersionStatus,
)
from apps.knowledge.selectors import is_bot_visible
from apps.knowledge.services.exports import export_csv, export_xlsx
from apps.knowledge.services.imports import ImportRejected, articles_import


class ChannelFilter(admin.SimpleListFilter):
    """Articles whose published version has its own answer for a channel."""

    title = gettext_lazy("channel answer")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.choices

    def queryset(self, request, queryset):
        if self.value():
            answers = ChannelAnswer.objects.filter(
                version__article=OuterRef("pk"), version__status=VersionStatus.PUBLISHED, channel=self.value()
            )
            return queryset.filter(Exists(answers))
        return queryset


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    sidebar_icon = "folder"
    list_display = ["name", "product"]
    list_filter = ["product"]
    search_fields = ["name"]


@admin.register(Article)
class ArticleAdmin(VersionedItemAdmin):
    sidebar_icon = "quiz"
    form_class = ArticleVersionForm
    list_display = [
        "external_id",
        "question",
        "product",
        "category_name",
        "published_version",
        "stale",
        "verification",
        "owner",
        "updated",
    ]
    list_filter = [
        StatusFilter,
        "product",
        FeatureFilter,
        StaleFilter,
        "needs_verification",
        ChannelFilter,
        "owner",
        "verifier",
        "category",
        "compliance_sensitive",
    ]
    search_fields = [
        "external_id",
        "versions__standard_question",
        "versions__similar_questions__text",
        "versions__answer",
        "versions__tags",
    ]
    autocomplete_fields = ["category"]
    fields = [
        "external_id",
        "product",
        "category",
        "owner",
        "verifier",
        "verification_interval_days",
        "compliance_sensitive",
        "needs_verification",
        "last_verified_at",
    ]

    def get_queryset(self, request):
        latest = ArticleVersion.objects.filter(article=OuterRef("pk")).order_by("-number")
        return (
            super()
            .get_queryset(request)
            .select_related("category")
            .annotate(
                latest_question=Subquery(latest.values("standard_question")[:1]),
                published_number=Subquery(
                    ArticleVersion.objects.filter(article=OuterRef("pk"), status=VersionStatus.PUBLISHED).values(
                        "number"
                    )[:1]
                ),
            )
        )

    @admin.display(description=gettext_lazy("standard question"), ordering="latest_question")
    def question(self, obj: Article) -> str:
        return obj.latest_question or ""

    @admin.display(description=gettext_lazy("category"), ordering="category__name")
    def category_name(self, obj: Article) -> str:
        return obj.category.name if obj.category else "—"

    @admin.display(description=gettext_lazy("published version"), ordering="published_number")
    def published_version(self, obj: Article) -> str:
        return f"v{obj.published_number}" if obj.published_number else "—"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="knowledge_article_import"),
            path("preview/", wrap(self.preview_view), name="knowledge_article_preview"),
            path("export/<str:fmt>/", wrap(self.export_view), name="knowledge_article_export"),
            *super().get_urls(),
        ]

    # --- the editor's live preview ---------------------------------------------------------------

    PREVIEW_MAX_CHARS = 20_000

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """An answer's Markdown rendered exactly as bots and agents will receive it (the same sanitizer),
        for the editor's live preview. Nothing is stored."""
        if not self.has_change_permission(request) and not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return JsonResponse({"detail": _("Use POST.")}, status=405)
        text = request.POST.get("text", "")
        if len(text) > self.PREVIEW_MAX_CHARS:
            message = _("An answer can be at most %(n)s characters.") % {"n": self.PREVIEW_MAX_CHARS}
            return JsonResponse({"text": [message]}, status=400)
        return JsonResponse({"html": render_markdown(text)})

    # --- import / export -------------------------------------------------------------------------

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("knowledge.import_content"):
            raise PermissionDenied
        report = None
        row_errors = []
        form = ImportForm(
            request.POST or None, request.FILES or None, may_publish=request.user.has_perm("knowledge.publish_content")
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            publish = form.publish
            try:
                report = articles_import(
                    read_rows(upload.name, upload.read()),
                    by=request.user,
                    publish=publish,
                    strict=form.cleaned_data["strict"],
                    skip_invalid=form.cleaned_data["skip_invalid"],
                )
            except ImportRejected as exc:
                row_errors = exc.report.errors
                messages.error(request, _("Nothing was imported: fix the rows below and upload the file again."))
            except ValidationFailed as exc:  # the file as a whole (its header, encoding, size): said at the field
                form.add_error("file", exc.message)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                row_errors = report.errors
                messages.success(request, _("Import finished: %(summary)s.") % {"summary": report.summary()})
        return TemplateResponse(
            request,
            "admin/knowledge/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": Article._meta,
                "title": _("Import FAQ articles"),
                "form": form,
                "report": report,
                "row_errors": row_errors,
                "columns": SPREADSHEET_COLUMNS,
            },
        )

    def export_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        articles = self.get_changelist_instance(request).get_queryset(request) if request.GET else Article.objects.all()
        versions = (
            ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED, article__in=articles.values("pk"))
            .select_related("article__product", "article__category")
            .prefetch_related("similar_questions", "channel_answers", "features")
            .order_by("article__external_id")
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if fmt == "xlsx":
            body, content_type = (
                export_xlsx(versions),
                ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )
        elif fmt == "csv":
            body, content_type = export_csv(versions), "text/csv; charset=utf-8"
        else:
            return HttpResponse(status=404)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="faq-articles-{stamp}.{fmt}"'
        return response


class SimilarQuestionInline(TabularInline):
    model = SimilarQuestion
    fields = ["position", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ChannelAnswerInline(StackedInline):
    model = ChannelAnswer
    fields = ["channel", "answer"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ArticleVersion)
class ArticleVersionAdmin(ReadOnlyVersionAdmin):
    """Versions are immutable: this is the history, readable, with the bot preview."""

    sidebar_icon = "history"

    list_display = ["__str__", "standard_question", "status", "author", "created_at", "published_at"]
    list_filter = ["status", "article__product", "language"]
    search_fields = ["article__external_id", "standard_question", "similar_questions__text", "answer"]
    list_select_related = ["article", "author"]
    inlines = [SimilarQuestionInline, ChannelAnswerInline]
    item_field = "article"
    content_fields = ["standard_question", "answer", "language"]
    change_form_template = "admin/knowledge/version_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, object_id)
        extra = extra_context or {}
        if version is not None:
            answers = {c.channel: c for c in version.channel_answers.all()}
            extra["preview"] = [
                {
                    "channel": label,
                    "own": value in answers,
                    "html": answers[value].answer_html if value in answers else version.answer_html,
                }
                for value, label in Channel.choices
            ]
            extra["bot_visible"] = is_bot_visible(version)
            extra["article_url"] = reverse("admin:knowledge_article_change", args=[version.article_id])
        return super().change_view(request, object_id, form_url, extra)
