"""Labelled examples for calibration, taken from the knowledge base itself and from real outcomes.

- **Similar questions, asked without themselves:** each similar question is asked against the index with
  its own entry left out. Its article is the right answer; the articles it is confused with are hard
  negatives.
- **Articles left out:** a similar question asked with its whole article left out has no right answer
  in the index: a near-miss question about a topic the knowledge base does not cover.
- **Chit-chat:** a built-in set of everyday messages (greetings, weather, jokes) that no article answers.
- **Real outcomes:** an article the customer chose from the suggestions, an answer reported helpful or
  unhelpful, and "none of these".

Sampling is deterministic (by entry id), so a refit over unchanged content sees the same examples.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Q

from apps.answers.embedding import get_embedder
from apps.answers.models import AnswerQuery, QuestionEntry
from apps.answers.retrieval import Candidate, retrieve
from apps.answers.services.vocabulary import current_vocabulary
from apps.answers.text import normalize_for_retrieval

CANDIDATES = 5
CHITCHAT_FILE = Path(__file__).resolve().parent.parent / "data" / "chitchat.txt"


class Kind:
    SIMILAR = "similar"  # a similar question asked without itself
    UNCOVERED = "uncovered"  # a similar question asked with its article left out: no right answer
    CHITCHAT = "chitchat"
    CHOSEN = "chosen"  # the customer picked a suggestion, or said none of them
    FEEDBACK = "feedback"  # the bot reported whether an answer helped


@dataclass
class Example:
    question: str
    product_pk: int | None
    right_article_pk: int | None  # None: no article answers it
    kind: str
    candidates: list[Candidate]
    wrong_article_pk: int | None = None  # feedback: this article did not help (the right one is unknown)


@dataclass(frozen=True)
class _Ask:
    text: str
    product_pk: int | None
    right_article_pk: int | None
    kind: str
    exclude_entry: int | None = None
    exclude_article: int | None = None
    wrong_article_pk: int | None = None


def _spread(ids: list[int], limit: int) -> list[int]:
    """At most ``limit`` of ``ids``, spread evenly: deterministic for the same content."""
    if len(ids) <= limit:
        return ids
    step = len(ids) / limit
    return [ids[int(i * step)] for i in range(limit)]


def _similar_question_asks(*, product_pk: int | None, max_questions: int, max_uncovered: int) -> list[_Ask]:
    entries = QuestionEntry.objects.filter(is_standard=False, is_answer=False)
    if product_pk is not None:
        entries = entries.filter(product_id=product_pk)
    rows = list(entries.order_by("id").values_list("id", "text", "article_id", "product_id"))
    by_id = {row[0]: row for row in rows}
    asks = [
        _Ask(text, product, article, Kind.SIMILAR, exclude_entry=entry_id)
        for entry_id, text, article, product in (by_id[i] for i in _spread(list(by_id), max_questions))
    ]
    # Uncovered topics: one or two questions per article, spread over the whole knowledge base.
    per_article: dict[int, list[int]] = {}
    for entry_id, _text, article, _product in rows:
        per_article.setdefault(article, []).append(entry_id)
    picks = [ids[k] for ids in per_article.values() for k in range(min(5, len(ids)))]
    asks += [
        _Ask(text, product, None, Kind.UNCOVERED, exclude_article=article)
        for entry_id, text, article, product in (by_id[i] for i in _spread(sorted(picks), max_uncovered))
    ]
    return asks


def _chitchat_asks(product_pks: list[int | None]) -> list[_Ask]:
    lines = [line.strip() for line in CHITCHAT_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [_Ask(text, product_pks[i % len(product_pks)], None, Kind.CHITCHAT) for i, text in enumerate(lines)]


def _outcome_asks(*, product_pk: int | None, limit: int) -> list[_Ask]:
    """Real outcomes, newest first: choices (or "none of these") and feedback on direct answers."""
    labelled = AnswerQuery.objects.filter(Q(chosen_at__isnull=False) | Q(helpful__isnull=False, article__isnull=False))
    if product_pk is not None:
        labelled = labelled.filter(product_id=product_pk)
    asks = []
    for question, product, chosen_at, chosen, article, helpful in labelled.order_by("-created_at").values_list(
        "normalized", "product_id", "chosen_at", "chosen_article_id", "article_id", "helpful"
    )[:limit]:
        if chosen_at is not None:
            asks.append(_Ask(question, product, chosen, Kind.CHOSEN))
        elif helpful:
            asks.append(_Ask(question, product, article, Kind.FEEDBACK))
        else:
            asks.append(_Ask(question, product, None, Kind.FEEDBACK, wrong_article_pk=article))
    return asks


def _ask_all(asks: Iterable[_Ask], *, batch_size: int = 64) -> list[Example]:
    asks = list(asks)
    vocabulary = current_vocabulary()
    embedder = get_embedder()
    examples = []
    for start in range(0, len(asks), batch_size):
        batch = asks[start : start + batch_size]
        texts = [vocabulary.question(normalize_for_retrieval(a.text)) or a.text for a in batch]
        for ask, text, embedding in zip(batch, texts, embedder.queries(texts), strict=True):
            words, tokens = vocabulary.analyse(text)
            candidates = retrieve(
                embedding=embedding,
                tokens=tokens,
                words=words,
                product_pk=ask.product_pk,
                product_version_key=None,
                channel="",
                limit=CANDIDATES,
                exclude_entry=ask.exclude_entry,
                exclude_article=ask.exclude_article,
            )
            examples.append(
                Example(ask.text, ask.product_pk, ask.right_article_pk, ask.kind, candidates, ask.wrong_article_pk)
            )
    return examples


def collect_examples(
    *,
    product_pk: int | None = None,
    product_pks: list[int | None] | None = None,
    max_questions: int = 3000,
    max_uncovered: int = 1000,
    max_outcomes: int = 5000,
) -> list[Example]:
    """Every kind of labelled example for a knowledge base (or one product of it)."""
    asks = _similar_question_asks(product_pk=product_pk, max_questions=max_questions, max_uncovered=max_uncovered)
    asks += _chitchat_asks(product_pks or [product_pk])
    asks += _outcome_asks(product_pk=product_pk, limit=max_outcomes)
    return _ask_all(asks)
