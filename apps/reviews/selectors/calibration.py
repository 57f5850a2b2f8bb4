"""The reads of calibration (校准): the sessions a person sees, the conversations a lead may pick, each
session's progress, and its report (how far the reviewers agree with each other and with the lead's reference)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.accounts import roles
from apps.conversations.models import Conversation
from apps.qa.models import ReviewTask, ScorecardVersion
from apps.reviews.models import CalibrationItem, CalibrationSession, Review
from apps.reviews.selectors.access import may_open_calibration_session, scope_conversations
from apps.reviews.selectors.workspace import OPEN_TASK_STATES

# --- sessions and the form that creates them ------------------------------------------------------------


def calibration_sessions(user) -> QuerySet[CalibrationSession]:
    sessions = CalibrationSession.objects.select_related("version__scorecard").annotate(
        conversation_count=Count("items", distinct=True)
    )
    if roles.is_qa_lead(user):
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


def published_versions() -> QuerySet[ScorecardVersion]:
    """The scorecard versions a session may score with (read when shown)."""
    return ScorecardVersion.objects.filter(status="published").select_related("scorecard")


def reviewer_choices(lead) -> QuerySet:
    """Who a lead may ask to score a session: QA reviewers and leads, not the lead (who scores the reference)."""
    return (
        get_user_model()
        .objects.filter(roles.holding_any_role(roles.QA_REVIEWER, roles.QA_LEAD))
        .exclude(pk=lead.pk)
        .distinct()
    )


def find_scorecard_version(pk: int) -> ScorecardVersion | None:
    return ScorecardVersion.objects.filter(pk=pk).first()


def conversations_by_external_id(external_ids: list[str]) -> list[Conversation]:
    """The conversations of these ids (with their agent); ids that match none are left out."""
    if not external_ids:
        return []
    return list(Conversation.objects.filter(external_id__in=external_ids).select_related("served_by"))


def users_by_pk(pks: list[int]) -> QuerySet:
    return get_user_model().objects.filter(pk__in=pks)


# --- a session -------------------------------------------------------------------------------------------


def session_for(user, pk: int) -> CalibrationSession | None:
    """A session this person may open (a lead any, a reviewer theirs), or None: to them it does not exist."""
    session = CalibrationSession.objects.select_related("version__scorecard").filter(pk=pk).first()
    if session is None or not may_open_calibration_session(user, session):
        return None
    return session


def session_item(session: CalibrationSession, item_pk: int) -> CalibrationItem | None:
    return CalibrationItem.objects.select_related("conversation").filter(pk=item_pk, session=session).first()


@dataclass
class SessionProgress:
    """Each conversation of a session with this person's review of it and how many reviewers submitted."""

    rows: list[dict]  # {"item", "mine": Review | None, "submitted": int}
    reviewer_count: int


def session_progress(session: CalibrationSession, user) -> SessionProgress:
    items = list(session.items.select_related("conversation__channel"))
    reviews = Review.objects.filter(calibration_item__session=session)
    mine = {r.calibration_item_id: r for r in reviews.filter(reviewer=user)}
    done: dict[int, int] = {}
    for item_id, status, is_reference in reviews.values_list("calibration_item_id", "status", "is_reference"):
        if status == Review.Status.SUBMITTED and not is_reference:
            done[item_id] = done.get(item_id, 0) + 1
    rows = [{"item": i, "mine": mine.get(i.pk), "submitted": done.get(i.pk, 0)} for i in items]
    return SessionProgress(rows, session.reviewers.count())


def session_history(session: CalibrationSession) -> list[tuple[CalibrationSession, float | None]]:
    """Every session of the same scorecard, oldest first, with its agreement (alpha): is calibration working?"""
    sessions = CalibrationSession.objects.filter(version__scorecard=session.version.scorecard).order_by("created_at")
    return [(s, calibration_report(s).alpha) for s in sessions]


# --- the report --------------------------------------------------------------------------------------------


@dataclass
class ReviewerDeviation:
    reviewer: str
    reviews: int
    mean_abs_score_deviation: float | None
    criterion_agreement: float | None  # share of criterion outcomes equal to the reference


@dataclass
class CalibrationReport:
    session: CalibrationSession
    alpha: float | None  # Krippendorff's alpha (nominal) across reviewers and the lead's reference
    criteria: list[tuple[str, float | None, int]] = field(default_factory=list)  # title, agreement, n
    reviewers: list[ReviewerDeviation] = field(default_factory=list)
    complete: bool = False


def krippendorff_alpha_nominal(units: list[list[str]]) -> float | None:
    """Krippendorff's alpha for nominal values; each unit is the values the coders gave it (units with
    fewer than two values are not pairable and are left out). None when there is no pairable variation
    to measure."""
    coincidences: Counter = Counter()
    for values in units:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for a in counts:
            for b in counts:
                pairs = counts[a] * (counts[b] - (1 if a == b else 0))
                if pairs:
                    coincidences[(a, b)] += pairs / (m - 1)
    totals: Counter = Counter()
    for (a, _b), weight in coincidences.items():
        totals[a] += weight
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(w for (a, b), w in coincidences.items() if a != b)
    expected = sum(totals[a] * totals[b] for a in totals for b in totals if a != b) / (n - 1)
    if expected == 0:
        return 1.0 if observed == 0 else None
    return 1 - observed / expected


def calibration_report(session: CalibrationSession) -> CalibrationReport:
    reviews = list(
        Review.objects.filter(calibration_item__session=session, status=Review.Status.SUBMITTED).select_related(
            "reviewer"
        )
    )
    criteria = list(session.version.criteria.order_by("section__position", "position", "id"))
    references = {r.calibration_item_id: r for r in reviews if r.is_reference}
    others = [r for r in reviews if not r.is_reference]
    units: list[list[str]] = []
    per_criterion: list[tuple[str, float | None, int]] = []
    for criterion in criteria:
        key = str(criterion.id)
        matches = total = 0
        by_item: dict[int, list[str]] = defaultdict(list)
        for reference in references.values():  # the lead scores too: a coder of the agreement
            if key in reference.outcomes:
                by_item[reference.calibration_item_id].append(reference.outcomes[key])
        for review in others:
            value = review.outcomes.get(key)
            if value is None:
                continue
            by_item[review.calibration_item_id].append(value)
            reference = references.get(review.calibration_item_id)
            if reference is not None and key in reference.outcomes:
                total += 1
                matches += value == reference.outcomes[key]
        units += list(by_item.values())
        per_criterion.append((criterion.title, matches / total if total else None, total))
    deviations = []
    by_reviewer: dict[str, list[Review]] = defaultdict(list)
    for review in others:
        by_reviewer[review.reviewer.get_username()].append(review)
    for name, items in sorted(by_reviewer.items()):
        diffs, agree, total = [], 0, 0
        for review in items:
            reference = references.get(review.calibration_item_id)
            if reference is None:
                continue
            diffs.append(abs(float(review.score or 0) - float(reference.score or 0)))
            for key, value in reference.outcomes.items():
                if key in review.outcomes:
                    total += 1
                    agree += review.outcomes[key] == value
        deviations.append(
            ReviewerDeviation(
                name, len(items), sum(diffs) / len(diffs) if diffs else None, agree / total if total else None
            )
        )
    expected_reviews = session.items.count() * session.reviewers.count()
    return CalibrationReport(
        session=session,
        alpha=krippendorff_alpha_nominal(units),
        criteria=per_criterion,
        reviewers=deviations,
        complete=len(others) >= expected_reviews and len(references) == session.items.count(),
    )
