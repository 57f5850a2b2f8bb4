"""Translations (``kbportal/i18n.py`` compiles the catalogs): Simplified Chinese by default, Traditional Chinese
and English selectable, and every string a person reads is translatable and translated, found in the sources
themselves rather than on a few screens:

- every message marked in any template or Python module of ours is in all three catalogs;
- no template shows English text outside a translate tag (in text or in a person-facing attribute);
- no Python module hands a person a bare English literal where Django displays it (admin column and
  field names, help texts, messages, validation and domain errors).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polib
import pytest
from django.template.base import Lexer, TokenType
from django.utils import translation
from django.utils.translation.template import templatize

from tests.factories import editor

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
TEMPLATE_DIRS = [ROOT / "templates", *sorted((ROOT / "apps").glob("*/templates"))]
PYTHON_DIRS = [ROOT / "apps", ROOT / "kbportal"]

# Words that stay as they are in every language: the product's name, formats, metric abbreviations.
KEEP = {
    "KB",
    "Portal",
    "CSV",
    "Excel",
    "JSON",
    "Markdown",
    "API",
    "ID",
    "FRT",
    "AHT",
    "FCR",
    "CSAT",
    "SLA",
    "QA",
    "App",
    "Krippendorff",
    # Keys on the keyboard, named as printed on them.
    "Ctrl",
    "Enter",
    "Esc",
    "Shift",
    "Alt",
    "Tab",
}
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
_PERSON_FACING_ATTRIBUTES = re.compile(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"')
_BUTTON_VALUE = re.compile(
    r'^<input\b[^>]*\btype="(?:submit|button|reset)"[^>]*\bvalue="([^"]*)"'
    r'|^<input\b[^>]*\bvalue="([^"]*)"[^>]*\btype="(?:submit|button|reset)"'
)
_TAG = re.compile(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")  # a ">" inside a quoted attribute is not the end
# An icon of the theme's icon font: its text is the icon's name ("expand_more"), drawn as a picture.
_ICON = re.compile(r"<span\b[^>]*(?:material-symbols|aria-hidden=\"true\")[^>]*>\s*[a-z0-9_]+\s*</span>")
_ENTITY = re.compile(r"&[a-z]+;|&#\d+;")


def templates() -> list[Path]:
    return sorted(path for directory in TEMPLATE_DIRS for path in directory.rglob("*.html"))


def python_modules() -> list[Path]:
    return sorted(
        path
        for directory in PYTHON_DIRS
        for path in directory.rglob("*.py")
        if "migrations" not in path.parts and "management" not in path.parts
    )


def english_words(text: str) -> list[str]:
    return [word for word in _LATIN_WORD.findall(text) if word not in KEEP]


# --- what is marked ---------------------------------------------------------------------------------

_TEMPLATIZED_CALL = re.compile(r"\b(n?p?gettext)\(((?:\s*u?'(?:[^'\\]|\\.)*'\s*,?)+)")
_LITERAL = re.compile(r"u?'((?:[^'\\]|\\.)*)'")
_GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}


def marked_in_template(path: Path) -> set[tuple[str, str]]:
    """(context, msgid) pairs; ngettext contributes its singular and plural."""
    found = set()
    for function, arguments in _TEMPLATIZED_CALL.findall(templatize(path.read_text(), origin=str(path))):
        literals = [ast.literal_eval("'" + text + "'") for text in _LITERAL.findall(arguments)]
        context = literals.pop(0) if function.startswith(("pgettext", "npgettext")) else ""
        found.update((context, literal) for literal in literals[:2])
    return found


def marked_in_python(path: Path) -> set[tuple[str, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in _GETTEXT_NAMES:
            continue
        literals = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        context = literals.pop(0) if name.startswith(("pgettext", "npgettext")) and literals else ""
        found.update((context, literal) for literal in literals[:2])
    return found


def all_marked() -> dict[tuple[str, str], str]:
    marked: dict[tuple[str, str], str] = {}
    for path in templates():
        for key in marked_in_template(path):
            marked.setdefault(key, str(path.relative_to(ROOT)))
    for path in python_modules():
        for key in marked_in_python(path):
            marked.setdefault(key, str(path.relative_to(ROOT)))
    return marked


def test_the_extraction_finds_strings_in_both_kinds_of_source():
    marked = all_marked()
    assert ("", "Workflow") in marked  # a template's {% translate %}
    assert ("", "Bots and agents see version %(n)s.") in marked  # a template's {% blocktranslate %}
    assert ("", "Stale queue") in marked
    assert len(marked) > 500


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant", "en"])
def test_every_marked_string_is_translated_in_every_catalog(language):
    catalog = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    translated = {(entry.msgctxt or "", entry.msgid) for entry in catalog if entry.msgstr or entry.msgstr_plural}
    translated |= {(entry.msgctxt or "", entry.msgid_plural) for entry in catalog if entry.msgid_plural}
    missing = {key: where for key, where in all_marked().items() if key not in translated and key[1].strip()}
    assert not missing, "\n".join(f"{where}: {msgid!r}" for (_ctx, msgid), where in sorted(missing.items())[:40])


# --- what is not marked -------------------------------------------------------------------------------


def unmarked_template_text(path: Path) -> list[str]:
    """Text and person-facing attribute values outside translate tags, with English words in them.

    The template is read back with every template tag and variable replaced by a marker (and the inside of
    blocktranslate dropped), so HTML tags split by template tags are whole again before they are removed."""
    pieces = []
    inside_blocktranslate = hidden = False
    for token in Lexer(path.read_text()).tokenize():
        if token.token_type == TokenType.BLOCK:
            words = token.contents.split()
            if words[:1] in (["blocktranslate"], ["blocktrans"]):
                inside_blocktranslate = True
            elif words[:1] in (["endblocktranslate"], ["endblocktrans"]):
                inside_blocktranslate = False
            elif words == ["block", "bodyclass"] or words[:1] in (["comment"], ["capture"]):  # never shown as text
                hidden = True
            elif words[:1] in (["endblock"], ["endcomment"], ["endcapture"]):
                hidden = False
            pieces.append("\x00")
        elif token.token_type == TokenType.TEXT and not inside_blocktranslate and not hidden:
            pieces.append(token.contents)
        else:
            pieces.append("\x00")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", "".join(pieces), flags=re.S)
    text = _ICON.sub(" ", text)  # icon names are ligatures of the icon font, drawn as pictures
    problems = []
    for tag in _TAG.findall(text):
        tag = tag.replace("\x00", " ")
        values = _PERSON_FACING_ATTRIBUTES.findall(tag)
        values += [v for pair in _BUTTON_VALUE.findall(tag) for v in pair if v]
        for value in values:
            if english_words(value):
                problems.append(f"attribute {value!r}")
    visible = _ENTITY.sub(" ", _TAG.sub(" ", text)).replace("\x00", " ")
    problems += [f"text {word!r}" for word in english_words(visible)]
    return problems


def test_no_template_shows_english_outside_a_translate_tag():
    problems = {str(path.relative_to(ROOT)): found for path in templates() if (found := unmarked_template_text(path))}
    assert not problems, problems


# Keywords whose string Django shows to a person as it is (model and form fields, admin columns).
_DISPLAY_KEYWORDS = {"verbose_name", "verbose_name_plural", "help_text", "label", "description", "empty_label"}
# Errors and messages that reach a person: Django's, and our domain errors (found below by their base class).
_DISPLAY_CALLS = {"ValidationError", "PermissionDenied", "DomainError", "message_user"}
_MESSAGE_LEVELS = {"success", "error", "info", "warning", "debug"}


def domain_error_classes() -> set[str]:
    """Every class of ours that subclasses DomainError, directly or not: its message is shown as it is."""
    bases: dict[str, set[str]] = {}
    for path in python_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
    found = {"DomainError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def bare_display_literals(path: Path, error_classes: set[str]) -> list[str]:
    """Bare English literals where a person reads them. API modules are left out: their texts are the
    OpenAPI schema's, written for the developers who generate clients from it."""
    if "api" in path.parts:
        return []
    problems = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        candidates = [k.value for k in node.keywords if k.arg in _DISPLAY_KEYWORDS]
        shown = name in _DISPLAY_CALLS | error_classes or (owner == "messages" and name in _MESSAGE_LEVELS)
        if shown:
            arguments = node.args[1:2] if owner == "messages" or name == "message_user" else node.args[:1]
            candidates += arguments + [k.value for k in node.keywords if k.arg in {"message", "msg"}]
        for value in candidates:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and english_words(value.value):
                problems.append(f"line {value.lineno}: {value.value!r}")
            if isinstance(value, ast.JoinedStr):  # an f-string can never be translated
                parts = "".join(v.value for v in value.values if isinstance(v, ast.Constant))
                if english_words(parts):
                    problems.append(f"line {value.lineno}: f-string {parts!r}")
    return problems


