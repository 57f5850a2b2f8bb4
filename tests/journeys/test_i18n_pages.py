"""Every page renders in Simplified and Traditional Chinese with none of our English strings left, and none
of the admin theme's: every list, add and change page of every model in the admin, and every portal page.

The strings looked for are every message of our catalog and every message of the theme's (django-unfold's)
templates, so a string Python builds for display without translating it shows up here too."""

from __future__ import annotations

import re
from functools import cache
from html import unescape
from pathlib import Path

import polib
import pytest
import unfold
from django.contrib import admin
from django.urls import reverse

from apps.accounts import roles
from tests.factories import UserFactory, lead_of, published_article, published_script, setup_tasks
from tests.kbportal.test_i18n import marked_in_template

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "locale"
BRAND = {"KB Portal", "Portal"}  # the product's name stays as it is in every language
OWN_NAME = {"English"}  # the language menu names each language in itself
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


@cache
def english_strings(language: str) -> tuple[re.Pattern, ...]:
    """Messages worth looking for: several words, or one capitalised word of five letters or more (short or
    lower-case single words such as "App" or "agent" also occur in data); translated to something else."""
    catalog = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    ours = {e.msgid for e in catalog if e.msgstr != e.msgid}
    theme = {msgid for path in Path(unfold.__file__).parent.rglob("*.html") for _ctx, msgid in marked_in_template(path)}
    strings = set()
    for text in ours | theme:
        text = " ".join(text.split())
        worth = "%" not in text and "{" not in text and re.search(r"[A-Za-z]{3}", text)
        if worth and (" " in text or (len(text) >= 5 and text[0].isupper())):
            strings.add(text)
    return tuple(
        re.compile(r"(?<![A-Za-z])" + re.escape(s) + r"(?![A-Za-z-])") for s in sorted(strings - BRAND - OWN_NAME)
    )


def visible_text(html: str) -> str:
    """What a person reads: the text, and the labels of controls (placeholders, aria-labels, titles)."""
    labels = " ".join(re.findall(r'(?:placeholder|aria-label|title)="([^"]*)"', html))
    return " ".join(unescape(_TAGS.sub(" ", html) + " " + labels).replace("KB Portal", " ").split())


def admin_pages(user) -> list[str]:
    """The list page of every model the person may view, its add page, and the change page of one object."""
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    urls = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_permission(request):
            continue
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]))
    return urls


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
def test_every_page_has_no_untranslated_strings(client, language):
    [task], agent, reviewer, _version = setup_tasks(1)
    article = published_article().article
    published_script()
    lead = lead_of()
    administrator = UserFactory(role=roles.ADMINISTRATOR, is_superuser=True)
    strings = english_strings({"zh-hans": "zh_Hans", "zh-hant": "zh_Hant"}[language])
    pages = {
        reviewer: ["/qa/", f"/qa/tasks/{task.pk}/", "/qa/submitted/"],
        agent: ["/qa/my-reviews/"],
        lead: ["/qa/reports/", "/qa/calibrations/", "/qa/disputes/", "/insights/", "/insights/knowledge/"],
        administrator: [
            *admin_pages(administrator),
            f"/admin/knowledge/article/{article.pk}/edit/",
            f"/admin/knowledge/article/{article.pk}/diff/",
            "/admin/knowledge/article/import/",
            "/admin/answers/answerquery/gaps/",
            "/admin/qa/scorecard/import/",
        ],
    }
    assert len(pages[administrator]) > 60  # every model's pages, not a sample
    untranslated = {}
    for user, urls in pages.items():
        client.force_login(user)
        client.cookies["django_language"] = language
        for url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, url
            text = visible_text(response.content.decode())
            left = [
                p.pattern.removeprefix("(?<![A-Za-z])").removesuffix("(?![A-Za-z-])") for p in strings if p.search(text)
            ]
            if left:
                untranslated[url] = left[:5]
    assert not untranslated, "\n".join(f"{url}: {left}" for url, left in untranslated.items())
