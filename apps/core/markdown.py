"""Safe Markdown: answers are written in Markdown and rendered to sanitized HTML."""

from __future__ import annotations

import re
import threading
from html import escape

import markdown as md
import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "u",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}


_local = threading.local()


def _converter() -> md.Markdown:
    # Building a Markdown instance costs more than converting a short answer: one per thread, reset per use.
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = md.Markdown(extensions=["tables", "sane_lists", "nl2br"])
    return converter


# Text with none of these is plain prose: Markdown would only wrap it in paragraphs and line breaks.
_MARKUP = re.compile(r"[*_`#>\[\]!|<&\\~=-]|^\s*\d+[.)]\s|^ {4}|\t", re.MULTILINE)


def _plain_paragraphs(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n".join("<p>" + "<br>\n".join(escape(line.strip()) for line in p.split("\n")) + "</p>" for p in paragraphs)


def render_markdown(source: str) -> str:
    """Markdown → HTML with every tag and attribute outside the allow-list removed (no scripts, no styles)."""
    source = source or ""
    if not _MARKUP.search(source):  # most channel answers: skip the parser (imports render thousands)
        return _plain_paragraphs(source)
    html = _converter().reset().convert(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )
