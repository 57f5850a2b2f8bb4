"""Flagging a release that changes 20 features over 100,000 published articles.

Our path: ``release_flag_stale_content`` (two set-based INSERT … SELECT per kind). Baseline: the
naive loop a first implementation would write (each published version, its features in Python,
``get_or_create`` a flag), timed on a slice and reported per article. Both in the same run.
"""

from __future__ import annotations

import sys

from common import report, reset_knowledge, setup_django, timed

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
NAIVE_N = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
FEATURES = 200
CHANGED = 20


def build_corpus() -> None:
    """N published articles, each linked to two of 200 features, written with SQL (seconds, not minutes)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_product (slug, name, description, created_at) "
            "VALUES ('mall-app', '母婴商城 App', '', now())"
        )
        cursor.execute(
            "INSERT INTO catalog_feature (product_id, slug, name) "
            "SELECT 1, 'feature-' || g, '功能 ' || g FROM generate_series(1, %s) g",
            [FEATURES],
        )
        cursor.execute(
            "INSERT INTO knowledge_article (external_id, product_id, verification_interval_days, "
            "needs_verification, compliance_sensitive, created_at, updated_at) "
            "SELECT 'bench-' || g, 1, 90, false, false, now(), now() FROM generate_series(1, %s) g",
            [N],
        )
        cursor.execute(
            "INSERT INTO knowledge_articleversion (article_id, number, status, change_note, tags, "
            "min_product_version, max_product_version, max_product_version_key, content_hash, created_at, "
            "published_at, review_comment, standard_question, answer, answer_html, language) "
            "SELECT id, 1, 'published', '', '{}', '', "
            "CASE WHEN mod(id, 50) = 0 THEN '5.1.9' ELSE '' END, "
            "CASE WHEN mod(id, 50) = 0 THEN '{5,1,9,0,1}'::integer[] END, md5(id::text), now(), now(), '', "
            "'问题 ' || id, '答案 ' || id, '<p>答案</p>', 'zh-hans' FROM knowledge_article"
        )
        cursor.execute(
            "INSERT INTO knowledge_articleversion_features (articleversion_id, feature_id) "
            "SELECT id, 1 + mod(id * 7, %s) FROM knowledge_articleversion "
            "UNION SELECT id, 1 + mod(id * 13 + 5, %s) FROM knowledge_articleversion",
            [FEATURES, FEATURES],
        )
        cursor.execute("ANALYZE")


def naive_flag(release, limit: int) -> int:
    """One article at a time, in Python."""
    from apps.knowledge.models import ArticleVersion, StaleFlag

    changed = set(release.changed_features.values_list("pk", flat=True))
    flagged = 0
    versions = (
        ArticleVersion.objects.filter(status="published", article__product=release.product)
        .prefetch_related("features")
        .order_by("pk")[:limit]
    )
    for version in versions:
        hit = sorted(f.slug for f in version.features.all() if f.pk in changed)
        if hit:
            _, created = StaleFlag.objects.get_or_create(
                article_id=version.article_id, release=release, reason="feature_changed", defaults={"features": hit}
            )
            flagged += created
    return flagged


def main() -> None:
    setup_django()
    from django.db.models import Count

    from apps.catalog.models import Product
    from apps.catalog.services import release_record
    from apps.knowledge.models import StaleFlag
    from apps.knowledge.services.stale import release_flag_stale_content

    reset_knowledge()
    build_time, _ = timed(build_corpus)
    product = Product.objects.get(slug="mall-app")
    changed = [f"feature-{i}" for i in range(1, FEATURES + 1, FEATURES // CHANGED)][:CHANGED]
    ours_release = release_record(
        product=product, version="5.3.0", changed_feature_slugs=changed, announce=False
    ).release
    naive_release = release_record(
        product=product, version="5.4.0", changed_feature_slugs=changed, announce=False
    ).release

    ours, result = timed(lambda: release_flag_stale_content(release_id=ours_release.pk))
    again, result2 = timed(lambda: release_flag_stale_content(release_id=ours_release.pk))
    assert result2.articles_flagged == 0
    naive, naive_count = timed(lambda: naive_flag(naive_release, NAIVE_N))
    by_reason = dict(StaleFlag.objects.filter(release=ours_release).values_list("reason").annotate(n=Count("id")))

    ours_rate, naive_rate = N / ours, NAIVE_N / naive
    report(
        "stale_flagging",
        [
            f"corpus: {N} published articles x 2 of {FEATURES} features (built in {build_time:.1f} s); "
            f"release changes {CHANGED} features",
            f"set-based flagging:  {N:>7} articles in {ours:6.2f} s = {ours_rate:10.0f} articles/s, "
            f"{result.articles_flagged} flags ({by_reason.get('feature_changed', 0)} changed feature, "
            f"{by_reason.get('range_ended', 0)} version range ended)",
            f"same release again:  {N:>7} articles in {again:6.2f} s, {result2.articles_flagged} new flags (idempotent)",
            f"naive Python loop:   {NAIVE_N:>7} articles in {naive:6.2f} s = {naive_rate:10.0f} articles/s, "
            f"{naive_count} flags",
            f"ratio: set-based flagging is {ours_rate / naive_rate:.0f}x the naive loop",
        ],
        {
            "n": N,
            "changed_features": CHANGED,
            "seconds": ours,
            "flags": result.articles_flagged,
            "rerun_seconds": again,
            "naive_n": NAIVE_N,
            "naive_seconds": naive,
            "ratio": ours_rate / naive_rate,
        },
    )


if __name__ == "__main__":
    main()
