"""Writing reviews: drafts saved as the reviewer works, one submission however many clicks, disputes and
their rulings with the score recomputed and every change kept, calibration sessions (their reports are
read in ``selectors.calibration``)."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts import roles
from apps.conversations.models import Conversation
from apps.core.errors import Conflict, PermissionRefused, ValidationFailed
from apps.core.masking import mask_text
from apps.core.params import is_plain_int
from apps.qa.models import AutoScore, Criterion, Finding, ReviewTask, ScorecardVersion
from apps.qa.scorecard_maths import NA, OUTCOMES, PASS, Line, score
from apps.qa.services.assignment import task_transition
from apps.reviews.models import CalibrationItem, CalibrationSession, Dispute, Review, ReviewRevision
from apps.reviews.selectors.access import may_rule_on, scope_conversations

MAX_SECONDS_PER_SAVE = 120  # the browser reports active time in small increments; more is not believed
VERDICTS = ("confirmed", "overturned")

# Revision reasons are stored in a fixed form and shown in the reader's language (revision_reason_label).
SUBMITTED = "submitted"
_OVERTURNED = re.compile(r"^dispute (?P<dispute>\d+) overturned: (?P<criterion>.*)$", re.S)


def overturned_reason(dispute_pk: int, criterion: str) -> str:
    return f"dispute {dispute_pk} overturned: {criterion}"[:200]


def revision_reason_label(reason: str) -> str:
    if reason == SUBMITTED:
        return _("submitted")
    if match := _OVERTURNED.match(reason):
        return _("dispute %(dispute)s upheld the agent: “%(criterion)s” changed") % {
            "dispute": match["dispute"],
            "criterion": match["criterion"],
        }
    return reason


class ReviewError(ValidationFailed):
    """A review, dispute or calibration session refused as sent; ``field_errors`` says where, field by field."""


class ReviewConflict(Conflict):
    """The task, review or dispute is no longer in a state that allows this (already submitted, ruled on…)."""


def version_lines(version: ScorecardVersion) -> list[Line]:
    return [Line(c.id, c.kind, c.points, c.fatal, c.allow_na) for c in version.criteria.all()]


def prefilled_outcomes(conversation: Conversation, version: ScorecardVersion) -> dict[str, str]:
    """The machine's outcomes of automatic and assisted criteria, for the reviewer to confirm or change;
    and N/A for criteria only meant for a human's service when the bot handled the conversation alone."""
    prefilled: dict[str, str] = {}
    if conversation.agent_message_count == 0:
        for criterion_id in version.criteria.filter(human_only=True, allow_na=True).values_list("id", flat=True):
            prefilled[str(criterion_id)] = NA
    auto = AutoScore.objects.filter(conversation=conversation, version=version).first()
    if auto is not None:
        modes = dict(version.criteria.values_list("id", "mode"))
        prefilled.update({k: v for k, v in auto.outcomes.items() if modes.get(int(k)) in ("automatic", "assisted")})
    return prefilled


# --- tasks and drafts ------------------------------------------------------------------------------


@transaction.atomic
def review_open_task(task: ReviewTask, user) -> Review:
    """The review of a task of mine: the draft (created pre-filled on first open; the task starts)."""
    task = ReviewTask.objects.select_for_update().get(pk=task.pk)
    if task.assignee_id != user.pk:
        raise PermissionRefused(_("This task is not in your queue."))
    review = Review.objects.filter(task=task).first()
    if review is not None:
        return review
    if task.state == ReviewTask.State.PENDING:
        task_transition(task, "start", actor=user)
    elif task.state != ReviewTask.State.IN_PROGRESS:
        raise ReviewConflict(_("This task is %(state)s.") % {"state": task.get_state_display()})
    return Review.objects.create(
        task=task,
        conversation_id=task.conversation_id,
        version_id=task.version_id,
        reviewer=user,
        outcomes=prefilled_outcomes(task.conversation, task.version),
    )


MAX_NOTES = 1000
MAX_NOTE_LENGTH = 2000  # a note on a criterion or a message
MAX_COMMENT_LENGTH = 5000
MAX_REASON_LENGTH = 2000  # a dispute's reason, a ruling's note
MAX_NAME_LENGTH = 200  # a calibration session's name (the column's length)


