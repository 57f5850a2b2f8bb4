"""Who may see what in the reviews workspace, and in every other door to the same rows (the admin registers
these scopes). Who holds which role is asked of ``accounts.roles``.

- QA reviewers: the conversations of their own review tasks and of the calibration sessions they are in.
- Agents: the reviews of the conversations they served, and nobody else's.
- QA leads: everything of the teams they lead.
- Administrators: everything.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.accounts import roles
from apps.conversations.models import Conversation
from apps.qa.models import ReviewTask
from apps.reviews.models import CalibrationItem, CalibrationSession, Dispute, Review


def may_use_workspace(user) -> bool:
    """The door of /qa/: signed in, and a QA reviewer, QA lead, administrator or agent."""
    return user.is_authenticated and (roles.is_qa_reviewer(user) or roles.is_agent(user))


def conversation_visibility(user, prefix: str = "") -> Q | None:
    """Who may read which conversation, as a filter on a model reached through ``prefix`` (``""`` for
    conversations, ``"conversation__"`` for what belongs to one); ``None``: everything."""
    if roles.is_administrator(user):
        return None
    pk = OuterRef(f"{prefix}pk" if prefix else "pk")
    visible = Q(**{f"{prefix}served_by__user": user})
    if roles.is_qa_reviewer(user):
        visible |= Exists(ReviewTask.objects.filter(conversation=pk, assignee=user))
        visible |= Exists(CalibrationItem.objects.filter(conversation=pk, session__reviewers=user))
    if roles.is_qa_lead(user):
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
    if roles.is_administrator(user):
        return queryset
    return queryset.filter(conversation__in=scope_conversations(user, Conversation.objects.all()).values("pk"))


def scope_reviews(user, queryset: QuerySet) -> QuerySet:
    """Reviews a person may read: their own; an agent's submitted reviews (not calibration ones); a lead's
    teams'. A calibration review stays blind: only its reviewer, and leads, read it."""
    if roles.is_administrator(user):
        return queryset
    visible = Q(reviewer=user) | Q(
        conversation__served_by__user=user, status=Review.Status.SUBMITTED, calibration_item__isnull=True
    )
    if roles.is_qa_lead(user):
        visible |= Q(conversation__team__leads=user)
    return queryset.filter(visible).distinct()


def scope_disputes(user, queryset: QuerySet) -> QuerySet:
    if roles.is_administrator(user):
        return queryset
    return queryset.filter(review__in=scope_reviews(user, Review.objects.all()).values("pk"))


def scope_calibration_sessions(user, queryset: QuerySet) -> QuerySet:
    if roles.is_qa_lead(user):
        return queryset
    return queryset.filter(reviewers=user).distinct()


def scope_review_tasks(user, queryset: QuerySet) -> QuerySet:
    """A reviewer's own tasks; a lead's teams' tasks."""
    if roles.is_administrator(user):
        return queryset
    visible = Q(assignee=user)
    if roles.is_qa_lead(user):
        visible |= Q(conversation__team__leads=user)
    return queryset.filter(visible).distinct()


def may_view_conversation(user, conversation: Conversation) -> bool:
    return visible_conversations(user).filter(pk=conversation.pk).exists()


def served(user, conversation: Conversation) -> bool:
    """Whether this person is the agent who served the conversation (``served_by`` already loaded)."""
    return conversation.served_by is not None and conversation.served_by.user_id == user.pk


def may_read_submitted_review(user, review: Review) -> bool:
    """A submitted review's page: its conversation's agent and whoever reads the conversation; a calibration
    review stays blind, to leads only."""
    if review.calibration_item_id and not roles.is_qa_lead(user):
        return False
    return served(user, review.conversation) or may_view_conversation(user, review.conversation)


def may_open_calibration_session(user, session: CalibrationSession) -> bool:
    """Leads open every session; a reviewer the sessions they score in."""
    return roles.is_qa_lead(user) or session.reviewers.filter(pk=user.pk).exists()


def disputes_to_rule(user) -> QuerySet[Dispute]:
    """Open disputes this user rules on: a lead's teams' (or, when reviewers rule, their own reviews')."""
    disputes = Dispute.objects.filter(status=Dispute.Status.OPEN).select_related(
        "review__conversation__channel", "criterion", "raised_by", "review__reviewer"
    )
    if roles.is_administrator(user):
        return disputes
    if settings.REVIEW_DISPUTE_RESOLVER == "reviewer":
        return disputes.filter(review__reviewer=user)
    return disputes.filter(review__conversation__team__leads=user) if roles.is_qa_lead(user) else disputes.none()


def may_rule_on(user, dispute: Dispute) -> bool:
    return disputes_to_rule(user).filter(pk=dispute.pk).exists()
