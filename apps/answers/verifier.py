"""The verifier: how likely each retrieved article is to be the right answer to the customer's question.

A small logistic model over cheap features of each (question, candidate article) pair. It is fitted per
knowledge base by :mod:`apps.answers.services.calibration` on pairs the knowledge base itself provides
(its similar questions asked without themselves, and real outcomes), and runs in-process in a few
microseconds per request: no model server, no new dependency.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from apps.answers.retrieval import Candidate

FEATURES = (
    "similarity",  # cosine similarity of the article's closest question
    "soft_similarity",  # soft maximum over all its questions: several close paraphrases beat one
    "answer_similarity",  # similarity to the answer passage
    "margin",  # fused score over the best other candidate (negative below the first)
    "similarity_margin",  # closest-question similarity over the best other candidate's
    "lexical",  # IDF share of the question's tokens in the article's best-matching entry
    "article_lexical",  # … anywhere in the article
    "reverse_lexical",  # IDF share of the closest question's tokens that the question also has
    "missing_idf",  # the rarest question token the article never mentions: a concept it does not cover
    "missing_tokens",  # how many question tokens the article never mentions (log scale)
    "focus",  # closest similarity over the question's neighbourhood: chit-chat is near everything
    "length",  # tokens in the question (log scale): short keyword questions behave differently
    "word_coverage",  # IDF share of the question's content words the article mentions
    "missing_known_idf",  # the rarest word the index knows but the article never mentions
    "missing_known",  # how many such words (log scale)
    "unknown_share",  # share of the question's words the index has never seen
)


def candidate_features(candidates: Sequence[Candidate]) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate, in the candidates' order."""
    rows = np.zeros((len(candidates), len(FEATURES)), dtype=np.float64)
    if not candidates:
        return rows
    fused = [c.fused for c in candidates]
    similarity = [c.question_similarity or 0.0 for c in candidates]
    for i, c in enumerate(candidates):
        other_fused = max((f for j, f in enumerate(fused) if j != i), default=fused[i] - 0.1)
        other_similarity = max((s for j, s in enumerate(similarity) if j != i), default=similarity[i] - 0.05)
        neighbourhood = c.neighbourhood if c.neighbourhood is not None else similarity[i]
        rows[i] = (
            similarity[i],
            c.soft_similarity or 0.0,
            c.answer_similarity or 0.0,
            fused[i] - other_fused,
            similarity[i] - other_similarity,
            min(c.lex_score or 0.0, 1.0),
            min(c.article_lexical, 1.0),
            min(c.reverse_lexical, 1.0),
            c.missing_idf,
            math.log1p(c.missing_tokens),
            similarity[i] - neighbourhood,
            math.log1p(c.query_tokens),
            c.word_coverage,
            c.missing_known_idf,
            math.log1p(c.missing_known),
            c.unknown_words / c.query_words if c.query_words else 1.0,
        )
    return rows


@dataclass(frozen=True)
class ConfidenceModel:
    """Logistic regression on standardised features: P(candidate is the right article)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        columns = [FEATURES.index(name) for name in self.features]
        z = (x[:, columns] - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    def as_dict(self) -> dict:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ConfidenceModel:
        return cls(
            features=tuple(data["features"]),
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            weights=tuple(data["weights"]),
            bias=float(data["bias"]),
        )


def fit_confidence_model(
    x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, *, l2: float = 1.0
) -> ConfidenceModel:
    """Weighted, L2-regularised logistic regression by Newton's method (a few thousand rows: milliseconds)."""
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mean = np.average(x, axis=0, weights=weight)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=weight)) + 1e-6
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[0] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (weight * (p - y)) + penalty * beta
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return ConfidenceModel(
        features=FEATURES,
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        weights=tuple(float(v) for v in beta[1:]),
        bias=float(beta[0]),
    )


BUILTIN_FIT = Path(__file__).resolve().parent / "data" / "confidence_model.json"


@lru_cache(maxsize=1)
def builtin_fit() -> tuple[ConfidenceModel, list, float]:
    """The model shipped with the portal, for a knowledge base not yet fitted (the first minutes after
    its first publish): fitted on the demo knowledge base by ``manage.py refit_confidence --export``."""
    data = json.loads(BUILTIN_FIT.read_text(encoding="utf-8"))
    return ConfidenceModel.from_dict(data["model"]), data["curve"], float(data["clarify_threshold"])
