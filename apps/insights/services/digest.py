"""The weekly digest: editors get their stale and overdue items, QA leads their teams' scores and open
disputes. Sent at most once per person, kind and week, however often the task runs."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts import roles
from apps.insights.models import DigestSent
from apps.knowledge.models import Article, Script, StaleFlag
from apps.reviews.models import Dispute, Review


def week_of(moment=None) -> date:
    local = timezone.localdate(moment or timezone.now())
    return local - timedelta(days=local.weekday())


def _url(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def editor_items(user) -> list[str]:
    lines = []
    for model, name in ((Article, "article"), (Script, "script")):
        mine = model.objects.filter(Q(owner=user) | Q(verifier=user))
        stale = mine.filter(Exists(StaleFlag.objects.filter(**{name: OuterRef("pk")}, cleared_at__isnull=True)))
        for item in stale.order_by("external_id")[:50]:
            lines.append(
                _("stale: %(id)s %(url)s")
                % {"id": item.external_id, "url": _url(reverse(f"admin:knowledge_{name}_change", args=[item.pk]))}
            )
        for item in mine.filter(needs_verification=True).order_by("external_id")[:50]:
            lines.append(
                _("verification overdue: %(id)s %(url)s")
                % {"id": item.external_id, "url": _url(reverse(f"admin:knowledge_{name}_change", args=[item.pk]))}
            )
    return lines


def lead_lines(user, week: date) -> list[str]:
    start = timezone.make_aware(timezone.datetime.combine(week - timedelta(days=7), timezone.datetime.min.time()))
    end = start + timedelta(days=7)
    lines = []
    scores = (
        Review.objects.filter(
            status=Review.Status.SUBMITTED,
            calibration_item__isnull=True,
            submitted_at__gte=start,
            submitted_at__lt=end,
            conversation__team__leads=user,
        )
        .values("conversation__team__name")
        .annotate(n=Count("id"), average=Avg("score"))
        .order_by("conversation__team__name")
    )
    for row in scores:
        lines.append(
            _("%(team)s: %(n)s reviews last week, average score %(avg).1f")
            % {"team": row["conversation__team__name"], "n": row["n"], "avg": row["average"] or 0}
        )
    disputes = Dispute.objects.filter(status=Dispute.Status.OPEN, review__conversation__team__leads=user).count()
    if disputes:
        lines.append(_("%(n)s open disputes: %(url)s") % {"n": disputes, "url": _url(reverse("reviews:disputes"))})
    return lines


def _send_once(user, kind: str, week: date, subject: str, lines: list[str]) -> bool:
    if not lines or not user.email:
        return False
    try:
        with transaction.atomic():
            sent = DigestSent.objects.create(user=user, kind=kind, week=week)
    except IntegrityError:
        return False  # already sent this week
    try:
        send_mail(subject, "\n".join(lines) + "\n", None, [user.email])
    except Exception:
        sent.delete()  # not sent: a later run may try again
        raise
    return True


def weekly_digest_send(week: date | None = None) -> int:
    """Send this week's digests not sent yet; returns how many were sent."""
    week = week or week_of()
    users = get_user_model().objects.filter(is_active=True)
    sent = 0
    for user in users.filter(roles.holding_any_role(roles.KNOWLEDGE_EDITOR, roles.KNOWLEDGE_APPROVER)).distinct():
        sent += _send_once(user, "editor", week, _("KB Portal: your stale and overdue content"), editor_items(user))
    for user in users.filter(roles.holding_any_role(roles.QA_LEAD)).distinct():
        sent += _send_once(user, "qa_lead", week, _("KB Portal: your teams' QA week"), lead_lines(user, week))
    return sent
