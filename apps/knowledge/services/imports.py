"""Bulk import of FAQ articles (JSONL from tools, CSV/XLSX from editors' spreadsheets).

The files are read by ``apps.knowledge.formats``; this module checks what the rows say and writes them.
Every row is validated before anything is written; a file with a bad row writes nothing unless
``skip_invalid`` is set. Re-importing the same file changes nothing (each version stores a hash of
its content); a changed row adds a version. Writes are set-based: one bulk insert per table. The
versions' columns and what publishing changes besides them are the editor workflow's
(``apps.knowledge.services.workflow``), so an imported version is the same as a typed one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from django.utils.translation import gettext as _

from apps.catalog.models import Feature, Product
from apps.core.errors import PermissionRefused, ValidationFailed
from apps.knowledge.formats import REQUIRED, Line
from apps.knowledge.models import (
    Article,
    ArticleVersion,
    Category,
    VersionStatus,
    external_id_validator,
)
from apps.knowledge.services.content import ArticleContent
from apps.knowledge.services.workflow import after_publishing, channel_answer_rows, new_version, similar_question_rows


@dataclass(frozen=True)
class RowError:
    """An invalid row: its line in the file, its external id when it has one, and what is wrong with it."""

    line: int
    external_id: str
    message: str

    def __str__(self) -> str:
        ident = f" ({self.external_id})" if self.external_id else ""
        return _("line %(line)s%(ident)s: %(message)s") % {"line": self.line, "ident": ident, "message": self.message}


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do): articles created, updated and unchanged, rows skipped
    as invalid and why, and the catalog entries it had to create."""

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
    """A valid row, ready to write."""

    line: int
    external_id: str
    product: str
    category: str
    content: ArticleContent


# --- Validation ------------------------------------------------------------------------------------------
# A row's problem is a ValidationFailed whose message goes into the report with the row's line number.


