"""Side-by-side differences between two versions of an article or script."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.utils.translation import gettext as _

from apps.knowledge.services.content import ArticleContent, ScriptContent


@dataclass(frozen=True)
class FieldDiff:
    field: str
    label: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def html_table(self) -> str:
        """An escaped side-by-side table (difflib escapes the text it shows)."""
        return difflib.HtmlDiff(wrapcolumn=60).make_table(
            self.old.splitlines() or [""], self.new.splitlines() or [""], context=False
        )


def _fields(content: ArticleContent | ScriptContent) -> list[tuple[str, str, str]]:
    def lines(values: list[str]) -> str:
        return "\n".join(values)

    common = [
        ("tags", _("Tags"), ", ".join(content.tags)),
        ("feature_slugs", _("Features"), ", ".join(content.feature_slugs)),
        ("min_product_version", _("From product version"), content.min_product_version),
        ("max_product_version", _("Up to product version"), content.max_product_version),
        ("valid_from", _("Valid from"), content.valid_from.isoformat() if content.valid_from else ""),
        ("valid_until", _("Valid until"), content.valid_until.isoformat() if content.valid_until else ""),
    ]
    if isinstance(content, ArticleContent):
        channel_lines = [f"[{channel}] {text}" for channel, text in sorted(content.channel_answers.items())]
        return [
            ("standard_question", _("Standard question"), content.standard_question),
            ("similar_questions", _("Similar questions"), lines(content.similar_questions)),
            ("answer", _("Answer"), content.answer),
            ("channel_answers", _("Channel answers"), lines(channel_lines)),
            ("language", _("Language"), content.language),
            *common,
        ]
    return [
        ("title", _("Title"), content.title),
        ("text", _("Script text"), content.text),
        ("channels", _("Channels"), ", ".join(content.channels)),
        *common,
    ]


def content_diff(old: ArticleContent | ScriptContent, new: ArticleContent | ScriptContent) -> list[FieldDiff]:
    """Every field of both, in display order; ``changed`` says which differ."""
    return [
        FieldDiff(field=name, label=label, old=old_value, new=new_value)
        for (name, label, old_value), (_n, _l, new_value) in zip(_fields(old), _fields(new), strict=True)
    ]
