"""The reviewer workspace (/qa/): thin views that parse the request, call ``selectors`` (what a person may
see, and the reads of each page) and ``services`` (what they may change), and render. Pages are
server-rendered; the review page's script saves drafts as JSON.

A service's refusal is shown through core's one mapping (``apps.core.error_display``): a message on the next
page, field errors next to their fields, or a JSON body; a ``PermissionRefused`` is a 403, as at every door."""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import roles
from apps.core import csv_export
from apps.core.error_display import as_json, message_admin
from apps.core.errors import Conflict, PermissionRefused, ValidationFailed
from apps.core.params import plain_int
from apps.qa.models import ReviewTask
from apps.reviews import services
from apps.reviews.models import CalibrationSession, Dispute, Review
from apps.reviews.selectors import access, calibration, reports
from apps.reviews.selectors import workspace as pages

# What a person is told and may correct (a message, field errors); a PermissionRefused is a 403 instead.
REFUSED = (ValidationFailed, Conflict)


def workspace(view):
    """Signed in, and a reviewer, lead or agent; what a service refuses them is a 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not access.may_use_workspace(request.user):
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc

    return wrapped


def _leads_only(user) -> None:
    if not roles.is_qa_lead(user):
        raise PermissionDenied


def _json_refusal(exc: ValidationFailed | Conflict) -> JsonResponse:
    return JsonResponse(as_json(exc), status=exc.status_code)


# --- the queue -----------------------------------------------------------------------------------


QUEUE_PAGE_SIZE = 50


@require_GET
@workspace
def queue_view(request: HttpRequest) -> HttpResponse:
    if not roles.is_qa_reviewer(request.user):
        return redirect("reviews:my_reviews")
    filters = {name: request.GET.get(name, "") for name in ("scorecard", "channel", "team", "risk", "reason", "due")}
    page = Paginator(pages.queue(request.user, **filters), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    context = {
        "tasks": page.object_list,
        "page": page,
        "kept_query": kept.urlencode(),
        "reasons": ReviewTask.Reason.choices,
        "counts": pages.queue_counts(request.user),
        "filters": filters,
        **pages.queue_filter_choices(),
        "risks": ["fatal", "severe", "rule", "low_csat", "sla", "bot_failures"],
    }
    return render(request, "reviews/queue.html", context)


@require_POST
@workspace
def start_next(request: HttpRequest) -> HttpResponse:
    task = pages.most_urgent_task(request.user)
    if task is None:
        messages.info(request, _("Your queue is empty."))
        return redirect("reviews:queue")
    return redirect("reviews:task", pk=task.pk)


# --- the review page -------------------------------------------------------------------------------


def _review_page(request: HttpRequest, review: Review, *, task: ReviewTask | None = None, item=None) -> HttpResponse:
    conversation = review.conversation
    version = review.version
    lines, findings = pages.transcript_and_findings(conversation, version)
    form = pages.scorecard_form(version)
    state = {
        "outcomes": review.outcomes,
        "finding_verdicts": review.finding_verdicts,
        "criterion_notes": review.criterion_notes,
        "message_notes": review.message_notes,
        "comment": review.comment,
        "score": str(review.score) if review.score is not None else None,
        "fatal": review.fatal,
        "submitted": review.status == Review.Status.SUBMITTED,
        "draft_url": reverse("reviews:review_draft", args=[review.pk]),
        "submit_url": reverse("reviews:review_submit", args=[review.pk]),
        "finding_rules": {str(f.pk): f.rule_id for f in findings},
        "rule_criteria": {str(k): v for k, v in form.rule_criteria.items()},
    }
    return render(
        request,
        "reviews/review.html",
        {
            "review": review,
            "task": task,
            "item": item,
            "conversation": conversation,
            "version": version,
            "lines": lines,
            "findings": findings,
            "finding_groups": pages.findings_by_rule(findings),
            "sections": form.sections,
            "state": state,
        },
    )


@require_GET
@workspace
def task_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = pages.own_task(request.user, pk)
    if task is None:
        raise Http404
    review = pages.review_of_task(task)
    if review is None:
        try:
            review = services.review_open_task(task, request.user)
        except REFUSED as exc:
            message_admin(request, exc)
            return redirect("reviews:queue")
    review.conversation, review.version = task.conversation, task.version
    return _review_page(request, review, task=task)


def _json_body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        data = None
    if not isinstance(data, dict):
        raise services.ReviewError(
            _("Send a JSON object."), field_errors={"non_field_errors": [_("Send a JSON object.")]}
        )
    return data


def _own_review(request: HttpRequest, pk: int) -> Review:
    review = pages.own_review(request.user, pk)
    if review is None:
        raise Http404
    return review


@require_POST
@workspace
def review_draft(request: HttpRequest, pk: int) -> JsonResponse:
    review = _own_review(request, pk)
    try:
        review = services.review_save_draft(review, request.user, _json_body(request))
    except REFUSED as exc:
        return _json_refusal(exc)
    return JsonResponse({"score": str(review.score), "fatal": review.fatal, "saved_at": review.updated_at.isoformat()})


@require_POST
@workspace
def review_submit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _own_review(request, pk)
    try:
        data = _json_body(request) if request.content_type == "application/json" else None
        review = services.review_submit(review, request.user, data)
    except REFUSED as exc:
        if request.content_type == "application/json":
            return _json_refusal(exc)
        message_admin(request, exc)
        return redirect(request.META.get("HTTP_REFERER") or "reviews:queue")
    following = None
    if review.calibration_item_id:
        following = reverse("reviews:calibration", args=[review.calibration_item.session_id])
    elif request.GET.get("next") == "1":
        task = pages.most_urgent_task(request.user)
        following = reverse("reviews:task", args=[task.pk]) if task else reverse("reviews:queue")
    else:
        following = reverse("reviews:queue")
    # The next page confirms it (a toast): the reviewer moved on and should not wonder whether it saved.
    messages.success(request, _("Review submitted: %(score)s.") % {"score": review.score})
    if request.content_type == "application/json":
        return JsonResponse({"score": str(review.score), "fatal": review.fatal, "next": following})
    return redirect(following)


# --- agents and disputes -----------------------------------------------------------------------------


@require_GET
@workspace
def my_reviews(request: HttpRequest) -> HttpResponse:
    return render(request, "reviews/my_reviews.html", {"reviews": pages.agent_reviews(request.user)[:200]})


@require_GET
@workspace
def submitted_by_me(request: HttpRequest) -> HttpResponse:
    """A reviewer's own submitted reviews, to look back at (and see which are disputed)."""
    if not roles.is_qa_reviewer(request.user):
        raise PermissionDenied
    page = Paginator(pages.reviews_submitted_by(request.user), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "reviews/submitted_by_me.html", {"reviews": page.object_list, "page": page})


