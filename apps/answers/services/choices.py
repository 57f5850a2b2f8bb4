"""The customer's pick among a bot's suggestions (or "none of these")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.answers.models import AnswerQuery, Decision
from apps.answers.services.answering import asked_with, failure_streak
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.knowledge.models import Article, ArticleVersion, ChannelAnswer
from apps.knowledge.selectors import bot_visible_versions


def _published_answer(*, article_pk: int, channel: str) -> dict:
    """The article's version bots may see now, with the channel's own answer when it has one."""
    version = (
        bot_visible_versions(ArticleVersion.objects.filter(article_id=article_pk)).select_related("article").first()
    )
    if version is None:
        raise Conflict(_("That article is no longer published."))
    text = (
        ChannelAnswer.objects.filter(version=version, channel=channel).values_list("answer", flat=True).first()
        if channel
        else None
    )
    return {
        "article_id": version.article.external_id,
        "version": version.number,
        "question": version.standard_question,
        "text": text or version.answer,
    }


@dataclass
class ChoiceResult:
    query_id: str
    answer: dict | None
    handoff: bool


def suggestion_choose(*, query_id: uuid.UUID, article_id: str | None, api_key=None) -> ChoiceResult:
    """The customer picked one of the suggested questions (``article_id``), or none of them (``None``).

    A choice is a labelled example for the next refit; "none of these" is a knowledge gap and a failure
    for the session's streak. Choosing the same again is harmless; changing a recorded choice is refused.
    """
    with transaction.atomic():
        query = AnswerQuery.objects.select_for_update().filter(pk=query_id).filter(asked_with(api_key)).first()
        if query is None:
            raise NotFound(_("No such answer."))
        if query.decision != Decision.CLARIFY:
            raise Conflict(_("This question was not answered with suggestions."))
        chosen_pk = None
        if article_id is not None:
            suggested = dict(Article.objects.filter(pk__in=query.suggested_articles).values_list("external_id", "pk"))
            if article_id not in suggested:
                raise ValidationFailed(
                    _("That article was not among the suggestions."),
                    field_errors={"article_id": [_("Choose one of the suggested articles, or null for none.")]},
                )
            chosen_pk = suggested[article_id]
        if query.chosen_at is not None:
            if query.chosen_article_id != chosen_pk:
                raise Conflict(_("A different choice was already recorded for this question."))
        else:
            AnswerQuery.objects.filter(pk=query.pk).update(chosen_article_id=chosen_pk, chosen_at=timezone.now())
    if chosen_pk is None:
        streak = failure_streak(query.session_id, query.api_key) if query.session_id else 0
        # The customer is left with nothing: one more failure would hand off anyway, so hand off now.
        return ChoiceResult(str(query.pk), None, handoff=streak + 1 >= settings.ANSWER_FAILURE_STREAK)
    return ChoiceResult(str(query.pk), _published_answer(article_pk=chosen_pk, channel=query.channel), handoff=False)
