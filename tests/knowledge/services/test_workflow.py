"""The editorial workflow: draft → in review → published → superseded/archived."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from apps.core.errors import PermissionRefused, ValidationFailed
from apps.knowledge.models import ArticleVersion, VersionStatus
from apps.knowledge.services import workflow
from tests.factories import approver, article_content, draft_article, editor, published_article

pytestmark = pytest.mark.django_db


def test_an_editor_submits_and_an_approver_publishes():
    author = editor()
    version = draft_article(by=author)
    assert version.status == VersionStatus.DRAFT

    workflow.version_submit(version=version, by=author)
    published = workflow.version_publish(version=version, by=approver(), comment="LGTM")

    assert published.status == VersionStatus.PUBLISHED
    assert published.published_at is not None


def test_publishing_supersedes_the_previous_version():
    first = published_article()
    author = editor()
    second = workflow.version_create(
        item=first.article, base_number=1, content=article_content(answer="新答案：2 个工作日内到账。"), by=author
    )
    workflow.version_submit(version=second, by=author)
    workflow.version_publish(version=second, by=approver())

    statuses = dict(ArticleVersion.objects.filter(article=first.article).values_list("number", "status"))
    assert statuses == {1: VersionStatus.SUPERSEDED, 2: VersionStatus.PUBLISHED}


def test_the_database_refuses_two_published_versions_of_one_article():
    first = published_article()
    second = workflow.version_create(
        item=first.article, base_number=1, content=article_content(answer="另一个答案"), by=None
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleVersion.objects.filter(pk=second.pk).update(status=VersionStatus.PUBLISHED)


def test_an_editor_cannot_publish():
    author = editor()
    version = draft_article(by=author)
    workflow.version_submit(version=version, by=author)
    with pytest.raises(PermissionRefused):
        workflow.version_publish(version=version, by=author)
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW


def test_an_author_cannot_approve_their_own_compliance_sensitive_version():
    author = approver()
    version = draft_article(by=author, compliance_sensitive=True)
    workflow.version_submit(version=version, by=author)

    with pytest.raises(PermissionRefused, match="compliance-sensitive"):
        workflow.version_publish(version=version, by=author)
    published = workflow.version_publish(version=version, by=approver())
    assert published.status == VersionStatus.PUBLISHED


def test_an_approver_may_approve_their_own_version_of_ordinary_content():
    author = approver()
    version = draft_article(by=author)
    workflow.version_submit(version=version, by=author)
    assert workflow.version_publish(version=version, by=author).status == VersionStatus.PUBLISHED


def test_only_versions_in_review_can_be_published():
    version = draft_article()
    with pytest.raises(ValidationFailed, match="in review"):
        workflow.version_publish(version=version, by=approver())


def test_sending_back_needs_a_reason_and_returns_the_version_to_draft():
    version = draft_article()
    workflow.version_submit(version=version, by=None)
    with pytest.raises(ValidationFailed):
        workflow.version_reject(version=version, by=approver(), comment=" ")
    rejected = workflow.version_reject(version=version, by=approver(), comment="答案缺少到账渠道说明")
    assert rejected.status == VersionStatus.DRAFT
    assert rejected.review_comment == "答案缺少到账渠道说明"


def test_rollback_republishes_old_content_as_a_new_version():
    first = published_article(answer="旧答案：3 个工作日。")
    second = workflow.version_create(
        item=first.article, base_number=1, content=article_content(answer="新答案：当天到账。"), by=None
    )
    workflow.version_submit(version=second, by=None)
    workflow.version_publish(version=second, by=None)

    third = workflow.item_rollback(item=first.article, to_number=1, by=approver())

    assert third.number == 3
    assert third.status == VersionStatus.PUBLISHED
    assert third.answer == "旧答案：3 个工作日。"
    assert ArticleVersion.objects.get(article=first.article, number=2).status == VersionStatus.SUPERSEDED


def test_rollback_needs_the_approver_role():
    first = published_article()
    with pytest.raises(PermissionRefused):
        workflow.item_rollback(item=first.article, to_number=1, by=editor())


def test_archiving_takes_the_article_offline_and_keeps_history():
    version = published_article()
    with pytest.raises(PermissionRefused):
        workflow.item_archive(item=version.article, by=editor())
    workflow.item_archive(item=version.article, by=approver())
    version.refresh_from_db()
    assert version.status == VersionStatus.ARCHIVED
    assert not ArticleVersion.objects.filter(article=version.article, status=VersionStatus.PUBLISHED).exists()


def test_a_new_edit_supersedes_older_pending_drafts():
    first = draft_article()
    workflow.version_submit(version=first, by=None)
    second = workflow.version_create(
        item=first.article, base_number=1, content=article_content(answer="改一下"), by=None
    )
    first.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED
    assert second.status == VersionStatus.DRAFT


def test_saving_identical_content_is_refused_as_nothing_changed():
    first = draft_article()
    with pytest.raises(ValidationFailed, match="Nothing changed"):
        workflow.version_create(item=first.article, base_number=1, content=article_content(), by=None)


def test_answers_are_sanitised_markdown():
    version = draft_article(answer='**粗体** <script>alert(1)</script><a href="javascript:alert(1)">x</a>')
    assert "<strong>粗体</strong>" in version.answer_html
    assert "<script" not in version.answer_html
    assert "javascript:" not in version.answer_html


def test_invalid_content_names_each_field():
    with pytest.raises(ValidationFailed) as caught:
        draft_article(standard_question=" ", channel_answers={"fax": "…"}, max_product_version="abc")
    assert set(caught.value.field_errors) >= {"standard_question", "channel_answers", "max_product_version"}


def test_new_items_get_the_configured_verification_interval_and_the_owner_as_verifier(settings):
    settings.KNOWLEDGE_DEFAULT_VERIFICATION_DAYS = 30
    author = editor()
    article = draft_article(by=author).article
    assert article.verification_interval_days == 30
    assert article.owner == author and article.verifier == author


# --- conflicts ----------------------------------------------------------------------------------------
# Two editors saving from the same base version: the second is told, nothing is overwritten.


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


# --- concurrency --------------------------------------------------------------------------------------
# Real concurrency on PostgreSQL: simultaneous saves from one base version never both succeed.


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_from_the_same_base_yield_one_version_and_one_conflict():
    article = published_article(answer="原答案").article
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(answer: str) -> None:
        try:
            barrier.wait()
            workflow.version_create(item=article, base_number=1, content=article_content(answer=answer), by=None)
            outcomes.append("saved")
        except workflow.EditConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(text,)) for text in ("甲的答案", "乙的答案")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict", "saved"]
    assert ArticleVersion.objects.filter(article=article).count() == 2
