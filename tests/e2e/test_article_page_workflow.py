"""The workflow buttons on an article's own page (not the list's actions): what a person clicks there
must do what it says. They used to be forms nested in Django's change form, so the browser submitted the
change form instead ("changed successfully") and the version stayed a draft."""

import pytest
from playwright.sync_api import expect

from apps.knowledge.models import VersionStatus
from tests.e2e.conftest import shot
from tests.factories import ProductFactory, approver, draft_article, editor, published_article

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


def test_an_editor_sees_the_answer_per_channel_live_while_writing_and_saves_it(page_as):
    """The editor opens "Edit (new version)" from the article page, writes Markdown and sees it rendered as
    customers will; a channel with its own answer previews that one, a channel without shows the default."""
    article = published_article(product=ProductFactory(), standard_question="积分怎么兑换？").article
    page = page_as(editor())
    page.goto(f"{page.base}/admin/knowledge/article/{article.pk}/change/")
    page.get_by_role("link", name="编辑（新版本）").click()
    preview = page.locator("#kb-preview-output")
    answer = page.locator('textarea[name="answer"]')
    answer.fill("积分可在「我的 > 积分」中**兑换优惠券**。\n\n1. 打开积分页\n2. 选择优惠券")
    expect(preview.locator("strong")).to_have_text("兑换优惠券")
    expect(preview.locator("ol li")).to_have_count(2)
    shot(page, "editor-live-preview-default")

    page.locator("#kb-preview-channel").select_option(label="电话")
    expect(page.locator(".kb-preview-source")).to_contain_text("显示默认答案")
    expect(preview.locator("strong")).to_have_text("兑换优惠券")
    page.get_by_role("heading", name="各渠道答案").click()  # the collapsed section of per-channel answers
    page.locator('textarea[name="answer_phone"]').fill("请说出您的会员号，我来帮您兑换。")
    expect(preview).to_have_text("请说出您的会员号，我来帮您兑换。")
    expect(page.locator(".kb-preview-source")).to_contain_text("单独答案")
    shot(page, "editor-live-preview-phone")

    page.get_by_role("button", name="保存为新版本").click()
    expect(page.get_by_role("button", name="提交版本 2 审核")).to_be_visible()
    latest = article.versions.order_by("-number").first()
    assert latest.number == 2 and latest.status == VersionStatus.DRAFT
    assert latest.channel_answers.get(channel="phone").answer == "请说出您的会员号，我来帮您兑换。"
    shot(page, "editor-saved-version-2")
