"""Reading knowledge: querysets shaped for each screen and API, with their prefetches."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.knowledge.models import Article, ArticleVersion, Script, ScriptVersion, StaleFlag, VersionStatus


def _open_flags(item: str) -> Prefetch:
    """The item's open stale flags (with their release) as ``<item>.open_stale_flags``."""
    return Prefetch(
        f"{item}__stale_flags",
        queryset=StaleFlag.objects.filter(cleared_at__isnull=True).select_related("release").order_by("created_at"),
        to_attr="open_stale_flags",
    )


def _changed_since(item: str, since: datetime) -> Q:
    """What a syncing bot must fetch again: a new version, a new or cleared stale flag, a verification, or any
    other change to the item (``updated_at``: e.g. it became due for verification)."""
    flags = StaleFlag.objects.filter(**{item: OuterRef(item)}).filter(
        Q(created_at__gte=since) | Q(cleared_at__gte=since)
    )
    return (
        Q(published_at__gte=since)
        | Q(**{f"{item}__last_verified_at__gte": since})
        | Q(**{f"{item}__updated_at__gte": since})
        | Q(Exists(flags))
    )


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


# --- what a bot may see ------------------------------------------------------------------------------------
# One rule, owned here: a published version, inside its validity window, applicable to the product version
# the customer runs (when the bot says which). Answers' retrieval query uses the SQL form; the ORM and
# Python forms serve the choose endpoint and the editor's "bots see this version" badge.

_BOT_VISIBLE_SQL = """{v}.status = 'published'
      AND ({v}.valid_from IS NULL OR {v}.valid_from <= now())
      AND ({v}.valid_until IS NULL OR {v}.valid_until > now())
      AND (%({pv})s::integer[] IS NULL OR {v}.min_product_version_key IS NULL
           OR {v}.min_product_version_key <= %({pv})s::integer[])
      AND (%({pv})s::integer[] IS NULL OR {v}.max_product_version_key IS NULL
           OR {v}.max_product_version_key >= %({pv})s::integer[])"""


def bot_visible_version_sql(*, alias: str = "v", product_version_param: str = "pv") -> str:
    """The rule as a SQL condition on ``knowledge_articleversion``/``knowledge_scriptversion`` rows named
    ``alias``; ``%(<product_version_param>)s`` is the product version key (``integer[]``) or NULL."""
    return _BOT_VISIBLE_SQL.format(v=alias, pv=product_version_param)


def bot_visible_versions(
    versions: QuerySet, *, now: datetime | None = None, product_version_key: list[int] | None = None
) -> QuerySet:
    """The versions of ``versions`` a bot may see now."""
    now = now or timezone.now()
    visible = versions.filter(status=VersionStatus.PUBLISHED).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=now), Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )
    if product_version_key is not None:
        visible = visible.filter(
            Q(min_product_version_key__isnull=True) | Q(min_product_version_key__lte=product_version_key),
            Q(max_product_version_key__isnull=True) | Q(max_product_version_key__gte=product_version_key),
        )
    return visible


def is_bot_visible(version, *, now: datetime | None = None, product_version_key: list[int] | None = None) -> bool:
    """The same rule for one loaded version (no query)."""
    now = now or timezone.now()
    if version.status != VersionStatus.PUBLISHED:
        return False
    if (version.valid_from and version.valid_from > now) or (version.valid_until and version.valid_until <= now):
        return False
    if product_version_key is None:
        return True
    low, high = version.min_product_version_key, version.max_product_version_key
    return (low is None or low <= product_version_key) and (high is None or high >= product_version_key)
