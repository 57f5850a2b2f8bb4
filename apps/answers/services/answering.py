"""Answering a bot's question: retrieve, calibrate a confidence, decide, log.

The hot path: one cache round trip (knowledge generation, failure streak, cached retrieval), and on a
miss one embedding and one SQL query; then one INSERT for the log.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import sql
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.answers.embedding import query_batcher
from apps.answers.models import AnswerQuery, AnswerThreshold, Decision, HumanOnlyTopic
from apps.answers.retrieval import Candidate, retrieve
from apps.answers.services.vocabulary import VOCABULARY_GENERATION_KEY, current_vocabulary
from apps.answers.text import normalize
from apps.catalog.models import Product
from apps.core.errors import NotFound, ValidationFailed
from apps.core.generations import generation
from apps.core.versions import version_key
from apps.knowledge.services.publication import GENERATION_KEY

MAX_QUESTION_LENGTH = 500

# Confidence = logistic function of retrieval features, fitted on the dev split of eval/questions.jsonl
# by `make eval` (it prints the fit). Features: the closest question's cosine similarity; the best
# article's fused-score margin over the next; its lexical score; and its focus: how far the closest
# question stands above the question's neighbourhood in the index (chit-chat is near everything).
CALIBRATION = {"bias": -86.944, "similarity": 98.161, "margin": 55.067, "lexical": -4.436, "focus": -101.019}


@dataclass
class Retrieval:
    """What retrieval found for a normalised question and filters: cacheable, session-independent."""

    candidates: list[dict]
    confidence: float


@dataclass
class AnswerResult:
    query_id: str
    handoff: bool
    handoff_reason: str | None
    confidence: float
    answer: dict | None
    candidates: list[dict] = field(default_factory=list)


def confidence_features(candidates: list[Candidate]) -> dict[str, float]:
    best = candidates[0]
    similarity = best.question_similarity or 0.0
    return {
        "similarity": similarity,
        "margin": best.fused - candidates[1].fused if len(candidates) > 1 else 0.05,
        "lexical": min(best.lex_score or 0.0, 1.0),
        "focus": similarity - (best.neighbourhood if best.neighbourhood is not None else similarity),
    }


def confidence_of(candidates: list[Candidate]) -> float:
    if not candidates:
        return 0.0
    features = confidence_features(candidates)
    z = CALIBRATION["bias"] + sum(CALIBRATION[name] * value for name, value in features.items())
    return round(1 / (1 + math.exp(-z)), 4)


def _score(candidate: Candidate, best: Candidate, confidence: float) -> float:
    # Candidates after the first are scored relative to it, so the list reads as "how likely is this one".
    if candidate is best:
        return confidence
    ratio = candidate.fused / best.fused if best.fused else 0.0
    return round(confidence * ratio, 4)


# --- settings editors change rarely: compiled per process, refreshed with the vocabulary generation ---

_settings_state: dict[str, object] = {"generation": None}
_settings_lock = threading.Lock()


@dataclass(frozen=True)
class _Topic:
    topic: HumanOnlyTopic
    keywords: tuple[str, ...]  # normalised once, not per request


def _answer_settings(generation: int) -> tuple[dict[tuple[int | None, str], float], list[_Topic]]:
    if _settings_state["generation"] != generation:
        with _settings_lock:
            if _settings_state["generation"] != generation:
                _settings_state["thresholds"] = {
                    (t.product_id, t.channel): t.threshold for t in AnswerThreshold.objects.all()
                }
                _settings_state["topics"] = [
                    _Topic(topic, tuple(k for k in map(normalize, topic.keywords) if k))
                    for topic in HumanOnlyTopic.objects.filter(is_active=True)
                ]
                _settings_state["generation"] = generation
    return _settings_state["thresholds"], _settings_state["topics"]  # type: ignore[return-value]


def threshold_for(thresholds: dict[tuple[int | None, str], float], product_pk: int | None, channel: str) -> float:
    for key in ((product_pk, channel), (product_pk, ""), (None, channel), (None, "")):
        if key in thresholds:
            return thresholds[key]
    return settings.ANSWER_DEFAULT_THRESHOLD


def _human_only(topics: list[_Topic], normalized: str, best: dict | None) -> HumanOnlyTopic | None:
    tags = set(best["tags"]) if best else set()
    for entry in topics:
        if entry.topic.name in tags or any(k in normalized for k in entry.keywords):
            return entry.topic
    return None


# --- the request ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    text: str
    channel: str = ""
    product: str = ""
    product_version: str = ""
    session_id: str = ""
    top_k: int = 3


def _resolve_product(slug: str) -> Product | None:
    if not slug:
        return None
    product = Product.objects.filter(slug=slug).only("pk", "slug").first()
    if product is None:
        raise ValidationFailed(
            _("Unknown product “%(slug)s”.") % {"slug": slug}, field_errors={"product": [_("Unknown product.")]}
        )
    return product


def _cache_key(normalized: str, question: Question) -> str:
    raw = json.dumps(
        [normalized, question.channel, question.product, question.product_version, question.top_k], ensure_ascii=False
    )
    return "answers:retrieval:" + hashlib.sha1(raw.encode()).hexdigest()


def _retrieve(normalized: str, question: Question, product: Product | None, vocabulary_generation: int) -> Retrieval:
    vocabulary = current_vocabulary(vocabulary_generation)
    text = vocabulary.question(normalized)
    tokens = vocabulary.tokens(text)
    embedding = query_batcher().query(text)
    candidates = retrieve(
        embedding=embedding,
        tokens=tokens,
        product_pk=product.pk if product else None,
        product_version_key=version_key(question.product_version) if question.product_version else None,
        channel=question.channel,
        limit=max(question.top_k, 5),
    )
    confidence = confidence_of(candidates)
    best = candidates[0] if candidates else None
    return Retrieval(
        candidates=[
            {
                "article_id": c.article_id,
                "article_pk": c.article_pk,
                "version": c.version,
                "question": c.question,
                "text": c.text,
                "tags": list(c.tags),
                "score": _score(c, best, confidence),
            }
            for c in candidates[: question.top_k]
        ],
        confidence=confidence,
    )


def answer_question(*, question: Question, api_key=None) -> AnswerResult:
    started = time.perf_counter()
    normalized = normalize(question.text)
    if not normalized:
        raise ValidationFailed(_("The question has no words."), field_errors={"question": [_("Ask a question.")]})
    product = _resolve_product(question.product)
    key = _cache_key(normalized, question)
    state = cache.get_many([GENERATION_KEY, VOCABULARY_GENERATION_KEY, key])
    knowledge_generation = generation(GENERATION_KEY, state.get(GENERATION_KEY))
    vocabulary_generation = generation(VOCABULARY_GENERATION_KEY, state.get(VOCABULARY_GENERATION_KEY))
    cached = state.get(key)
    hit = bool(cached) and cached["generation"] == (knowledge_generation, vocabulary_generation)
    if hit:
        retrieval = Retrieval(**cached["retrieval"])
    else:
        retrieval = _retrieve(normalized, question, product, vocabulary_generation)
        cache.set(
            key,
            {"generation": (knowledge_generation, vocabulary_generation), "retrieval": asdict(retrieval)},
            settings.ANSWER_CACHE_SECONDS,
        )

    thresholds, topics = _answer_settings(vocabulary_generation)
    best = retrieval.candidates[0] if retrieval.candidates else None
    streak = failure_streak(question.session_id) if question.session_id else 0
    if streak >= settings.ANSWER_FAILURE_STREAK:
        decision = Decision.FAILURE_STREAK
    elif best is None:
        decision = Decision.NO_MATCH
    elif _human_only(topics, normalized, best):
        decision = Decision.HUMAN_ONLY_TOPIC
    elif retrieval.confidence >= threshold_for(thresholds, product.pk if product else None, question.channel):
        decision = Decision.ANSWERED
    else:
        decision = Decision.LOW_CONFIDENCE
    if decision in FAILURES and streak + 1 >= settings.ANSWER_FAILURE_STREAK:
        decision = Decision.FAILURE_STREAK

    answered = decision == Decision.ANSWERED
    query = _log(
        question=question.text[:MAX_QUESTION_LENGTH],
        normalized=normalized[:MAX_QUESTION_LENGTH],
        product=product,
        channel=question.channel,
        product_version=question.product_version,
        session_id=question.session_id,
        decision=decision,
        confidence=retrieval.confidence,
        article_id=best["article_pk"] if answered else None,
        version_number=best["version"] if answered else None,
        top_candidate_id=best["article_pk"] if best else None,
        cached=hit,
        api_key=api_key,
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
    )

    return AnswerResult(
        query_id=str(query.pk),
        handoff=not answered,
        handoff_reason=None if answered else str(decision),
        confidence=retrieval.confidence,
        answer={
            "article_id": best["article_id"],
            "version": best["version"],
            "question": best["question"],
            "text": best["text"],
        }
        if answered
        else None,
        candidates=[
            {"article_id": c["article_id"], "question": c["question"], "score": c["score"]}
            for c in retrieval.candidates
        ],
    )


FAILURES = (Decision.LOW_CONFIDENCE, Decision.NO_MATCH)


def failure_streak(session_id: str) -> int:
    """Failed answers in a row at the end of the session: handoffs for low confidence or no match, and
    answers the bot reported unhelpful. Once handed off for the streak, the session stays with humans."""
    recent = (
        AnswerQuery.objects.filter(session_id=session_id)
        .order_by("-created_at")
        .values_list("decision", "helpful")[: settings.ANSWER_FAILURE_STREAK]
    )
    streak = 0
    for decision, helpful in recent:
        if decision == Decision.FAILURE_STREAK:
            return settings.ANSWER_FAILURE_STREAK
        if decision in FAILURES or helpful is False:
            streak += 1
        else:
            break
    return streak


def _log(**fields) -> AnswerQuery:
    """Write the query log without waiting for the WAL flush: losing the last milliseconds of log in a
    database crash is acceptable; making every bot wait on a disk sync is not. One round trip: the
    transaction, its setting and the insert travel together."""
    query = AnswerQuery(**fields)
    if connection.in_atomic_block:  # inside a caller's transaction (tests, scripts): a plain insert
        query.save(force_insert=True)
        return query
    insert = sql.InsertQuery(AnswerQuery)
    insert.insert_values([f for f in AnswerQuery._meta.concrete_fields], [query])
    [(statement, params)] = insert.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"BEGIN; SET LOCAL synchronous_commit = off; {statement}; COMMIT", params)
    return query


def feedback_record(*, query_id: uuid.UUID, helpful: bool, comment: str = "") -> AnswerQuery:
    """A bot reports whether an answer helped. Unhelpful answers count toward the session's failure streak."""
    query = AnswerQuery.objects.filter(pk=query_id).first()
    if query is None:
        raise NotFound(_("No such answer."))
    AnswerQuery.objects.filter(pk=query.pk).update(
        helpful=helpful, feedback_comment=comment[:500], feedback_at=timezone.now()
    )
    query.refresh_from_db()
    return query
