"""Who reviews what: new tasks go to a plan's reviewers round-robin or to the least loaded, never to the
agent who served the conversation; then the life of a task (pending → in progress → submitted →
(disputed → resolved) → closed, or skipped with a reason), every change recorded."""

from __future__ import annotations

import heapq

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.errors import Conflict
from apps.qa.models import ReviewTask, ReviewTaskEvent, SamplingPlan

OPEN_STATES = (ReviewTask.State.PENDING, ReviewTask.State.IN_PROGRESS)

TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "start": {ReviewTask.State.PENDING: (ReviewTask.State.IN_PROGRESS,)},
    "submit": {ReviewTask.State.IN_PROGRESS: (ReviewTask.State.SUBMITTED,)},
    "dispute": {ReviewTask.State.SUBMITTED: (ReviewTask.State.DISPUTED,)},
    "resolve": {ReviewTask.State.DISPUTED: (ReviewTask.State.RESOLVED,)},
    "close": {
        ReviewTask.State.SUBMITTED: (ReviewTask.State.CLOSED,),
        ReviewTask.State.RESOLVED: (ReviewTask.State.CLOSED,),
    },
    "skip": {
        ReviewTask.State.PENDING: (ReviewTask.State.SKIPPED,),
        ReviewTask.State.IN_PROGRESS: (ReviewTask.State.SKIPPED,),
    },
}


ACTION_LABELS = {
    "start": gettext_lazy("started"),
    "submit": gettext_lazy("submitted"),
    "dispute": gettext_lazy("disputed"),
    "resolve": gettext_lazy("resolved"),
    "close": gettext_lazy("closed"),
    "skip": gettext_lazy("skipped"),
}


class TaskError(Conflict):
    """A move the task does not allow: its state forbids it, a skip gives no reason, or the person would
    review a conversation they served."""


def tasks_assign(plan: SamplingPlan, task_ids: list[int]) -> int:
    """Assign these (new, unassigned) tasks among the plan's active reviewers; returns how many were
    assigned. A task whose only possible reviewer served the conversation stays unassigned."""
    reviewers = list(plan.reviewers.filter(is_active=True).order_by("id").values_list("id", flat=True))
    if not reviewers or not task_ids:
        return 0
    with connection.cursor() as cursor:
        # The user behind the agent who served each conversation: that user never reviews it.
        cursor.execute(
            """
            SELECT t.id, a.user_id FROM qa_reviewtask t
            JOIN conversations_conversation c ON c.id = t.conversation_id
            LEFT JOIN conversations_agent a ON a.id = c.served_by_id
            WHERE t.id = ANY(%s) ORDER BY t.id
            """,
            [task_ids],
        )
        tasks = cursor.fetchall()
    if plan.assignment == SamplingPlan.Assignment.ROUND_ROBIN:
        chosen = _round_robin(tasks, reviewers, start=ReviewTask.objects.filter(run__plan=plan).count())
    else:
        chosen = _least_loaded(tasks, reviewers)
    pairs = [(task_id, user_id) for task_id, user_id in chosen.items() if user_id is not None]
    if pairs:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE qa_reviewtask t SET assignee_id = p.user_id, updated_at = now() "
                "FROM unnest(%s::bigint[], %s::int[]) AS p(task_id, user_id) WHERE t.id = p.task_id",
                [[p[0] for p in pairs], [p[1] for p in pairs]],
            )
    return len(pairs)


def _round_robin(tasks, reviewers: list[int], start: int) -> dict[int, int | None]:
    chosen: dict[int, int | None] = {}
    turn = start
    for task_id, served_by_user in tasks:
        for attempt in range(len(reviewers)):
            candidate = reviewers[(turn + attempt) % len(reviewers)]
            if candidate != served_by_user:
                chosen[task_id] = candidate
                turn += attempt + 1
                break
        else:
            chosen[task_id] = None
    return chosen


