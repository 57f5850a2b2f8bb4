"""Hybrid retrieval in one SQL round trip: lexical (tokens, GIN) and semantic (pgvector HNSW) branches
nominate candidates, every candidate is scored by both, and the scores are fused; filtered to what bots may see."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import connection

from apps.knowledge.selectors import bot_visible_version_sql

BRANCH_DEPTH = 40  # entries each branch contributes to the candidate set
LEXICAL_NOMINATING_TOKENS = 3
LEXICAL_NOMINATING_MIN_CAP = 50  # a nominating token is in at most this many entries …
LEXICAL_NOMINATING_SHARE = 0.002  # … or this share of the index, whichever is larger
# fused = softmax(question similarities, SOFTMAX_TEMPERATURE) + LEXICAL_WEIGHT × lexical coverage
#         + ANSWER_WEIGHT × similarity to the answer passage; chosen on the dev split by `make eval`.
SOFTMAX_TEMPERATURE = 0.005
LEXICAL_WEIGHT = 0.06
ANSWER_WEIGHT = 0.3

_SQL = (
    """
WITH left_out AS (
    -- Entries asked as if absent (calibration only; none when answering): their tokens leave the counts.
    SELECT e.lexemes FROM answers_questionentry e
    WHERE e.id = %(exclude_entry)s::bigint OR e.article_id = %(exclude_article)s::bigint
), left_out_tokens AS (
    SELECT t.token, count(*) AS entries FROM left_out, unnest(left_out.lexemes) AS t(token) GROUP BY t.token
), total AS (
    SELECT COALESCE((SELECT entries FROM answers_tokenstat WHERE token = ''), 0)
           - (SELECT count(*) FROM left_out) AS entries
), query_tokens AS (
    -- IDF of each query token: rare tokens (纸尿裤, 价保) count far more than common ones (订单).
    SELECT t.token, ln(total.entries + 1.0) - ln(GREATEST(COALESCE(s.entries, 0) - COALESCE(x.entries, 0), 0) + 1.0)
               + 0.1 AS idf,
           GREATEST(COALESCE(s.entries, 0) - COALESCE(x.entries, 0), 0) AS entries
    FROM total, unnest(%(tokens)s::text[]) AS t(token) LEFT JOIN answers_tokenstat s ON s.token = t.token
    LEFT JOIN left_out_tokens x ON x.token = t.token
), query_words AS (
    -- The question's content words alone (tokens add bigrams): which concepts it names.
    SELECT w.word, ln(total.entries + 1.0) - ln(GREATEST(COALESCE(s.entries, 0) - COALESCE(x.entries, 0), 0) + 1.0)
               + 0.1 AS idf,
           GREATEST(COALESCE(s.entries, 0) - COALESCE(x.entries, 0), 0) AS entries
    FROM total, unnest(%(words)s::text[]) AS w(word) LEFT JOIN answers_tokenstat s ON s.token = w.word
    LEFT JOIN left_out_tokens x ON x.token = w.word
), nominating AS (
    -- The lexical branch nominates by the rarest informative tokens only: a token found in more than
    -- a sliver of the index would match thousands of entries, and the semantic branch covers it anyway.
    SELECT string_agg(quote_literal(token), ' | ')::tsquery AS q
    FROM (SELECT token FROM query_tokens, total
          WHERE query_tokens.entries > 0
            AND query_tokens.entries <= GREATEST(%(lex_min_cap)s, total.entries * %(lex_share)s)
          ORDER BY idf DESC LIMIT %(lex_tokens)s) rare
), sem AS (
    SELECT e.version_id, 1 - (e.embedding <=> %(vec)s::vector) AS similarity
    FROM answers_questionentry e
    WHERE (%(product)s::bigint IS NULL OR e.product_id = %(product)s)
      AND (%(exclude_entry)s::bigint IS NULL OR e.id <> %(exclude_entry)s)
      AND (%(exclude_article)s::bigint IS NULL OR e.article_id <> %(exclude_article)s)
    ORDER BY e.embedding <=> %(vec)s::vector
    LIMIT %(sem_depth)s
), neighbourhood AS (
    -- How close the question is to the index in general: near everything (chit-chat) or to one topic.
    SELECT avg(similarity)::float8 AS similarity FROM sem
), lex AS (
    SELECT e.version_id
    FROM answers_questionentry e, nominating n
    WHERE n.q IS NOT NULL AND e.lexeme_vector @@ n.q
      AND (%(product)s::bigint IS NULL OR e.product_id = %(product)s)
      AND (%(exclude_entry)s::bigint IS NULL OR e.id <> %(exclude_entry)s)
      AND (%(exclude_article)s::bigint IS NULL OR e.article_id <> %(exclude_article)s)
    ORDER BY ts_rank(e.lexeme_vector, n.q, 1) DESC
    LIMIT %(lex_depth)s
), eligible AS MATERIALIZED (
    -- Only published versions, inside their validity window, applicable to the product version:
    -- an index entry of anything else can never come back, even if the index lags behind.
    SELECT v.id, v.article_id, v.number, v.standard_question, v.answer, v.tags
    FROM knowledge_articleversion v
    WHERE v.id IN (SELECT version_id FROM sem UNION SELECT version_id FROM lex)
      AND """
    + bot_visible_version_sql(alias="v", product_version_param="pv")
    + """
), entries AS (
    SELECT e.id, e.version_id, e.is_answer, e.lexemes, (1 - (e.embedding <=> %(vec)s::vector))::float8 AS similarity
    FROM answers_questionentry e
    WHERE e.version_id IN (SELECT id FROM eligible)
      AND (%(exclude_entry)s::bigint IS NULL OR e.id <> %(exclude_entry)s)
), matches AS (
    -- Which of the question's tokens each entry contains: one pass over the entries' tokens, hashed
    -- against the question's few (each entry's tokens are distinct).
    SELECT e.id, e.version_id, t.token
    FROM entries e CROSS JOIN LATERAL unnest(e.lexemes) AS t(token)
    WHERE t.token IN (SELECT token FROM query_tokens)
), entry_lexical AS (
    SELECT m.id, sum(q.idf) AS idf FROM matches m JOIN query_tokens q ON q.token = m.token GROUP BY m.id
), scored AS (
    -- Every candidate from either branch gets both scores, over all its entries. Semantic: a soft
    -- maximum over the article's questions (several close paraphrases beat one), plus the answer
    -- passage. Lexical: the IDF share of the query's tokens the entry contains.
    SELECT e.version_id,
           max(e.similarity) FILTER (WHERE NOT e.is_answer) AS question_similarity,
           COALESCE(max(e.similarity) FILTER (WHERE e.is_answer), 0) AS answer_similarity,
           (%(tau)s * ln(sum(exp((GREATEST(e.similarity, 0.5) - 1) / %(tau)s)) FILTER (WHERE NOT e.is_answer))
               + 1)::float8 AS soft_similarity,
           max(COALESCE(el.idf, 0) / NULLIF((SELECT sum(idf) FROM query_tokens), 0))::float8 AS lexical
    FROM entries e LEFT JOIN entry_lexical el ON el.id = e.id
    GROUP BY e.version_id
), fused AS (
    SELECT s.*, COALESCE(s.lexical, 0) AS lexical_share,
           row_number() OVER (ORDER BY s.question_similarity DESC NULLS LAST) AS sem_rank,
           row_number() OVER (ORDER BY s.lexical DESC) AS lex_rank,
           (%(w_sem)s * (COALESCE(s.soft_similarity, 0) + %(w_ans)s * s.answer_similarity)
            + %(w_lex)s * COALESCE(s.lexical, 0))::float8 AS fused
    FROM scored s
    ORDER BY fused DESC
    LIMIT %(limit)s
), closest AS (
    -- Each candidate's closest question, for coverage in the other direction: how much of what that
    -- question says the customer's question also says.
    SELECT DISTINCT ON (e.version_id) e.version_id, e.lexemes
    FROM entries e
    WHERE NOT e.is_answer AND e.version_id IN (SELECT version_id FROM fused)
    ORDER BY e.version_id, e.similarity DESC
), found AS (
    -- The question's tokens each candidate article mentions anywhere (its questions or its answer).
    SELECT DISTINCT m.version_id, m.token FROM matches m WHERE m.version_id IN (SELECT version_id FROM fused)
), covered AS (
    -- Which of the customer's tokens the article never mentions. A rare unmentioned word (转送 in
    -- 积分能转送吗) is a concept the article does not cover.
    SELECT f.version_id,
           (COALESCE(sum(q.idf) FILTER (WHERE fd.token IS NOT NULL), 0) / NULLIF(sum(q.idf), 0))::float8
               AS article_lexical,
           COALESCE(max(q.idf) FILTER (WHERE fd.token IS NULL), 0)::float8 AS missing_idf,
           count(*) FILTER (WHERE fd.token IS NULL) AS missing_tokens
    FROM fused f CROSS JOIN query_tokens q
    LEFT JOIN found fd ON fd.version_id = f.version_id AND fd.token = q.token
    GROUP BY f.version_id
), words_covered AS (
    -- A word the knowledge base knows (other articles use it) but this article never mentions is a
    -- concept the article does not cover: 转送 in 积分能转送给别人吗 against the article on points.
    SELECT f.version_id,
           (COALESCE(sum(w.idf) FILTER (WHERE fd.token IS NOT NULL), 0) / NULLIF(sum(w.idf), 0))::float8
               AS word_coverage,
           COALESCE(max(w.idf) FILTER (WHERE fd.token IS NULL AND w.entries > 0), 0)::float8 AS missing_known_idf,
           count(*) FILTER (WHERE fd.token IS NULL AND w.entries > 0) AS missing_known
    FROM fused f CROSS JOIN query_words w
    LEFT JOIN found fd ON fd.version_id = f.version_id AND fd.token = w.word
    GROUP BY f.version_id
), reverse AS (
    SELECT c.version_id,
           (COALESCE(sum(s.idf) FILTER (WHERE t.token IN (SELECT token FROM query_tokens)), 0)
            / NULLIF(sum(s.idf), 0))::float8 AS reverse_lexical
    FROM closest c CROSS JOIN LATERAL unnest(c.lexemes) AS t(token)
    CROSS JOIN LATERAL (SELECT ln(total.entries + 1.0) - ln(COALESCE((SELECT entries FROM answers_tokenstat
                                                                      WHERE token = t.token), 0) + 1.0) + 0.1
                        AS idf FROM total) s
    GROUP BY c.version_id
)
SELECT v.article_id, v.id, (SELECT external_id FROM knowledge_article WHERE id = v.article_id), v.number,
       v.standard_question,
       COALESCE((SELECT answer FROM knowledge_channelanswer WHERE version_id = v.id AND channel = %(channel)s),
                v.answer) AS text,
       v.tags, f.fused, f.question_similarity, f.sem_rank, f.lexical_share, f.lex_rank, f.answer_similarity,
       (SELECT similarity FROM neighbourhood), f.soft_similarity,
       COALESCE(cv.article_lexical, 0), COALESCE(cv.missing_idf, 0) / (SELECT ln(entries + 1.0) + 0.1 FROM total),
       COALESCE(cv.missing_tokens, 0)::int, COALESCE(r.reverse_lexical, 0),
       (SELECT count(*) FROM query_tokens)::int,
       COALESCE(wc.word_coverage, 0), COALESCE(wc.missing_known_idf, 0) / (SELECT ln(entries + 1.0) + 0.1 FROM total),
       COALESCE(wc.missing_known, 0)::int,
       (SELECT count(*) FROM query_words)::int, (SELECT count(*) FROM query_words WHERE entries = 0)::int
