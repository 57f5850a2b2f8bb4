"""The reads of the reviewer's and the agent's pages (/qa/): the queue, the review page, the submitted
review with its disputes, and the lists of reviews. Each costs a fixed number of queries, however long the
list or the conversation; who may open what is ``access``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.conversations.models import Channel, Conversation, Message, Team
from apps.core.params import is_plain_int
from apps.qa.models import Criterion, Finding, ReviewTask, Scorecard, ScorecardVersion, Section
from apps.reviews.models import Dispute, Review, ReviewRevision
from apps.reviews.transcript import Line, transcript

OPEN_TASK_STATES = (ReviewTask.State.PENDING, ReviewTask.State.IN_PROGRESS)
SEVERITY_ORDER = {"critical": 0, "major": 1, "minor": 2, "info": 3}


# --- the queue -----------------------------------------------------------------------------------


def queue_filter_choices() -> dict[str, QuerySet]:
    """What the queue's filters offer: active ``scorecards``, ``channels`` and ``teams`` (read when shown)."""
    return {
        "scorecards": Scorecard.objects.filter(is_active=True).only("id", "name"),
        "channels": Channel.objects.only("code", "name"),
        "teams": Team.objects.only("id", "name"),
    }


def queue(
    user,
    *,
    scorecard: str = "",
    channel: str = "",
    team: str = "",
    risk: str = "",
    reason: str = "",
    due: str = "",
):
    """My open review tasks, most urgent first (risky, then by due date), with their filters applied.

    ``due``: ``overdue`` (before now), ``today`` (by the end of today), ``week`` (within 7 days)."""
    tasks = (
        ReviewTask.objects.filter(assignee=user, state__in=OPEN_TASK_STATES)
        .select_related("conversation__channel", "conversation__team", "conversation__served_by", "version__scorecard")
        .order_by("due_at", "id")
    )
    if is_plain_int(scorecard):
        tasks = tasks.filter(version__scorecard_id=int(scorecard))
    if channel:
        tasks = tasks.filter(conversation__channel__code=channel)
    if is_plain_int(team):
        tasks = tasks.filter(conversation__team_id=int(team))
    if risk == "risky":
        tasks = tasks.exclude(risks=[])
    elif risk:
        tasks = tasks.filter(risks__contains=[risk])
    if reason in ReviewTask.Reason.values:
        tasks = tasks.filter(reason=reason)
    now = timezone.now()
    if due == "overdue":
        tasks = tasks.filter(due_at__lt=now)
    elif due == "today":
        end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59, microsecond=999999)
        tasks = tasks.filter(due_at__lte=end_of_today)
    elif due == "week":
        tasks = tasks.filter(due_at__lte=now + timedelta(days=7))
    return tasks


def queue_counts(user) -> dict[str, int]:
    counts = ReviewTask.objects.filter(assignee=user).aggregate(
        pending=Count("id", filter=Q(state=ReviewTask.State.PENDING)),
        in_progress=Count("id", filter=Q(state=ReviewTask.State.IN_PROGRESS)),
        risky=Count("id", filter=Q(state__in=OPEN_TASK_STATES) & ~Q(risks=[])),
        submitted=Count("id", filter=Q(state=ReviewTask.State.SUBMITTED)),
    )
    return counts


def most_urgent_task(user) -> ReviewTask | None:
    """What "start next" opens: a task already in progress, else the earliest due (risky first on ties)."""
    tasks = ReviewTask.objects.filter(assignee=user, state__in=OPEN_TASK_STATES)
    return (
        tasks.filter(state=ReviewTask.State.IN_PROGRESS).order_by("due_at", "id").first()
        or tasks.order_by("due_at", "-risks", "id").first()
    )


# --- the review page -------------------------------------------------------------------------------


def own_task(user, pk: int) -> ReviewTask | None:
    """A review task of this reviewer's queue (anyone else's does not exist for them), with what its page shows."""
    return (
        ReviewTask.objects.select_related(
            "conversation__channel", "conversation__team", "conversation__served_by", "version__scorecard"
        )
        .filter(pk=pk, assignee=user)
        .first()
    )


def review_of_task(task: ReviewTask) -> Review | None:
    """The review a task's reviewer started, or None before its first opening."""
    try:
        return task.review
    except Review.DoesNotExist:
        return None


def own_review(user, pk: int) -> Review | None:
    """A review this person writes (a draft or submitted); anyone else's does not exist for them."""
    return Review.objects.filter(pk=pk, reviewer=user).first()


