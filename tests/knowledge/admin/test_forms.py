"""Hostile input to the editor's forms and the import: every problem is a field or line error, never a 500,
and nothing is written."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.knowledge.formats import read_rows
from apps.knowledge.models import Article, ArticleVersion
from apps.knowledge.services.exports import export_xlsx
from apps.knowledge.services.imports import ImportRejected, articles_import
from tests.factories import ProductFactory, draft_article, editor, published_article

pytestmark = pytest.mark.django_db

ROW = {"external_id": "faq-1", "product": "mall-app", "standard_question": "退款多久到账？", "answer": "1–3 天"}


def edit(client, version, **fields):
    data = {"base_version": version.number, "standard_question": "退款多久到账？", "answer": "答案"}
    data["language"] = "zh-hans"
    return client.post(f"/admin/knowledge/article/{version.article_id}/edit/", {**data, **fields})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("standard_question", "退款\x07多久到账？"),
        ("similar_questions", "退款什么时候到\n钱\x1b怎么还没退"),
        ("answer", "审核通过后\x0c原路退回"),
        ("answer_wechat", "亲\x01，1–3 天哦"),
        ("tags", "退款, \x02售后"),
    ],
)
def test_control_characters_are_refused_at_their_field_and_no_version_is_written(client, field, value):
    version = draft_article()
    client.force_login(editor())
    response = edit(client, version, **{field: value})
    assert response.status_code == 200
    assert "control character U+00" in " ".join(response.context["form"].errors[field])
    assert ArticleVersion.objects.filter(article=version.article).count() == 1


def test_a_version_number_longer_than_its_column_is_refused_by_the_service_too():
    from apps.knowledge.services.content import ArticleContent

    content = ArticleContent(standard_question="问", answer="答", min_product_version="1." * 30 + "1").normalise()
    assert "at most 40 characters" in content.errors()["min_product_version"][0]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"standard_question": "退款\x00多久"}, "“standard_question” contains a NUL character"),
        ({"category": "售后\x00"}, "“category” contains a NUL character"),
        ({"channel_answers": {"wechat\x00": "亲"}}, "“channel_answers” contains a NUL character"),
        ({"product": "p" * 61}, "“product” is at most 60 characters"),
        ({"category": "类" * 101}, "“category” is at most 100 characters"),
        ({"features": ["f" * 61]}, "“features” is at most 60 characters"),
        ({"min_product_version": 5}, "“min_product_version” must be text"),
        ({"max_product_version": "1." * 30 + "1"}, "max_product_version: A version number is at most 40"),
        ({"answer": "答\x07案"}, "answer: Remove the invisible control character U+0007"),
    ],
)
def test_a_bad_row_is_reported_by_its_line_and_nothing_is_imported(overrides, message):
    ProductFactory(slug="mall-app")
    lines = [json.dumps({**ROW, "external_id": "faq-0"}), json.dumps({**ROW, **overrides})]
    with pytest.raises(ImportRejected) as caught:
        articles_import(read_rows("faq.jsonl", "\n".join(lines).encode()))
    [error] = caught.value.report.errors
    assert error.line == 2 and message in error.message
    assert not Article.objects.exists()


def test_a_csv_cell_with_a_nul_character_is_a_line_error():
    ProductFactory(slug="mall-app")
    text = "external_id,product,standard_question,answer\nfaq-1,mall-app,退款\x00多久,1-3 天\n"
    with pytest.raises(ImportRejected) as caught:
        articles_import(read_rows("faq.csv", text.encode()))
    assert caught.value.report.errors[0].line == 2
    assert not Article.objects.exists()


@pytest.mark.parametrize("line", ["[" * 100_000 + "]" * 100_000, '{"external_id": ' + "9" * 5000 + "}"])
def test_a_json_line_nested_thousands_deep_or_with_an_endless_number_is_a_line_error(line):
    with pytest.raises(ImportRejected) as caught:
        articles_import(read_rows("faq.jsonl", line.encode()))
    assert caught.value.report.errors[0].line == 1 and "not valid JSON" in caught.value.report.errors[0].message


def test_an_oversized_file_is_refused_at_the_file_field_before_it_is_read(client, settings):
    settings.KNOWLEDGE_IMPORT_MAX_BYTES = 2048
    client.force_login(editor())
    body = ("external_id,product,standard_question,answer\n" + "faq-1,mall-app,问,答\n" * 200).encode()
    response = client.post("/admin/knowledge/article/import/", {"file": SimpleUploadedFile("faq.csv", body)})
    assert response.status_code == 200
    message = "The file is larger than 2.0\xa0KB: split it into several files."  # the size as Django writes it
    assert response.context["form"].errors["file"] == [message]
    assert not Article.objects.exists()


def test_a_file_with_wrong_columns_is_explained_at_the_file_field(client):
    client.force_login(editor())
    upload = SimpleUploadedFile("faq.csv", "问题,答案\n退款,1-3 天\n".encode())
    response = client.post("/admin/knowledge/article/import/", {"file": upload})
    assert response.status_code == 200
    assert "Line 1: the header lacks column(s)" in response.context["form"].errors["file"][0]


def test_the_xlsx_export_leaves_out_control_characters_stored_before_they_were_refused():
    from openpyxl import load_workbook

    version = published_article(standard_question="退款多久到账？")
    ArticleVersion.objects.filter(pk=version.pk).update(standard_question="退款\x07多久到账？")
    sheet = load_workbook(io.BytesIO(export_xlsx(ArticleVersion.objects.filter(pk=version.pk)))).active
    assert [c.value for c in sheet[2]][4] == "退款多久到账？"