FROM fused f JOIN eligible v ON v.id = f.version_id
LEFT JOIN words_covered wc ON wc.version_id = f.version_id
LEFT JOIN covered cv ON cv.version_id = f.version_id LEFT JOIN reverse r ON r.version_id = f.version_id
ORDER BY f.fused DESC
"""
)


@dataclass(frozen=True)
class Candidate:
    article_pk: int
    version_pk: int
    article_id: str  # external id
    version: int
    question: str
    text: str
    tags: list[str]
    fused: float
    question_similarity: float | None  # cosine similarity of the closest standard or similar question
    sem_rank: int | None
    lex_score: float | None  # IDF-weighted share of the question's tokens found (0..1)
    lex_rank: int | None
    answer_similarity: float | None  # cosine similarity to the answer passage
    neighbourhood: float | None  # mean similarity of the question's nearest index entries
    soft_similarity: float | None = None  # soft maximum over the article's questions
    article_lexical: float = 0.0  # IDF share of the question's tokens found anywhere in the article
    missing_idf: float = 0.0  # the rarest question token the article never mentions (IDF, 0..1)
    missing_tokens: int = 0  # how many of the question's tokens the article never mentions
    reverse_lexical: float = 0.0  # IDF share of the closest question's tokens found in the question
    query_tokens: int = 0  # tokens in the customer's question
    word_coverage: float = 0.0  # IDF share of the question's content words the article mentions
    missing_known_idf: float = 0.0  # the rarest word the index knows but this article never mentions (0..1)
    missing_known: int = 0  # how many such words
    query_words: int = 0  # content words in the question
    unknown_words: int = 0  # … of which the index has never seen (typos, chit-chat, new concepts)


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in vector.tolist()) + "]"


def retrieve(
    *,
    embedding: np.ndarray | None,
    tokens: list[str],
    words: list[str] | None = None,
    product_pk: int | None,
    product_version_key: list[int] | None,
    channel: str,
    limit: int,
    use_lexical: bool = True,
    use_semantic: bool = True,
    exclude_entry: int | None = None,
    exclude_article: int | None = None,
) -> list[Candidate]:
    """Best articles for the question, fused from both branches (either can be switched off for evaluation).

    ``exclude_entry`` / ``exclude_article`` ask the index as if that question (or that whole article) were
    not in it: how calibration turns the knowledge base's own similar questions into labelled examples.
    """
    params = {
        "exclude_entry": exclude_entry,
        "exclude_article": exclude_article,
        "vec": _vector_literal(embedding) if use_semantic and embedding is not None else None,
        "tokens": tokens if use_lexical else [],
        "words": words if words is not None else tokens,
        "lex_tokens": LEXICAL_NOMINATING_TOKENS,
        "lex_min_cap": LEXICAL_NOMINATING_MIN_CAP,
        "lex_share": LEXICAL_NOMINATING_SHARE,
        "product": product_pk,
        "pv": product_version_key,
        "channel": channel or "",
        "sem_depth": BRANCH_DEPTH if use_semantic and embedding is not None else 0,
        "lex_depth": BRANCH_DEPTH if use_lexical else 0,
        "w_sem": 1.0 if use_semantic and embedding is not None else 0.0,
        "w_lex": (LEXICAL_WEIGHT if use_semantic and embedding is not None else 1.0) if use_lexical else 0.0,
        "w_ans": ANSWER_WEIGHT,
        "tau": SOFTMAX_TEMPERATURE,
        "limit": limit,
    }
    if params["vec"] is None:  # lexical-only (evaluation): any unit vector keeps the arithmetic finite
        params["vec"] = "[1" + ",0" * 383 + "]"
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        rows = cursor.fetchall()
    return [Candidate(*row) for row in rows]