def transcript_and_findings(conversation: Conversation, version: ScorecardVersion) -> tuple[list[Line], list[Finding]]:
    """The conversation's messages as the page shows them, and the machine's findings for this version."""
    findings = list(Finding.objects.filter(conversation=conversation, score__version=version).select_related("rule"))
    rows = (
        Message.objects.filter(conversation=conversation)
        .only("id", "role", "sender", "sent_at", "text", "conversation_id")
        .order_by("sent_at", "id")
    )
    return transcript(list(rows), findings, conversation.handoff_at), findings


def findings_by_rule(findings: list[Finding]) -> list[dict]:
    """Findings per rule, the most severe rule first, in message order within a rule."""
    groups: dict[int, dict] = {}
    for finding in sorted(findings, key=lambda f: (f.message_id or 0, f.pk)):
        group = groups.setdefault(finding.rule_id, {"rule": finding.rule, "severity": finding.severity, "findings": []})
        group["findings"].append(finding)
    return sorted(groups.values(), key=lambda g: (SEVERITY_ORDER.get(g["severity"], 9), g["rule"].name))


@dataclass
class ScorecardForm:
    """A scorecard version's criteria as the review page lays them out."""

    sections: list[tuple[Section, list[Criterion]]]  # in order, each with its criteria in order
    rule_criteria: dict[int, list[int]]  # rule id → the criteria it decides


def scorecard_form(version: ScorecardVersion) -> ScorecardForm:
    criteria = list(
        Criterion.objects.filter(version=version)
        .select_related("section", "rule")
        .order_by("section__position", "section_id", "position", "id")
    )
    sections: list[tuple[Section, list[Criterion]]] = []
    rule_criteria: dict[int, list[int]] = {}
    for criterion in criteria:
        if not sections or sections[-1][0].pk != criterion.section_id:
            sections.append((criterion.section, []))
        sections[-1][1].append(criterion)
        if criterion.rule_id:
            rule_criteria.setdefault(criterion.rule_id, []).append(criterion.id)
    return ScorecardForm(sections, rule_criteria)


# --- submitted reviews and disputes -------------------------------------------------------------------


def submitted_review(pk: int) -> Review | None:
    """A submitted review with what its page shows (who may read it is ``access.may_read_submitted_review``)."""
    return (
        Review.objects.select_related("conversation__channel", "conversation__served_by", "version", "reviewer")
        .filter(pk=pk, status=Review.Status.SUBMITTED)
        .first()
    )


def review_criteria(review: Review) -> list[Criterion]:
    """The criteria of the review's scorecard version, in the scorecard's order."""
    return list(review.version.criteria.select_related("section").order_by("section__position", "position", "id"))


def review_disputes(review: Review) -> dict[int, Dispute]:
    """The review's disputes by criterion id (one per criterion at most)."""
    return {d.criterion_id: d for d in review.disputes.select_related("decided_by", "raised_by", "criterion")}


def review_revisions(review: Review) -> QuerySet[ReviewRevision]:
    """Every change of the review's outcomes, oldest first, with who made it (read when shown)."""
    return review.revisions.select_related("by")


def find_review(pk: int) -> Review | None:
    return Review.objects.filter(pk=pk).first()


def find_criterion(pk: int) -> Criterion | None:
    return Criterion.objects.filter(pk=pk).first()


def find_dispute(pk: int) -> Dispute | None:
    return Dispute.objects.filter(pk=pk).first()


# --- the lists of reviews ------------------------------------------------------------------------------


def agent_reviews(user) -> QuerySet[Review]:
    """Submitted reviews of the conversations this agent served (calibration reviews are not theirs)."""
    return (
        Review.objects.filter(
            conversation__served_by__user=user, status=Review.Status.SUBMITTED, calibration_item__isnull=True
        )
        .select_related("conversation__channel", "version__scorecard", "reviewer")
        .annotate(open_disputes=Count("disputes", filter=Q(disputes__status=Dispute.Status.OPEN)))
        .order_by("-submitted_at")
    )


def reviews_submitted_by(user) -> QuerySet[Review]:
    """The reviews this reviewer submitted (calibration ones are in their sessions), newest first."""
    return (
        Review.objects.filter(reviewer=user, status=Review.Status.SUBMITTED, calibration_item__isnull=True)
        .select_related("conversation__channel", "conversation__served_by", "version__scorecard")
        .annotate(open_disputes=Count("disputes", filter=Q(disputes__status=Dispute.Status.OPEN)))
        .order_by("-submitted_at", "-id")
    )
