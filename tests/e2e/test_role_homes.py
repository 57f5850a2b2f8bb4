"""Each role signs in through the login page, lands on its own home, and finds in the one sidebar exactly
the portal pages it may open; in all three languages. A screenshot per role and language."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from apps.accounts import roles
from tests.e2e.conftest import shot
from tests.factories import UserFactory, setup_tasks

pytestmark = pytest.mark.django_db(transaction=True)

HOME = {
    roles.KNOWLEDGE_EDITOR: "/admin/",
    roles.KNOWLEDGE_APPROVER: "/admin/",
    roles.QA_REVIEWER: "/qa/",
    roles.AGENT: "/qa/my-reviews/",
    roles.QA_LEAD: "/insights/",
    roles.ADMINISTRATOR: "/admin/",
}
# The menu entries each role must see (and, for some, must not): the same rules as the pages' doors.
SEES = {
    roles.KNOWLEDGE_EDITOR: ({"知识健康度", "FAQ 知识", "话术"}, {"我的队列", "服务", "API 密钥"}),
    roles.KNOWLEDGE_APPROVER: ({"知识健康度", "FAQ 知识"}, {"我的队列", "服务"}),
    roles.QA_REVIEWER: ({"我的队列", "我提交的", "申诉", "校准"}, {"服务", "报表"}),
    roles.AGENT: ({"我的质检结果", "申诉", "FAQ 知识"}, {"我的队列", "服务", "API 密钥"}),
    roles.QA_LEAD: ({"服务", "报表", "校准", "申诉"}, {"API 密钥"}),
    roles.ADMINISTRATOR: ({"服务", "FAQ 知识", "API 密钥"}, set()),
}
WELCOME_BACK = {"zh-hans": "登录", "zh-hant": "登入", "en": "Log in"}


def sign_in(browser, live_server, user, language: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/admin/login/")
    page.locator('input[name="username"]').fill(user.username)
    page.locator('input[name="password"]').fill("pw-for-tests-123")
    page.get_by_role("button", name=WELCOME_BACK[language]).click()
    page.wait_for_load_state()
    return context, page


def menu_entries(page) -> set[str]:
    """The sidebar's entries, collapsed groups included, by the words a person reads (not the icon's)."""
    return set(
        page.eval_on_selector_all(
            "#nav-sidebar-apps a",
            "links => links.map(a => a.querySelector('span:not(.material-symbols-outlined)')?.textContent.trim())",
        )
    )


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_each_role_lands_on_its_home_with_its_menu(browser, live_server, role):
    setup_tasks(1)
    user = UserFactory(role=role, is_superuser=role == roles.ADMINISTRATOR)
    context, page = sign_in(browser, live_server, user, "zh-hans")
    try:
        assert page.url == live_server.url + HOME[role]
        sees, hidden = SEES[role]
        menu = menu_entries(page)
        assert sees <= menu and not hidden & menu, (sees - menu, hidden & menu)
        shot(page, f"home-{role.replace(' ', '-')}-zh-hans")
    finally:
        context.close()


@pytest.mark.parametrize(("language", "text"), [("zh-hant", "我的佇列"), ("en", "My queue")])
def test_a_reviewers_home_speaks_the_chosen_language(browser, live_server, language, text):
    setup_tasks(1)
    user = UserFactory(role=roles.QA_REVIEWER)
    context, page = sign_in(browser, live_server, user, language)
    try:
        assert page.url == live_server.url + "/qa/"
        expect(page.locator("#nav-sidebar-apps").get_by_role("link", name=text)).to_be_visible()
        shot(page, f"home-QA-reviewer-{language}")
    finally:
        context.close()


def test_a_page_the_role_may_not_open_is_friendly_and_leads_back(browser, live_server):
    user = UserFactory(role=roles.AGENT)
    context, page = sign_in(browser, live_server, user, "zh-hans")
    try:
        response = page.goto(live_server.url + "/insights/")
        assert response.status == 403
        expect(page.get_by_role("heading", name="您无权访问此页面")).to_be_visible()
        shot(page, "forbidden-agent-insights")
        page.locator("#content").get_by_role("link", name="我的质检结果").click()
        assert page.url == live_server.url + "/qa/my-reviews/"
    finally:
        context.close()