def test_the_python_check_knows_our_domain_errors():
    assert {"DomainError", "EditConflict"} <= domain_error_classes()


def test_no_python_module_hands_a_person_a_bare_english_string():
    errors = domain_error_classes()
    problems = {
        str(path.relative_to(ROOT)): found
        for path in python_modules()
        if (found := bare_display_literals(path, errors))
    }
    assert not problems, problems


def test_the_template_check_catches_bare_english_and_spares_what_is_not_text(tmp_path):
    template = tmp_path / "page.html"
    template.write_text(
        '{% load i18n %}<p class="note">Saved</p><input placeholder="Search" value="{{ v }}">'
        '<input type="submit" value="Send"><a href="{% url "home" %}">{% translate "Home" %}</a>'
        '{% comment %}Written for developers{% endcomment %}<span class="material-symbols-outlined">expand_more</span>'
        "{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}<p>{{ value }} · KB Portal · CSV</p>"
    )
    assert unmarked_template_text(template) == ["attribute 'Search'", "attribute 'Send'", "text 'Saved'"]


# --- the languages ------------------------------------------------------------------------------------
# Simplified Chinese by default; Traditional Chinese and English selectable.


@pytest.fixture
def chinese_default(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    translation.activate("zh-hans")
    yield
    translation.activate("en")


@pytest.mark.django_db
def test_the_admin_speaks_simplified_chinese_by_default(client, chinese_default):
    client.force_login(editor())
    body = client.get("/admin/knowledge/article/").content.decode()
    assert "过期知识队列" in body  # our own string: "Stale queue"
    assert "FAQ 知识" in body


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "text"), [("zh-hant", "過期知識佇列"), ("en", "Stale queue")])
def test_a_user_can_switch_language(client, chinese_default, language, text):
    client.force_login(editor())
    client.post("/i18n/setlang/", {"language": language, "next": "/admin/"})
    assert text in client.get("/admin/knowledge/article/").content.decode()


@pytest.mark.django_db
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