def _text_problem(text: str, limit: int) -> str | None:
    """Why a text a person typed cannot be stored as it is, or None."""
    if "\x00" in text:  # PostgreSQL's text and jsonb cannot hold it
        return _("Remove the NUL character: it cannot be stored.")
    if len(text) > limit:
        return _("At most %(n)s characters; this has %(length)s.") % {"n": f"{limit:,}", "length": f"{len(text):,}"}
    return None


def _check(review: Review, data: dict) -> dict:
    """The draft fields from a browser's JSON, checked; every problem by field."""
    criteria = {str(c.id): c for c in review.version.criteria.all()}
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    outcomes = data.get("outcomes", review.outcomes)
    if not isinstance(outcomes, dict):
        errors["outcomes"] = [_("An object of criterion → pass / fail / na.")]
        outcomes = {}
    for key, value in outcomes.items():
        criterion = criteria.get(str(key))
        if criterion is None:
            errors[f"outcomes.{key}"] = [_("Not a criterion of this scorecard.")]
        elif value not in OUTCOMES:
            errors[f"outcomes.{key}"] = [_("One of: pass, fail, na.")]
        elif value == NA and not criterion.allow_na:
            errors[f"outcomes.{key}"] = [_("“%(c)s” cannot be N/A.") % {"c": criterion.title}]
    clean["outcomes"] = {str(k): v for k, v in outcomes.items()}
    verdicts = data.get("finding_verdicts", review.finding_verdicts)
    if not isinstance(verdicts, dict) or any(v not in VERDICTS for v in verdicts.values()):
        errors["finding_verdicts"] = [_("An object of finding → confirmed / overturned.")]
        verdicts = {}
    elif verdicts:
        known = set(
            Finding.objects.filter(
                conversation_id=review.conversation_id, pk__in=[int(k) for k in verdicts if is_plain_int(k)]
            ).values_list("pk", flat=True)
        )
        unknown = [k for k in verdicts if not is_plain_int(k) or int(k) not in known]
        if unknown:
            errors["finding_verdicts"] = [
                _("Not findings of this conversation: %(v)s.") % {"v": ", ".join(map(str, unknown))}
            ]
    clean["finding_verdicts"] = {str(k): v for k, v in verdicts.items()}
    for name in ("criterion_notes", "message_notes"):
        notes = data.get(name, getattr(review, name))
        if (
            not isinstance(notes, dict)
            or not all(is_plain_int(k) for k in notes)  # criterion or message ids
            or not all(isinstance(v, str) for v in notes.values())
        ):
            errors[name] = [_("An object of id → text (at most 2,000 characters).")]
            notes = {}
        elif len(notes) > MAX_NOTES:  # one per criterion or message at most; a draft is not a dump
            errors[name] = [_("At most %(n)s notes.") % {"n": MAX_NOTES}]
            notes = {}
        else:
            # Each note's problem on that note ("criterion_notes.<id>"): the page shows it under the box.
            problems = {k: p for k, v in notes.items() if (p := _text_problem(v, MAX_NOTE_LENGTH))}
            errors.update({f"{name}.{k}": [p] for k, p in problems.items()})
            if problems:
                notes = {}
        clean[name] = {str(k): mask_text(v) for k, v in notes.items() if v.strip()}
    comment = data.get("comment", review.comment)
    if not isinstance(comment, str):
        errors["comment"] = [_("Text of at most 5,000 characters.")]
        comment = ""
    elif problem := _text_problem(comment, MAX_COMMENT_LENGTH):
        errors["comment"] = [problem]
        comment = ""
    clean["comment"] = mask_text(comment)
    seconds = data.get("active_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) or seconds < 0:
        errors["active_seconds"] = [_("A number of seconds.")]
        seconds = 0
    clean["active_seconds"] = min(int(seconds), MAX_SECONDS_PER_SAVE)
    if errors:
        raise ReviewError(_("The draft was not saved."), field_errors=errors)
    return clean


def _apply(review: Review, clean: dict) -> None:
    review.outcomes, review.finding_verdicts = clean["outcomes"], clean["finding_verdicts"]
    review.criterion_notes, review.message_notes = clean["criterion_notes"], clean["message_notes"]
    review.comment = clean["comment"]
    review.seconds_spent += clean["active_seconds"]


def _rescore(review: Review) -> None:
    result = score(version_lines(review.version), {int(k): v for k, v in review.outcomes.items()})
    review.score, review.fatal = result.score, result.fatal


@transaction.atomic
def review_save_draft(review: Review, user, data: dict) -> Review:
    """Save what the reviewer has so far (autosave); returns the review with its live score."""
    review = Review.objects.select_for_update().select_related("version").get(pk=review.pk)
    if review.reviewer_id != user.pk:
        raise PermissionRefused(_("This is not your review."))
    if review.status == Review.Status.SUBMITTED:
        raise ReviewConflict(_("This review is already submitted."))
    _apply(review, _check(review, data))
    _rescore(review)
    review.save()
    return review


@transaction.atomic
def review_submit(review: Review, user, data: dict | None = None) -> Review:
    """Submit once: a second submission (a double click, a retry) returns the same review unchanged."""
    review = Review.objects.select_for_update(of=("self",)).select_related("version", "task").get(pk=review.pk)
    if review.reviewer_id != user.pk:
        raise PermissionRefused(_("This is not your review."))
    if review.status == Review.Status.SUBMITTED:
        return review
    if data:
        _apply(review, _check(review, data))
    missing = [c for c in review.version.criteria.all() if str(c.id) not in review.outcomes]
    if missing:
        # One error per criterion, keyed like the other outcome errors: the page marks each one in place.
        raise ReviewError(
            _("Score every criterion first: %(c)s.") % {"c": "、".join(c.title for c in missing)},
            field_errors={f"outcomes.{c.id}": [_("Score this criterion: pass, fail or N/A.")] for c in missing},
        )
    _rescore(review)
    review.status, review.submitted_at = Review.Status.SUBMITTED, timezone.now()
    review.save()
    ReviewRevision.objects.create(
        review=review, outcomes=review.outcomes, score=review.score, fatal=review.fatal, reason=SUBMITTED, by=user
    )
    if review.task is not None:
        task_transition(review.task, "submit", actor=user)
    return review


# --- disputes ----------------------------------------------------------------------------------------


@transaction.atomic
def dispute_raise(review: Review, criterion: Criterion, user, reason: str) -> Dispute:
    """An agent disputes one criterion of a review of their own conversation, within the window."""
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("conversation__served_by", "task")
        .get(pk=review.pk)
    )
    served_by = review.conversation.served_by
    if served_by is None or served_by.user_id != user.pk or review.calibration_item_id:
        raise PermissionRefused(_("Only the agent who served the conversation may dispute its review."))
    if review.status != Review.Status.SUBMITTED:
        raise ReviewConflict(_("Only a submitted review can be disputed."))
    deadline = review.submitted_at + timedelta(days=settings.REVIEW_DISPUTE_WINDOW_DAYS)
    if timezone.now() > deadline:
        raise ReviewError(_("The dispute window closed on %(d)s.") % {"d": f"{timezone.localtime(deadline):%Y-%m-%d}"})
    if criterion.version_id != review.version_id:
        raise ReviewError(_("Not a criterion of this review."))
    if not reason.strip():
        raise ReviewError(_("Say why."), field_errors={"reason": [_("This field is required.")]})
    if problem := _text_problem(reason, MAX_REASON_LENGTH):
        raise ReviewError(problem, field_errors={"reason": [problem]})
    reason = mask_text(reason)
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(review=review, criterion=criterion, raised_by=user, reason=reason.strip())
    except IntegrityError:
        raise ReviewConflict(_("This criterion is already disputed.")) from None
    if review.task is not None and review.task.state == ReviewTask.State.SUBMITTED:
        task_transition(review.task, "dispute", actor=user, note=f"{criterion.title}: {reason.strip()}"[:200])
    return dispute


