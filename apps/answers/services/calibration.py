"""Calibrating bot decisions from the knowledge base itself.

A refit collects labelled examples (:mod:`apps.answers.services.examples`), fits the verifier
(:mod:`apps.answers.verifier`) on every (question, candidate) pair, and records a precision curve: for
each confidence, the share of direct answers at or above it that would be right, on a traffic mix of
in-scope questions and questions no article answers. Editors' target precision then picks the answer
threshold off that curve; the suggestion threshold is where suggestion lists stop holding the right
article often enough to be worth showing.

One fit for the whole knowledge base, and one per product with enough similar questions of its own.
A refit over unchanged content and outcomes does nothing (same fingerprint), and refits never overlap
(an advisory lock), so the job may run twice, concurrently, or die half-way: a fit is written whole or
not at all.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.answers.models import AnswerQuery, ConfidenceFit
from apps.answers.services.examples import Example, Kind, collect_examples
from apps.answers.verifier import ConfidenceModel, candidate_features, fit_confidence_model
from apps.catalog.models import Product
from apps.core.generations import bump_generation

CALIBRATION_GENERATION_KEY = "answers:calibration-generation"
_LOCK = "hashtext('answers.calibration')"
DEFAULT_TARGET_PRECISION = 0.97
# The traffic a bot sees: besides questions the knowledge base answers, questions on topics it does not
# cover and chit-chat. Their shares weight the examples, so precision is estimated on a realistic mix.
UNCOVERED_SHARE = 0.15
CHITCHAT_SHARE = 0.05
MIN_PRODUCT_QUESTIONS = 1000  # similar questions a product needs for a fit of its own (fewer: pooled is better)
CURVE_POINTS = 400
SUGGESTIONS = 3  # suggestion lists hold the first three candidates (two at least, five at most in the API)


@dataclass(frozen=True)
class Thresholds:
    answer: float
    clarify: float


# --- fitting ------------------------------------------------------------------------------------------


def _example_weights(examples: list[Example]) -> np.ndarray:
    counts: dict[str, int] = {}
    for example in examples:
        counts[example.kind] = counts.get(example.kind, 0) + 1
    in_scope = sum(n for kind, n in counts.items() if kind not in (Kind.UNCOVERED, Kind.CHITCHAT)) or 1
    scope_share = 1.0 - UNCOVERED_SHARE - CHITCHAT_SHARE
    weight = {
        Kind.UNCOVERED: UNCOVERED_SHARE / scope_share * in_scope / max(counts.get(Kind.UNCOVERED, 0), 1),
        Kind.CHITCHAT: CHITCHAT_SHARE / scope_share * in_scope / max(counts.get(Kind.CHITCHAT, 0), 1),
    }
    return np.array([weight.get(e.kind, 1.0) for e in examples])


def _pairs(examples: list[Example], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, labels, pair_weights = [], [], []
    for example, weight in zip(examples, weights, strict=True):
        if not example.candidates:
            continue
        for candidate, row in zip(example.candidates, candidate_features(example.candidates), strict=True):
            if example.wrong_article_pk is not None and candidate.article_pk != example.wrong_article_pk:
                continue  # "this answer did not help" says nothing about the other candidates
            rows.append(row)
            labels.append(1.0 if candidate.article_pk == example.right_article_pk else 0.0)
            pair_weights.append(weight)
    return np.array(rows), np.array(labels), np.array(pair_weights)


def precision_curve(
    scored: list[tuple[float, bool, bool, float]],
) -> list[list[float]]:
    """[confidence, precision of answers at or above it, share of questions answered] from high to low."""
    ordered = sorted(scored, key=lambda s: -s[0])
    total = sum(w for *_rest, w in ordered) or 1.0
    curve, right, answered = [], 0.0, 0.0
    for confidence, first_right, _suggested, weight in ordered:
        right += weight * first_right
        answered += weight
        curve.append([round(confidence, 6), right / answered, answered / total])
    if len(curve) > CURVE_POINTS:
        step = len(curve) / CURVE_POINTS
        curve = [curve[int(i * step)] for i in range(CURVE_POINTS)] + [curve[-1]]
    return curve


def answer_threshold(curve: list[list[float]], target: float) -> float:
    """The lowest confidence above which direct answers keep at least the target precision.

    Walking down from the most confident: the first 2 % of questions are too few to judge, so a dip there
    does not stop the walk; after that, the first point below the target does. 1.0 (no direct answers)
    if the target is never reached.
    """
    threshold = 1.0
    for confidence, precision, _share in curve:
        if precision >= target:
            threshold = confidence
        elif _share > 0.02:
            break
    return threshold


def clarify_threshold(scored: list[tuple[float, bool, bool, float]], answer_at: float) -> float:
    """The lowest confidence down to which suggestion lists (below the answer threshold) still hold the
    right article at least ``ANSWER_SUGGESTION_HIT_RATE`` of the time, judged over a sliding window of
    neighbouring confidences (a cumulative rate would let a good band hide the chit-chat below it)."""
    band = sorted((s for s in scored if s[0] < answer_at), key=lambda s: -s[0])
    window = max(10, len(scored) // 40)
    threshold = answer_at
    for end in range(len(band)):
        chunk = band[max(0, end - window + 1) : end + 1]
        hits = sum(w * suggested for _c, _r, suggested, w in chunk)
        shown = sum(w for *_rest, w in chunk)
        if end + 1 >= min(window, len(band)) and hits / shown < settings.ANSWER_SUGGESTION_HIT_RATE:
            break
        threshold = band[end][0]
    return threshold


def score_examples(model: ConfidenceModel, examples: list[Example]) -> list[tuple[float, bool, bool, float]]:
    weights = _example_weights(examples)
    scored = []
    for example, weight in zip(examples, weights, strict=True):
        if example.wrong_article_pk is not None:
            continue  # an unhelpful answer's right article is unknown: no curve point
        if not example.candidates:
            scored.append((0.0, False, False, float(weight)))
            continue
        probabilities = model.probabilities(candidate_features(example.candidates))
        first = example.candidates[0].article_pk == example.right_article_pk
        suggested = example.right_article_pk in {c.article_pk for c in example.candidates[:SUGGESTIONS]}
        scored.append((float(probabilities[0]), first, suggested, float(weight)))
    return scored


@dataclass
class Fit:
    model: ConfidenceModel
    curve: list[list[float]]
    clarify_threshold: float
    examples: int
    pairs: int
    positives: int
    outcomes: int

    @property
    def expected(self) -> tuple[float, float]:
        """(precision, share answered directly) at the default target."""
        at = answer_threshold(self.curve, DEFAULT_TARGET_PRECISION)
        points = [p for p in self.curve if p[0] >= at]
        return (points[-1][1], points[-1][2]) if points else (1.0, 0.0)


def fit_examples(examples: list[Example], *, model: ConfidenceModel | None = None) -> Fit:
    """Fit the verifier on the examples (or keep ``model``, fitted elsewhere) and read its curve off them."""
    weights = _example_weights(examples)
    x, y, pair_weights = _pairs(examples, weights)
    if model is None:
        model = fit_confidence_model(x, y, pair_weights)
    scored = score_examples(model, examples)
    curve = precision_curve(scored)
    answer_at = answer_threshold(curve, DEFAULT_TARGET_PRECISION)
    return Fit(
        model=model,
        curve=curve,
        clarify_threshold=clarify_threshold(scored, answer_at),
        examples=len(examples),
        pairs=len(y),
        positives=int(y.sum()),
        outcomes=sum(1 for e in examples if e.kind in (Kind.CHOSEN, Kind.FEEDBACK)),
    )


# --- the job ------------------------------------------------------------------------------------------


def content_fingerprint() -> str:
    """What a fit depends on: the indexed versions, the vocabulary that tokenises them (synonyms, terms),
    and the labelled outcomes so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5(COALESCE(string_agg(version_id::text, ',' ORDER BY version_id), '')) "
            "FROM (SELECT DISTINCT version_id FROM answers_questionentry) v"
        )
        (versions,) = cursor.fetchone()
        cursor.execute(
            "SELECT md5(COALESCE((SELECT string_agg(canonical || '=' || array_to_string(variants, ','), ';' "
            "ORDER BY canonical) FROM answers_synonym), '') || '|' || "
            "COALESCE((SELECT string_agg(text, ';' ORDER BY text) FROM answers_term), ''))"
        )
        (vocabulary,) = cursor.fetchone()
    # Two maxima, each served by its own partial index (an OR of both would scan the whole log).
    chosen = AnswerQuery.objects.filter(chosen_at__isnull=False).aggregate(at=Max("chosen_at"))["at"]
    feedback = AnswerQuery.objects.filter(feedback_at__isnull=False).aggregate(at=Max("feedback_at"))["at"]
    raw = f"{versions}|{vocabulary}|{chosen}|{feedback}|{settings.ANSWER_SUGGESTION_HIT_RATE}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _product_question_counts() -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT product_id, count(*) FROM answers_questionentry "
            "WHERE NOT is_standard AND NOT is_answer GROUP BY product_id"
        )
        return dict(cursor.fetchall())


