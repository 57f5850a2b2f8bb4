"""Who may see what, and the reads the workspace pages make (each a fixed number of queries).

- QA reviewers: the conversations of their own review tasks and of the calibration sessions they are in.
- Agents: the reviews of the conversations they served, and nobody else's.
- QA leads: everything of the teams they lead.
- Administrators: everything.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.accounts import roles
from apps.conversations.models import Conversation
from apps.core.params import is_plain_int
from apps.qa.models import ReviewTask
from apps.reviews.models import CalibrationItem, CalibrationSession, Dispute, Review

OPEN_TASK_STATES = (ReviewTask.State.PENDING, ReviewTask.State.IN_PROGRESS)


def _groups(user) -> frozenset[str]:
    return roles.role_names(user)


def is_admin(user) -> bool:
    return user.is_superuser or roles.ADMINISTRATOR in _groups(user)


def is_lead(user) -> bool:
    return is_admin(user) or roles.QA_LEAD in _groups(user)


def is_reviewer(user) -> bool:
    return is_lead(user) or roles.QA_REVIEWER in _groups(user)


def is_agent(user) -> bool:
    return roles.AGENT in _groups(user)


def may_use_workspace(user) -> bool:
    return user.is_authenticated and (is_reviewer(user) or is_agent(user))


def conversation_visibility(user, prefix: str = "") -> Q | None:
    """Who may read which conversation, as a filter on a model reached through ``prefix`` (``""`` for
    conversations, ``"conversation__"`` for what belongs to one); ``None``: everything."""
    if is_admin(user):
        return None
    pk = OuterRef(f"{prefix}pk" if prefix else "pk")
    visible = Q(**{f"{prefix}served_by__user": user})
    if is_reviewer(user):
        visible |= Exists(ReviewTask.objects.filter(conversation=pk, assignee=user))
        visible |= Exists(CalibrationItem.objects.filter(conversation=pk, session__reviewers=user))
    if is_lead(user):
        visible |= Q(**{f"{prefix}team__leads": user})
    return visible


def visible_conversations(user) -> QuerySet[Conversation]:
    """The conversations this user may read in the workspace."""
    return scope_conversations(user, Conversation.objects.all())


def scope_conversations(user, queryset: QuerySet) -> QuerySet:
    visible = conversation_visibility(user)
    return queryset if visible is None else queryset.filter(visible).distinct()


def scope_conversation_parts(user, queryset: QuerySet) -> QuerySet:
    """Messages, scores, findings, review tasks: what belongs to a conversation is seen with it."""
    if is_admin(user):
        return queryset
    return queryset.filter(conversation__in=scope_conversations(user, Conversation.objects.all()).values("pk"))


def scope_reviews(user, queryset: QuerySet) -> QuerySet:
    """Reviews a person may read: their own; an agent's submitted reviews (not calibration ones); a lead's
    teams'. A calibration review stays blind: only its reviewer, and leads, read it."""
    if is_admin(user):
        return queryset
    visible = Q(reviewer=user) | Q(
        conversation__served_by__user=user, status=Review.Status.SUBMITTED, calibration_item__isnull=True
    )
    if is_lead(user):
        visible |= Q(conversation__team__leads=user)
    return queryset.filter(visible).distinct()


def scope_disputes(user, queryset: QuerySet) -> QuerySet:
    if is_admin(user):
        return queryset
    return queryset.filter(review__in=scope_reviews(user, Review.objects.all()).values("pk"))


def scope_calibration_sessions(user, queryset: QuerySet) -> QuerySet:
    if is_lead(user):
        return queryset
    return queryset.filter(reviewers=user).distinct()


def scope_review_tasks(user, queryset: QuerySet) -> QuerySet:
    """A reviewer's own tasks; a lead's teams' tasks."""
    if is_admin(user):
        return queryset
    visible = Q(assignee=user)
    if is_lead(user):
        visible |= Q(conversation__team__leads=user)
    return queryset.filter(visible).distinct()


def may_view_conversation(user, conversation: Conversation) -> bool:
    return visible_conversations(user).filter(pk=conversation.pk).exists()


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


def disputes_to_rule(user) -> QuerySet[Dispute]:
    """Open disputes this user rules on: a lead's teams' (or, when reviewers rule, their own reviews')."""
    from django.conf import settings

    disputes = Dispute.objects.filter(status=Dispute.Status.OPEN).select_related(
        "review__conversation__channel", "criterion", "raised_by", "review__reviewer"
    )
    if is_admin(user):
        return disputes
    if settings.REVIEW_DISPUTE_RESOLVER == "reviewer":
        return disputes.filter(review__reviewer=user)
    return disputes.filter(review__conversation__team__leads=user) if is_lead(user) else disputes.none()


def may_rule_on(user, dispute: Dispute) -> bool:
    return disputes_to_rule(user).filter(pk=dispute.pk).exists()


def calibration_sessions(user) -> QuerySet[CalibrationSession]:
    sessions = CalibrationSession.objects.select_related("version__scorecard").annotate(
        conversation_count=Count("items", distinct=True)
    )
    if is_lead(user):
        return sessions
    return sessions.filter(reviewers=user)


def calibration_candidates(user, *, query: str = "", queued_only: bool = True, limit: int = 20) -> list[dict]:
    """Conversations a lead may pick for a calibration session, newest first: by default those waiting in
    the review queue (an open task), otherwise any conversation that was sampled for review; ``query``
    matches the conversation id or the agent's code or name."""
    tasks = ReviewTask.objects.filter(conversation=OuterRef("pk"))
    if queued_only:
        tasks = tasks.filter(state__in=OPEN_TASK_STATES)
    conversations = scope_conversations(user, Conversation.objects.filter(Exists(tasks)))  # the lead's teams
    query = query.strip()
    if query:
        conversations = conversations.filter(
            Q(external_id__icontains=query) | Q(served_by__code__icontains=query) | Q(served_by__name__icontains=query)
        )
    rows = conversations.select_related("channel", "team", "served_by").order_by("-started_at", "-id")[:limit]
    return [
        {
            "id": c.external_id,
            "channel": c.channel.name if c.channel_id else "",
            "team": c.team.name if c.team_id else "",
            "agent": (c.served_by.name or c.served_by.code) if c.served_by_id else "",
            "started": timezone.localtime(c.started_at).strftime("%Y-%m-%d %H:%M") if c.started_at else "",
        }
        for c in rows
    ]
