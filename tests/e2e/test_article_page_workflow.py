"""The workflow buttons on an article's own page (not the list's actions): what a person clicks there
must do what it says. They used to be forms nested in Django's change form, so the browser submitted the
change form instead ("changed successfully") and the version stayed a draft."""

import pytest
from playwright.sync_api import expect

from apps.knowledge.models import VersionStatus
from tests.e2e.conftest import shot
from tests.factories import ProductFactory, approver, draft_article, editor

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_editor_submits_and_an_approver_publishes_and_verifies_from_the_article_page(page_as):
    version = draft_article(product=ProductFactory(), standard_question="积分怎么兑换？")
    article = version.article

    page = page_as(editor())
    page.goto(f"{page.base}/admin/knowledge/article/{article.pk}/change/")
    page.get_by_role("button", name="提交版本 1 审核").click()
    expect(page.get_by_role("button", name="提交版本 1 审核")).to_have_count(0)
    shot(page, "article-page-submitted")
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW

    page = page_as(approver())
    page.goto(f"{page.base}/admin/knowledge/article/{article.pk}/change/")
    page.get_by_placeholder("备注（可选）").fill("内容无误")
    page.get_by_role("button", name="审核通过并发布版本 1").click()
    expect(page.get_by_text("机器人和客服看到的是版本 1")).to_be_visible()
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED

    article.refresh_from_db()
    verified_before = article.last_verified_at
    page.get_by_role("button", name="核实：仍然正确").click()
    expect(page.get_by_text("机器人和客服看到的是版本 1")).to_be_visible()
    shot(page, "article-page-verified")
    article.refresh_from_db()
    assert article.last_verified_at is not None and article.last_verified_at != verified_before