def _str_list(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(_("“%(name)s” must be a list of strings") % {"name": name})
    return value


def _datetime(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but not a date, like 2026-13-01
        parsed = None
    if parsed is None:
        raise ValidationFailed(_("“%(name)s” is not a date-time like 2026-11-01T00:00:00+08:00") % {"name": name})
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
        raise ValidationFailed(
            _("“%(name)s” contains a NUL character: remove it") % {"name": with_nul[0].replace("\x00", "")}
        )
    for name in REQUIRED:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise ValidationFailed(_("“%(name)s” is required") % {"name": name})
    external_id = data["external_id"].strip()
    try:
        external_id_validator(external_id)
    except Exception as exc:
        raise ValidationFailed(_("external_id “%(id)s” is not valid") % {"id": external_id}) from exc
    channel_answers = data.get("channel_answers") or {}
    if not isinstance(channel_answers, dict) or not all(isinstance(v, str) for v in channel_answers.values()):
        raise ValidationFailed(_("“channel_answers” must be an object of channel → text"))
    category = data.get("category") or ""
    if not isinstance(category, str):
        raise ValidationFailed(_("“category” must be text"))
    for name, value, limit in (
        ("product", data["product"].strip(), MAX_PRODUCT),
        ("category", category.strip(), MAX_CATEGORY),
        *(("features", slugify(s), MAX_FEATURE) for s in _str_list(data, "features")),
    ):
        if len(value) > limit:
            raise ValidationFailed(_("“%(name)s” is at most %(n)s characters") % {"name": name, "n": limit})
    for name in ("min_product_version", "max_product_version"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ValidationFailed(_("“%(name)s” must be text, like 5.3.0") % {"name": name})
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
        raise ValidationFailed(f"{field_name}: {messages[0]}", field_errors=errors)
    return _Row(
        line=line, external_id=external_id, product=data["product"].strip(), category=category.strip(), content=content
    )


def _validate(rows: Iterable[Line], *, strict: bool, publishing_user: bool) -> tuple[list[_Row], list[RowError]]:
    """The rows fit to write, and a line-numbered error for each of the others."""
    parsed: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, data in rows:
        if isinstance(data, str):
            errors.append(RowError(line, "", data))
            continue
        try:
            row = _parse_row(line, data)
        except ValidationFailed as exc:
            errors.append(RowError(line, str(data.get("external_id") or ""), exc.message))
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


def articles_import(
    rows: Iterable[Line],
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
    """Write the valid rows: the catalog entries they name, new articles, a version per changed row with
    what it holds, then what publishing changes besides the versions. Caller holds the import lock."""
    now = timezone.now()
    products, features, categories = _ensure_catalog(rows, report)
    articles = _articles_with_latest(rows)
    new_ids = _create_articles(rows, articles, products=products, categories=categories, by=by, now=now)
    _recategorise(rows, articles, categories, new_ids=new_ids)
    versions = _changed_versions(rows, articles, report, new_ids=new_ids, by=by, publish=publish, now=now)
    if not versions:
        return
    touched = [version.article_id for _row, version in versions]
    # Older drafts are replaced by the imported version; a published one is superseded by it.
    pending = [VersionStatus.DRAFT, VersionStatus.IN_REVIEW] + ([VersionStatus.PUBLISHED] if publish else [])
    ArticleVersion.objects.filter(article_id__in=touched, status__in=pending).update(status=VersionStatus.SUPERSEDED)
    ArticleVersion.objects.bulk_create([version for _row, version in versions], batch_size=2000)
    _insert_version_rows(versions, features)
    if publish:
        after_publishing(model=Article, item_ids=touched, by=by, now=now)


def _articles_with_latest(rows: list[_Row]) -> dict[str, Article]:
    """The rows' existing articles by external id, each with its latest version's number and content hash
    and its published version's content hash."""
    latest = ArticleVersion.objects.filter(article=OuterRef("pk")).order_by("-number")
    published = ArticleVersion.objects.filter(article=OuterRef("pk"), status=VersionStatus.PUBLISHED)
    return {
        a.external_id: a
        for a in Article.objects.filter(external_id__in=[r.external_id for r in rows]).annotate(
            latest_number=Subquery(latest.values("number")[:1]),
            latest_hash=Subquery(latest.values("content_hash")[:1]),
            published_hash=Subquery(published.values("content_hash")[:1]),
        )
    }


def _create_articles(
    rows: list[_Row], articles: dict[str, Article], *, products: dict, categories: dict, by, now
) -> set[int]:
    """Insert the articles the rows name for the first time (added to ``articles``); their ids."""
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
    return {a.pk for a in new_articles}


def _recategorise(rows: list[_Row], articles: dict[str, Article], categories: dict, *, new_ids: set[int]) -> None:
    """Move existing articles to the category their row names (a row without a category keeps it)."""
    moved = []
    for row in rows:
        article = articles[row.external_id]
        category = categories.get((row.product, row.category))
        if article.pk not in new_ids and category is not None and article.category_id != category.pk:
            article.category = category
            moved.append(article)
    Article.objects.bulk_update(moved, ["category"], batch_size=2000)


def _changed_versions(
    rows: list[_Row], articles: dict[str, Article], report: ImportReport, *, new_ids: set[int], by, publish: bool, now
) -> list[tuple[_Row, ArticleVersion]]:
    """A new (unsaved) version for each row that changes its article; counts every row in ``report``."""
    status = VersionStatus.PUBLISHED if publish else VersionStatus.DRAFT
    versions: list[tuple[_Row, ArticleVersion]] = []
    for row in rows:
        article = articles[row.external_id]
        # Unchanged: publishing what is already published, or drafting what the latest version says.
        # (An editor's pending draft does not make a re-import of the published content a change.)
        if row.content.content_hash() == (article.published_hash if publish else article.latest_hash):
            report.unchanged += 1
            continue
        if article.pk in new_ids:
            report.created += 1
        else:
            report.updated += 1
        version = new_version(
            item=article,
            content=row.content,
            number=article.latest_number + 1,
            based_on=article.latest_number or None,
            status=status,
            change_note=_("Imported"),
            by=by,
            now=now,
        )
        versions.append((row, version))
    return versions


def _insert_version_rows(versions: list[tuple[_Row, ArticleVersion]], features: dict) -> None:
    """The saved versions' similar questions, channel answers and features."""
    # COPY: three streams instead of tens of thousands of INSERT parameters.
    _copy(
        "knowledge_similarquestion (version_id, text, position)",
        ((version.pk, *question) for row, version in versions for question in similar_question_rows(row.content)),
    )
    _copy(
        "knowledge_channelanswer (version_id, channel, answer, answer_html)",
        ((version.pk, *answer) for row, version in versions for answer in channel_answer_rows(row.content)),
    )
    _copy(
        "knowledge_articleversion_features (articleversion_id, feature_id)",
        (
            (version.pk, features[(row.product, slug)].pk)
            for row, version in versions
            for slug in row.content.feature_slugs
        ),
    )
