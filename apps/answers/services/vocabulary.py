"""The vocabulary (synonyms and dictionary terms) each process compiles once and reuses."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from apps.answers.models import Synonym, Term, TokenStat
from apps.answers.phonetic import dictionary_frequencies
from apps.answers.text import Vocabulary, normalize_for_retrieval
from apps.catalog.models import Feature, Product
from apps.core.errors import ValidationFailed
from apps.core.generations import GenerationCachedValue, bump_generation, generation
from apps.core.queueing import enqueue

VOCABULARY_GENERATION_KEY = "answers:vocabulary-generation"
DOMAIN_WORDS_DIGEST_KEY = "answers:domain-words-digest"


def vocabulary_generation() -> int:
    return generation(VOCABULARY_GENERATION_KEY)


def vocabulary_changed() -> None:
    """Editors changed synonyms, terms, thresholds or topics: every process rebuilds on next use."""
    bump_generation(VOCABULARY_GENERATION_KEY)


def build_vocabulary() -> Vocabulary:
    synonyms: dict[str, str] = {}
    for synonym in Synonym.objects.all():
        canonical = normalize_for_retrieval(synonym.canonical)
        for variant in synonym.variants:
            if normalize_for_retrieval(variant) and normalize_for_retrieval(variant) != canonical:
                synonyms[normalize_for_retrieval(variant)] = canonical
    terms = {normalize_for_retrieval(t) for t in Term.objects.values_list("text", flat=True)}
    terms |= {normalize_for_retrieval(n) for n in Feature.objects.values_list("name", flat=True)}
    terms |= {
        normalize_for_retrieval(n)
        for n in Product.objects.values_list("name", flat=True)
        if " " not in normalize_for_retrieval(n)
    }
    return Vocabulary(synonyms=synonyms, terms={t for t in terms if t}, domain_words=domain_words())


def domain_words() -> set[str]:
    """Dictionary words that occur in the index (questions and answers): what typos are corrected to.
    The index's character bigrams are tokens too, but only real words qualify."""
    frequencies = dictionary_frequencies()
    tokens = TokenStat.objects.filter(token__regex=r"^[一-鿿]{2,4}$").values_list("token", flat=True)
    return {token for token in tokens if frequencies.get(token, 0) > 0}


def index_words_refreshed() -> None:
    """After the index changed: if its domain words changed, every process rebuilds its vocabulary."""
    digest = hashlib.sha1("\n".join(sorted(domain_words())).encode()).hexdigest()
    if cache.get(DOMAIN_WORDS_DIGEST_KEY) != digest:
        cache.set(DOMAIN_WORDS_DIGEST_KEY, digest, None)
        vocabulary_changed()


_compiled_vocabulary: GenerationCachedValue[Vocabulary] = GenerationCachedValue(
    build_vocabulary, keys=(VOCABULARY_GENERATION_KEY,)
)


def current_vocabulary(generation: int | None = None) -> Vocabulary:
    """This process's compiled vocabulary, rebuilt when the shared generation moved on (``generation``: the
    vocabulary generation if the caller already read it)."""
    return _compiled_vocabulary.current() if generation is None else _compiled_vocabulary.at(generation)


def synonym_save(*, canonical: str, variants: list[str]) -> Synonym:
    """Create or update a synonym group; indexed questions pick it up after commit. Saving a group as it
    already is changes nothing (no process rebuilds its vocabulary, nothing is re-embedded)."""
    canonical = canonical.strip()
    variants = sorted({v.strip() for v in variants if v.strip() and v.strip() != canonical})
    if not canonical or not variants:
        raise ValidationFailed(_("A synonym needs a canonical term and at least one variant."))
    existing = Synonym.objects.filter(canonical=canonical).first()
    if existing is not None and existing.variants == variants:
        return existing
    synonym, _created = Synonym.objects.update_or_create(canonical=canonical, defaults={"variants": variants})
    transaction.on_commit(_vocabulary_committed)
    return synonym


def _vocabulary_committed() -> None:
    vocabulary_changed()
    # The broker away: logged, not raised (the synonym is saved); `index_answers --refresh-vocabulary` catches up.
    enqueue("answers.refresh_vocabulary")
