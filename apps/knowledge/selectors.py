"""Reading knowledge: querysets shaped for each screen and API, with their prefetches."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from apps.knowledge.models import Article, ArticleVersion, Script, ScriptVersion, StaleFlag, VersionStatus


def _open_flags(item: str) -> Prefetch:
    """The item's open stale flags (with their release) as ``<item>.open_stale_flags``."""
    return Prefetch(
        f"{item}__stale_flags",
        queryset=StaleFlag.objects.filter(cleared_at__isnull=True).select_related("release").order_by("created_at"),
        to_attr="open_stale_flags",
    )


def _changed_since(item: str, since: datetime) -> Q:
    """What a syncing bot must fetch again: a new version, a new or cleared stale flag, a verification."""
    flags = StaleFlag.objects.filter(**{item: OuterRef(item)}).filter(
        Q(created_at__gte=since) | Q(cleared_at__gte=since)
    )
    return Q(published_at__gte=since) | Q(**{f"{item}__last_verified_at__gte": since}) | Q(Exists(flags))


def published_article_versions(
    *,
    product: str | None = None,
    feature: str | None = None,
    category: str | None = None,
    stale: bool | None = None,
    needs_verification: bool | None = None,
    updated_since: datetime | None = None,
) -> QuerySet[ArticleVersion]:
    """Published article versions with everything the read API shows, in three round trips per page."""
    qs = ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED)
    if product:
        qs = qs.filter(article__product__slug=product)
    if feature:
        qs = qs.filter(features__slug=feature)
    if category:
        qs = qs.filter(article__category__name=category)
    if stale is not None:
        open_flag = StaleFlag.objects.filter(article=OuterRef("article"), cleared_at__isnull=True)
        qs = qs.filter(Exists(open_flag)) if stale else qs.exclude(Exists(open_flag))
    if needs_verification is not None:
        qs = qs.filter(article__needs_verification=needs_verification)
    if updated_since:
        qs = qs.filter(_changed_since("article", updated_since))
    return (
        qs.select_related("article__product", "article__category")
        .prefetch_related(
            "similar_questions",
            "channel_answers",
            "features",
            _open_flags("article"),
        )
        .distinct()
        .order_by("article__external_id")
    )


def published_script_versions(
    *,
    product: str | None = None,
    feature: str | None = None,
    scenario: str | None = None,
    stale: bool | None = None,
    needs_verification: bool | None = None,
    updated_since: datetime | None = None,
    channel: str | None = None,
) -> QuerySet[ScriptVersion]:
    qs = ScriptVersion.objects.filter(status=VersionStatus.PUBLISHED)
    if product:
        qs = qs.filter(script__product__slug=product)
    if feature:
        qs = qs.filter(features__slug=feature)
    if scenario:
        qs = qs.filter(script__scenario__slug=scenario)
    if channel:
        # Scripts without channels apply everywhere.
        qs = qs.filter(channels__contains=[channel]) | qs.filter(channels=[])
    if stale is not None:
        open_flag = StaleFlag.objects.filter(script=OuterRef("script"), cleared_at__isnull=True)
        qs = qs.filter(Exists(open_flag)) if stale else qs.exclude(Exists(open_flag))
    if needs_verification is not None:
        qs = qs.filter(script__needs_verification=needs_verification)
    if updated_since:
        qs = qs.filter(_changed_since("script", updated_since))
    return (
        qs.select_related("script__product", "script__scenario")
        .prefetch_related(
            "features",
            _open_flags("script"),
        )
        .distinct()
        .order_by("script__external_id")
    )


def work_queue_counts(*, user) -> dict[str, int]:
    """What is waiting for people: the numbers on the admin home page."""
    counts: dict[str, int] = {}
    for name, model in (("article", Article), ("script", Script)):
        open_flags = StaleFlag.objects.filter(**{name: OuterRef("pk")}, cleared_at__isnull=True)
        items = model.objects.all()
        counts[f"{name}_stale"] = items.filter(Exists(open_flags)).count()
        counts[f"{name}_needs_verification"] = items.filter(needs_verification=True).count()
        counts[f"{name}_in_review"] = items.filter(versions__status=VersionStatus.IN_REVIEW).distinct().count()
        counts[f"{name}_mine_to_verify"] = (
            items.filter(verifier=user).filter(Q(needs_verification=True) | Exists(open_flags)).count()
        )
    return counts
