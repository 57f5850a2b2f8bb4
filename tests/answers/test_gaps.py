"""Knowledge gaps: unanswered questions grouped for editors, one click from new knowledge."""

import pytest

from apps.answers.gaps import gap_groups
from apps.answers.models import AnswerQuery
from apps.knowledge.models import Article, VersionStatus
from tests.factories import ProductFactory, editor, published_article

pytestmark = pytest.mark.django_db


def gap(question: str, **extra) -> AnswerQuery:
    return AnswerQuery.objects.create(
        question=question, normalized=question, decision="low_confidence", confidence=0.1, latency_ms=10, **extra
    )


@pytest.fixture
def gaps():
    mall = ProductFactory(slug="mall-app")
    for text in ("门店几点开门", "门店几点开门", "你们门店几点开门呀", "直播间抽奖怎么参加"):
        gap(text, product=mall)
    AnswerQuery.objects.create(
        question="退款多久到账",
        normalized="退款多久到账",
        decision="answered",
        confidence=0.9,
        latency_ms=10,
        helpful=True,
    )
    return mall


def test_similar_unanswered_questions_are_grouped_with_counts(gaps):
    groups = gap_groups()
    assert [(g.question, g.count) for g in groups] == [("门店几点开门", 3), ("直播间抽奖怎么参加", 1)]
    assert groups[0].examples == ["门店几点开门", "你们门店几点开门呀"]


def test_create_draft_from_a_gap(client, gaps):
    client.force_login(editor())
    group = gap_groups()[0]
    response = client.post(f"/admin/answers/answerquery/gaps/{group.key}/draft/", {"product": gaps.pk})
    article = Article.objects.get(external_id__startswith="gap-")
    assert response.status_code == 302 and response["Location"].endswith(f"/article/{article.pk}/edit/")
    version = article.versions.get()
    assert (version.standard_question, version.status) == ("门店几点开门", VersionStatus.DRAFT)
    assert [q.text for q in version.similar_questions.all()] == ["你们门店几点开门呀"]
    assert [g.question for g in gap_groups()] == ["直播间抽奖怎么参加"]


def test_add_a_gap_as_similar_questions_to_an_article(client, gaps):
    article = published_article(product=gaps, external_id="mall-store-001", standard_question="门店营业时间？").article
    client.force_login(editor())
    group = gap_groups()[0]
    client.post(f"/admin/answers/answerquery/gaps/{group.key}/similar/", {"article": "mall-store-001"})
    draft = article.versions.get(number=2)
    assert draft.status == VersionStatus.DRAFT
    assert {"门店几点开门", "你们门店几点开门呀"} <= {q.text for q in draft.similar_questions.all()}


def test_the_gaps_page_renders_and_agents_cannot_act(client, gaps):
    from apps.accounts import roles
    from tests.factories import UserFactory

    client.force_login(editor())
    assert "门店几点开门" in client.get("/admin/answers/answerquery/gaps/").content.decode()
    client.force_login(UserFactory(role=roles.AGENT))
    group = gap_groups()[0]
    assert client.post(f"/admin/answers/answerquery/gaps/{group.key}/draft/", {"product": gaps.pk}).status_code == 403


def test_questions_handed_off_for_a_failure_streak_are_gaps_too(gaps):
    AnswerQuery.objects.create(
        question="会员卡怎么退订", normalized="会员卡怎么退订", decision="failure_streak", confidence=0.4, latency_ms=10
    )
    questions = {g.question for g in gap_groups()}
    assert "会员卡怎么退订" in questions


def test_the_editors_home_links_to_the_knowledge_gaps(client):
    client.force_login(editor())
    page = client.get("/admin/").content.decode()
    assert "/admin/answers/answerquery/gaps/" in page


def test_a_gap_names_its_best_guess_by_question(client, gaps):
    article = published_article(product=gaps, external_id="store-hours", standard_question="门店营业时间是几点？")
    AnswerQuery.objects.filter(decision="low_confidence").update(top_candidate=article.article)
    client.force_login(editor())
    page = client.get("/admin/answers/answerquery/gaps/").content.decode()
    assert "门店营业时间是几点？" in page


def test_gaps_are_grouped_by_meaning_not_by_shared_words(gaps):
    for text in ("提现多久到账", "提现几天能到", "退款多久到账", "退款什么时候到账"):
        gap(text, product=gaps)
    groups = {frozenset(g.examples) for g in gap_groups()}
    assert frozenset({"提现多久到账", "提现几天能到"}) in groups
    assert frozenset({"退款多久到账", "退款什么时候到账"}) in groups
    assert frozenset({"门店几点开门", "你们门店几点开门呀"}) in groups


def test_without_the_embedder_gaps_are_still_grouped_by_words(gaps, settings, caplog):
    from apps.answers.embedding import get_embedder

    settings.EMBEDDING_BACKEND = "openai"
    settings.EMBEDDING_URL = "http://127.0.0.1:9/v1"  # nothing listens: the embedder fails
    get_embedder.cache_clear()
    try:
        from django.core.cache import cache

        cache.clear()
        groups = gap_groups()
    finally:
        get_embedder.cache_clear()
    assert sum(g.count for g in groups) == 4 and any(g.count == 3 for g in groups)
    assert "grouped by words" in caplog.text