@require_GET
@workspace
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_detail_page(request, pk)


def _review_detail_page(request: HttpRequest, pk: int, *, failed: dict | None = None) -> HttpResponse:
    """The submitted review. ``failed`` is a dispute or ruling form sent back, its error next to the field and
    what was typed and chosen kept: ``{"form": "dispute" | "rule", "criterion": id, "errors": [...], "value":
    text, "decision": …, "outcome": …}`` (a ruling's choices matter most: shown reset, a corrected note would
    uphold what the lead meant to overturn)."""
    user = request.user
    review = pages.submitted_review(pk)
    if review is None or not access.may_read_submitted_review(user, review):
        raise Http404
    lines, _findings = pages.transcript_and_findings(review.conversation, review.version)
    criteria = pages.review_criteria(review)
    disputes = pages.review_disputes(review)
    failed = failed or {}

    def kept(form: str, criterion_id: int) -> dict | None:
        return failed if failed.get("form") == form and failed.get("criterion") == criterion_id else None

    rows = [
        {
            "criterion": c,
            "outcome": review.outcomes.get(str(c.id), ""),
            "note": review.criterion_notes.get(str(c.id), ""),
            "dispute": disputes.get(c.id),
            "failed": kept("dispute", c.id),
        }
        for c in criteria
    ]
    rulable = [d for d in disputes.values() if d.status == Dispute.Status.OPEN and access.may_rule_on(user, d)]
    for dispute in rulable:
        dispute.failed = kept("rule", dispute.criterion_id)
    return render(
        request,
        "reviews/review_detail.html",
        {
            "review": review,
            "rows": rows,
            "lines": lines,
            "may_dispute": access.served(user, review.conversation),
            "revisions": pages.review_revisions(review),
            "rulable": rulable,
        },
        status=400 if failed else 200,
    )


@require_POST
@workspace
def dispute_create(request: HttpRequest, pk: int) -> HttpResponse:
    review = pages.find_review(pk)
    criterion = pages.find_criterion(plain_int(request.POST.get("criterion"), 0))
    if review is None or criterion is None:
        raise Http404
    reason = request.POST.get("reason", "")
    try:
        services.dispute_raise(review, criterion, request.user, reason)
    except REFUSED as exc:
        if "reason" in exc.field_errors:  # said next to the reason, with what the agent typed kept
            problems = exc.field_errors["reason"]
            failed = {"form": "dispute", "criterion": criterion.pk, "errors": problems, "value": reason}
            return _review_detail_page(request, review.pk, failed=failed)
        message_admin(request, exc)
    else:
        messages.success(request, _("Your dispute was sent."))
    return redirect("reviews:review_detail", pk=review.pk)


@require_GET
@workspace
def disputes_view(request: HttpRequest) -> HttpResponse:
    return render(request, "reviews/disputes.html", {"disputes": access.disputes_to_rule(request.user)[:200]})


