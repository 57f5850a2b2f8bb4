"""The main screens render in Simplified and Traditional Chinese with none of our English strings left:
every translated message of the catalog is looked for in the rendered text."""

import re
from html import unescape
from pathlib import Path

import polib
import pytest

from apps.accounts import roles
from tests.factories import UserFactory
from tests.reviews.helpers import lead_of, setup_tasks

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "locale"
BRAND = {"KB Portal"}  # the product's name stays as it is in every language
_TAGS = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


def english_strings(language: str) -> list[str]:
    """Our own messages worth looking for: several words, translated to something else."""
    catalog = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    return [
        e.msgid
        for e in catalog
        if " " in e.msgid.strip()
        and e.msgstr != e.msgid
        and e.msgid not in BRAND
        and "%" not in e.msgid
        and "{" not in e.msgid
        and re.search(r"[A-Za-z]{3}", e.msgid)
    ]


def visible_text(html: str) -> str:
    return " ".join(unescape(_TAGS.sub(" ", html)).split())


@pytest.mark.parametrize(("language", "catalog"), [("zh-hans", "zh_Hans"), ("zh-hant", "zh_Hant")])
def test_main_screens_have_no_untranslated_strings(client, language, catalog):
    [task], _agent, reviewer, _version = setup_tasks(1)
    lead = lead_of()
    lead.groups.add(*UserFactory(role=roles.ADMINISTRATOR).groups.all())
    strings = english_strings(catalog)
    pages = {
        reviewer: ["/qa/", f"/qa/tasks/{task.pk}/"],
        lead: [
            "/qa/reports/",
            "/qa/calibrations/",
            "/qa/disputes/",
            "/insights/",
            "/insights/knowledge/",
            "/admin/",
            "/admin/qa/rule/",
            "/admin/qa/reviewtask/",
            "/admin/qa/scorecard/",
        ],
    }
    for user, urls in pages.items():
        client.force_login(user)
        client.cookies["django_language"] = language
        for url in urls:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert response.status_code == 200, url
            text = visible_text(response.content.decode())
            left = [s for s in strings if s in text]
            assert not left, f"{url} in {language}: {left[:5]}"
