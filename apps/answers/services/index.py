"""Keeping the question index in step with published knowledge.

Each published article version contributes its standard question and similar questions, with
lexical tokens and an embedding. Versions are immutable, so a version is indexed once; entries of
versions that are no longer published are removed. Work is claimed under an advisory lock, so two
workers never index the same version twice, and the task re-enqueues itself while work remains.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from apps.answers.embedding import get_embedder
from apps.answers.models import QuestionEntry
from apps.answers.services.vocabulary import current_vocabulary, index_words_refreshed
from apps.answers.text import normalize_for_retrieval
from apps.knowledge.models import ArticleVersion, VersionStatus

_LOCK = "hashtext('answers.index')"


def _plain(markdown: str) -> str:
    return re.sub(r"[*_`#>\[\]()!|-]+", " ", markdown)


def entry_texts(*, standard_question: str, similar_questions: list[str], answer: str) -> list[tuple[str, str]]:
    """What a version puts in the index, as (text, kind): its questions, and its answer as passages."""
    rows = [(standard_question, "standard"), *((text, "similar") for text in similar_questions)]
    # The answer itself is a passage too: customers often ask with the answer's words.
    rows.append((f"{standard_question} {_plain(answer)}"[:300], "answer"))
    # And each sentence of the answer on its own (with the question for its topic): whether the answer
    # says anything about what was asked, not only whether it is about the same topic.
    rows += [(f"{standard_question} {sentence}"[:300], "answer") for sentence in _sentences(answer)]
    return rows


def _sentences(markdown: str) -> list[str]:
    parts = re.split(r"[。！？!?；;\n]+", _plain(markdown))
    return [part.strip() for part in parts if len(part.strip()) >= 6][:8]


def unpublished_entries_remove() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM answers_questionentry e USING knowledge_articleversion v "
            "WHERE v.id = e.version_id AND v.status <> 'published'"
        )
        return cursor.rowcount


def token_stats_refresh() -> None:
    """Recount document frequencies in one statement pair (the table is small: one row per token)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM answers_tokenstat")
        cursor.execute(
            "INSERT INTO answers_tokenstat (token, entries) "
            "SELECT token, count(*) FROM answers_questionentry, unnest(lexemes) AS token GROUP BY token "
            "UNION ALL SELECT '', count(*) FROM answers_questionentry"
        )


class IndexRun(NamedTuple):
    indexed: int  # versions indexed
    more: bool  # unindexed versions remain
    busy: bool  # another worker holds the index lock: nothing was done
    removed: int = 0  # entries of versions no longer published, removed


def published_versions_index(*, batch_size: int = 256) -> IndexRun:
    """Index up to ``batch_size`` unindexed published versions, and drop entries of unpublished ones."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_try_advisory_xact_lock({_LOCK})")
            if not cursor.fetchone()[0]:
                return IndexRun(0, False, True)
        removed = unpublished_entries_remove()
        pending = (
            ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED)
            .exclude(Exists(QuestionEntry.objects.filter(version=OuterRef("pk"))))
            .select_related("article")
            .prefetch_related("similar_questions")
            .order_by("pk")[: batch_size + 1]
        )
        versions = list(pending)
        more = len(versions) > batch_size
        versions = versions[:batch_size]
        if not versions:
            if removed:
                token_stats_refresh()
            return IndexRun(0, False, False, removed)
        rows = [
            (version, text, kind)
            for version in versions
            for text, kind in entry_texts(
                standard_question=version.standard_question,
                similar_questions=[q.text for q in version.similar_questions.all()],
                answer=version.answer,
            )
        ]
        vocabulary = current_vocabulary()
        # Synonyms are folded before embedding too, on both sides: 尿不湿 and 纸尿裤 embed the same.
        embedded = [vocabulary.canonical(normalize_for_retrieval(text))[:300] for _v, text, _k in rows]
        embeddings = get_embedder().passages(embedded)
        QuestionEntry.objects.bulk_create(
            [
                QuestionEntry(
                    version=version,
                    article_id=version.article_id,
                    product_id=version.article.product_id,
                    text=text,
                    is_standard=kind == "standard",
                    is_answer=kind == "answer",
                    lexemes=vocabulary.tokens(text) or ["∅"],
                    embedded_text=embedded_text,
                    embedding=embedding,
                )
                for (version, text, kind), embedded_text, embedding in zip(rows, embedded, embeddings, strict=True)
            ],
            batch_size=1000,
        )
        token_stats_refresh()
        transaction.on_commit(index_words_refreshed)
        return IndexRun(len(versions), more, False, removed)


def index_rebuild() -> int:
    """Index all pending versions now, in this process (commands, evaluation, tests)."""
    total, more = 0, True
    while more:
        run = published_versions_index(batch_size=512)
        total, more = total + run.indexed, run.more
    return total


def vocabulary_refresh() -> int:
    """After editors changed synonyms or terms: recompute every entry's tokens, and re-embed the
    entries whose synonym-folded text changed. Returns how many entries were re-embedded."""
    vocabulary = current_vocabulary()
    with transaction.atomic():
        entries = list(QuestionEntry.objects.only("pk", "text", "embedded_text"))
        changed = []
        for entry in entries:
            entry.lexemes = vocabulary.tokens(entry.text) or ["∅"]
            folded = vocabulary.canonical(normalize_for_retrieval(entry.text))[:300]
            if folded != entry.embedded_text:
                entry.embedded_text = folded
                changed.append(entry)
        for start in range(0, len(changed), 256):
            batch = changed[start : start + 256]
            for entry, embedding in zip(batch, get_embedder().passages([e.embedded_text for e in batch]), strict=True):
                entry.embedding = embedding
        QuestionEntry.objects.bulk_update(entries, ["lexemes"], batch_size=2000)
        QuestionEntry.objects.bulk_update(changed, ["embedded_text", "embedding"], batch_size=500)
        token_stats_refresh()
        transaction.on_commit(index_words_refreshed)
    return len(changed)
