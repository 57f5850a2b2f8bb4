"""The reviewer workspace (/qa/): thin views over ``selectors`` (what a user may see) and ``services``
(what they may change). Pages are server-rendered; the review page's script saves drafts as JSON."""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.accounts import roles
from apps.conversations.models import Channel, Conversation, Message, Team
from apps.core.params import plain_int
from apps.qa.models import Criterion, Finding, ReviewTask, Scorecard, ScorecardVersion
from apps.reviews import reports, selectors, services
from apps.reviews.models import CalibrationItem, CalibrationSession, Dispute, Review
from apps.reviews.transcript import transcript


def workspace(view):
    """Signed in, and a reviewer, lead or agent."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not selectors.may_use_workspace(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _leads_only(user) -> None:
    if not selectors.is_lead(user):
        raise PermissionDenied


# --- the queue -----------------------------------------------------------------------------------


QUEUE_PAGE_SIZE = 50


@require_GET
@workspace
def queue_view(request: HttpRequest) -> HttpResponse:
    if not selectors.is_reviewer(request.user):
        return redirect("reviews:my_reviews")
    filters = {name: request.GET.get(name, "") for name in ("scorecard", "channel", "team", "risk", "reason", "due")}
    page = Paginator(selectors.queue(request.user, **filters), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    context = {
        "tasks": page.object_list,
        "page": page,
        "kept_query": kept.urlencode(),
        "reasons": ReviewTask.Reason.choices,
        "counts": selectors.queue_counts(request.user),
        "filters": filters,
        "scorecards": Scorecard.objects.filter(is_active=True).only("id", "name"),
        "channels": Channel.objects.only("code", "name"),
        "teams": Team.objects.only("id", "name"),
        "risks": ["fatal", "severe", "rule", "low_csat", "sla", "bot_failures"],
    }
    return render(request, "reviews/queue.html", context)


@require_POST
@workspace
def start_next(request: HttpRequest) -> HttpResponse:
    task = selectors.most_urgent_task(request.user)
    if task is None:
        messages.info(request, _("Your queue is empty."))
        return redirect("reviews:queue")
    return redirect("reviews:task", pk=task.pk)


# --- the review page -------------------------------------------------------------------------------


def _grouped_by_rule(findings: list) -> list[dict]:
    """Findings per rule, the most severe rule first, in message order within a rule."""
    groups: dict[int, dict] = {}
    for finding in sorted(findings, key=lambda f: (f.message_id or 0, f.pk)):
        group = groups.setdefault(finding.rule_id, {"rule": finding.rule, "severity": finding.severity, "findings": []})
        group["findings"].append(finding)
    order = {"critical": 0, "major": 1, "minor": 2, "info": 3}
    return sorted(groups.values(), key=lambda g: (order.get(g["severity"], 9), g["rule"].name))


def _transcript_and_findings(conversation, version) -> tuple[list, list]:
    """The conversation's messages as the page shows them, and the machine's findings for this version."""
    findings = list(Finding.objects.filter(conversation=conversation, score__version=version).select_related("rule"))
    rows = (
        Message.objects.filter(conversation=conversation)
        .only("id", "role", "sender", "sent_at", "text", "conversation_id")
        .order_by("sent_at", "id")
    )
    return transcript(list(rows), findings, conversation.handoff_at), findings


def _review_page(request: HttpRequest, review: Review, *, task: ReviewTask | None = None, item=None) -> HttpResponse:
    conversation = review.conversation
    version = review.version
    lines, findings = _transcript_and_findings(conversation, version)
    criteria = list(
        Criterion.objects.filter(version=version)
        .select_related("section", "rule")
        .order_by("section__position", "section_id", "position", "id")
    )
    sections: list[tuple] = []
    for criterion in criteria:
        if not sections or sections[-1][0].pk != criterion.section_id:
            sections.append((criterion.section, []))
        sections[-1][1].append(criterion)
    rule_criteria: dict[int, list[int]] = {}
    for criterion in criteria:
        if criterion.rule_id:
            rule_criteria.setdefault(criterion.rule_id, []).append(criterion.id)
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
        "rule_criteria": {str(k): v for k, v in rule_criteria.items()},
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
            "finding_groups": _grouped_by_rule(findings),
            "sections": sections,
            "state": state,
        },
    )


@require_GET
@workspace
def task_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(
        ReviewTask.objects.select_related(
            "conversation__channel", "conversation__team", "conversation__served_by", "version__scorecard"
        ),
        pk=pk,
        assignee=request.user,
    )
    try:
        review = task.review
    except Review.DoesNotExist:
        try:
            review = services.review_open_task(task, request.user)
        except services.ReviewError as exc:
            messages.error(request, str(exc))
            return redirect("reviews:queue")
    review.conversation, review.version = task.conversation, task.version
    return _review_page(request, review, task=task)


def _json_body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        data = None
    if not isinstance(data, dict):
        raise services.ReviewError(_("Send a JSON object."), {"non_field_errors": [_("Send a JSON object.")]})
    return data


def _own_review(request: HttpRequest, pk: int) -> Review:
    review = Review.objects.filter(pk=pk, reviewer=request.user).first()
    if review is None:
        raise Http404
    return review


@require_POST
@workspace
def review_draft(request: HttpRequest, pk: int) -> JsonResponse:
    review = _own_review(request, pk)
    try:
        review = services.review_save_draft(review, request.user, _json_body(request))
    except services.ReviewError as exc:
        return JsonResponse({"detail": str(exc), "errors": exc.errors}, status=400)
    return JsonResponse({"score": str(review.score), "fatal": review.fatal, "saved_at": review.updated_at.isoformat()})


@require_POST
@workspace
def review_submit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _own_review(request, pk)
    try:
        data = _json_body(request) if request.content_type == "application/json" else None
        review = services.review_submit(review, request.user, data)
    except services.ReviewError as exc:
        if request.content_type == "application/json":
            return JsonResponse({"detail": str(exc), "errors": exc.errors}, status=400)
        messages.error(request, str(exc))
        return redirect(request.META.get("HTTP_REFERER") or "reviews:queue")
    following = None
    if review.calibration_item_id:
        following = reverse("reviews:calibration", args=[review.calibration_item.session_id])
    elif request.GET.get("next") == "1":
        task = selectors.most_urgent_task(request.user)
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
    return render(request, "reviews/my_reviews.html", {"reviews": selectors.agent_reviews(request.user)[:200]})


@require_GET
@workspace
def submitted_by_me(request: HttpRequest) -> HttpResponse:
    """A reviewer's own submitted reviews, to look back at (and see which are disputed)."""
    if not selectors.is_reviewer(request.user):
        raise PermissionDenied
    page = Paginator(selectors.reviews_submitted_by(request.user), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
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
    review = get_object_or_404(
        Review.objects.select_related("conversation__channel", "conversation__served_by", "version", "reviewer"),
        pk=pk,
        status=Review.Status.SUBMITTED,
    )
    user = request.user
    own_agent = review.conversation.served_by is not None and review.conversation.served_by.user_id == user.pk
    if review.calibration_item_id and not selectors.is_lead(user):
        raise Http404
    if not (own_agent or selectors.may_view_conversation(user, review.conversation)):
        raise Http404
    lines, _findings = _transcript_and_findings(review.conversation, review.version)
    criteria = list(review.version.criteria.select_related("section").order_by("section__position", "position", "id"))
    disputes = {d.criterion_id: d for d in review.disputes.select_related("decided_by", "raised_by", "criterion")}
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
    rulable = [d for d in disputes.values() if d.status == Dispute.Status.OPEN and selectors.may_rule_on(user, d)]
    for dispute in rulable:
        dispute.failed = kept("rule", dispute.criterion_id)
    return render(
        request,
        "reviews/review_detail.html",
        {
            "review": review,
            "rows": rows,
            "lines": lines,
            "may_dispute": own_agent,
            "revisions": review.revisions.select_related("by"),
            "rulable": rulable,
        },
        status=400 if failed else 200,
    )


@require_POST
@workspace
def dispute_create(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review, pk=pk)
    criterion = get_object_or_404(Criterion, pk=plain_int(request.POST.get("criterion"), 0))
    reason = request.POST.get("reason", "")
    try:
        services.dispute_raise(review, criterion, request.user, reason)
    except services.ReviewError as exc:
        if "reason" in exc.errors:  # said next to the reason, with what the agent typed kept
            failed = {"form": "dispute", "criterion": criterion.pk, "errors": exc.errors["reason"], "value": reason}
            return _review_detail_page(request, review.pk, failed=failed)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your dispute was sent."))
    return redirect("reviews:review_detail", pk=review.pk)


@require_GET
@workspace
def disputes_view(request: HttpRequest) -> HttpResponse:
    return render(request, "reviews/disputes.html", {"disputes": selectors.disputes_to_rule(request.user)[:200]})


@require_POST
@workspace
def dispute_rule(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = get_object_or_404(Dispute, pk=pk)
    note = request.POST.get("note", "")
    try:
        services.dispute_rule(
            dispute,
            request.user,
            overturn=request.POST.get("decision") == "overturn",
            note=note,
            outcome=request.POST.get("outcome", "pass"),
        )
    except services.ReviewError as exc:
        if "note" in exc.errors:  # said next to the note, with what the lead typed kept
            failed = {"form": "rule", "criterion": dispute.criterion_id, "errors": exc.errors["note"], "value": note}
            failed.update(decision=request.POST.get("decision"), outcome=request.POST.get("outcome"))
            return _review_detail_page(request, dispute.review_id, failed=failed)
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Ruling recorded."))
    return redirect("reviews:review_detail", pk=dispute.review_id)


# --- calibration ---------------------------------------------------------------------------------------


@workspace
def calibration_candidates_view(request: HttpRequest) -> JsonResponse:
    """The calibration form's searchable picker: conversations in the review queue (or any sampled one)."""
    _leads_only(request.user)
    results = selectors.calibration_candidates(
        request.user, query=request.GET.get("q", "")[:100], queued_only=request.GET.get("all") != "1"
    )
    return JsonResponse({"results": results})


@workspace
def calibrations_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        _leads_only(user)
        version = ScorecardVersion.objects.filter(pk=plain_int(request.POST.get("version"), 0)).first()
        # A NUL character cannot even be compared in PostgreSQL: shown as � it matches no conversation.
        typed = request.POST.get("conversations", "").replace("\x00", "\ufffd")
        wanted = [line.strip() for line in typed.splitlines() if line.strip()]
        conversations = (
            list(Conversation.objects.filter(external_id__in=wanted).select_related("served_by")) if wanted else []
        )
        reviewer_ids = [n for n in (plain_int(v) for v in request.POST.getlist("reviewers")) if n is not None]
        reviewers = get_user_model().objects.filter(pk__in=reviewer_ids)
        missing = sorted(set(wanted) - {c.external_id for c in conversations})
        try:
            if version is None:
                raise services.ReviewError(_("Choose a scorecard version."))
            if missing:
                problem = _("No such conversations: %(v)s.") % {"v": ", ".join(missing)}
                raise services.ReviewError(_("The session was not created."), {"conversations": [problem]})
            session = services.calibration_create(
                name=request.POST.get("name", ""),
                version=version,
                conversations=conversations,
                reviewers=reviewers,
                by=user,
            )
        except services.ReviewError as exc:
            messages.error(request, str(exc))
            errors = exc.errors  # each said next to its field
            status = 400  # the form below keeps what the lead typed and chose
        else:
            return redirect("reviews:calibration", pk=session.pk)
    else:
        status, errors = 200, {}
    context = {
        "errors": errors,
        "sessions": selectors.calibration_sessions(user)[:100],
        "is_lead": selectors.is_lead(user),
        "form": {
            "name": request.POST.get("name", ""),
            "version": request.POST.get("version", ""),
            # From the picker below, or from a list of conversations that links here (?conversation=…).
            "conversations": request.POST.get("conversations") or "\n".join(request.GET.getlist("conversation")),
            "reviewers": set(request.POST.getlist("reviewers")),
        },
    }
    if context["is_lead"]:
        context["versions"] = ScorecardVersion.objects.filter(status="published").select_related("scorecard")
        # The lead scores as the reference, so is not offered as one of the reviewers.
        context["reviewers"] = (
            get_user_model()
            .objects.filter(groups__name__in=[roles.QA_REVIEWER, roles.QA_LEAD])
            .exclude(pk=user.pk)
            .distinct()
        )
    return render(request, "reviews/calibrations.html", context, status=status)


def _session_for(request: HttpRequest, pk: int) -> CalibrationSession:
    session = get_object_or_404(CalibrationSession.objects.select_related("version__scorecard"), pk=pk)
    if not (selectors.is_lead(request.user) or session.reviewers.filter(pk=request.user.pk).exists()):
        raise Http404
    return session


@require_GET
@workspace
def calibration_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    items = list(session.items.select_related("conversation__channel"))
    mine = {
        r.calibration_item_id: r
        for r in Review.objects.filter(calibration_item__session=session, reviewer=request.user)
    }
    done = {}
    for item_id, status, is_reference in Review.objects.filter(calibration_item__session=session).values_list(
        "calibration_item_id", "status", "is_reference"
    ):
        if status == Review.Status.SUBMITTED and not is_reference:
            done[item_id] = done.get(item_id, 0) + 1
    rows = [{"item": i, "mine": mine.get(i.pk), "submitted": done.get(i.pk, 0)} for i in items]
    return render(
        request,
        "reviews/calibration.html",
        {
            "session": session,
            "rows": rows,
            "is_lead": selectors.is_lead(request.user),
            "reviewer_count": session.reviewers.count(),
        },
    )


@require_GET
@workspace
def calibration_item_view(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    item = get_object_or_404(CalibrationItem.objects.select_related("conversation"), pk=item_pk, session=session)
    review = services.calibration_open_review(item, request.user)
    review.conversation = item.conversation
    review.version = session.version
    return _review_page(request, review, item=item)


@require_GET
@workspace
def calibration_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_for(request, pk)
    _leads_only(request.user)
    history = [
        (s, services.calibration_report(s).alpha)
        for s in CalibrationSession.objects.filter(version__scorecard=session.version.scorecard).order_by("created_at")
    ]
    return render(
        request,
        "reviews/calibration_report.html",
        {"report": services.calibration_report(session), "history": history},
    )


# --- reports -------------------------------------------------------------------------------------------


@require_GET
@workspace
def reports_view(request: HttpRequest) -> HttpResponse:
    _leads_only(request.user)
    data = reports.build(request.user, days=plain_int(request.GET.get("days"), 56, minimum=7, maximum=366))
    export = request.GET.get("export")
    if export:
        if export not in data.tables:
            raise Http404
        return reports.csv_response(data.tables[export], f"qa-{export}.csv")
    return render(request, "reviews/reports.html", {"data": data})
