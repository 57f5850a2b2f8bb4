"""QA in the admin: QA leads manage lexicons, rules, scorecards and sampling plans; everyone with access
sees automatic scores, findings, review queues and rescoring progress."""

from __future__ import annotations

import json
import math

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import F
from django.forms.fields import InvalidJSONInput
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminFileFieldWidget

from apps.core.admin_base import ModelAdmin, TabularInline
from apps.core.error_display import add_to_form, as_validation_error, message_admin
from apps.core.errors import DomainError
from apps.core.forms import ThemedForm
from apps.core.queueing import enqueue_on_commit
from apps.qa.models import (
    AutoScore,
    Criterion,
    Finding,
    Lexicon,
    LexiconTerm,
    RescoreJob,
    ReviewTask,
    Rule,
    SamplingPlan,
    SamplingRun,
    Scorecard,
    ScorecardVersion,
    Section,
)
from apps.qa.rules.conditions import InvalidCondition, parse_condition
from apps.qa.services.assignment import TaskError, queue_progress, task_reassign, task_reassign_check
from apps.qa.services.lexicons import lexicon_add_terms, lexicon_remove_terms
from apps.qa.services.scorecards import (
    InvalidScorecard,
    scorecard_export,
    scorecard_import,
    scorecard_version_new_draft,
    scorecard_version_publish,
    version_in_use,
)


