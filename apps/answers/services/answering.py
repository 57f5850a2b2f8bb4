"""Answering a bot's question: retrieve, verify, decide (answer, clarify or hand off), log.

The hot path: one cache round trip (generations, failure streak, cached retrieval), and on a miss one
embedding and one SQL query; the verifier then scores the candidates in-process (microseconds), and one
INSERT writes the log.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass, field

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q, sql
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.answers.embedding import query_batcher
from apps.answers.models import AnswerQuery, Decision
from apps.answers.rerank import rerank_scores
from apps.answers.retrieval import Candidate, retrieve
from apps.answers.services.calibration import CALIBRATION_GENERATION_KEY
from apps.answers.services.decisions import decision_settings
from apps.answers.services.vocabulary import VOCABULARY_GENERATION_KEY, current_vocabulary
from apps.answers.text import normalize_for_retrieval
from apps.answers.verifier import candidate_features
from apps.catalog.models import Product
from apps.core.errors import NotFound, ValidationFailed
from apps.core.generations import generation
from apps.core.masking import mask_text
from apps.core.versions import version_key
from apps.knowledge.services.publication import GENERATION_KEY

MAX_QUESTION_LENGTH = 500
MIN_SUGGESTIONS, MAX_SUGGESTIONS = 2, 5


class Outcome:
    ANSWER = "answer"
    CLARIFY = "clarify"
    HANDOFF = "handoff"


@dataclass
class Retrieval:
    """What retrieval found for a normalised question and filters: cacheable, session-independent.

    Candidates carry their verifier features, not probabilities: a refit changes the probabilities
    without making cached retrievals stale."""

    candidates: list[dict]


@dataclass
class AnswerResult:
    query_id: str
    decision: str
    handoff: bool
    handoff_reason: str | None
    confidence: float
    answer: dict | None
    suggestions: list[dict] = field(default_factory=list)
    candidates: list[dict] = field(default_factory=list)


def ranked(question: str, candidates: list[Candidate]) -> list[Candidate]:
    """The built-in ranking, reordered by the deployer's cross-encoder when one is configured and answers."""
    if len(candidates) < 2:
        return candidates
    scores = rerank_scores(question, [f"{c.question}\n{c.text}"[:1000] for c in candidates])
    if scores is None:
        return candidates
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])  # stable: ties keep the built-in order
    return [candidates[i] for i in order]


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
    words, tokens = vocabulary.analyse(text)
    embedding = query_batcher().query(text)
    candidates = retrieve(
        embedding=embedding,
        tokens=tokens,
        words=words,
        product_pk=product.pk if product else None,
        product_version_key=version_key(question.product_version) if question.product_version else None,
        channel=question.channel,
        limit=max(question.top_k, MAX_SUGGESTIONS),
    )
    candidates = ranked(text, candidates)
    return Retrieval(
        candidates=[
            {
                "article_id": c.article_id,
                "article_pk": c.article_pk,
                "version": c.version,
                "question": c.question,
                "text": c.text,
                "tags": list(c.tags),
                "features": row.tolist(),
            }
            for c, row in zip(candidates, candidate_features(candidates), strict=True)
        ],
    )


def _suggestions(candidates: list[dict], probabilities: list[float], clarify_at: float) -> list[dict]:
    """The closest standard questions to offer: the first three, more while they are about as likely
    as the clarify threshold, never fewer than two."""
    picked = [
        c
        for i, (c, p) in enumerate(zip(candidates, probabilities, strict=True))
        if i < MIN_SUGGESTIONS + 1 or p >= clarify_at
    ]
    return picked[:MAX_SUGGESTIONS]


