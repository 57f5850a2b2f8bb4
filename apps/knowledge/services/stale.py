"""Keeping knowledge honest: stale flags from releases, and overdue verifications.

Both run as set-based SQL over the whole table: no per-row Python, safe to run twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.catalog.models import Release
from apps.core.errors import PermissionRefused
from apps.core.queueing import enqueue_on_commit
from apps.knowledge.models import ReleaseStaleCheck


@dataclass(frozen=True)
class StaleFlagging:
    release_id: int
    articles_flagged: int
    scripts_flagged: int


# One statement per kind and reason. ON CONFLICT makes a second run (a retried task, a release
# recorded twice) insert nothing: the unique constraints say one flag per item, release and reason.
_FLAG_CHANGED_FEATURES = """
INSERT INTO knowledge_staleflag ({item}_id, release_id, reason, features, created_at, cleared_because)
SELECT v.{item}_id, %(release)s, 'feature_changed', array_agg(DISTINCT f.slug ORDER BY f.slug), %(now)s, ''
FROM knowledge_{item}version v
JOIN knowledge_{item}version_features vf ON vf.{item}version_id = v.id
JOIN catalog_release_changed_features rf ON rf.feature_id = vf.feature_id AND rf.release_id = %(release)s
JOIN catalog_feature f ON f.id = vf.feature_id
WHERE v.status = 'published'
GROUP BY v.{item}_id
ON CONFLICT DO NOTHING
"""

_FLAG_RANGE_ENDED = """
INSERT INTO knowledge_staleflag ({item}_id, release_id, reason, features, created_at, cleared_because)
SELECT v.{item}_id, %(release)s, 'range_ended', '{{}}', %(now)s, ''
FROM knowledge_{item}version v
JOIN knowledge_{item} i ON i.id = v.{item}_id
WHERE v.status = 'published' AND i.product_id = %(product)s
  AND v.max_product_version_key IS NOT NULL AND v.max_product_version_key < %(version_key)s::integer[]
ON CONFLICT DO NOTHING
"""


@transaction.atomic
def release_flag_stale_content(*, release_id: int) -> StaleFlagging:
    """Flag the product's published articles and scripts that the release may have made wrong.

    Flagged: content linked to a feature the release changed (features belong to one product, so
    this stays within the product), and content whose applicable version range ends before it.
    """
    release = Release.objects.select_for_update().get(pk=release_id)
    params = {
        "release": release.pk,
        "product": release.product_id,
        "version_key": release.version_key,
        "now": timezone.now(),
    }
    counts = {}
    with connection.cursor() as cursor:
        for item in ("article", "script"):
            total = 0
            for statement in (_FLAG_CHANGED_FEATURES, _FLAG_RANGE_ENDED):
                cursor.execute(statement.format(item=item), params)
                total += cursor.rowcount
            counts[item] = total
    ReleaseStaleCheck.objects.update_or_create(release=release, defaults={"done_at": params["now"]})
    return StaleFlagging(release_id=release.pk, articles_flagged=counts["article"], scripts_flagged=counts["script"])


def stale_check_done(release: Release) -> bool:
    return ReleaseStaleCheck.objects.filter(release=release).exists()


def release_queue_stale_check(*, release: Release, by=None) -> None:
    """Queue the stale check of a release once the current transaction commits (at once outside one): the
    worker must see the release and its features. ``by``: who asks (``None``: the system)."""
    if by is not None and not (by.has_perm("catalog.change_release") or by.has_perm("catalog.add_release")):
        raise PermissionRefused(_("You may not run the stale check of a release."))
    enqueue_on_commit("knowledge.flag_stale_for_release", release.pk)


def on_release_recorded(sender, *, release: Release, again: bool = False, **kwargs) -> None:
    """``catalog.signals.release_recorded``: check a new or edited release; a retry that recorded the same
    release again is checked only if its first check never ran (the broker was away)."""
    if again and stale_check_done(release):
        return
    release_queue_stale_check(release=release)


def unchecked_releases(*, recorded_before) -> list[int]:
    """Releases recorded before this time whose stale check has not run."""
    return list(
        Release.objects.filter(stale_check__isnull=True, created_at__lt=recorded_before)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )


_MARK_OVERDUE = """
UPDATE knowledge_{item} i SET needs_verification = true, updated_at = %(now)s
FROM knowledge_{item}version v
WHERE v.{item}_id = i.id AND v.status = 'published' AND NOT i.needs_verification
  AND COALESCE(i.last_verified_at, v.published_at) + make_interval(days => i.verification_interval_days) <= %(now)s
"""


def verifications_mark_overdue(*, now=None) -> dict[str, int]:
    """Mark published items whose verification interval has passed as needing verification."""
    params = {"now": now or timezone.now()}
    marked = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for item in ("article", "script"):
            cursor.execute(_MARK_OVERDUE.format(item=item), params)
            marked[item] = cursor.rowcount
    return marked
