"""Personal data typed anywhere is masked before it is stored: a phone number, an ID number, a bank card
number and an e-mail address go in; none comes out unmasked, in the bot-question log, feedback, review
comments and notes, dispute reasons and rulings."""

from __future__ import annotations

import pytest

from apps.answers.models import AnswerQuery
from apps.reviews.models import Dispute, Review
from apps.reviews.services import dispute_raise, dispute_rule, review_open_task, review_save_draft, review_submit
from tests.factories import ProductFactory, all_pass, lead_of, published_article, setup_tasks

pytestmark = pytest.mark.django_db

PHONE, ID_CARD, BANK_CARD, EMAIL = "13812345678", "11010519491231002X", "6222020200001234562", "zhang.san@example.com"
TYPED = f"我的手机{PHONE}，身份证{ID_CARD}，卡号{BANK_CARD}，邮箱{EMAIL}"


def assert_masked(*texts: str) -> None:
    joined = " ".join(texts)
    assert "138****5678" in joined  # masked, not dropped: the reader still sees that a phone was given
    for secret in (PHONE, ID_CARD, BANK_CARD, EMAIL):
        assert secret not in joined


def test_bot_questions_and_feedback_are_logged_masked(api_key_client):
    published_article(product=ProductFactory(slug="mall-app"), standard_question="退款多久到账？")
    bot = api_key_client("answers")
    response = bot.post("/api/v1/answers/", {"question": TYPED, "channel": "app", "product": "mall-app"}, format="json")
    assert response.status_code == 200
    query_id = response.json()["query_id"]
    assert bot.post(f"/api/v1/answers/{query_id}/feedback/", {"helpful": False, "comment": TYPED}, format="json")
    logged = AnswerQuery.objects.get(pk=query_id)
    assert_masked(logged.question, logged.normalized, logged.feedback_comment)


def test_review_comments_notes_and_dispute_texts_are_stored_masked():
    [task], agent, reviewer, version = setup_tasks(1)
    review = review_open_task(task, reviewer)
    criterion = version.criteria.first()
    message = task.conversation.messages.first()
    review_save_draft(
        review,
        reviewer,
        {"comment": TYPED, "criterion_notes": {str(criterion.pk): TYPED}, "message_notes": {str(message.pk): TYPED}},
    )
    review = review_submit(Review.objects.get(pk=review.pk), reviewer, {"outcomes": all_pass(version)})
    review.refresh_from_db()
    assert_masked(review.comment, *review.criterion_notes.values(), *review.message_notes.values())

    dispute = dispute_raise(review, criterion, agent, TYPED)
    dispute_rule(dispute, lead_of(), overturn=False, note=TYPED)
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert_masked(dispute.reason, dispute.decision_note)


def test_the_gaps_view_and_the_question_log_show_questions_masked(api_key_client, client):
    from apps.accounts import roles
    from tests.factories import UserFactory

    published_article(product=ProductFactory(slug="mall-app"), standard_question="退款多久到账？")
    bot = api_key_client("answers")
    bot.post("/api/v1/answers/", {"question": TYPED, "channel": "app", "product": "mall-app"}, format="json")
    client.force_login(UserFactory(role=roles.KNOWLEDGE_EDITOR))
    for url in ["/admin/answers/answerquery/", "/admin/answers/answerquery/gaps/"]:
        page = client.get(url).content.decode()
        for secret in (PHONE, ID_CARD, BANK_CARD, EMAIL):
            assert secret not in page, (url, secret)