class LexiconForm(forms.ModelForm):
    add_terms = forms.CharField(
        label=_("add terms"), required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text=_("One per line.")
    )
    remove_terms = forms.CharField(
        label=_("remove terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("One per line.")
    )

    class Meta:
        model = Lexicon
        fields = ["code", "name", "kind", "description"]


@admin.register(Lexicon)
class LexiconAdmin(ModelAdmin):
    sidebar_icon = "menu_book"
    form = LexiconForm
    list_display = ["code", "name", "kind", "term_count", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "terms__term"]

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        added = lexicon_add_terms(obj, form.cleaned_data["add_terms"].splitlines())
        removed = lexicon_remove_terms(obj, form.cleaned_data["remove_terms"].splitlines())
        if added or removed:
            messages.info(request, _("%(a)s terms added, %(r)s removed.") % {"a": added, "r": removed})


@admin.register(LexiconTerm)
class LexiconTermAdmin(ModelAdmin):
    sidebar_icon = "abc"
    list_display = ["term", "lexicon"]
    list_filter = ["lexicon"]
    search_fields = ["term"]


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999: PostgreSQL's jsonb has no infinity
        raise ValueError(text)
    return number


def _refuse_constant(name: str):
    raise ValueError(name)  # NaN, Infinity: Python's json reads them, JSON and jsonb do not have them


class StrictJSONDecoder(json.JSONDecoder):
    def __init__(self, **kwargs) -> None:
        super().__init__(**{**kwargs, "parse_float": _finite_float, "parse_constant": _refuse_constant})


class ConditionField(forms.JSONField):
    """The form's JSON field, for JSON a person types: what Python's parser or PostgreSQL's jsonb cannot take
    (nesting thousands deep, NaN, 1e999, an integer of thousands of digits) is "not valid JSON", not a 500."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**{**kwargs, "decoder": StrictJSONDecoder})

    def to_python(self, value):
        try:
            return super().to_python(value)
        except (RecursionError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except (RecursionError, ValueError):
            return InvalidJSONInput(data)  # shown back as typed, as Django does with other invalid JSON


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ["code", "name", "description", "severity", "condition", "is_active", "marks_risk"]
        field_classes = {"condition": ConditionField}

    def clean_condition(self):
        condition = self.cleaned_data["condition"]
        if _holds_nul(condition):  # PostgreSQL's jsonb cannot store it
            raise forms.ValidationError(_("The condition contains a NUL character (\\u0000): remove it."))
        try:
            parse_condition(condition)
        except InvalidCondition as exc:
            raise as_validation_error(exc) from None
        return condition


@admin.register(Rule)
class RuleAdmin(ModelAdmin):
    sidebar_icon = "rule"
    form = RuleForm
    list_display = ["code", "name", "severity", "is_active", "marks_risk", "version", "updated_at"]
    list_filter = ["severity", "is_active", "marks_risk"]
    search_fields = ["code", "name"]

    def save_model(self, request, obj, form, change):
        if change and "condition" in form.changed_data:
            obj.version = F("version") + 1
        super().save_model(request, obj, form, change)
        obj.refresh_from_db()


class CriterionInline(TabularInline):
    model = Criterion
    extra = 0
    fields = [
        "section",
        "title",
        "mode",
        "kind",
        "points",
        "fatal",
        "severity",
        "allow_na",
        "human_only",
        "rule",
        "position",
    ]
    autocomplete_fields = ["rule"]

    def get_queryset(self, request):
        # A published version's criteria show read-only, each naming its section and rule: fetch them at once.
        return super().get_queryset(request).select_related("section", "rule")


class SectionInline(TabularInline):
    model = Section
    extra = 0


class ScorecardImportForm(ThemedForm):
    MAX_BYTES = 1024 * 1024  # an exported scorecard is a few kilobytes

    # The theme's own file widget: the theme's script writes the chosen file's name into the first text box
    # around a file input, which with a plain input was this form's "name" (the scorecard was named card.json).
    file = forms.FileField(label=_("scorecard file (JSON)"), widget=UnfoldAdminFileFieldWidget)
    name = forms.CharField(label=_("name"), required=False, max_length=200, help_text=_("Empty: the name in the file."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:  # refused before anything reads it into memory
            raise forms.ValidationError(
                _("The file is larger than %(size)s: a scorecard file is a few kilobytes.")
                % {"size": filesizeformat(self.MAX_BYTES)}
            )
        return upload


@admin.register(Scorecard)
class ScorecardAdmin(ModelAdmin):
    sidebar_icon = "fact_check"
    list_display = ["name", "is_active"]
    filter_horizontal = ["teams", "channels"]
    actions = ["new_draft"]
    change_list_template = "admin/qa/scorecard/change_list.html"

    def get_urls(self):
        from django.urls import path

        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="qa_scorecard_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload a ``kbportal.scorecard/1`` file: a new scorecard, or a new draft of the one named."""
        import json

        from django.shortcuts import redirect, render
        from django.urls import reverse

        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ScorecardImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = draft = None
            try:
                data = json.loads(form.cleaned_data["file"].read().decode("utf-8-sig"), cls=StrictJSONDecoder)
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            except json.JSONDecodeError as exc:
                message = _("The file is not valid JSON: line %(line)s, column %(column)s.")
                form.add_error("file", message % {"line": exc.lineno, "column": exc.colno})
            except (RecursionError, ValueError):  # nested thousands deep, NaN, 1e999, a number of 5,000 digits
                form.add_error("file", _("The file is not valid JSON: nested too deeply or a number out of range."))
            else:
                try:
                    draft = scorecard_import(data, name=form.cleaned_data["name"] or None)
                except InvalidScorecard as exc:  # its paths are inside the file, not this form's fields
                    add_to_form(form, exc, on_fields=False)
            if draft is not None:
                messages.success(request, _("Imported as a draft: %(v)s. Review it, then publish it.") % {"v": draft})
                return redirect(reverse("admin:qa_scorecardversion_change", args=[draft.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Import a scorecard"),
            "opts": self.model._meta,
        }
        return render(request, "admin/qa/scorecard/import.html", context)

    @admin.action(description=_("Create a draft version to edit"), permissions=["change"])
    def new_draft(self, request, queryset):
        for scorecard in queryset:
            try:
                draft = scorecard_version_new_draft(scorecard, by=request.user)
            except DomainError as exc:
                message_admin(request, exc, about=scorecard)
            else:
                messages.success(request, _("Draft: %(v)s") % {"v": draft})


@admin.register(ScorecardVersion)
class ScorecardVersionAdmin(ModelAdmin):
    sidebar_icon = "history"
    list_display = ["scorecard", "number", "status", "published_at"]
    list_filter = ["status", "scorecard"]
    inlines = [SectionInline, CriterionInline]
    readonly_fields = ["scorecard", "number", "status", "published_at"]
    actions = ["publish", "export_json"]

    @admin.action(description=_("Export as JSON"), permissions=["view"])
    def export_json(self, request, queryset):
        import json

        from django.http import HttpResponse

        if queryset.count() != 1:
            messages.error(request, _("Choose one version to export."))
            return None
        version = queryset.select_related("scorecard").get()
        body = json.dumps(scorecard_export(version), ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="scorecard-{version.scorecard_id}-v{version.number}.json"'
        )
        return response

    def has_change_permission(self, request, obj=None):
        # A version scores refer to is history: edit a new draft instead.
        if obj is not None and (obj.status != ScorecardVersion.Status.DRAFT or version_in_use(obj)):
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False  # versions are made by "Create a draft version" on the scorecard

    @admin.action(description=_("Publish (new scores use it)"), permissions=["change"])
    def publish(self, request, queryset):
        for version in queryset:
            try:
                scorecard_version_publish(version, by=request.user)
            except DomainError as exc:
                message_admin(request, exc, about=version)
            else:
                messages.success(request, _("Published: %(v)s") % {"v": version})


class FindingInline(TabularInline):
    model = Finding
    extra = 0
    fields = ["rule", "severity", "message", "matched", "detail"]
    readonly_fields = fields
    can_delete = False


@admin.register(AutoScore)
class AutoScoreAdmin(ModelAdmin):
    sidebar_icon = "auto_awesome"
    list_display = [
        "conversation",
        "version",
        "score",
        "fatal",
        "risky",
        "worst_severity",
        "finding_count",
        "computed_at",
    ]
    list_filter = ["fatal", "risky", "worst_severity", "version"]
    list_select_related = ["conversation", "version__scorecard"]
    inlines = [FindingInline]
    readonly_fields = [f.name for f in AutoScore._meta.fields]

    def has_add_permission(self, request):
        return False


class RescoreJobForm(forms.ModelForm):
    class Meta:
        model = RescoreJob
        fields = ["started_from", "started_to"]

    def clean(self):
        data = super().clean()
        start, end = data.get("started_from"), data.get("started_to")
        if start and end and end <= start:
            self.add_error("started_to", _("Must be after the start."))
        return data


@admin.register(RescoreJob)
class RescoreJobAdmin(ModelAdmin):
    sidebar_icon = "restart_alt"
    form = RescoreJobForm
    list_display = ["__str__", "status", "done", "total", "progress", "created_by", "created_at", "finished_at"]
    fields = ["started_from", "started_to", "status", "done", "total"]
    readonly_fields = ["status", "done", "total"]

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return f"{100 * obj.done / obj.total:.0f} %" if obj.total else "—"

    def save_model(self, request, obj, form, change):
        from apps.qa.services.rescoring import rescore_job_create
        from apps.qa.tasks import run_rescore_job_task

        if change:
            return
        job = rescore_job_create(started_from=obj.started_from, started_to=obj.started_to, user=request.user)
        obj.pk = job.pk
        enqueue_on_commit(run_rescore_job_task, job.pk)  # qa.resume_rescore_jobs takes up a job left queued


@admin.register(SamplingPlan)
class SamplingPlanAdmin(ModelAdmin):
    sidebar_icon = "shuffle"
    list_display = ["name", "scorecard", "period", "rate_percent", "min_per_agent", "max_per_agent", "is_active"]
    filter_horizontal = ["channels", "teams", "reviewers"]


@admin.register(SamplingRun)
class SamplingRunAdmin(ModelAdmin):
    sidebar_icon = "play_circle"
    list_display = ["plan", "period_start", "sampled", "risky", "created_at"]
    list_filter = ["plan"]
    readonly_fields = [f.name for f in SamplingRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ReviewTask)
class ReviewTaskAdmin(ModelAdmin):
    sidebar_icon = "assignment"
    list_display = ["conversation", "version", "reason", "risks", "assignee", "state", "due_at"]
    list_filter = ["state", "reason", "assignee", "run__plan"]
    list_select_related = ["conversation", "version__scorecard", "assignee"]
    readonly_fields = ["conversation", "version", "run", "reason", "risks", "state", "skip_reason"]
    list_before_template = "admin/qa/reviewtask/queue_progress.html"  # per reviewer, above the list

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class ReassignForm(form):
            """A new assignee goes through the service's checks (never the agent who served the conversation,
            never a started review), reported on the field instead of saved."""

            def clean(self):
                cleaned = super().clean()
                to_user = cleaned.get("assignee")
                if self.instance.pk and "assignee" in self.changed_data and to_user is not None:
                    try:
                        task_reassign_check(self.instance, to_user=to_user)
                    except TaskError as exc:
                        add_to_form(self, exc)
                return cleaned

        return ReassignForm

    def save_model(self, request, obj, form, change):
        if change and "assignee" in form.changed_data and obj.assignee is not None:
            task_reassign(obj, to_user=obj.assignee, actor=request.user)  # recorded as an event
            return
        super().save_model(request, obj, form, change)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "queue_progress": list(queue_progress())}
        return super().changelist_view(request, extra_context)