def question_answer(*, question: Question, api_key=None) -> AnswerResult:
    started = time.perf_counter()
    normalized = normalize_for_retrieval(question.text)
    if not normalized:
        raise ValidationFailed(_("The question has no words."), field_errors={"question": [_("Ask a question.")]})
    product = _resolve_product(question.product)
    key = _cache_key(normalized, question)
    state = cache.get_many([GENERATION_KEY, VOCABULARY_GENERATION_KEY, CALIBRATION_GENERATION_KEY, key])
    knowledge_generation = generation(GENERATION_KEY, state.get(GENERATION_KEY))
    vocabulary_generation = generation(VOCABULARY_GENERATION_KEY, state.get(VOCABULARY_GENERATION_KEY))
    calibration_generation = generation(CALIBRATION_GENERATION_KEY, state.get(CALIBRATION_GENERATION_KEY))
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

    decisions = decision_settings(vocabulary_generation, calibration_generation)
    product_pk = product.pk if product else None
    candidates = retrieval.candidates
    probabilities = (
        decisions.fit_for(product_pk).model.probabilities(np.array([c["features"] for c in candidates])).tolist()
        if candidates
        else []
    )
    best_probability = probabilities[0] if probabilities else 0.0
    confidence = round(best_probability, 4)
    thresholds = decisions.thresholds(product_pk, question.channel)
    best = candidates[0] if candidates else None
    streak = failure_streak(question.session_id, api_key) if question.session_id else 0
    suggestions: list[dict] = []
    if streak >= settings.ANSWER_FAILURE_STREAK:
        decision = Decision.FAILURE_STREAK
    elif best is None:
        decision = Decision.NO_MATCH
    elif decisions.human_only(normalized, best):
        decision = Decision.HUMAN_ONLY_TOPIC
    elif best_probability >= thresholds.answer and best_probability > 0:
        decision = Decision.ANSWERED
    elif best_probability >= thresholds.clarify and len(candidates) >= MIN_SUGGESTIONS:
        suggestions = _suggestions(candidates, probabilities, thresholds.clarify)
        if any(decisions.human_only("", s) for s in suggestions):
            suggestions, decision = [], Decision.HUMAN_ONLY_TOPIC
        else:
            decision = Decision.CLARIFY
    else:
        decision = Decision.LOW_CONFIDENCE
    if decision in FAILURES and streak + 1 >= settings.ANSWER_FAILURE_STREAK:
        decision, suggestions = Decision.FAILURE_STREAK, []

    answered = decision == Decision.ANSWERED
    query = _log(
        # What customers type holds phone and ID numbers: the log keeps it masked (the search used the text).
        question=mask_text(question.text)[:MAX_QUESTION_LENGTH],
        normalized=mask_text(normalized)[:MAX_QUESTION_LENGTH],
        product=product,
        channel=question.channel,
        product_version=question.product_version,
        session_id=question.session_id,
        decision=decision,
        confidence=confidence,
        article_id=best["article_pk"] if answered else None,
        version_number=best["version"] if answered else None,
        top_candidate_id=best["article_pk"] if best else None,
        suggested_articles=[s["article_pk"] for s in suggestions],
        cached=hit,
        api_key=api_key,
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
    )

    if answered:
        outcome = Outcome.ANSWER
    elif decision == Decision.CLARIFY:
        outcome = Outcome.CLARIFY
    else:
        outcome = Outcome.HANDOFF
    return AnswerResult(
        query_id=str(query.pk),
        decision=outcome,
        handoff=outcome == Outcome.HANDOFF,
        handoff_reason=str(decision) if outcome == Outcome.HANDOFF else None,
        confidence=confidence,
        answer=_answer_of(best) if answered else None,
        suggestions=[{"article_id": s["article_id"], "question": s["question"]} for s in suggestions],
        candidates=[
            {"article_id": c["article_id"], "question": c["question"], "score": round(p, 4)}
            for c, p in zip(candidates[: question.top_k], probabilities, strict=False)
        ],
    )


def _answer_of(candidate: dict) -> dict:
    return {
        "article_id": candidate["article_id"],
        "version": candidate["version"],
        "question": candidate["question"],
        "text": candidate["text"],
    }


# An unresolved clarify counts as a failure until the customer chooses: a bot that keeps offering lists
# nobody picks from must hand off after three, like one that keeps saying it does not know.
FAILURES = (Decision.LOW_CONFIDENCE, Decision.NO_MATCH, Decision.CLARIFY)


def asked_with(api_key) -> Q:
    """The queries a key may act on (feedback, choices) or count (streaks): its own. Without a key (the
    portal's own code, tests) every query."""
    return Q(api_key=api_key) if api_key is not None else Q()


def failure_streak(session_id: str, api_key=None) -> int:
    """Failed answers in a row at the end of the session: handoffs for low confidence or no match,
    suggestion lists the customer did not pick from (or answered "none of these"), and answers the bot
    reported unhelpful. Once handed off for the streak, the session stays with humans."""
    recent = (
        AnswerQuery.objects.filter(asked_with(api_key), session_id=session_id)  # two bots' sessions never mix
        .order_by("-created_at")
        .values_list("decision", "helpful", "chosen_article_id")[: settings.ANSWER_FAILURE_STREAK]
    )
    streak = 0
    for decision, helpful, chosen in recent:
        if decision == Decision.FAILURE_STREAK:
            return settings.ANSWER_FAILURE_STREAK
        if decision == Decision.CLARIFY and chosen is not None and helpful is not False:
            break  # the customer found their question in the list: a success
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


def feedback_record(*, query_id: uuid.UUID, helpful: bool, comment: str = "", api_key=None) -> AnswerQuery:
    """A bot reports whether an answer helped. Unhelpful answers count toward the session's failure streak.
    Only the key that asked may say so: another key's query is "no such answer"."""
    query = AnswerQuery.objects.filter(asked_with(api_key), pk=query_id).first()
    if query is None:
        raise NotFound(_("No such answer."))
    AnswerQuery.objects.filter(pk=query.pk).update(
        helpful=helpful, feedback_comment=mask_text(comment)[:500], feedback_at=timezone.now()
    )
    query.refresh_from_db()
    return query
