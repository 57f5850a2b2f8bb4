"""The admin's lists fit a 1440 px screen without horizontal scrolling, with realistic content."""

import pytest

from apps.accounts import roles
from tests.e2e.conftest import shot
from tests.factories import ProductFactory, UserFactory, published_article, published_script, setup_tasks

pytestmark = pytest.mark.django_db(transaction=True)

LISTS = [
    "/admin/knowledge/article/",
    "/admin/knowledge/script/",
    "/admin/knowledge/articleversion/",
    "/admin/knowledge/staleflag/",
    "/admin/answers/answerquery/",
    "/admin/conversations/conversation/",
    "/admin/qa/reviewtask/",
    "/admin/qa/rule/",
    "/admin/answers/confidencefit/",
]


def test_the_main_lists_fit_1440_px(page_as):
    setup_tasks(2)
    mall = ProductFactory(slug="mall-app", name="母婴商城 App")
    for n in range(3):
        published_article(
            product=mall,
            external_id=f"mall-refund-{n:03d}",
            standard_question="退款审核通过以后，一般要等几天钱才能回到我的账户？如果超过时效还没到账怎么办？",
            features=["refund"] if n == 0 else [],
        )
        published_script(product=mall)
    from apps.answers.models import AnswerQuery
    from apps.catalog.services import release_record
    from apps.knowledge.services.stale import release_flag_stale_content

    release = release_record(product=mall, version="5.3.0", changed_feature_slugs=["refund"], announce=False).release
    release_flag_stale_content(release_id=release.pk)

    long_question = (
        "我上周五申请的退款审核已经通过了但是到现在银行卡里还没有收到钱请问是什么原因我需要怎么处理才能尽快到账"
    )
    for n in range(5):
        AnswerQuery.objects.create(
            question=long_question,
            normalized=long_question,
            decision="low_confidence",
            confidence=0.42,
            latency_ms=31.5,
            channel="wechat",
            session_id=f"wx-session-{n:020d}",
        )
    admin_user = UserFactory(role=roles.ADMINISTRATOR, is_superuser=True)
    page = page_as(admin_user)
    page.set_viewport_size({"width": 1440, "height": 900})
    too_wide = {}
    for url in LISTS:
        page.goto(page.base + url)
        assert page.locator("#changelist").count() == 1, url  # the list itself, not a login or error page
        # Neither the page nor the list's own box (Django scrolls a wide table inside it) may scroll sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        overflow = page.evaluate(
            "(() => { const box = document.querySelector('.results');"
            " return box ? box.scrollWidth - box.clientWidth : 0; })()"
        )
        if width > 1440 or overflow > 0:
            too_wide[url] = (width, overflow)
            shot(page, "too-wide-" + url.strip("/").replace("/", "-"))
    page.goto(page.base + "/admin/answers/answerquery/")
    shot(page, "list-bot-questions-1440")
    assert not too_wide, too_wide
