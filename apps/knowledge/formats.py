"""Article files, read into plain rows: JSON Lines from tools (one article a line) and CSV or XLSX from
editors' spreadsheets (one article a row, in the layout ``SPREADSHEET_COLUMNS`` that exports write).

Every reader yields ``(line number, row)``, the row being a dict in the JSONL shape, or ``(line number,
what is wrong with the line)`` when the line cannot be read at all. Problems of the file as a whole (its
size, encoding, type or header) raise ``ValidationFailed``. Checking what the rows say, and writing them,
is ``apps.knowledge.services.imports``'s job.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from apps.core.csv_export import from_spreadsheet_text
from apps.core.errors import ValidationFailed
from apps.knowledge.models import Channel

# Spreadsheet columns, in export order. Lists are one item per line inside a cell (Alt+Enter in
# Excel); features and tags may also be separated by commas.
SPREADSHEET_COLUMNS = [
    "external_id",
    "product",
    "category",
    "features",
    "standard_question",
    "similar_questions",
    "answer",
    *[f"answer_{channel}" for channel in Channel.values],
    "tags",
    "min_product_version",
    "max_product_version",
    "valid_from",
    "valid_until",
    "language",
]
REQUIRED = ["external_id", "product", "standard_question", "answer"]

Line = tuple[int, dict[str, Any] | str]  # (line number, row) or (line number, why the line is unreadable)


def read_rows(name: str, raw: bytes) -> Iterator[Line]:
    """Pick the reader by file extension; a file over ``KNOWLEDGE_IMPORT_MAX_BYTES`` or with more than
    ``KNOWLEDGE_IMPORT_MAX_ROWS`` rows is refused before anything is imported."""
    if len(raw) > settings.KNOWLEDGE_IMPORT_MAX_BYTES:
        raise ValidationFailed(file_too_large_message())
    return _at_most(_read_rows(name, raw), settings.KNOWLEDGE_IMPORT_MAX_ROWS)


def file_too_large_message() -> str:
    return _("The file is larger than %(size)s: split it into several files.") % {
        "size": filesizeformat(settings.KNOWLEDGE_IMPORT_MAX_BYTES)
    }


def read_jsonl(stream: IO[str] | Iterable[str]) -> Iterator[Line]:
    """(line number, object) per non-empty line, or (line number, error message)."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _("not valid JSON (%(error)s)") % {"error": exc.msg}
            continue
        except (RecursionError, ValueError):  # nested thousands deep, or an integer of thousands of digits
            yield number, _("not valid JSON (nested too deeply or a number too long)")
            continue
        if not isinstance(data, dict):
            yield number, _("each line must be a JSON object")
            continue
        yield number, data


def read_csv(stream: IO[str]) -> Iterator[Line]:
    reader = csv.DictReader(stream)
    _check_header(reader.fieldnames or [])
    for record in reader:
        # reader.line_num is the last physical line read: right even with multi-line cells.
        yield reader.line_num, _spreadsheet_row({k: from_spreadsheet_text(v) for k, v in record.items()})


def read_xlsx(stream: IO[bytes]) -> Iterator[Line]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationFailed(_("This is not a readable .xlsx file (%(error)s).") % {"error": exc}) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows, [])]
    _check_header(header)
    for number, cells in enumerate(rows, start=2):
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        yield number, _spreadsheet_row(dict(zip(header, cells, strict=False)))
    workbook.close()


def _read_rows(name: str, raw: bytes) -> Iterator[Line]:
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        return read_xlsx(io.BytesIO(raw))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(_("The file is not UTF-8 text (byte %(pos)s).") % {"pos": exc.start}) from exc
    if lowered.endswith(".csv"):
        return read_csv(io.StringIO(text, newline=""))
    if lowered.endswith((".jsonl", ".json", ".ndjson")):
        return read_jsonl(io.StringIO(text))
    raise ValidationFailed(_("Unsupported file type: use .jsonl, .csv or .xlsx."))


def _at_most(rows: Iterator[Line], limit: int) -> Iterator[Line]:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise ValidationFailed(
                _("Line %(line)s: the file has more than %(n)s rows; split it into several files.")
                % {"line": row[0], "n": limit}
            )
        yield row


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationFailed(
            _("Line 1: the header lacks column(s) %(missing)s. Expected columns: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": ", ".join(SPREADSHEET_COLUMNS)}
        )


def _spreadsheet_row(values: dict[str, Any]) -> dict[str, Any]:
    """A spreadsheet row (all strings) in the JSONL shape."""

    def text(name: str) -> str:
        value = values.get(name)
        if isinstance(value, datetime):
            return value.isoformat()
        return "" if value is None else str(value).strip()

    row: dict[str, Any] = {
        "external_id": text("external_id"),
        "product": text("product"),
        "category": text("category"),
        "features": _split_list(values.get("features"), commas=True),
        "standard_question": text("standard_question"),
        "similar_questions": _split_list(values.get("similar_questions"), commas=False),
        "answer": text("answer"),
        "channel_answers": {c: text(f"answer_{c}") for c in Channel.values if text(f"answer_{c}")},
        "tags": _split_list(values.get("tags"), commas=True),
    }
    for name in ("min_product_version", "max_product_version", "valid_from", "valid_until", "language"):
        if text(name):
            row[name] = text(name)
    return row


def _split_list(value: Any, *, commas: bool) -> list[str]:
    """A cell's list: one item a line (or ``|``-separated), and for features and tags also comma-separated."""
    if value is None:
        return []
    text = str(value).replace("\r\n", "\n")
    separators = ["\n", "|"] + ([",", "，", "、"] if commas else [])
    parts = [text]
    for separator in separators:
        parts = [piece for part in parts for piece in part.split(separator)]
    return [part.strip() for part in parts if part.strip()]
