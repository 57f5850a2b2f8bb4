"""Importing articles: validate everything first, report bad rows by line, re-import changes nothing."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import Feature, Product
from apps.core.errors import PermissionRefused
from apps.knowledge.formats import read_jsonl, read_rows
from apps.knowledge.models import Article, ArticleVersion, VersionStatus
from apps.knowledge.services.exports import export_csv, export_xlsx
from apps.knowledge.services.imports import ImportRejected, articles_import
from tests.factories import FeatureFactory, ProductFactory, editor

pytestmark = pytest.mark.django_db


def row(n: int, **overrides) -> dict:
    data = {
        "external_id": f"mall-refund-{n:03d}",
        "product": "mall-app",
        "category": "退款与售后",
        "features": ["refund"],
        "standard_question": f"退款问题 {n}",
        "similar_questions": [f"相似问 {n}a", f"相似问 {n}b"],
        "answer": f"答案 {n}",
        "channel_answers": {"wechat": f"微信答案 {n}"},
        "tags": ["退款"],
    }
    data.update(overrides)
    return data


def jsonl(*rows) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n"


def run(text: str, **kwargs):
    return articles_import(read_jsonl(io.StringIO(text)), **kwargs)


def test_import_publishes_articles_and_creates_missing_products_features_and_categories():
    report = run(jsonl(row(1), row(2)))

    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert report.created_products == ["mall-app"]
    version = ArticleVersion.objects.get(article__external_id="mall-refund-001")
    assert version.status == VersionStatus.PUBLISHED
    assert [q.text for q in version.similar_questions.all()] == ["相似问 1a", "相似问 1b"]
    assert {c.channel: c.answer for c in version.channel_answers.all()} == {"wechat": "微信答案 1"}
    assert [f.slug for f in version.features.all()] == ["refund"]
    assert version.article.category.name == "退款与售后"


def test_reimporting_the_same_file_changes_nothing():
    text = jsonl(row(1), row(2))
    run(text)
    report = run(text)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert ArticleVersion.objects.count() == 2


def test_a_changed_row_adds_a_published_version_and_supersedes_the_old_one():
    run(jsonl(row(1), row(2)))
    report = run(jsonl(row(1, answer="新答案"), row(2)))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    versions = dict(
        ArticleVersion.objects.filter(article__external_id="mall-refund-001").values_list("number", "status")
    )
    assert versions == {1: VersionStatus.SUPERSEDED, 2: VersionStatus.PUBLISHED}


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_imported():
    text = jsonl(row(1), "{not json", row(3, standard_question=""), row(4, channel_answers={"fax": "x"}), row(1))
    with pytest.raises(ImportRejected) as caught:
        run(text)

    errors = {e.line: e.message for e in caught.value.report.errors}
    assert set(errors) == {2, 3, 4, 5}
    assert "not valid JSON" in errors[2]
    assert "standard_question" in errors[3]
    assert "fax" in errors[4]
    assert "duplicate external_id (also on line 1)" in errors[5]
    assert not Article.objects.exists() and not Product.objects.exists()


def test_skip_invalid_imports_the_good_rows_and_reports_the_bad_ones():
    report = run(jsonl(row(1), row(2, answer=""), row(3)), skip_invalid=True)
    assert (report.created, report.skipped) == (2, 1)
    assert report.errors[0].line == 2
    assert set(Article.objects.values_list("external_id", flat=True)) == {"mall-refund-001", "mall-refund-003"}


def test_strict_rejects_unknown_products_and_features():
    FeatureFactory(product=ProductFactory(slug="mall-app"), slug="refund")
    with pytest.raises(ImportRejected) as caught:
        run(jsonl(row(1, features=["refund", "teleport"]), row(2, product="unknown-app")), strict=True)
    messages = [e.message for e in caught.value.report.errors]
    assert "unknown feature(s) teleport" in messages[0]
    assert "unknown product" in messages[1]
    assert not Feature.objects.filter(slug="teleport").exists()


def test_an_article_cannot_move_to_another_product_by_import():
    run(jsonl(row(1)))
    with pytest.raises(ImportRejected, match="belongs to product"):
        run(jsonl(row(1, product="wallet-app")))


def test_draft_import_creates_drafts_that_bots_do_not_see():
    run(jsonl(row(1)), publish=False)
    assert ArticleVersion.objects.get().status == VersionStatus.DRAFT


def test_a_user_needs_the_approver_role_to_publish_on_import():
    with pytest.raises(PermissionRefused):
        run(jsonl(row(1)), by=editor())
    assert run(jsonl(row(1)), by=editor(), publish=False).created == 1


@pytest.mark.parametrize(("name", "exporter"), [("faq.csv", export_csv), ("faq.xlsx", export_xlsx)])
def test_a_spreadsheet_export_imports_back_unchanged(name, exporter):
    run(jsonl(row(1, similar_questions=["第一问", "第二问, 带逗号"], features=["refund", "logistics"]), row(2)))
    versions = ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED).order_by("article__external_id")

    data = exporter(versions)
    report = articles_import(read_rows(name, data))

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)


def test_a_csv_with_a_bad_row_reports_its_line():
    text = "external_id,product,standard_question,answer\nfaq-1,mall-app,退款多久到账,1-3 天\nfaq-2,mall-app,,答案\n"
    with pytest.raises(ImportRejected) as caught:
        articles_import(read_rows("faq.csv", text.encode()))
    assert [e.line for e in caught.value.report.errors] == [3]


def test_the_command_imports_and_reports_a_summary(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text(jsonl(row(1), row(2)), encoding="utf-8")
    out = io.StringIO()
    call_command("import_articles", str(path), stdout=out)
    assert "2 created, 0 updated, 0 unchanged" in out.getvalue()


def test_the_command_lists_bad_rows_and_fails(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text(jsonl(row(1), row(2, answer="")), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported: 1 invalid row"):
        call_command("import_articles", str(path), stderr=err)
    assert "line 2 (mall-refund-002)" in err.getvalue()
    assert not Article.objects.exists()


def test_a_compliance_sensitive_article_cannot_be_republished_by_import():
    from tests.factories import approver

    run(jsonl(row(1)))
    Article.objects.filter(external_id="mall-refund-001").update(compliance_sensitive=True)
    with pytest.raises(ImportRejected, match="compliance-sensitive"):
        run(jsonl(row(1, answer="改了")), by=approver())
    assert run(jsonl(row(1, answer="改了")), by=approver(), publish=False).updated == 1


def test_reimporting_published_content_leaves_an_editors_pending_draft_alone():
    from apps.knowledge.services import workflow
    from apps.knowledge.services.content import ArticleContent

    text = jsonl(row(1))
    run(text)
    article = Article.objects.get(external_id="mall-refund-001")
    published = article.versions.get()
    content = ArticleContent.of_version(published)
    content.answer = "编辑正在修改的答案"
    draft = workflow.version_create(item=article, base_number=1, content=content, by=None)

    assert run(text).unchanged == 1
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+86 400 800 1234", "- 第一步\n- 第二步", "@SUM(1,2)"]


def test_exports_write_formula_like_text_as_text_and_import_it_back_unchanged():
    """A cell starting with =, +, -, @, tab or carriage return is never a formula in the export (CSV gets a
    protective apostrophe, XLSX a text cell), and the file still imports back to the same content."""
    run(jsonl(*[row(n, answer=text, standard_question=f"问题 {n}") for n, text in enumerate(FORMULAS, start=1)]))
    versions = ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED).order_by("article__external_id")

    import csv

    cells = [cell for line in csv.reader(io.StringIO(export_csv(versions).decode("utf-8-sig"))) for cell in line]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert '\'=HYPERLINK("http://evil.example","点我")' in cells

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export_xlsx(versions))).active
    assert not [c for r in sheet.iter_rows() for c in r if c.data_type == "f"]  # no formula anywhere
    assert FORMULAS[0] in [c.value for r in sheet.iter_rows() for c in r]  # the text itself, unchanged

    for name, exporter in (("faq.csv", export_csv), ("faq.xlsx", export_xlsx)):
        report = articles_import(read_rows(name, exporter(versions)))
        assert (report.created, report.updated, report.unchanged) == (0, 0, len(FORMULAS))


def test_csv_downloads_of_page_tables_neutralise_formulas():
    from apps.core.csv_export import csv_response

    body = csv_response("t.csv", ["agent", "note"], [["=1+1", "-5"], ["张三", "ok"]]).content.decode("utf-8-sig")
    assert body.splitlines() == ["agent,note", "'=1+1,'-5", "张三,ok"]


def test_too_large_or_too_long_files_are_refused_before_anything_is_imported(settings):
    from apps.core.errors import ValidationFailed

    settings.KNOWLEDGE_IMPORT_MAX_ROWS = 2
    text = jsonl(row(1), row(2), row(3)).encode()
    with pytest.raises(ValidationFailed, match="Line 3"):
        articles_import(read_rows("faq.jsonl", text))
    assert not Article.objects.exists()
    settings.KNOWLEDGE_IMPORT_MAX_BYTES = 1024
    with pytest.raises(ValidationFailed, match=r"larger than 1\.0"):
        read_rows("faq.jsonl", b"x" * 2048)
