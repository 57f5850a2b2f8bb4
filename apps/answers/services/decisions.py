"""What a bot's decision depends on besides the question: editors' policies, human-only topics and the
latest confidence fit. Compiled once per process and rebuilt when their generations move (an editor
saved a policy or topic, or a refit committed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.answers.models import AnswerPolicy, ConfidenceFit, HumanOnlyTopic
from apps.answers.services.calibration import (
    CALIBRATION_GENERATION_KEY,
    DEFAULT_TARGET_PRECISION,
    Thresholds,
    thresholds_for,
)
from apps.answers.services.vocabulary import VOCABULARY_GENERATION_KEY
from apps.answers.text import normalize_for_retrieval
from apps.answers.verifier import ConfidenceModel, builtin_fit
from apps.core.generations import GenerationCachedValue


@dataclass(frozen=True)
class _Topic:
    topic: HumanOnlyTopic
    keywords: tuple[str, ...]  # normalised once, not per request


@dataclass(frozen=True)
class _FitInUse:
    model: ConfidenceModel
    curve: list
    clarify: float


@dataclass
class DecisionSettings:
    policies: dict[tuple[int | None, str], AnswerPolicy]
    topics: list[_Topic]
    fits: dict[int | None, _FitInUse]  # per product, and None: the whole knowledge base
    _thresholds: dict[tuple[int | None, str], Thresholds] = field(default_factory=dict)

    def fit_for(self, product_pk: int | None) -> _FitInUse:
        return self.fits.get(product_pk) or self.fits[None]

    def human_only(self, normalized: str, best: dict | None) -> HumanOnlyTopic | None:
        """The human-only topic a question names (keywords) or its best candidate is tagged with, if any."""
        tags = set(best["tags"]) if best else set()
        for entry in self.topics:
            if entry.topic.name in tags or any(k in normalized for k in entry.keywords):
                return entry.topic
        return None

    def thresholds(self, product_pk: int | None, channel: str) -> Thresholds:
        key = (product_pk, channel)
        if key not in self._thresholds:
            policy = next(
                (
                    self.policies[k]
                    for k in ((product_pk, channel), (product_pk, ""), (None, channel), (None, ""))
                    if k in self.policies
                ),
                None,
            )
            fit = self.fit_for(product_pk)
            self._thresholds[key] = thresholds_for(
                fit.curve,
                fit.clarify,
                target=policy.target_precision if policy else DEFAULT_TARGET_PRECISION,
                answer_override=policy.answer_threshold if policy else None,
                clarify_override=policy.clarify_threshold if policy else None,
            )
        return self._thresholds[key]


def _latest_fits() -> dict[int | None, _FitInUse]:
    """The latest refit's fits: its whole-KB fit and the product fits written with it (a product that no
    longer has enough data of its own falls back to the whole-KB fit, not to an old fit of its own)."""
    fits: dict[int | None, _FitInUse] = {}
    latest = ConfidenceFit.objects.filter(product__isnull=True).order_by("-created_at").first()
    if latest is not None:
        same_refit = ConfidenceFit.objects.filter(fingerprint=latest.fingerprint, created_at=latest.created_at)
        for fit in same_refit:
            fits[fit.product_id] = _FitInUse(ConfidenceModel.from_dict(fit.model), fit.curve, fit.clarify_threshold)
    if None not in fits:  # before the first refit: the model shipped with the portal
        model, curve, clarify = builtin_fit()
        fits[None] = _FitInUse(model, curve, clarify)
    return fits


def _load_decision_settings() -> DecisionSettings:
    return DecisionSettings(
        policies={(p.product_id, p.channel): p for p in AnswerPolicy.objects.all()},
        topics=[
            _Topic(topic, tuple(k for k in map(normalize_for_retrieval, topic.keywords) if k))
            for topic in HumanOnlyTopic.objects.filter(is_active=True)
        ],
        fits=_latest_fits(),
    )


_compiled_settings: GenerationCachedValue[DecisionSettings] = GenerationCachedValue(
    _load_decision_settings, keys=(VOCABULARY_GENERATION_KEY, CALIBRATION_GENERATION_KEY)
)


def decision_settings(vocabulary_generation: int, calibration_generation: int) -> DecisionSettings:
    """This process's decision settings as of these generations (rebuilt when either moved on)."""
    return _compiled_settings.at((vocabulary_generation, calibration_generation))


def thresholds_in_force(*, product_pk: int | None, channel: str) -> Thresholds:
    """The thresholds a question for this product and channel meets now (for the admin)."""
    return _compiled_settings.current().thresholds(product_pk, channel)
