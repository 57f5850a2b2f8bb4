"""Export articles in the spreadsheet layout that imports read back (a round trip changes nothing)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from apps.core.csv_export import spreadsheet_text
from apps.knowledge.formats import SPREADSHEET_COLUMNS
from apps.knowledge.models import ArticleVersion, Channel


def _cells(version: ArticleVersion) -> list[str]:
    channel_answers = {c.channel: c.answer for c in version.channel_answers.all()}
    article = version.article
    return [
        article.external_id,
        article.product.slug,
        article.category.name if article.category else "",
        ", ".join(sorted(f.slug for f in version.features.all())),
        version.standard_question,
        "\n".join(q.text for q in version.similar_questions.all()),
        version.answer,
        *[channel_answers.get(channel, "") for channel in Channel.values],
        ", ".join(version.tags),
        version.min_product_version,
        version.max_product_version,
        version.valid_from.isoformat() if version.valid_from else "",
        version.valid_until.isoformat() if version.valid_until else "",
        version.language,
    ]


def _rows(versions: Iterable[ArticleVersion]) -> Iterator[list[str]]:
    yield SPREADSHEET_COLUMNS
    for version in versions:
        yield _cells(version)


def export_csv(versions: Iterable[ArticleVersion]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([spreadsheet_text(cell) for cell in row] for row in _rows(versions))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def export_xlsx(versions: Iterable[ArticleVersion]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = "articles"
    for row in _rows(versions):
        # Control characters are refused when content is saved; any stored before that are left out here, as a
        # worksheet cannot hold them (openpyxl would fail the whole export).
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # openpyxl took text starting with "=" for a formula: keep it text
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        for cell in column[1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
