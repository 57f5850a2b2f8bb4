"""Lexicon terms: added and removed in bulk (tens of thousands at once), set-wise."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count

from apps.qa.models import Lexicon, LexiconTerm


def _clean(terms: Iterable[str]) -> list[str]:
    return sorted({t.strip()[:100] for t in terms if t and t.strip()})


@transaction.atomic
def lexicon_add_terms(lexicon: Lexicon, terms: Iterable[str]) -> int:
    """Add terms (blank lines and duplicates ignored); returns how many were new."""
    cleaned = _clean(terms)
    before = lexicon.terms.count()
    LexiconTerm.objects.bulk_create(
        [LexiconTerm(lexicon=lexicon, term=t) for t in cleaned], ignore_conflicts=True, batch_size=5000
    )
    return _recount(lexicon) - before


@transaction.atomic
def lexicon_remove_terms(lexicon: Lexicon, terms: Iterable[str]) -> int:
    removed, _by_model = lexicon.terms.filter(term__in=_clean(terms)).delete()
    if removed:
        _recount(lexicon)
    return removed


def _recount(lexicon: Lexicon) -> int:
    count = Lexicon.objects.filter(pk=lexicon.pk).annotate(n=Count("terms")).values_list("n", flat=True).get()
    lexicon.term_count = count
    lexicon.save(update_fields=["term_count", "updated_at"])  # updated_at: cached rule sets recompile
    return count
