"""CSV downloads that Excel opens correctly (UTF-8 with a byte-order mark), for every table a page shows,
and safely: a cell that starts like a formula is written as text (CSV/formula injection)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

# What spreadsheet programs read as the start of a formula (or of a DDE command).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value):
    """A cell value as it is safe to write to a CSV file: text that starts like a formula gets a leading
    apostrophe, which spreadsheets show as text and our imports remove again (``from_spreadsheet_text``)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def from_spreadsheet_text(value):
    """The inverse of ``spreadsheet_text`` for files we exported: the protective apostrophe goes."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def csv_response(filename: str, header: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([spreadsheet_text(cell) for cell in header])
    writer.writerows([spreadsheet_text(cell) for cell in row] for row in rows)
    return response
