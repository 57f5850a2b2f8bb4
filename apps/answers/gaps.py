"""Knowledge gaps: questions bots could not answer well, grouped so editors can close them.

A gap is a handed-off question (low confidence, no match, or a session's failures in a row), a
suggestion list the customer answered with "none of these", or an answer marked unhelpful, not yet
resolved. Questions are grouped by meaning, with the embeddings bots already use (by the overlap of
their words if the embedder is unavailable).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.answers.embedding import get_embedder
from apps.answers.models import AnswerQuery, Decision
from apps.answers.services.vocabulary import current_vocabulary
from apps.catalog.models import Product
from apps.core.errors import ValidationFailed
from apps.knowledge.models import Article, ArticleVersion
from apps.knowledge.services import workflow
from apps.knowledge.services.content import ArticleContent

SIMILARITY = 0.5  # token overlap, when the embedder is unavailable
MEANING_SIMILARITY = 0.95  # cosine of the bots' embeddings
EMBEDDING_CACHE_SECONDS = 7 * 86400
MAX_QUERIES = 5000
logger = logging.getLogger(__name__)


@dataclass
class GapGroup:
    key: str  # the id of its first query: stable enough to act on
    question: str
    count: int
    examples: list[str]
    query_ids: list[str]
    best_guess: Article | None
    product: Product | None
    reasons: list[tuple[str, int]] = field(default_factory=list)  # (reason label, count)
    best_guess_question: str = ""  # what editors recognise the best guess by


def open_gap_queries() -> QuerySet[AnswerQuery]:
    return AnswerQuery.objects.filter(gap_resolved_at__isnull=True).filter(
        Q(decision__in=[Decision.LOW_CONFIDENCE, Decision.NO_MATCH, Decision.FAILURE_STREAK])
        | Q(helpful=False)
        | Q(decision=Decision.CLARIFY, chosen_at__isnull=False, chosen_article__isnull=True)
    )


def _embeddings(texts: list[str]) -> np.ndarray:
    """The bots' own embeddings of the questions, cached per text: grouping the same gaps again is free."""
    keys = {text: "answers:gap-embedding:" + hashlib.sha1(text.encode()).hexdigest() for text in set(texts)}
    cached = cache.get_many(list(keys.values()))
    missing = [text for text, key in keys.items() if key not in cached]
    for start in range(0, len(missing), 64):
        batch = missing[start : start + 64]
        vectors = get_embedder().queries(batch)
        fresh = {keys[text]: vector.astype(np.float32).tobytes() for text, vector in zip(batch, vectors, strict=True)}
        cache.set_many(fresh, EMBEDDING_CACHE_SECONDS)
        cached.update(fresh)
    return np.array([np.frombuffer(cached[keys[text]], dtype=np.float32) for text in texts])


def _group_by_meaning(queries: list[AnswerQuery]) -> list[list[AnswerQuery]]:
    """Greedy grouping by the cosine similarity of the questions' embeddings to each group's first one:
    提现多久到账 and 退款多久到账 share words but not meaning (0.94), 门店几点开门 and 你们门店几点开门呀 do (0.99)."""
    vectors = _embeddings([query.normalized or query.question for query in queries])
    heads: list[np.ndarray] = []
    groups: list[list[AnswerQuery]] = []
    for query, vector in zip(queries, vectors, strict=True):
        if heads:
            similarities = np.array(heads) @ vector
            best = int(similarities.argmax())
            if similarities[best] >= MEANING_SIMILARITY:
                groups[best].append(query)
                continue
        heads.append(vector)
        groups.append([query])
    return groups


def _group_by_words(queries: list[AnswerQuery]) -> list[list[AnswerQuery]]:
    """Without the embedder (an outside endpoint that is down): the overlap of the questions' tokens."""
    vocabulary = current_vocabulary()
    groups: list[tuple[set[str], list[AnswerQuery]]] = []
    for query in queries:
        tokens = set(vocabulary.tokens(query.normalized)) or {query.normalized}
        for group_tokens, members in groups:
            if len(tokens & group_tokens) / len(tokens | group_tokens) >= SIMILARITY:
                members.append(query)
                group_tokens |= tokens
                break
        else:
            groups.append((tokens, [query]))
    return [members for _tokens, members in groups]


def gap_groups(*, limit: int = 100) -> list[GapGroup]:
    queries = list(open_gap_queries().select_related("top_candidate", "product").order_by("-created_at")[:MAX_QUERIES])
    try:
        grouped = _group_by_meaning(queries) if queries else []
    except Exception:
        logger.warning("knowledge gaps grouped by words: the embedder failed", exc_info=True)
        grouped = _group_by_words(queries)
    groups = [(None, members) for members in grouped]
    result = []
    for _tokens, members in groups:
        questions = Counter(m.question for m in members)
        guesses = Counter(m.top_candidate for m in members if m.top_candidate)
        products = Counter(m.product for m in members if m.product)
        result.append(
            GapGroup(
                key=str(members[0].pk),
                question=questions.most_common(1)[0][0],
                count=len(members),
                examples=[q for q, _n in questions.most_common(5)],
                query_ids=[str(m.pk) for m in members],
                best_guess=guesses.most_common(1)[0][0] if guesses else None,
                product=products.most_common(1)[0][0] if products else None,
                reasons=Counter(_gap_reason(m) for m in members).most_common(),
            )
        )
    result.sort(key=lambda g: g.count, reverse=True)
    result = result[:limit]
    guesses_pks = {g.best_guess.pk for g in result if g.best_guess}
    questions = dict(
        ArticleVersion.objects.filter(article_id__in=guesses_pks)
        .order_by("article_id", "-number")
        .distinct("article_id")
        .values_list("article_id", "standard_question")
    )
    for group in result:
        if group.best_guess:
            group.best_guess_question = questions.get(group.best_guess.pk, "")
    return result


def _gap_reason(query: AnswerQuery) -> str:
    if query.helpful is False:
        return str(_("Unhelpful"))
    if query.decision == Decision.CLARIFY:
        return str(_("None of the suggestions"))
    return str(Decision(query.decision).label)


def _group(key: str) -> GapGroup:
    group = next((g for g in gap_groups(limit=10**6) if key in g.query_ids), None)
    if group is None:
        raise ValidationFailed(_("This gap was resolved in the meantime."))
    return group


@transaction.atomic
def gap_create_draft(*, key: str, product: Product, by) -> ArticleVersion:
    """A new draft article whose standard question is the group's most asked, the rest similar questions."""
    group = _group(key)
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    version = workflow.article_create(
        external_id=f"gap-{stamp}-{group.key[:8]}",
        product=product,
        by=by,
        content=ArticleContent(
            standard_question=group.question[:300],
            similar_questions=group.examples[1:],
            answer=_("(Write the answer.)"),
        ),
    )
    AnswerQuery.objects.filter(pk__in=group.query_ids).update(gap_resolved_at=timezone.now())
    return version


@transaction.atomic
def gap_add_as_similar(*, key: str, article: Article, by) -> ArticleVersion:
    """A new draft version of ``article`` with the group's questions added as similar questions."""
    group = _group(key)
    latest = article.versions.order_by("-number").first()
    if latest is None:
        raise ValidationFailed(_("The article has no version to extend."))
    content = workflow.content_of(latest)
    content.similar_questions = [*content.similar_questions, *group.examples]
    version = workflow.version_create(
        item=article,
        base_number=latest.number,
        content=content,
        by=by,
        change_note=_("Similar questions from knowledge gaps"),
    )
    AnswerQuery.objects.filter(pk__in=group.query_ids).update(gap_resolved_at=timezone.now())
    return version
