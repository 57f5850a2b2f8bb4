from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.answers.gaps import gap_add_as_similar, gap_create_draft, gap_groups
from apps.answers.models import AnswerPolicy, AnswerQuery, ConfidenceFit, HumanOnlyTopic, Synonym, Term
from apps.answers.services.vocabulary import synonym_save, vocabulary_changed
from apps.catalog.models import Product
from apps.core.admin_base import ModelAdmin
from apps.core.errors import DomainError
from apps.core.queueing import enqueue
from apps.knowledge.models import Article


class CommaListField(forms.CharField):
    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = (value or "").replace("，", ",").replace("、", ",")
        return [part.strip() for part in text.split(",") if part.strip()]


class SynonymForm(forms.ModelForm):
    variants = CommaListField(label=gettext_lazy("variants"), help_text=gettext_lazy("Comma-separated."))

    class Meta:
        model = Synonym
        fields = ["canonical", "variants"]


class _ConfigAdmin(ModelAdmin):
    """Changes to answer settings reach every web process at once (they rebuild on the next question)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or form.has_changed():  # an unchanged save changes nothing for the processes
            transaction.on_commit(vocabulary_changed)  # after commit: a process rebuilding must see the change

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(vocabulary_changed)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(vocabulary_changed)


@admin.register(Synonym)
class SynonymAdmin(_ConfigAdmin):
    sidebar_icon = "sync_alt"
    form = SynonymForm
    list_display = ["canonical", "variant_list"]
    search_fields = ["canonical", "variants"]

    @admin.display(description=gettext_lazy("variants"))
    def variant_list(self, obj: Synonym) -> str:
        return " / ".join(obj.variants)

    def save_model(self, request, obj, form, change):
        try:
            synonym_save(canonical=form.cleaned_data["canonical"], variants=form.cleaned_data["variants"])
        except DomainError as exc:
            messages.error(request, exc.message)


class HumanOnlyTopicForm(forms.ModelForm):
    keywords = CommaListField(label=gettext_lazy("keywords"), help_text=gettext_lazy("Comma-separated."))

    class Meta:
        model = HumanOnlyTopic
        fields = ["name", "keywords", "is_active"]


@admin.register(HumanOnlyTopic)
class HumanOnlyTopicAdmin(_ConfigAdmin):
    sidebar_icon = "support_agent"
    form = HumanOnlyTopicForm
    list_display = ["name", "keyword_list", "is_active"]

    @admin.display(description=gettext_lazy("keywords"))
    def keyword_list(self, obj: HumanOnlyTopic) -> str:
        return ", ".join(obj.keywords)


@admin.register(Term)
class TermAdmin(_ConfigAdmin):
    sidebar_icon = "spellcheck"
    list_display = ["text"]
    search_fields = ["text"]


@admin.register(AnswerPolicy)
class AnswerPolicyAdmin(_ConfigAdmin):
    """Editors set the precision they want from direct answers; the thresholds follow from the latest fit."""

    sidebar_icon = "tune"

    list_display = ["product", "channel", "target_precision", "answer_threshold", "clarify_threshold", "in_force"]
    list_filter = ["product", "channel"]
    fieldsets = [
        (None, {"fields": ["product", "channel", "target_precision"]}),
        (gettext_lazy("Explicit thresholds (optional)"), {"fields": ["answer_threshold", "clarify_threshold"]}),
    ]

    @admin.display(description=gettext_lazy("thresholds in force (answer / suggest)"))
    def in_force(self, obj: AnswerPolicy) -> str:
        from apps.answers.services.decisions import thresholds_in_force

        thresholds = thresholds_in_force(product_pk=obj.product_id, channel=obj.channel)
        return f"{thresholds.answer:.3f} / {thresholds.clarify:.3f}"


@admin.register(ConfidenceFit)
class ConfidenceFitAdmin(ModelAdmin):
    """Each refit of bot decisions: when, on how many pairs, and the precision it expects (read-only)."""

    sidebar_icon = "model_training"

    list_display = [
        "created_at",
        "product",
        "examples",
        "pairs",
        "positives",
        "outcomes",
        "expected_precision_shown",
        "expected_answer_rate_shown",
        "clarify_threshold",
        "seconds",
    ]
    list_filter = ["product"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ConfidenceFit._meta.fields]
    change_list_template = "admin/answers/confidencefit_change_list.html"

    @admin.display(description=gettext_lazy("expected precision"), ordering="expected_precision")
    def expected_precision_shown(self, obj: ConfidenceFit) -> str:
        return f"{obj.expected_precision:.1%}"

    @admin.display(description=gettext_lazy("expected answered directly"), ordering="expected_answer_rate")
    def expected_answer_rate_shown(self, obj: ConfidenceFit) -> str:
        return f"{obj.expected_answer_rate:.1%}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_refit_permission(self, request) -> bool:
        return request.user.has_perm("answers.change_answerpolicy")  # who may set targets may refit

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), "can_refit": self.has_refit_permission(request)}
        )

    def get_urls(self):
        return [
            path("refit/", self.admin_site.admin_view(self.refit_view), name="answers_confidencefit_refit"),
            *super().get_urls(),
        ]

    def refit_view(self, request: HttpRequest) -> HttpResponse:
        """A button, not a list action: it must work before the first fit exists."""
        if request.method != "POST" or not self.has_refit_permission(request):
            raise PermissionDenied
        from apps.answers.tasks import refit_confidence_task

        if enqueue(refit_confidence_task, force=True):
            messages.success(request, _("A refit was queued; it appears here when it has finished."))
        else:
            messages.warning(
                request, _("The task queue is unavailable; the hourly refit will run it when the queue is back.")
            )
        return HttpResponseRedirect(reverse("admin:answers_confidencefit_changelist"))


@admin.register(AnswerQuery)
class AnswerQueryAdmin(ModelAdmin):
    """The log of bot questions, with the knowledge-gaps view on top of it."""

    sidebar_icon = "smart_toy"

    list_display = [
        "created_at",
        "question",
        "decision",
        "confidence",
        "article",
        "helpful",
        "cached",
        "latency_ms",
        "channel",
        "session_id",
    ]
    list_filter = ["decision", "helpful", "cached", "channel", "product"]
    search_fields = ["question", "normalized", "session_id"]
    list_select_related = ["article"]
    date_hierarchy = "created_at"
    change_list_template = "admin/answers/answerquery_change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("gaps/", wrap(self.gaps_view), name="answers_knowledge_gaps"),
            path("gaps/<str:key>/<str:action>/", wrap(self.gap_action_view), name="answers_knowledge_gap_action"),
            *super().get_urls(),
        ]

    def gaps_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("answers.view_answerquery"):
            raise PermissionDenied
        return TemplateResponse(
            request,
            "admin/answers/gaps.html",
            {
                **self.admin_site.each_context(request),
                "opts": AnswerQuery._meta,
                "title": _("Knowledge gaps"),
                "groups": gap_groups(),
                "products": Product.objects.all(),
                "can_edit": request.user.has_perm("knowledge.add_articleversion"),
            },
        )

    def gap_action_view(self, request: HttpRequest, key: str, action: str) -> HttpResponse:
        if request.method != "POST" or not request.user.has_perm("knowledge.add_articleversion"):
            raise PermissionDenied
        try:
            if action == "draft":
                product = Product.objects.filter(pk=request.POST.get("product") or 0).first()
                if product is None:
                    raise DomainError(_("Choose the product the new article belongs to."))
                version = gap_create_draft(key=key, product=product, by=request.user)
                messages.success(request, _("Draft article created: write its answer and submit it for review."))
                return HttpResponseRedirect(reverse("admin:knowledge_article_edit", args=[version.article_id]))
            if action == "similar":
                article = Article.objects.filter(external_id=request.POST.get("article", "").strip()).first()
                if article is None:
                    raise DomainError(_("No article with that external ID."))
                gap_add_as_similar(key=key, article=article, by=request.user)
                messages.success(
                    request,
                    _("Added as similar questions in a new draft version of %(id)s.") % {"id": article.external_id},
                )
                return HttpResponseRedirect(reverse("admin:knowledge_article_change", args=[article.pk]))
            raise DomainError(_("Unknown action."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("admin:answers_knowledge_gaps"))


from apps.answers import article_usage_admin  # noqa: E402, F401  (extends the knowledge article list)
