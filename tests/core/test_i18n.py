"""Simplified Chinese by default; Traditional Chinese and English selectable."""

import pytest
from django.utils import translation

from tests.factories import editor

pytestmark = pytest.mark.django_db


@pytest.fixture
def chinese_default(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    translation.activate("zh-hans")
    yield
    translation.activate("en")


def test_the_admin_speaks_simplified_chinese_by_default(client, chinese_default):
    client.force_login(editor())
    body = client.get("/admin/knowledge/article/").content.decode()
    assert "过期知识队列" in body  # our own string: "Stale queue"
    assert "FAQ 知识" in body


@pytest.mark.parametrize(("language", "text"), [("zh-hant", "過期知識佇列"), ("en", "Stale queue")])
def test_a_user_can_switch_language(client, chinese_default, language, text):
    client.force_login(editor())
    client.post("/i18n/setlang/", {"language": language, "next": "/admin/"})
    assert text in client.get("/admin/knowledge/article/").content.decode()


def test_service_messages_are_translated(chinese_default):
    from apps.knowledge.placeholders import check_placeholders

    [problem] = check_placeholders("您好{name}", [])
    assert "第 1 行" in str(problem)


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant", "en"])
def test_every_catalog_is_complete_and_keeps_its_placeholders(language):
    import re
    from pathlib import Path

    import polib

    catalog = polib.pofile(str(Path(__file__).resolve().parents[2] / "locale" / language / "LC_MESSAGES" / "django.po"))
    placeholder = re.compile(r"%\((\w+)\)s|\{\{\s*(\w+)\s*\}\}")
    assert len(catalog) > 300
    for entry in catalog:
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        assert translations and all(translations) and "fuzzy" not in entry.flags, entry.msgid
        for text in translations:
            assert sorted(placeholder.findall(entry.msgid)) == sorted(placeholder.findall(text)), entry.msgid