def _least_loaded(tasks, reviewers: list[int]) -> dict[int, int | None]:
    loads = dict(
        ReviewTask.objects.filter(assignee_id__in=reviewers, state__in=OPEN_STATES)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
    )
    heap = [(loads.get(r, 0), r) for r in reviewers]
    heapq.heapify(heap)
    chosen: dict[int, int | None] = {}
    for task_id, served_by_user in tasks:
        skipped = []
        while heap and heap[0][1] == served_by_user:
            skipped.append(heapq.heappop(heap))
        if heap:
            load, reviewer = heapq.heappop(heap)
            chosen[task_id] = reviewer
            heapq.heappush(heap, (load + 1, reviewer))
        else:
            chosen[task_id] = None
        for item in skipped:
            heapq.heappush(heap, item)
    return chosen


# --- the life of a task ------------------------------------------------------------------------


@transaction.atomic
def task_transition(task: ReviewTask, action: str, *, actor, note: str = "") -> ReviewTask:
    """Move a task along (start, submit, dispute, resolve, close, skip); a move that its state does not
    allow is refused with a message saying so. Doing the same move twice is refused, not repeated."""
    task = ReviewTask.objects.select_for_update().get(pk=task.pk)
    allowed = TRANSITIONS.get(action, {}).get(task.state)
    if not allowed:
        raise TaskError(
            _("A task that is “%(state)s” cannot be %(action)s.")
            % {"state": task.get_state_display(), "action": ACTION_LABELS.get(action, action)}
        )
    if action == "skip" and not note.strip():
        raise TaskError(_("Say why the task is skipped."))
    before = task.state
    task.state = allowed[0]
    if action == "skip":
        task.skip_reason = note.strip()[:200]
    task.save(update_fields=["state", "skip_reason", "updated_at"])
    ReviewTaskEvent.objects.create(
        task=task, actor=actor, action=action, from_state=before, to_state=task.state, note=note[:200]
    )
    return task


@transaction.atomic
def task_reassign(task: ReviewTask, *, to_user, actor, note: str = "") -> ReviewTask:
    """Give an open task to someone else (never to the agent who served the conversation)."""
    task = ReviewTask.objects.select_for_update(of=("self",)).select_related("conversation__served_by").get(pk=task.pk)
    task_reassign_check(task, to_user=to_user)
    before = task.assignee_id
    task.assignee = to_user
    task.save(update_fields=["assignee", "updated_at"])
    ReviewTaskEvent.objects.create(
        task=task,
        actor=actor,
        action="reassign",
        from_state=task.state,
        to_state=task.state,
        note=(note or f"{before or '—'} → {to_user.pk}")[:200],
    )
    return task


def task_reassign_check(task: ReviewTask, *, to_user) -> None:
    """Refuse, with a :class:`TaskError` on the ``assignee`` field, giving ``task`` to ``to_user``: the
    admin's form asks before saving, and :func:`task_reassign` again under the lock."""
    if task.state not in OPEN_STATES:
        problem = _("Only pending or in-progress tasks can be reassigned.")
    elif task.state == ReviewTask.State.IN_PROGRESS and task.assignee_id != to_user.pk:
        # A started review holds its reviewer's scores and notes: it does not silently change hands.
        problem = _("The review of this task has started; its reviewer submits or releases it first.")
    elif task.conversation.served_by is not None and task.conversation.served_by.user_id == to_user.pk:
        problem = _("Nobody reviews a conversation they served.")
    else:
        return
    raise TaskError(problem, field_errors={"assignee": [problem]})


def queue_progress():
    """Per reviewer: tasks by state, and how many are overdue (the admin's view of the queues)."""
    from django.utils import timezone

    now = timezone.now()
    return (
        ReviewTask.objects.values("assignee__username")
        .annotate(
            pending=Count("id", filter=Q(state=ReviewTask.State.PENDING)),
            in_progress=Count("id", filter=Q(state=ReviewTask.State.IN_PROGRESS)),
            submitted=Count("id", filter=Q(state=ReviewTask.State.SUBMITTED)),
            closed=Count("id", filter=Q(state=ReviewTask.State.CLOSED)),
            overdue=Count("id", filter=Q(state__in=OPEN_STATES, due_at__lt=now)),
        )
        .order_by("assignee__username")
    )
