"""What the article and script admins share: versions, workflow buttons, diff, queues.

Every button calls a service in ``apps.knowledge.services.workflow``; permission and rule errors come
back as admin messages, never as a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.forms import AdminForm

from apps.core.admin_base import ModelAdmin
from apps.core.chinese import script_variants
from apps.core.error_display import add_to_form, message_admin
from apps.core.errors import DomainError
from apps.core.params import is_plain_int
from apps.knowledge.admin.forms import ReviewForm
from apps.knowledge.models import StaleFlag, VersionStatus
from apps.knowledge.services import workflow
from apps.knowledge.services.diff import content_diff


class ChineseSearchMixin:
    """Admin search in any Chinese script: the term is looked for as typed, in Simplified and in
    Traditional writing, so 退款審核 finds what 退款审核 finds whichever script the content is in."""

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        matching = Q()
        for variant in script_variants(search_term):
            found, _duplicates = super().get_search_results(request, queryset, variant)
            matching |= Q(pk__in=found.values("pk"))
        return queryset.filter(matching), False


class StaleFilter(admin.SimpleListFilter):
    title = gettext_lazy("stale")
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("yes", _("Stale")), ("no", _("Not stale"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            field = queryset.model._meta.model_name  # "article" or "script"
            open_flags = StaleFlag.objects.filter(**{field: OuterRef("pk")}, cleared_at__isnull=True)
            return (
                queryset.filter(Exists(open_flags)) if self.value() == "yes" else queryset.exclude(Exists(open_flags))
            )
        return queryset


class StatusFilter(admin.SimpleListFilter):
    """Items by the state of their versions: what editors look for first."""

    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("published", _("Has a published version")),
            ("in_review", _("Has a version in review")),
            ("draft", _("Has a draft")),
            ("unpublished", _("Not published")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "unpublished":
            return queryset.exclude(versions__status=VersionStatus.PUBLISHED)
        return queryset.filter(versions__status=value).distinct()


class FeatureFilter(admin.SimpleListFilter):
    title = gettext_lazy("feature")
    parameter_name = "feature"

    def lookups(self, request, model_admin):
        from apps.catalog.models import Feature

        return [(f.pk, str(f)) for f in Feature.objects.select_related("product")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(
                versions__status=VersionStatus.PUBLISHED, versions__features__pk=self.value()
            ).distinct()
        return queryset


class VersionedItemAdmin(ChineseSearchMixin, ModelAdmin):
    """Admin for an article or script: identity in the form; content edited as new versions."""

    form_class: type  # ArticleVersionForm / ScriptVersionForm
    edit_template = "admin/knowledge/edit_version.html"
    change_form_template = "admin/knowledge/item_change_form.html"
    change_list_template = "admin/knowledge/item_change_list.html"
    list_before_template = "admin/knowledge/queues.html"  # the work queues, one click each
    list_per_page = 50
    actions = ["submit_selected", "publish_selected", "verify_selected"]

    # --- list --------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        field = self.model._meta.model_name
        open_flags = StaleFlag.objects.filter(**{field: OuterRef("pk")}, cleared_at__isnull=True)
        return (
            super()
            .get_queryset(request)
            .select_related("product", "owner")
            .annotate(
                is_stale=Exists(open_flags),
                stale_release=Subquery(open_flags.order_by("-created_at").values("release__version")[:1]),
            )
        )

    @admin.display(description=gettext_lazy("updated"), ordering="updated_at")
    def updated(self, obj) -> str:
        """The day only: the list must fit 1440 px, and the time of day rarely matters here."""
        return f"{timezone.localtime(obj.updated_at):%Y-%m-%d}"

    @admin.display(description=gettext_lazy("stale"), ordering="is_stale")
    def stale(self, obj) -> str:
        """A red badge naming the release that made it stale (a green tick would read as "fine")."""
        if not obj.is_stale:
            return ""
        text = _("Stale since %(release)s") % {"release": obj.stale_release} if obj.stale_release else _("Stale")
        return theme_badge(text, "danger", css_class="kb-stale")

    @admin.display(description=gettext_lazy("needs verification"), ordering="needs_verification")
    def verification(self, obj) -> str:
        """A badge when the verification interval has passed; nothing otherwise (a red cross would read as
        "wrong" on every article that is fine)."""
        return theme_badge(_("Needs verification"), "warning") if obj.needs_verification else ""

    def _for_each(self, request: HttpRequest, queryset: QuerySet, operation, done_message: str) -> None:
        """Run ``operation(item)`` per selected item; each failure is reported, the others still happen."""
        done = 0
        for item in queryset:
            try:
                operation(item)
            except DomainError as exc:
                message_admin(request, exc, about=item)
            else:
                done += 1
                self.log_change(request, item, done_message)
        if done:
            self.message_user(
                request, _("%(action)s: %(n)s done.") % {"action": done_message, "n": done}, messages.SUCCESS
            )

    @admin.action(description=gettext_lazy("Submit the latest drafts for review"), permissions=["change"])
    def submit_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        def submit(item) -> None:
            latest = item.versions.order_by("-number").first()
            if latest is None or latest.status != VersionStatus.DRAFT:
                raise DomainError(_("no draft to submit"))
            workflow.version_submit(version=latest, by=request.user)

        self._for_each(request, queryset, submit, _("Submitted for review"))

    @admin.action(description=gettext_lazy("Approve and publish the versions in review"), permissions=["publish"])
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        def publish(item) -> None:
            pending = item.versions.filter(status=VersionStatus.IN_REVIEW).order_by("-number").first()
            if pending is None:
                raise DomainError(_("no version in review"))
            workflow.version_publish(version=pending, by=request.user)

        self._for_each(request, queryset, publish, _("Approved and published"))

    @admin.action(description=gettext_lazy("Verify selected (still correct)"), permissions=["verify"])
    def verify_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._for_each(request, queryset, lambda item: workflow.item_verify(item=item, by=request.user), _("Verified"))

    def has_verify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("knowledge.verify_content")

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("knowledge.publish_content")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Knowledge is archived, not deleted: history must survive. Only administrators may delete.
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = obj.owner or request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        # The identity exists now; what it says is written as version 1 on the edit page.
        messages.info(request, _("Now write the first version."))
        return HttpResponseRedirect(self._url("edit", obj.pk))

    # --- URLs -----------------------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/edit/", wrap(self.edit_view), name=f"{prefix}_edit"),
            path("<int:pk>/diff/", wrap(self.diff_view), name=f"{prefix}_diff"),
            path("<int:pk>/workflow/<str:action>/", wrap(self.workflow_view), name=f"{prefix}_workflow"),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_{name}", args=args)

    # --- change page: identity + version history + workflow ---------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        item = self.get_object(request, object_id)
        extra = extra_context or {}
        if item is not None:
            versions = list(item.versions.select_related("author", "published_by").order_by("-number"))
            for version in versions:  # what the history table's badge and rollback button need
                version.status_variant = STATUS_VARIANTS.get(version.status, "")
                version.rollback_form = f"kb-wf-rollback-{version.number}"
            extra.update(
                versions=versions,
                latest=versions[0] if versions else None,
                published=next((v for v in versions if v.status == VersionStatus.PUBLISHED), None),
                open_flags=item.stale_flags.filter(cleared_at__isnull=True).select_related("release"),
                edit_url=self._url("edit", item.pk),
                diff_url=self._url("diff", item.pk),
                workflow_urls={action: self._url("workflow", item.pk, action) for action in WORKFLOW_ACTIONS},
                can_publish=request.user.has_perm("knowledge.publish_content"),
                can_verify=request.user.has_perm("knowledge.verify_content"),
                can_archive=request.user.has_perm("knowledge.archive_content"),
                review_form=ReviewForm(),
                review_diff=self._review_diff(request, versions),
            )
        return super().change_view(request, object_id, form_url, extra)

    def _review_diff(self, request: HttpRequest, versions: list) -> list:
        """For whoever may approve: what the version in review changes against the published one, inline."""
        latest = versions[0] if versions else None
        published = next((v for v in versions if v.status == VersionStatus.PUBLISHED), None)
        if (
            latest is None
            or published is None
            or latest.status != VersionStatus.IN_REVIEW
            or not request.user.has_perm("knowledge.publish_content")
        ):
            return []
        return [d for d in content_diff(workflow.content_of(published), workflow.content_of(latest)) if d.changed]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["external_id", "product"]
        return [*readonly, "needs_verification", "last_verified_at"]

    # --- edit: a new version on top of a base version ----------------------------------------------

    def _form_kwargs(self, item) -> dict[str, Any]:
        return {"product": item.product}

    def edit_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = get_object_or_404(self.model, pk=pk)
        if not self.has_change_permission(request, item):
            raise PermissionDenied
        # Edits always start from the latest version; None means the item's first version.
        base = item.versions.order_by("-number").first()
        conflict = None
        if request.method == "POST":
            form = self.form_class(request.POST, **self._form_kwargs(item))
            if form.is_valid():
                try:
                    version = workflow.version_create(
                        item=item,
                        base_number=form.cleaned_data["base_version"],
                        content=form.content(),
                        by=request.user,
                        change_note=form.cleaned_data.get("change_note", ""),
                    )
                    if form.cleaned_data.get("submit_for_review"):
                        workflow.version_submit(version=version, by=request.user)
                except workflow.EditConflict as exc:
                    conflict = exc
                    messages.error(request, exc.message)
                except DomainError as exc:
                    add_to_form(form, exc)
                else:
                    messages.success(
                        request,
                        _("Saved as version %(n)s (%(status)s).")
                        % {"n": version.number, "status": version.get_status_display()},
                    )
                    return HttpResponseRedirect(
                        reverse(
                            f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_change", args=[item.pk]
                        )
                    )
        elif base is None:
            form = self.form_class(initial={"base_version": 0}, **self._form_kwargs(item))
        else:
            content = workflow.content_of(base)
            form = self.form_class(
                initial=self.form_class.initial_for(content, base.number, list(base.features.all())),
                **self._form_kwargs(item),
            )
        admin_form = AdminForm(form, form.fieldsets(), {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Edit %(item)s (new version on top of version %(n)s)") % {"item": item, "n": base.number}
            if base
            else _("Write the first version of %(item)s") % {"item": item},
            "item": item,
            "base": base,
            "adminform": admin_form,
            "form": form,
            "conflict": conflict,
            "media": self.media + admin_form.media,
        }
        return TemplateResponse(request, self.edit_template, context)

    # --- diff of any two versions ----------------------------------------------------------------

    def diff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = get_object_or_404(self.model, pk=pk)
        if not self.has_view_permission(request, item):
            raise PermissionDenied
        versions = list(item.versions.order_by("-number"))
        numbers = [v.number for v in versions]

        def pick(name: str, default: int) -> int:
            try:
                value = int(request.GET.get(name, default))
            except ValueError:
                value = default
            return value if value in numbers else default

        new_n = pick("b", numbers[0])
        old_n = pick("a", numbers[1] if len(numbers) > 1 else numbers[0])
        old = next(v for v in versions if v.number == old_n)
        new = next(v for v in versions if v.number == new_n)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Compare versions of %(item)s") % {"item": item},
            "item": item,
            "versions": versions,
            "old": old,
            "new": new,
            "diffs": content_diff(workflow.content_of(old), workflow.content_of(new)),
        }
        return TemplateResponse(request, "admin/knowledge/diff.html", context)

    # --- workflow buttons ----------------------------------------------------------------------

    def workflow_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        """A workflow button of the change page: looks the action up in ``WORKFLOW_ACTIONS`` and runs it."""
        item = get_object_or_404(self.model, pk=pk)
        change_url = reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_change", args=[pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        form = ReviewForm(request.POST)
        number = request.POST.get("version")
        press = ButtonPress(
            item=item,
            version=item.versions.filter(number=number).first() if is_plain_int(number) else None,
            by=request.user,
            comment=form.cleaned_data.get("comment", "") if form.is_valid() else "",
        )
        button = WORKFLOW_ACTIONS.get(action)
        if button is None or (button.on_version and press.version is None):
            messages.error(request, _("Unknown action or version."))
            return HttpResponseRedirect(change_url)
        try:
            done = button.run(press)
        except DomainError as exc:
            message_admin(request, exc)
        else:
            messages.success(request, done)
            self.log_change(request, item, done)  # the item's "History" is its audit trail
        return HttpResponseRedirect(change_url)


@dataclass(frozen=True)
class ButtonPress:
    """A workflow button pressed on an item's change page: by whom, on which version's row (the history
    table's buttons), with the reviewer's comment."""

    item: Any  # an Article or a Script
    version: Any | None  # one of its versions
    by: Any  # the user
    comment: str


@dataclass(frozen=True)
class WorkflowAction:
    """What a workflow button does: ``run`` calls the service (which checks the permission and the rules) and
    returns what the editor is told when it worked. ``on_version``: the button belongs to a version's row."""

    run: Callable[[ButtonPress], str]
    on_version: bool = False


def _submit(press: ButtonPress) -> str:
    workflow.version_submit(version=press.version, by=press.by)
    return _version_done(press)


def _publish(press: ButtonPress) -> str:
    workflow.version_publish(version=press.version, by=press.by, comment=press.comment)
    return _version_done(press)


def _reject(press: ButtonPress) -> str:
    workflow.version_reject(version=press.version, by=press.by, comment=press.comment)
    return _version_done(press)


def _version_done(press: ButtonPress) -> str:
    return _("Version %(n)s: done.") % {"n": press.version.number}


def _rollback(press: ButtonPress) -> str:
    new = workflow.item_rollback(item=press.item, to_number=press.version.number, by=press.by)
    return _("Version %(old)s republished as version %(new)s.") % {"old": press.version.number, "new": new.number}


def _archive(press: ButtonPress) -> str:
    archived = workflow.item_archive(item=press.item, by=press.by)
    return _("Version %(n)s archived; nothing of this item is published now.") % {"n": archived.number}


def _verify(press: ButtonPress) -> str:
    workflow.item_verify(item=press.item, by=press.by)
    return _("Verified: stale flags cleared and the verification interval restarted.")


# The change page's workflow buttons by the action name in their URL.
WORKFLOW_ACTIONS: dict[str, WorkflowAction] = {
    "submit": WorkflowAction(_submit, on_version=True),
    "publish": WorkflowAction(_publish, on_version=True),
    "reject": WorkflowAction(_reject, on_version=True),
    "rollback": WorkflowAction(_rollback, on_version=True),
    "archive": WorkflowAction(_archive),
    "verify": WorkflowAction(_verify),
}


# The theme's badge colours for a version's status: live is green, waiting for someone is orange.
STATUS_VARIANTS = {"published": "success", "in_review": "warning", "draft": "info"}


def theme_badge(text: str, variant: str = "", *, css_class: str = "") -> str:
    """The admin theme's label (badge), as its own lists draw them."""
    return render_to_string("unfold/helpers/label.html", {"text": text, "variant": variant, "class": css_class})


def version_status_badge(status: str, label: str) -> str:
    return theme_badge(label, STATUS_VARIANTS.get(status, ""))


class ReadOnlyVersionAdmin(ChineseSearchMixin, ModelAdmin):
    """Versions are immutable history: viewable, never added, changed or deleted here."""

    item_field = ""  # "article" or "script"
    content_fields: list[str] = []  # what this kind of version says
    _APPLICABILITY = ["feature_list", "tags", "min_product_version", "max_product_version", "valid_from", "valid_until"]
    _WORKFLOW = [
        "change_note",
        "author",
        "created_at",
        "submitted_at",
        "published_at",
        "published_by",
        "review_comment",
    ]

    def get_fields(self, request, obj=None):
        return [
            self.item_field,
            "number",
            "status",
            "based_on_number",
            *self.content_fields,
            *self._APPLICABILITY,
            *self._WORKFLOW,
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=gettext_lazy("features"))
    def feature_list(self, obj) -> str:
        return ", ".join(f.name for f in obj.features.all()) or "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