def confidence_refit(*, force: bool = False) -> list[ConfidenceFit] | None:
    """Refit for the knowledge base and each product with enough data.

    Returns the new fits, ``[]`` when nothing changed since the last fit, or ``None`` when another
    refit holds the lock (it will see the same content, or a later refit is already queued).
    """
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_try_advisory_xact_lock({_LOCK})")
            if not cursor.fetchone()[0]:
                return None
        fingerprint = content_fingerprint()
        latest = ConfidenceFit.objects.filter(product__isnull=True).first()
        if not force and latest is not None and latest.fingerprint == fingerprint:
            return []
        counts = _product_question_counts()
        if not counts:
            return []  # nothing indexed yet: the built-in model stays in use
        products = list(Product.objects.filter(pk__in=counts).order_by("pk").values_list("pk", flat=True))
        examples = collect_examples(product_pks=products)
        scopes: list[tuple[int | None, list[Example]]] = [(None, examples)]
        for product in products:
            if counts.get(product, 0) >= MIN_PRODUCT_QUESTIONS:
                scopes.append((product, [e for e in examples if e.product_pk == product]))
        fits, fitted_at = [], timezone.now()  # one time for the whole refit: its fits are used together
        for product, subset in scopes:
            fit = fit_examples(subset)
            precision, answer_rate = fit.expected
            fits.append(
                ConfidenceFit(
                    created_at=fitted_at,
                    product_id=product,
                    fingerprint=fingerprint,
                    examples=fit.examples,
                    pairs=fit.pairs,
                    positives=fit.positives,
                    outcomes=fit.outcomes,
                    model=fit.model.as_dict(),
                    curve=fit.curve,
                    clarify_threshold=fit.clarify_threshold,
                    expected_precision=precision,
                    expected_answer_rate=answer_rate,
                    seconds=round(time.perf_counter() - started, 2),
                )
            )
        ConfidenceFit.objects.bulk_create(fits)
        transaction.on_commit(lambda: bump_generation(CALIBRATION_GENERATION_KEY))
    return fits


def thresholds_for(
    fit_curve: list[list[float]],
    fit_clarify: float,
    *,
    target: float,
    answer_override: float | None,
    clarify_override: float | None,
) -> Thresholds:
    answer = answer_override if answer_override is not None else answer_threshold(fit_curve, target)
    clarify = clarify_override if clarify_override is not None else min(fit_clarify, answer)
    return Thresholds(answer=answer, clarify=min(clarify, answer))
