"""Bulk import of FAQ articles (JSONL from tools, CSV/XLSX from editors' spreadsheets).

Every row is validated before anything is written; a file with a bad row writes nothing unless
``skip_invalid`` is set. Re-importing the same file changes nothing (each version stores a hash of
its content); a changed row adds a version. Writes are set-based: one bulk insert per table.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.catalog.models import Feature, Product
from apps.core.csv_export import from_spreadsheet_text
from apps.core.errors import PermissionRefused, ValidationFailed
from apps.core.markdown import render_markdown
from apps.knowledge.models import (
    Article,
    ArticleVersion,
    Category,
    Channel,
    StaleFlag,
    VersionStatus,
    external_id_validator,
)
from apps.knowledge.services.content import ArticleContent
from apps.knowledge.services.publication import published_knowledge_changed

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


@dataclass(frozen=True)
class RowError:
    line: int
    external_id: str
    message: str

    def __str__(self) -> str:
        ident = f" ({self.external_id})" if self.external_id else ""
        return _("line %(line)s%(ident)s: %(message)s") % {"line": self.line, "ident": ident, "message": self.message}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    created_products: list[str] = field(default_factory=list)
    created_features: list[str] = field(default_factory=list)
    created_categories: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return _(
            "%(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(skipped)s skipped, %(errors)s invalid"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": len(self.errors),
        }


class ImportRejected(ValidationFailed):
    """The file has invalid rows and nothing was imported."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            _("Nothing imported: %(n)s invalid row(s). First: %(first)s")
            % {"n": len(report.errors), "first": report.errors[0]},
            rows=[{"line": e.line, "external_id": e.external_id, "message": e.message} for e in report.errors],
        )
        self.report = report


@dataclass
class _Row:
    line: int
    external_id: str
    product: str
    category: str
    content: ArticleContent


# --- Reading files into plain rows -----------------------------------------------------------------