@transaction.atomic
def dispute_rule(dispute: Dispute, user, *, overturn: bool, note: str, outcome: str = PASS) -> Dispute:
    """Uphold the reviewer, or overturn: the criterion takes ``outcome`` and the score is recomputed. The
    ruling is final; when no dispute of the review is left open, its task is resolved and closed."""
    dispute = Dispute.objects.select_for_update().select_related("review", "criterion").get(pk=dispute.pk)
    if dispute.status != Dispute.Status.OPEN:
        raise ReviewConflict(_("This dispute was already ruled on."))
    if not may_rule_on(user, dispute):
        raise PermissionRefused(_("You do not rule on this dispute."))
    if not note.strip():
        raise ReviewError(_("Explain the ruling."), field_errors={"note": [_("This field is required.")]})
    if problem := _text_problem(note, MAX_REASON_LENGTH):
        raise ReviewError(problem, field_errors={"note": [problem]})
    note = mask_text(note)
    if overturn and outcome not in OUTCOMES:
        raise ReviewError(_("One of: pass, fail, na."))
    review = Review.objects.select_for_update(of=("self",)).select_related("version", "task").get(pk=dispute.review_id)
    dispute.status = Dispute.Status.OVERTURNED if overturn else Dispute.Status.UPHELD
    dispute.decided_by, dispute.decision_note, dispute.decided_at = user, note.strip(), timezone.now()
    dispute.save()
    if overturn:
        review.outcomes = {**review.outcomes, str(dispute.criterion_id): outcome}
        _rescore(review)
        review.save()
        ReviewRevision.objects.create(
            review=review,
            outcomes=review.outcomes,
            score=review.score,
            fatal=review.fatal,
            reason=overturned_reason(dispute.pk, dispute.criterion.title),
            by=user,
        )
    task = review.task
    if task is not None and not review.disputes.filter(status=Dispute.Status.OPEN).exists():
        if task.state == ReviewTask.State.DISPUTED:
            task = task_transition(task, "resolve", actor=user, note=note.strip())
        if task.state == ReviewTask.State.RESOLVED:
            task_transition(task, "close", actor=user)
    return dispute


