"""Hybrid retrieval in one SQL round trip: lexical (tokens, GIN) and semantic (pgvector HNSW) branches,
fused with reciprocal rank fusion, filtered to what bots may see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection

from apps.answers.text import tsquery

BRANCH_DEPTH = 40  # candidates each branch contributes before fusion
RRF_K = 20

# Only published versions, inside their validity window, applicable to the product version, are
# joined in at the end: an entry of anything else can never come back, even if the index lags.
_SQL = """
WITH sem AS (
    SELECT e.article_id, e.version_id, e.embedding <=> %(vec)s::vector AS distance
    FROM answers_questionentry e
    WHERE (%(product)s::bigint IS NULL OR e.product_id = %(product)s)
    ORDER BY e.embedding <=> %(vec)s::vector
    LIMIT %(depth)s
), sem_best AS (
    SELECT article_id, version_id, 1 - min(distance) AS similarity,
           row_number() OVER (ORDER BY min(distance)) AS rank
    FROM sem GROUP BY article_id, version_id
), lex AS (
    SELECT e.article_id, e.version_id,
           max(ts_rank(array_to_tsvector(e.lexemes), %(tsq)s::tsquery, 1)) AS score
    FROM answers_questionentry e
    WHERE %(tsq)s <> '' AND array_to_tsvector(e.lexemes) @@ %(tsq)s::tsquery
      AND (%(product)s::bigint IS NULL OR e.product_id = %(product)s)
    GROUP BY e.article_id, e.version_id
    ORDER BY score DESC
    LIMIT %(depth)s
), lex_best AS (
    SELECT article_id, version_id, score, row_number() OVER (ORDER BY score DESC) AS rank FROM lex
), fused AS (
    SELECT COALESCE(s.article_id, l.article_id) AS article_id, COALESCE(s.version_id, l.version_id) AS version_id,
           (COALESCE(1.0 / (%(rrf_k)s + s.rank), 0) + COALESCE(1.0 / (%(rrf_k)s + l.rank), 0))::float8 AS rrf,
           s.similarity, s.rank AS sem_rank, l.score AS lex_score, l.rank AS lex_rank
    FROM sem_best s FULL OUTER JOIN lex_best l ON l.version_id = s.version_id
)
SELECT f.article_id, f.version_id, a.external_id, v.number, v.standard_question,
       COALESCE(ca.answer, v.answer) AS text, v.tags, f.rrf, f.similarity, f.sem_rank, f.lex_score, f.lex_rank
FROM fused f
JOIN knowledge_articleversion v ON v.id = f.version_id AND v.status = 'published'
JOIN knowledge_article a ON a.id = f.article_id
LEFT JOIN knowledge_channelanswer ca ON ca.version_id = v.id AND ca.channel = %(channel)s
WHERE (v.valid_from IS NULL OR v.valid_from <= now())
  AND (v.valid_until IS NULL OR v.valid_until > now())
  AND (%(pv)s::integer[] IS NULL OR v.min_product_version_key IS NULL OR v.min_product_version_key <= %(pv)s::integer[])
  AND (%(pv)s::integer[] IS NULL OR v.max_product_version_key IS NULL OR v.max_product_version_key >= %(pv)s::integer[])
ORDER BY f.rrf DESC, f.similarity DESC NULLS LAST
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Candidate:
    article_pk: int
    version_pk: int
    article_id: str  # external id
    version: int
    question: str
    text: str
    tags: list[str]
    rrf: float
    similarity: float | None
    sem_rank: int | None
    lex_score: float | None
    lex_rank: int | None


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vector.tolist()) + "]"


def retrieve(
    *,
    embedding: np.ndarray | None,
    tokens: list[str],
    product_pk: int | None,
    product_version_key: list[int] | None,
    channel: str,
    limit: int,
    use_lexical: bool = True,
    use_semantic: bool = True,
) -> list[Candidate]:
    """Best articles for the question, fused from both branches (either can be switched off for evaluation)."""
    params = {
        "vec": _vector_literal(embedding) if use_semantic and embedding is not None else None,
        "tsq": tsquery(tokens) if use_lexical else "",
        "product": product_pk,
        "pv": product_version_key,
        "channel": channel or "",
        "depth": BRANCH_DEPTH if use_semantic and embedding is not None else 0,
        "rrf_k": RRF_K,
        "limit": limit,
    }
    if params["vec"] is None:
        params["vec"] = "[" + ",".join(["0"] * 384) + "]"
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        rows = cursor.fetchall()
    return [Candidate(*row) for row in rows]
