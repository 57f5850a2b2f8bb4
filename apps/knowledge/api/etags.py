"""Content digests of the read API: one md5 the database computes over every row an article or script body
is made of, so that an unchanged page is recognised (and answered 304) without loading or serializing it.

Each published version contributes its whole row and the whole rows it is shown with: its item, product,
category or scenario, features, similar questions, channel answers, open stale flags and their releases. Whole
rows (``v::text``) on purpose: a column the body starts to show later is already covered, and a change to a
column it does not show only costs the client one needless 200. A body that starts to read another *table*
must add it here: ``tests/knowledge/api/test_polling.py`` pins the serializers' fields to make that visible.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from apps.catalog.models import Feature, Product, Release
from apps.knowledge.models import (
    Article,
    ArticleVersion,
    Category,
    ChannelAnswer,
    Script,
    ScriptScenario,
    ScriptVersion,
    SimilarQuestion,
    StaleFlag,
)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _features(version_model) -> str:
    field = version_model._meta.get_field("features")
    through = field.remote_field.through
    return (
        f"(SELECT string_agg(f::text, ',' ORDER BY f.id) FROM {_table(through)} vf"
        f" JOIN {_table(Feature)} f ON f.id = vf.{field.m2m_reverse_name()} WHERE vf.{field.m2m_column_name()} = v.id)"
    )


def _open_flags(item: str) -> str:
    return (
        f"(SELECT string_agg(ROW(sf, r)::text, ',' ORDER BY sf.id) FROM {_table(StaleFlag)} sf"
        f" JOIN {_table(Release)} r ON r.id = sf.release_id WHERE sf.{item}_id = i.id AND sf.cleared_at IS NULL)"
    )


def _version_rows(model) -> str:
    return f"(SELECT string_agg(x::text, ',' ORDER BY x.id) FROM {_table(model)} x WHERE x.version_id = v.id)"


def _digest_sql(*, version_model, item: str, item_model, shown_with: str, joins: str) -> str:
    return f"""
SELECT md5(string_agg(ROW(v, i, p, {shown_with}, {_features(version_model)}, {_open_flags(item)})::text,
                      E'\\n' ORDER BY page.ord))
FROM unnest(%s::bigint[]) WITH ORDINALITY AS page(id, ord)
JOIN {_table(version_model)} v ON v.id = page.id
JOIN {_table(item_model)} i ON i.id = v.{item}_id
JOIN {_table(Product)} p ON p.id = i.product_id
{joins}"""


def _article_sql() -> str:
    return _digest_sql(
        version_model=ArticleVersion,
        item="article",
        item_model=Article,
        shown_with=f"c, {_version_rows(SimilarQuestion)}, {_version_rows(ChannelAnswer)}",
        joins=f"LEFT JOIN {_table(Category)} c ON c.id = i.category_id",
    )


def _script_sql() -> str:
    return _digest_sql(
        version_model=ScriptVersion,
        item="script",
        item_model=Script,
        shown_with="s",
        joins=f"JOIN {_table(ScriptScenario)} s ON s.id = i.scenario_id",
    )


def _digest(sql: str, version_ids: Sequence[int]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(version_ids)])
        (digest,) = cursor.fetchone()
    return digest or "none"


def article_versions_digest(version_ids: Sequence[int]) -> str:
    """The digest of these published article versions as the API shows them, in this order."""
    return _digest(_article_sql(), version_ids)


def script_versions_digest(version_ids: Sequence[int]) -> str:
    """The digest of these published script versions as the API shows them, in this order."""
    return _digest(_script_sql(), version_ids)