# --- calibration -------------------------------------------------------------------------------------


@transaction.atomic
def calibration_create(*, name: str, version: ScorecardVersion, conversations, reviewers, by) -> CalibrationSession:
    if not roles.is_qa_lead(by):
        raise PermissionRefused(_("Only QA leads create calibration sessions."))
    conversations, reviewers = list(conversations), list(reviewers)
    errors = {}
    if not name.strip():
        errors["name"] = [_("This field is required.")]
    elif problem := _text_problem(name.strip(), MAX_NAME_LENGTH):
        errors["name"] = [problem]
    if not conversations:
        errors["conversations"] = [_("Choose at least one conversation.")]
    visible = set(
        scope_conversations(by, Conversation.objects.filter(pk__in=[c.pk for c in conversations])).values_list(
            "pk", flat=True
        )
    )  # one query for the whole list, not one per conversation
    outside = [c.external_id for c in conversations if c.pk not in visible]
    if outside:
        errors["conversations"] = [
            _("Not conversations of the teams you lead: %(v)s.") % {"v": ", ".join(sorted(outside)[:10])}
        ]
    not_reviewers = [r.get_username() for r in reviewers if not roles.is_qa_reviewer(r)]
    served = {c.served_by.user_id for c in conversations if c.served_by_id and c.served_by.user_id}
    serving = [r.get_username() for r in reviewers if r.pk in served]
    if any(r.pk == by.pk for r in reviewers):
        errors["reviewers"] = [_("You score as the reference: choose other reviewers.")]
    elif not_reviewers:  # agents and other roles never score, even blind
        errors["reviewers"] = [_("Not QA reviewers: %(v)s.") % {"v": ", ".join(not_reviewers)}]
    elif serving:
        errors["reviewers"] = [_("They served one of these conversations: %(v)s.") % {"v": ", ".join(serving)}]
    elif not reviewers:
        # With the lead's reference, one reviewer already makes two coders for the agreement.
        errors["reviewers"] = [_("Choose at least one reviewer.")]
    if errors:
        raise ReviewError(_("The session was not created."), field_errors=errors)
    session = CalibrationSession.objects.create(name=name.strip(), version=version, created_by=by)
    session.reviewers.set(reviewers)
    CalibrationItem.objects.bulk_create([CalibrationItem(session=session, conversation=c) for c in conversations])
    return session


@transaction.atomic
def calibration_open_review(item: CalibrationItem, user) -> Review:
    """My blind review of a calibration conversation (the lead's is the reference)."""
    session = item.session
    reference = roles.is_qa_lead(user) and session.created_by_id == user.pk
    if not reference and not session.reviewers.filter(pk=user.pk).exists():
        raise PermissionRefused(_("You are not in this calibration session."))
    review, _created = Review.objects.get_or_create(
        calibration_item=item,
        reviewer=user,
        defaults={
            "conversation_id": item.conversation_id,
            "version_id": session.version_id,
            "is_reference": reference,
        },
    )
    return review
