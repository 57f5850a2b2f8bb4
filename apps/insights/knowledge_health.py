"""Knowledge health per product: what is stale or overdue (and for how long), what bots never use, what
readers find unhelpful, what customers ask that no article answers, and what each release did. Every
number comes with the admin list (filtered) where an editor acts on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from apps.answers.gaps import gap_groups
from apps.catalog.models import Product
from apps.core.sql import fetch_rows


def admin_url(name: str, **filters) -> str:
    url = reverse(f"admin:{name}")
    return f"{url}?{urlencode(filters)}" if filters else url


@dataclass
class ProductHealth:
    product: Product
    stale_articles: int = 0
    stale_scripts: int = 0
    oldest_stale_days: int | None = None
    overdue_articles: int = 0
    overdue_scripts: int = 0
    oldest_overdue_days: int | None = None
    unused_articles: int = 0
    links: dict[str, str] = field(default_factory=dict)


def product_health(*, unused_days: int = 30) -> list[ProductHealth]:
    now = timezone.now()
    products = {p.pk: ProductHealth(p) for p in Product.objects.order_by("name")}
    for product_id, articles, scripts, oldest in fetch_rows(
        """
        SELECT coalesce(a.product_id, s.product_id), count(DISTINCT f.article_id), count(DISTINCT f.script_id),
               extract(day FROM %(now)s - min(f.created_at))::int
        FROM knowledge_staleflag f
        LEFT JOIN knowledge_article a ON a.id = f.article_id
        LEFT JOIN knowledge_script s ON s.id = f.script_id
        WHERE f.cleared_at IS NULL GROUP BY 1
        """,
        {"now": now},
    ):
        if product_id in products:
            health = products[product_id]
            health.stale_articles, health.stale_scripts, health.oldest_stale_days = articles, scripts, oldest
    for product_id, articles, scripts, oldest in fetch_rows(
        """
        SELECT product_id, count(*) FILTER (WHERE kind = 'a'), count(*) FILTER (WHERE kind = 's'),
               max(extract(day FROM %(now)s - due))::int
        FROM (
            SELECT 'a' AS kind, product_id,
                   coalesce(last_verified_at, created_at) + verification_interval_days * interval '1 day' AS due
            FROM knowledge_article WHERE needs_verification
            UNION ALL
            SELECT 's', product_id,
                   coalesce(last_verified_at, created_at) + verification_interval_days * interval '1 day'
            FROM knowledge_script WHERE needs_verification
        ) overdue GROUP BY 1
        """,
        {"now": now},
    ):
        if product_id in products:
            health = products[product_id]
            health.overdue_articles, health.overdue_scripts = articles, scripts
            health.oldest_overdue_days = max(oldest or 0, 0)
    for product_id, unused in fetch_rows(
        """
        SELECT a.product_id, count(*)
        FROM knowledge_article a
        WHERE EXISTS (SELECT 1 FROM knowledge_articleversion v WHERE v.article_id = a.id AND v.status = 'published')
          AND NOT EXISTS (SELECT 1 FROM answers_answerquery q WHERE q.article_id = a.id AND q.created_at >= %(since)s)
        GROUP BY 1
        """,
        {"since": now - timedelta(days=unused_days)},
    ):
        if product_id in products:
            products[product_id].unused_articles = unused
    for health in products.values():
        pk = health.product.pk
        health.links = {
            "stale_articles": admin_url("knowledge_article_changelist", product__id__exact=pk, stale="yes"),
            "stale_scripts": admin_url("knowledge_script_changelist", product__id__exact=pk, stale="yes"),
            "overdue_articles": admin_url(
                "knowledge_article_changelist", product__id__exact=pk, needs_verification__exact=1
            ),
            "overdue_scripts": admin_url(
                "knowledge_script_changelist", product__id__exact=pk, needs_verification__exact=1
            ),
            "stale_flags": admin_url("knowledge_staleflag_changelist", release__product__id__exact=pk, open="yes"),
        }
    return list(products.values())


def least_helpful(*, days: int = 90, minimum_feedback: int = 3, limit: int = 10) -> list[dict]:
    rows = fetch_rows(
        """
        SELECT a.id, a.external_id, p.name, count(*) FILTER (WHERE q.helpful) AS helpful,
               count(*) FILTER (WHERE NOT q.helpful) AS unhelpful
        FROM answers_answerquery q
        JOIN knowledge_article a ON a.id = q.article_id
        JOIN catalog_product p ON p.id = a.product_id
        WHERE q.helpful IS NOT NULL AND q.created_at >= %(since)s
        GROUP BY a.id, a.external_id, p.name
        HAVING count(*) >= %(minimum)s
        ORDER BY count(*) FILTER (WHERE q.helpful)::float8 / count(*), count(*) DESC
        LIMIT %(limit)s
        """,
        {"since": timezone.now() - timedelta(days=days), "minimum": minimum_feedback, "limit": limit},
    )
    return [
        {
            "external_id": external_id,
            "product": product,
            "helpful": helpful,
            "unhelpful": unhelpful,
            "rate": 100.0 * helpful / (helpful + unhelpful),
            "link": reverse("admin:knowledge_article_change", args=[pk]),
        }
        for pk, external_id, product, helpful, unhelpful in rows
    ]


def unused_articles(*, days: int = 30, limit: int = 20) -> list[dict]:
    rows = fetch_rows(
        """
        SELECT a.id, a.external_id, p.name
        FROM knowledge_article a JOIN catalog_product p ON p.id = a.product_id
        WHERE EXISTS (SELECT 1 FROM knowledge_articleversion v WHERE v.article_id = a.id AND v.status = 'published')
          AND NOT EXISTS (SELECT 1 FROM answers_answerquery q WHERE q.article_id = a.id AND q.created_at >= %(since)s)
        ORDER BY p.name, a.external_id LIMIT %(limit)s
        """,
        {"since": timezone.now() - timedelta(days=days), "limit": limit},
    )
    return [
        {"external_id": e, "product": p, "link": reverse("admin:knowledge_article_change", args=[pk])}
        for pk, e, p in rows
    ]


def unanswered_topics(*, limit: int = 10) -> list[dict]:
    return [
        {
            "question": group.question,
            "count": group.count,
            "product": group.product.name if group.product else "",
            "link": admin_url("answers_knowledge_gaps"),
        }
        for group in gap_groups(limit=limit)
    ]


def release_effects(*, limit: int = 10) -> list[dict]:
    rows = fetch_rows(
        """
        SELECT r.id, p.name, r.version, r.released_at, count(f.id),
               count(f.id) FILTER (WHERE f.cleared_at IS NOT NULL), count(f.id) FILTER (WHERE f.cleared_at IS NULL)
        FROM catalog_release r
        JOIN catalog_product p ON p.id = r.product_id
        LEFT JOIN knowledge_staleflag f ON f.release_id = r.id
        GROUP BY r.id, p.name, r.version, r.released_at
        ORDER BY r.released_at DESC NULLS LAST LIMIT %(limit)s
        """,
        {"limit": limit},
    )
    return [
        {
            "product": product,
            "version": version,
            "released_at": released_at,
            "flagged": flagged,
            "fixed": fixed,
            "open": still_open,
            "link": admin_url("knowledge_staleflag_changelist", release__id__exact=pk, open="yes"),
        }
        for pk, product, version, released_at, flagged, fixed, still_open in rows
    ]
