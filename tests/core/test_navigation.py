"""One menu for the portal: every role sees exactly the pages it may open, on /qa/, /insights/ and in the
admin; a page it may not open answers with a friendly, translated page and a way back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts import roles
from apps.core.navigation import _links
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# A page each role can open, to read its menu from.
HOME = {
    roles.KNOWLEDGE_EDITOR: "/insights/knowledge/",
    roles.KNOWLEDGE_APPROVER: "/insights/knowledge/",
    roles.QA_REVIEWER: "/qa/",
    roles.QA_LEAD: "/insights/",
    roles.AGENT: "/qa/my-reviews/",
    roles.ADMINISTRATOR: "/insights/",
}


@pytest.mark.parametrize("role", roles.ALL_ROLES)
def test_the_menu_shows_exactly_the_pages_the_role_may_open(client, role):
    client.force_login(UserFactory(role=role))
    response = client.get(HOME[role])
    assert response.status_code == 200
    shown = {link["url"] for link in response.context["portal_links"]}
    for link in _links.values():
        url = reverse(link.url_name)
        status = client.get(url).status_code
        assert (url in shown) == (status == 200), f"{role}: {url} shown={url in shown} status={status}"
        assert status in (200, 302, 403)  # the queue sends agents to their reviews
    page = response.content.decode()
    assert all(f'href="{url}"' in page for url in shown)


def test_the_sidebar_is_one_menu_for_the_admin_and_the_portal_pages(client):
    """The theme's sidebar on every page: the portal's pages the role may open, then the admin models it
    may view, and nothing else."""
    client.force_login(UserFactory(role=roles.QA_REVIEWER))
    for url in ["/admin/", "/qa/"]:
        page = client.get(url).content.decode()
        sidebar = page[page.index('id="nav-sidebar-apps"') :]
        assert f'href="{reverse("reviews:queue")}"' in sidebar, url
        assert f'href="{reverse("insights:dashboard")}"' not in sidebar, url  # leads only
        assert 'href="/admin/knowledge/article/"' in sidebar, url  # reviewers read the knowledge base
        assert 'href="/admin/apikeys/apikey/"' not in sidebar, url  # administrators only
    client.force_login(UserFactory(role=roles.ADMINISTRATOR))
    sidebar = client.get("/admin/").content.decode().split('id="nav-sidebar-apps"', 1)[1]
    assert 'href="/admin/apikeys/apikey/"' in sidebar


def test_a_forbidden_page_is_friendly_translated_and_offers_a_way_back(client, settings):
    client.force_login(UserFactory(role=roles.QA_REVIEWER))
    response = client.get("/insights/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 403
    page = response.content.decode()
    assert "您无权访问此页面" in page and "返回" in page
    assert f'href="{reverse("reviews:queue")}"' in page  # one of the pages the reviewer may open
    assert "403 Forbidden" not in page


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (roles.KNOWLEDGE_EDITOR, "/admin/"),
        (roles.KNOWLEDGE_APPROVER, "/admin/"),
        (roles.QA_REVIEWER, "/qa/"),
        (roles.AGENT, "/qa/my-reviews/"),
        (roles.QA_LEAD, "/insights/"),
        (roles.ADMINISTRATOR, "/admin/"),
    ],
)
def test_each_role_lands_on_its_own_home_after_signing_in(client, role, home):
    user = UserFactory(role=role)
    response = client.post("/admin/login/", {"username": user.username, "password": "pw-for-tests-123"})
    assert response["Location"] == "/"  # no destination asked for: the person's own home
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == home


def test_signing_in_to_reach_a_page_still_goes_to_that_page(client):
    user = UserFactory(role=roles.QA_LEAD)
    response = client.post(
        "/admin/login/?next=/qa/reports/",
        {"username": user.username, "password": "pw-for-tests-123", "next": "/qa/reports/"},
    )
    assert response["Location"] == "/qa/reports/"