def read_jsonl(stream: IO[str] | Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
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


def _split_list(value: Any, *, commas: bool) -> list[str]:
    if value is None:
        return []
    text = str(value).replace("\r\n", "\n")
    separators = ["\n", "|"] + ([",", "，", "、"] if commas else [])
    parts = [text]
    for separator in separators:
        parts = [piece for part in parts for piece in part.split(separator)]
    return [part.strip() for part in parts if part.strip()]


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


def read_csv(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(stream)
    _check_header(reader.fieldnames or [])
    for record in reader:
        # reader.line_num is the last physical line read: right even with multi-line cells.
        yield reader.line_num, _spreadsheet_row({k: from_spreadsheet_text(v) for k, v in record.items()})


def read_xlsx(stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | str]]:
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


def _check_header(header: list[str]) -> None:
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ValidationFailed(
            _("Line 1: the header lacks column(s) %(missing)s. Expected columns: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": ", ".join(SPREADSHEET_COLUMNS)}
        )


def read_rows(name: str, raw: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Pick the reader by file extension; a file over ``KNOWLEDGE_IMPORT_MAX_BYTES`` or with more than
    ``KNOWLEDGE_IMPORT_MAX_ROWS`` rows is refused before anything is imported."""
    if len(raw) > settings.KNOWLEDGE_IMPORT_MAX_BYTES:
        raise ValidationFailed(file_too_large_message())
    return _at_most(_read_rows(name, raw), settings.KNOWLEDGE_IMPORT_MAX_ROWS)


def file_too_large_message() -> str:
    return _("The file is larger than %(size)s: split it into several files.") % {
        "size": filesizeformat(settings.KNOWLEDGE_IMPORT_MAX_BYTES)
    }


def _at_most(rows: Iterator, limit: int) -> Iterator:
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise ValidationFailed(
                _("Line %(line)s: the file has more than %(n)s rows; split it into several files.")
                % {"line": row[0], "n": limit}
            )
        yield row


def _read_rows(name: str, raw: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
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


# --- Validation ------------------------------------------------------------------------------------------


def _str_list(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(_("“%(name)s” must be a list of strings") % {"name": name})
    return value


def _datetime(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    parsed = parse_datetime(str(value)) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(_("“%(name)s” is not a date-time like 2026-11-01T00:00:00+08:00") % {"name": name})
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


# The catalog rows an import may create hold these (the columns' lengths).
MAX_PRODUCT, MAX_CATEGORY, MAX_FEATURE = 60, 100, 60


def _holds_nul(value: Any) -> bool:
    """A NUL character anywhere in a row's texts (keys included): PostgreSQL cannot store it."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _parse_row(line: int, data: dict[str, Any]) -> _Row:
    with_nul = [str(name) for name, value in data.items() if _holds_nul(name) or _holds_nul(value)]
    if with_nul:
        raise ValueError(
            _("“%(name)s” contains a NUL character: remove it") % {"name": with_nul[0].replace("\x00", "")}
        )
    for name in REQUIRED:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise ValueError(_("“%(name)s” is required") % {"name": name})
    external_id = data["external_id"].strip()
    try:
        external_id_validator(external_id)
    except Exception as exc:
        raise ValueError(_("external_id “%(id)s” is not valid") % {"id": external_id}) from exc
    channel_answers = data.get("channel_answers") or {}
    if not isinstance(channel_answers, dict) or not all(isinstance(v, str) for v in channel_answers.values()):
        raise ValueError(_("“channel_answers” must be an object of channel → text"))
    category = data.get("category") or ""
    if not isinstance(category, str):
        raise ValueError(_("“category” must be text"))
    for name, value, limit in (
        ("product", data["product"].strip(), MAX_PRODUCT),
        ("category", category.strip(), MAX_CATEGORY),
        *(("features", slugify(s), MAX_FEATURE) for s in _str_list(data, "features")),
    ):
        if len(value) > limit:
            raise ValueError(_("“%(name)s” is at most %(n)s characters") % {"name": name, "n": limit})
    for name in ("min_product_version", "max_product_version"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ValueError(_("“%(name)s” must be text, like 5.3.0") % {"name": name})
    content = ArticleContent(
        standard_question=data["standard_question"],
        similar_questions=_str_list(data, "similar_questions"),
        answer=data["answer"],
        channel_answers=channel_answers,
        feature_slugs=[slugify(s) for s in _str_list(data, "features")],
        tags=_str_list(data, "tags"),
        language=data.get("language") or "zh-hans",
        min_product_version=data.get("min_product_version") or "",
        max_product_version=data.get("max_product_version") or "",
        valid_from=_datetime(data, "valid_from"),
        valid_until=_datetime(data, "valid_until"),
    ).normalise()
    errors = content.errors()
    if errors:
        field_name, messages = next(iter(errors.items()))
        raise ValueError(f"{field_name}: {messages[0]}")
    return _Row(
        line=line, external_id=external_id, product=data["product"].strip(), category=category.strip(), content=content
    )


def _validate(
    rows: Iterable[tuple[int, dict[str, Any] | str]], *, strict: bool, publishing_user: bool
) -> tuple[list[_Row], list[RowError]]:
    parsed: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, data in rows:
        if isinstance(data, str):
            errors.append(RowError(line, "", data))
            continue
        try:
            row = _parse_row(line, data)
        except ValueError as exc:
            errors.append(RowError(line, str(data.get("external_id") or ""), str(exc)))
            continue
        if row.external_id in seen:
            errors.append(
                RowError(
                    line,
                    row.external_id,
                    _("duplicate external_id (also on line %(line)s)") % {"line": seen[row.external_id]},
                )
            )
            continue
        seen[row.external_id] = line
        parsed.append(row)

    products = {p.slug: p for p in Product.objects.filter(slug__in={r.product for r in parsed})}
    features = set(Feature.objects.filter(product__slug__in=products).values_list("product__slug", "slug"))
    categories = set(Category.objects.filter(product__slug__in=products).values_list("product__slug", "name"))
    existing = {
        external_id: (product, sensitive)
        for external_id, product, sensitive in Article.objects.filter(external_id__in=seen).values_list(
            "external_id", "product__slug", "compliance_sensitive"
        )
    }
    valid: list[_Row] = []
    for row in parsed:
        problem = None
        owner_product, sensitive = existing.get(row.external_id, (None, False))
        if owner_product and owner_product != row.product:
            problem = _("the article belongs to product “%(p)s”, not “%(q)s”") % {"p": owner_product, "q": row.product}
        elif sensitive and publishing_user:
            problem = _("the article is compliance-sensitive: import it as a draft for another approver to publish")
        elif strict and row.product not in products:
            problem = _("unknown product “%(p)s”") % {"p": row.product}
        elif strict and (missing := [s for s in row.content.feature_slugs if (row.product, s) not in features]):
            problem = _("unknown feature(s) %(f)s") % {"f": ", ".join(missing)}
        elif strict and row.category and (row.product, row.category) not in categories:
            problem = _("unknown category “%(c)s”") % {"c": row.category}
        if problem:
            errors.append(RowError(row.line, row.external_id, problem))
        else:
            valid.append(row)
    errors.sort(key=lambda e: e.line)
    return valid, errors


# --- Writing -----------------------------------------------------------------------------------------------


def import_articles(
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    *,
    by=None,
    publish: bool = True,
    strict: bool = False,
    skip_invalid: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Validate every row, then write all valid rows in one transaction (or nothing)."""
    if by is not None:
        if not by.has_perm("knowledge.import_content"):
            raise PermissionRefused(_("You do not have permission to import articles."))
        if publish and not by.has_perm("knowledge.publish_content"):
            raise PermissionRefused(_("Publishing on import needs the knowledge approver role; import as drafts."))
    valid, errors = _validate(rows, strict=strict, publishing_user=by is not None and publish)
    report = ImportReport(errors=errors)
    if errors and not skip_invalid:
        raise ImportRejected(report)
    report.skipped = len(errors)
    if dry_run:
        report.created = len(valid)
        return report
    with transaction.atomic():
        # One import at a time: two concurrent imports of the same article must not race on numbers.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('knowledge.import_articles'))")
        _write(valid, report, by=by, publish=publish)
    return report


def _copy(table: str, rows: Iterable[tuple]) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for values in rows:
            copy.write_row(values)


def _ensure_catalog(rows: list[_Row], report: ImportReport) -> tuple[dict, dict, dict]:
    slugs = {r.product for r in rows}
    products = {p.slug: p for p in Product.objects.filter(slug__in=slugs)}
    new_products = [Product(slug=s, name=s) for s in sorted(slugs - set(products))]
    Product.objects.bulk_create(new_products)
    products.update({p.slug: p for p in new_products})
    report.created_products = [p.slug for p in new_products]

    wanted_features = {(r.product, s) for r in rows for s in r.content.feature_slugs}
    features = {
        (f.product.slug, f.slug): f
        for f in Feature.objects.filter(product__in=products.values()).select_related("product")
    }
    new_features = [Feature(product=products[p], slug=s, name=s) for p, s in sorted(wanted_features - set(features))]
    Feature.objects.bulk_create(new_features)
    features.update({(f.product.slug, f.slug): f for f in new_features})
    report.created_features = [f"{f.product.slug}/{f.slug}" for f in new_features]

    wanted_categories = {(r.product, r.category) for r in rows if r.category}
    categories = {
        (c.product.slug, c.name): c
        for c in Category.objects.filter(product__in=products.values()).select_related("product")
    }
    new_categories = [Category(product=products[p], name=n) for p, n in sorted(wanted_categories - set(categories))]
    Category.objects.bulk_create(new_categories)
    categories.update({(c.product.slug, c.name): c for c in new_categories})
    report.created_categories = [f"{c.product.slug}/{c.name}" for c in new_categories]
    return products, features, categories


def _write(rows: list[_Row], report: ImportReport, *, by, publish: bool) -> None:
    now = timezone.now()
    products, features, categories = _ensure_catalog(rows, report)
    latest = ArticleVersion.objects.filter(article=OuterRef("pk")).order_by("-number")
    articles = {
        a.external_id: a
        for a in Article.objects.filter(external_id__in=[r.external_id for r in rows]).annotate(
            latest_number=Subquery(latest.values("number")[:1]),
            latest_hash=Subquery(latest.values("content_hash")[:1]),
            published_hash=Subquery(
                ArticleVersion.objects.filter(article=OuterRef("pk"), status=VersionStatus.PUBLISHED).values(
                    "content_hash"
                )[:1]
            ),
        )
    }
    new_articles = []
    for row in rows:
        if row.external_id not in articles:
            article = Article(
                external_id=row.external_id,
                product=products[row.product],
                category=categories.get((row.product, row.category)),
                owner=by,
                verifier=by,
                created_at=now,
            )
            article.latest_number, article.latest_hash, article.published_hash = 0, None, None
            new_articles.append(article)
            articles[row.external_id] = article
    Article.objects.bulk_create(new_articles, batch_size=2000)
    new_ids = {a.pk for a in new_articles}

    status = VersionStatus.PUBLISHED if publish else VersionStatus.DRAFT
    versions: list[tuple[_Row, ArticleVersion]] = []
    recategorised = []
    for row in rows:
        article = articles[row.external_id]
        digest = row.content.content_hash()
        category = categories.get((row.product, row.category))
        if article.pk not in new_ids and category is not None and article.category_id != category.pk:
            article.category = category
            recategorised.append(article)
        # Unchanged: publishing what is already published, or drafting what the latest version says.
        # (An editor's pending draft does not make a re-import of the published content a change.)
        if digest == (article.published_hash if publish else article.latest_hash):
            report.unchanged += 1
            continue
        if article.pk in new_ids:
            report.created += 1
        else:
            report.updated += 1
        content = row.content
        versions.append(
            (
                row,
                ArticleVersion(
                    article=article,
                    number=article.latest_number + 1,
                    based_on_number=article.latest_number or None,
                    status=status,
                    change_note=_("Imported"),
                    tags=content.tags,
                    min_product_version=content.min_product_version,
                    max_product_version=content.max_product_version,
                    min_product_version_key=content.min_key(),
                    max_product_version_key=content.max_key(),
                    valid_from=content.valid_from,
                    valid_until=content.valid_until,
                    content_hash=digest,
                    author=by,
                    created_at=now,
                    published_at=now if publish else None,
                    published_by=by if publish else None,
                    standard_question=content.standard_question,
                    answer=content.answer,
                    answer_html=render_markdown(content.answer),
                    language=content.language,
                ),
            )
        )
    Article.objects.bulk_update(recategorised, ["category"], batch_size=2000)
    if not versions:
        return
    touched = [version.article.pk for _row, version in versions]
    # Older drafts are replaced by the imported version; a published one is superseded by it.
    pending = [VersionStatus.DRAFT, VersionStatus.IN_REVIEW] + ([VersionStatus.PUBLISHED] if publish else [])
    ArticleVersion.objects.filter(article_id__in=touched, status__in=pending).update(status=VersionStatus.SUPERSEDED)
    ArticleVersion.objects.bulk_create([v for _r, v in versions], batch_size=2000)

    # The child rows go in with COPY: three streams instead of tens of thousands of INSERT parameters.
    _copy(
        "knowledge_similarquestion (version_id, text, position)",
        ((v.pk, text, i) for row, v in versions for i, text in enumerate(row.content.similar_questions)),
    )
    _copy(
        "knowledge_channelanswer (version_id, channel, answer, answer_html)",
        (
            (v.pk, channel, text, render_markdown(text))
            for row, v in versions
            for channel, text in row.content.channel_answers.items()
        ),
    )
    _copy(
        "knowledge_articleversion_features (articleversion_id, feature_id)",
        ((v.pk, features[(row.product, slug)].pk) for row, v in versions for slug in row.content.feature_slugs),
    )
    if publish:
        published_knowledge_changed()
        # Publishing a new version answers its stale flags, as in the editor workflow.
        StaleFlag.objects.filter(article_id__in=touched, cleared_at__isnull=True).update(
            cleared_at=now, cleared_by=by, cleared_because="republished"
        )
        Article.objects.filter(pk__in=touched).update(needs_verification=False, last_verified_at=now)
