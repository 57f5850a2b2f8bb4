"""The editor's admin: every page they use renders, and buttons call the workflow."""

import io

import pytest
from openpyxl import load_workbook

from apps.knowledge.models import ArticleVersion, VersionStatus
from apps.knowledge.services import workflow
from tests.factories import approver, article_content, editor, published_article, published_script

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    first = published_article(features=["refund"], external_id="mall-refund-001", answer="旧答案")
    workflow.version_create(item=first.article, base_number=1, content=article_content(answer="新答案"), by=None)
    return first.article


def test_editor_pages_render(client, article):
    script_version = published_script()
    client.force_login(editor())
    pk = article.pk
    version = ArticleVersion.objects.get(article=article, number=1)
    for url in [
        "/admin/",
        "/admin/knowledge/article/",
        f"/admin/knowledge/article/{pk}/change/",
        f"/admin/knowledge/article/{pk}/edit/",
        f"/admin/knowledge/article/{pk}/diff/?a=1&b=2",
        f"/admin/knowledge/articleversion/{version.pk}/change/",
        "/admin/knowledge/article/import/",
        "/admin/knowledge/staleflag/",
        f"/admin/knowledge/scriptversion/{script_version.pk}/change/",
        "/admin/knowledge/script/",
        "/admin/catalog/release/",
        "/admin/knowledge/article/?stale=yes",
        "/admin/knowledge/article/?needs_verification__exact=1",
        "/admin/knowledge/article/?status=published&channel=wechat",
        "/admin/knowledge/script/?channel=phone&stale=yes",
        "/admin/knowledge/article/?q=退款",
    ]:
        assert client.get(url).status_code == 200, url


def test_the_diff_shows_both_sides(client, article):
    client.force_login(editor())
    body = client.get(f"/admin/knowledge/article/{article.pk}/diff/?a=1&b=2").content.decode()
    assert "旧答案" in body and "新答案" in body


def test_the_version_page_previews_each_channel(client, article):
    client.force_login(editor())
    version = ArticleVersion.objects.get(article=article, number=1)
    body = client.get(f"/admin/knowledge/articleversion/{version.pk}/change/").content.decode()
    assert "亲，退款 1–3 个工作日原路退回哦～" in body  # the WeChat answer
    assert "旧答案" in body  # the default answer shown for other channels


def test_saving_the_edit_form_creates_a_version_and_can_submit_it(client, article):
    client.force_login(editor())
    response = client.post(
        f"/admin/knowledge/article/{article.pk}/edit/",
        {
            "base_version": 2,
            "standard_question": "退款多久到账？",
            "similar_questions": "退款什么时候到\n退钱要几天",
            "answer": "第三版答案",
            "answer_wechat": "微信版",
            "language": "zh-hans",
            "tags": "退款, 到账",
            "submit_for_review": "on",
        },
    )
    assert response.status_code == 302
    version = ArticleVersion.objects.get(article=article, number=3)
    assert version.status == VersionStatus.IN_REVIEW
    assert [q.text for q in version.similar_questions.all()] == ["退款什么时候到", "退钱要几天"]
    assert version.tags == ["退款", "到账"]


def test_a_bad_placeholder_shows_on_the_script_form(client):
    script = published_script().script
    client.force_login(editor())
    response = client.post(
        f"/admin/knowledge/script/{script.pk}/edit/",
        {
            "base_version": 1,
            "title": "退款安抚",
            "text": "您好{customer_name}，退款{amount}元",
        },
    )
    assert response.status_code == 200
    assert "line 1, column 21" in response.content.decode()


def test_approver_publishes_from_the_article_page(client, article):
    version = ArticleVersion.objects.get(article=article, number=2)
    workflow.version_submit(version=version, by=None)
    client.force_login(approver())
    client.post(f"/admin/knowledge/article/{article.pk}/workflow/publish/", {"version": 2})
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED


