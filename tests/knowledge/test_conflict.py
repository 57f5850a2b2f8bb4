"""Two editors saving from the same base version: the second is told, nothing is overwritten."""

import pytest

from apps.knowledge.models import ArticleVersion
from apps.knowledge.services import workflow
from tests.factories import article_content, editor, published_article

pytestmark = pytest.mark.django_db


def test_the_second_save_from_the_same_base_is_a_conflict_showing_what_changed():
    article = published_article(answer="原答案").article
    alice, bob = editor(username="alice"), editor(username="bob")

    workflow.version_create(item=article, base_number=1, content=article_content(answer="Alice 的答案"), by=alice)
    with pytest.raises(workflow.EditConflict) as caught:
        workflow.version_create(item=article, base_number=1, content=article_content(answer="Bob 的答案"), by=bob)

    conflict = caught.value
    assert conflict.status_code == 409
    assert "alice" in conflict.message
    assert conflict.latest.number == 2
    changed = {d.field: (d.old, d.new) for d in conflict.changes}
    assert changed == {"answer": ("原答案", "Alice 的答案")}
    assert list(ArticleVersion.objects.filter(article=article).values_list("answer", flat=True).order_by("number")) == [
        "原答案",
        "Alice 的答案",
    ]


def test_the_admin_shows_the_conflict_and_keeps_the_editors_text(client):
    article = published_article(answer="原答案").article
    alice, bob = editor(username="alice"), editor(username="bob")
    workflow.version_create(item=article, base_number=1, content=article_content(answer="Alice 的答案"), by=alice)

    client.force_login(bob)
    response = client.post(
        f"/admin/knowledge/article/{article.pk}/edit/",
        {
            "base_version": 1,
            "standard_question": "退款多久到账？",
            "similar_questions": "退款什么时候到",
            "answer": "Bob 的答案",
            "language": "zh-hans",
        },
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "alice" in body and "Alice" in body  # who saved, and what they changed
    assert "Bob 的答案" in body  # Bob's text is still in the form
    assert ArticleVersion.objects.filter(article=article).count() == 2