@require_POST
@workspace
def dispute_rule(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = pages.find_dispute(pk)
    if dispute is None:
        raise Http404
    note = request.POST.get("note", "")
    try:
        services.dispute_rule(
            dispute,
            request.user,
            overturn=request.POST.get("decision") == "overturn",
            note=note,
            outcome=request.POST.get("outcome", "pass"),
        )
    except REFUSED as exc:
        if "note" in exc.field_errors:  # said next to the note, with what the lead typed kept
            problems = exc.field_errors["note"]
            failed = {"form": "rule", "criterion": dispute.criterion_id, "errors": problems, "value": note}
            failed.update(decision=request.POST.get("decision"), outcome=request.POST.get("outcome"))
            return _review_detail_page(request, dispute.review_id, failed=failed)
        message_admin(request, exc)
    else:
        messages.success(request, _("Ruling recorded."))
    return redirect("reviews:review_detail", pk=dispute.review_id)


# --- calibration ---------------------------------------------------------------------------------------


@workspace
def calibration_candidates_view(request: HttpRequest) -> JsonResponse:
    """The calibration form's searchable picker: conversations in the review queue (or any sampled one)."""
    _leads_only(request.user)
    results = calibration.calibration_candidates(
        request.user, query=request.GET.get("q", "")[:100], queued_only=request.GET.get("all") != "1"
    )
    return JsonResponse({"results": results})


@workspace
def calibrations_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        _leads_only(user)
        version = calibration.find_scorecard_version(plain_int(request.POST.get("version"), 0))
        # A NUL character cannot even be compared in PostgreSQL: shown as � it matches no conversation.
        typed = request.POST.get("conversations", "").replace("\x00", "\ufffd")
        wanted = [line.strip() for line in typed.splitlines() if line.strip()]
        conversations = calibration.conversations_by_external_id(wanted)
        reviewer_ids = [n for n in (plain_int(v) for v in request.POST.getlist("reviewers")) if n is not None]
        reviewers = calibration.users_by_pk(reviewer_ids)
        missing = sorted(set(wanted) - {c.external_id for c in conversations})
        try:
            if version is None:
                raise services.ReviewError(_("Choose a scorecard version."))
            if missing:
                problem = _("No such conversations: %(v)s.") % {"v": ", ".join(missing)}
                raise services.ReviewError(_("The session was not created."), field_errors={"conversations": [problem]})
            session = services.calibration_create(
                name=request.POST.get("name", ""),
                version=version,
                conversations=conversations,
                reviewers=reviewers,
                by=user,
            )
        except REFUSED as exc:
            message_admin(request, exc)
            errors = exc.field_errors  # each said next to its field
            status = 400  # the form below keeps what the lead typed and chose
        else:
            return redirect("reviews:calibration", pk=session.pk)
    else:
        status, errors = 200, {}
    context = {
        "errors": errors,
        "sessions": calibration.calibration_sessions(user)[:100],
        "is_lead": roles.is_qa_lead(user),
        "form": {
            "name": request.POST.get("name", ""),
            "version": request.POST.get("version", ""),
            # From the picker below, or from a list of conversations that links here (?conversation=…).
            "conversations": request.POST.get("conversations") or "\n".join(request.GET.getlist("conversation")),
            "reviewers": set(request.POST.getlist("reviewers")),
        },
    }
    if context["is_lead"]:
        context["versions"] = calibration.published_versions()
        context["reviewers"] = calibration.reviewer_choices(user)
    return render(request, "reviews/calibrations.html", context, status=status)


def _session_for(request: HttpRequest, pk: int) -> CalibrationSession:
    session = calibration.session_for(request.user, pk)
    if session is None:
        raise Http404
    return session


@require_GET
@workspace
def calibration_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    progress = calibration.session_progress(session, request.user)
    return render(
        request,
        "reviews/calibration.html",
        {
            "session": session,
            "rows": progress.rows,
            "is_lead": roles.is_qa_lead(request.user),
            "reviewer_count": progress.reviewer_count,
        },
    )


@require_GET
@workspace
def calibration_item_view(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    item = calibration.session_item(session, item_pk)
    if item is None:
        raise Http404
    review = services.calibration_open_review(item, request.user)
    review.conversation = item.conversation
    review.version = session.version
    return _review_page(request, review, item=item)


@require_GET
@workspace
def calibration_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    _leads_only(request.user)
    history = calibration.session_history(session)
    return render(
        request,
        "reviews/calibration_report.html",
        {"report": calibration.calibration_report(session), "history": history},
    )


# --- reports -------------------------------------------------------------------------------------------


@require_GET
@workspace
def reports_view(request: HttpRequest) -> HttpResponse:
    _leads_only(request.user)
    data = reports.qa_report(request.user, days=plain_int(request.GET.get("days"), 56, minimum=7, maximum=366))
    export = request.GET.get("export")
    if export:
        if export not in data.tables:
            raise Http404
        table = data.tables[export]
        return csv_export.csv_response(f"qa-{export}.csv", table.columns, table.rows)
    return render(request, "reviews/reports.html", {"data": data})