def test_admin_import_lists_bad_rows_by_line(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(approver())
    csv = "external_id,product,standard_question,answer\nfaq-1,mall-app,退款多久到账,1-3 天\nfaq-2,mall-app,,答案\n"
    response = client.post("/admin/knowledge/article/import/", {"file": SimpleUploadedFile("faq.csv", csv.encode())})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<td>3</td>" in body
    assert not ArticleVersion.objects.exists()


def test_admin_export_is_a_real_workbook(client, article):
    client.force_login(editor())
    response = client.get("/admin/knowledge/article/export/xlsx/")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "external_id"
    assert rows[1][0] == "mall-refund-001"


def test_adding_an_article_leads_to_writing_its_first_version(client):
    from apps.knowledge.models import Article
    from tests.factories import ProductFactory

    product = ProductFactory(slug="mall-app")
    user = editor()
    client.force_login(user)
    response = client.post(
        "/admin/knowledge/article/add/",
        {
            "external_id": "mall-new-001",
            "product": product.pk,
            "verification_interval_days": 90,
        },
    )
    article = Article.objects.get(external_id="mall-new-001")
    assert response.status_code == 302 and response["Location"].endswith(f"/article/{article.pk}/edit/")
    assert article.owner == user

    response = client.post(
        f"/admin/knowledge/article/{article.pk}/edit/",
        {
            "base_version": 0,
            "standard_question": "新功能怎么用？",
            "answer": "在「我的」页面打开。",
            "language": "zh-hans",
        },
    )
    assert response.status_code == 302
    assert article.versions.get().number == 1


def test_an_api_key_created_in_the_admin_is_shown_once_and_stored_hashed(client):
    from apps.apikeys.models import ApiKey
    from tests.factories import UserFactory

    admin_user = UserFactory(role="administrator")
    client.force_login(admin_user)
    response = client.post("/admin/apikeys/apikey/add/", {"name": "微信机器人", "scopes": ["answers"]}, follow=True)
    body = response.content.decode()
    key = ApiKey.objects.get(name="微信机器人")
    assert f"kbp_{key.prefix}_" in body
    import re

    shown = re.search(rf"kbp_{key.prefix}_([A-Za-z0-9_-]{{20,}})", body).group(1)
    assert len(shown) > 30 and shown not in key.digest
    assert shown not in client.get(f"/admin/apikeys/apikey/{key.pk}/change/").content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("faq.csv", "外部编号,问题\n1,2\n".encode(), "header lacks column"),
        ("faq.csv", "external_id,product\n".encode("utf-16"), "not UTF-8"),
        ("faq.xlsx", b"not a workbook", "not a readable .xlsx"),
        ("faq.pdf", b"%PDF", "Unsupported file type"),
    ],
)
def test_admin_import_of_a_bad_file_explains_the_problem(client, name, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(approver())
    response = client.post("/admin/knowledge/article/import/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    assert message in response.content.decode()


def test_workflow_urls_refuse_nonsense_without_a_500(client, article):
    client.force_login(approver())
    base = f"/admin/knowledge/article/{article.pk}"
    assert client.get(f"{base}/workflow/publish/").status_code == 302
    assert client.post(f"{base}/workflow/publish/", {"version": "abc"}, follow=True).status_code == 200
    assert client.post(f"{base}/workflow/explode/", {"version": 1}, follow=True).status_code == 200
    assert client.get(f"{base}/diff/?a=99&b=x").status_code == 200
    assert client.get("/admin/knowledge/article/999999/edit/").status_code == 404


def test_the_home_page_counts_the_work_waiting(client):
    from apps.catalog.services import release_record
    from apps.knowledge.services.stale import release_flag_stale_content
    from tests.factories import ProductFactory

    user = editor()
    mall = ProductFactory(slug="mall-app")
    stale = published_article(product=mall, features=["refund"])
    stale.article.verifier = user
    stale.article.save()
    release = release_record(product=mall, version="5.3.0", changed_feature_slugs=["refund"], announce=False).release
    release_flag_stale_content(release_id=release.pk)
    client.force_login(user)

    response = client.get("/admin/")

    assert response.context["queues"]["article_stale"] == 1
    assert response.context["queues"]["article_mine_to_verify"] == 1
    assert "Waiting for you and your team" in response.content.decode()


def test_bulk_actions_submit_and_publish_and_log_history(client, article):
    from django.contrib.admin.models import LogEntry

    client.force_login(editor())
    client.post("/admin/knowledge/article/", {"action": "submit_selected", "_selected_action": [article.pk]})
    assert article.versions.get(number=2).status == VersionStatus.IN_REVIEW
    # An editor is not offered the publish action; posting it anyway changes nothing.
    client.post("/admin/knowledge/article/", {"action": "publish_selected", "_selected_action": [article.pk]})
    assert article.versions.get(number=2).status == VersionStatus.IN_REVIEW

    client.force_login(approver())
    client.post("/admin/knowledge/article/", {"action": "publish_selected", "_selected_action": [article.pk]})
    assert article.versions.get(number=2).status == VersionStatus.PUBLISHED
    assert LogEntry.objects.filter(object_id=str(article.pk)).count() == 2


@pytest.mark.parametrize("term", ["退款審核", "退款审核", "審核駁回", "驳回后"])
def test_admin_search_finds_content_in_either_chinese_script_and_in_answers(client, term):
    simplified = published_article(
        external_id="refund-review", standard_question="退款审核要多久？", answer="驳回后可以重新申请。"
    )
    traditional = published_article(
        external_id="refund-review-tw", standard_question="退款審核被駁回怎麼辦？", answer="請補充憑證。"
    )
    published_article(external_id="invoice", standard_question="怎么开发票？", answer="在订单页申请。")
    client.force_login(editor())
    page = client.get("/admin/knowledge/article/", {"q": term}).content.decode()
    found = {external_id for external_id in ("refund-review", "refund-review-tw", "invoice") if external_id in page}
    expected = {
        "退款審核": {"refund-review", "refund-review-tw"},
        "退款审核": {"refund-review", "refund-review-tw"},
        "審核駁回": set(),  # not a phrase of either
        "驳回后": {"refund-review"},  # in the answer only
    }[term]
    assert found == expected, (term, found)
    assert simplified and traditional


def test_the_import_asks_publish_or_drafts_first_and_editors_get_drafts(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = "external_id,product,standard_question,answer\nfaq-1,mall-app,退款多久到账,1-3 天\n"
    client.force_login(editor())
    page = client.get("/admin/knowledge/article/import/").content.decode()
    assert 'value="draft"' in page and 'value="publish"' not in page  # an editor may not publish
    client.post("/admin/knowledge/article/import/", {"file": SimpleUploadedFile("faq.csv", csv.encode())})
    assert ArticleVersion.objects.get(article__external_id="faq-1").status == VersionStatus.DRAFT

    client.force_login(approver())
    page = client.get("/admin/knowledge/article/import/").content.decode()
    assert page.index('value="publish"') < page.index('type="file"')  # asked before the upload
    csv2 = csv.replace("faq-1", "faq-2")
    client.post(
        "/admin/knowledge/article/import/", {"file": SimpleUploadedFile("faq.csv", csv2.encode()), "outcome": "draft"}
    )
    assert ArticleVersion.objects.get(article__external_id="faq-2").status == VersionStatus.DRAFT
    csv3 = csv.replace("faq-1", "faq-3")
    client.post("/admin/knowledge/article/import/", {"file": SimpleUploadedFile("faq.csv", csv3.encode())})
    assert ArticleVersion.objects.get(article__external_id="faq-3").status == VersionStatus.PUBLISHED


def test_the_article_page_puts_content_first_and_shows_approvers_the_change_inline(client):
    published = published_article(external_id="refund", standard_question="退款多久到账？", answer="1–3 个工作日。")
    article = published.article
    new = workflow.version_create(
        item=article, base_number=1, by=None, content=article_content(answer="3–5 个工作日，节假日顺延。")
    )
    workflow.version_submit(version=new, by=None)
    client.force_login(approver())
    page = client.get(f"/admin/knowledge/article/{article.pk}/change/").content.decode()
    assert (
        page.index("kb-workflow") < page.index("退款多久到账？") < page.index('name="verification_interval_days"')
    )  # content before metadata
    assert "kb-review-diff" in page and "节假日顺延" in page  # what v2 changes, inline
    client.force_login(editor())
    page = client.get(f"/admin/knowledge/article/{article.pk}/change/").content.decode()
    assert "kb-review-diff" not in page  # only for who may approve
