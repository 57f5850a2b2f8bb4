"""Cheap polling for bots that keep an offline copy: ETag / If-None-Match (304) and the updated_since cursor."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction

from apps.catalog.services import release_record
from apps.knowledge.api.serializers import ArticleSerializer, ScriptSerializer
from apps.knowledge.models import Article, ArticleVersion, Category, Script
from apps.knowledge.services import workflow
from apps.knowledge.services.stale import release_flag_stale_content, verifications_mark_overdue
from tests.factories import ProductFactory, article_content, published_article, published_script

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/articles/", "/api/v1/articles/a-1/", "/api/v1/scripts/", "/api/v1/scripts/s-1/"]


@pytest.fixture
def kb():
    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, features=["refund"], external_id="a-1", channel_answers={"wechat": "微信答案"})
    published_article(product=mall, external_id="a-2")
    published_script(product=mall, features=["refund"], external_id="s-1")
    return mall


@pytest.fixture
def client(api_key_client):
    return api_key_client("articles:read")


def again(client, path, first, **params):
    return client.get(path, params, HTTP_IF_NONE_MATCH=first["ETag"])


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_repeated_poll_is_answered_304_without_a_body(kb, client, path):
    first = client.get(path)
    assert first.status_code == 200
    assert first["ETag"].startswith('W/"')
    assert first["Cache-Control"] == "private, no-cache"

    second = again(client, path, first)

    assert second.status_code == 304
    assert second.content == b""
    assert second["ETag"] == first["ETag"]
    assert second["Cache-Control"] == "private, no-cache"
    assert {"Accept", "Accept-Language"} <= {v.strip() for v in second["Vary"].split(",")}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_star_or_a_list_naming_the_current_tag_is_a_match(kb, client, path):
    etag = client.get(path)["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH=f'"other", {etag}').status_code == 304
    assert client.get(path, HTTP_IF_NONE_MATCH=etag.removeprefix("W/")).status_code == 304  # weak comparison
    assert client.get(path, HTTP_IF_NONE_MATCH='W/"other", "more"').status_code == 200
    assert client.get(path, HTTP_IF_NONE_MATCH="not a tag at all").status_code == 200


def test_a_star_never_hides_a_missing_item(kb, client):
    assert client.get("/api/v1/articles/nope/", HTTP_IF_NONE_MATCH="*").status_code == 404
    assert client.get("/api/v1/scripts/nope/", HTTP_IF_NONE_MATCH="*").status_code == 404


def test_lists_send_the_sync_cursor_on_200_and_304(kb, client):
    first = client.get("/api/v1/articles/")
    second = again(client, "/api/v1/articles/", first)
    assert second.status_code == 304
    for response in (first, second):
        cursor = datetime.fromisoformat(response["Sync-Cursor"])
        assert response["Sync-Cursor"].endswith("Z") and cursor.tzinfo is not None
    assert client.get("/api/v1/scripts/")["Sync-Cursor"]


@pytest.mark.parametrize("path", ["/api/v1/articles/", "/api/v1/articles/a-1/"])
def test_a_new_published_version_changes_the_tag(kb, client, path):
    first = client.get(path)
    article = ArticleVersion.objects.get(article__external_id="a-1").article
    newer = workflow.version_create(item=article, base_number=1, by=None, content=article_content(answer="新答案"))
    workflow.version_submit(version=newer, by=None)
    assert again(client, path, first).status_code == 304  # a version in review is not what bots see

    workflow.version_publish(version=newer, by=None)

    response = again(client, path, first)
    assert response.status_code == 200
    assert response["ETag"] != first["ETag"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_stale_flag_raised_then_cleared_changes_the_tag_each_time(kb, client, path):
    first = client.get(path)
    release = release_record(product=kb, version="5.3.0", changed_feature_slugs=["refund"], announce=False).release
    release_flag_stale_content(release_id=release.pk)

    flagged = again(client, path, first)
    assert flagged.status_code == 200 and flagged["ETag"] != first["ETag"]

    item = Article.objects.get(external_id="a-1") if "articles" in path else Script.objects.get(external_id="s-1")
    workflow.item_verify(item=item, by=None)

    verified = again(client, path, flagged)
    assert verified.status_code == 200
    assert verified["ETag"] not in {first["ETag"], flagged["ETag"]}


def test_verification_due_changes_the_tag(kb, client):
    first = client.get("/api/v1/articles/a-1/")
    verifications_mark_overdue(now=datetime.fromisoformat("2100-01-01T00:00:00+00:00"))

    response = again(client, "/api/v1/articles/a-1/", first)
    assert response.status_code == 200 and response.json()["needs_verification"] is True


@pytest.mark.parametrize(
    ("path", "params", "headers"),
    [
        ("/api/v1/articles/", {"page_size": 1}, {}),
        ("/api/v1/articles/", {"page_size": 1, "page": 2}, {}),
        ("/api/v1/articles/", {"feature": "refund"}, {}),
        ("/api/v1/articles/", {"channel": "wechat"}, {}),
        ("/api/v1/articles/a-1/", {"channel": "wechat"}, {}),
        ("/api/v1/articles/", {}, {"HTTP_ACCEPT_LANGUAGE": "en"}),
        ("/api/v1/scripts/", {}, {"HTTP_ACCEPT": "application/json; indent=2"}),
    ],
)
def test_another_page_filter_channel_language_or_form_is_another_tag(kb, client, path, params, headers):
    first = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.get(path, params, HTTP_IF_NONE_MATCH=first["ETag"], **headers)
    assert response.status_code == 200
    assert response["ETag"] != first["ETag"]


def test_a_different_query_with_the_same_content_may_be_304(kb, client):
    # The tag describes the body, not the URL: an empty delta is the same empty page whatever the cursor.
    empty = client.get("/api/v1/articles/", {"updated_since": "2100-01-01T00:00:00Z"})
    later = again(client, "/api/v1/articles/", empty, updated_since="2100-01-02T00:00:00Z")
    assert later.status_code == 304
    assert again(client, "/api/v1/articles/", empty, updated_since="2000-01-01T00:00:00Z").status_code == 200


def test_the_tag_covers_every_field_the_bodies_show():
    # apps/knowledge/api/etags.py digests whole rows of the tables these fields come from: a field read from
    # another table must be added there before it is added here.
    assert set(ArticleSerializer().fields) == {
        "version", "features", "tags", "min_product_version", "max_product_version", "valid_from", "valid_until",
        "stale", "stale_reasons", "needs_verification", "published_at", "external_id", "product", "category",
        "standard_question", "similar_questions", "answer", "answer_html", "channel_answers", "language",
    }  # fmt: skip
    assert set(ScriptSerializer().fields) == {
        "version", "features", "tags", "min_product_version", "max_product_version", "valid_from", "valid_until",
        "stale", "stale_reasons", "needs_verification", "published_at", "external_id", "product", "scenario",
        "placeholders", "title", "text", "channels",
    }  # fmt: skip


def test_a_category_rename_changes_the_tag(kb, client):
    category = Category.objects.create(product=kb, name="退款与售后")
    Article.objects.filter(external_id="a-1").update(category=category)
    first = client.get("/api/v1/articles/a-1/")
    assert first.json()["category"] == "退款与售后"

    Category.objects.filter(pk=category.pk).update(name="售后")

    assert again(client, "/api/v1/articles/a-1/", first).status_code == 200


def test_a_304_costs_a_few_small_queries(kb, client, django_assert_num_queries):
    first = client.get("/api/v1/articles/")
    # (the key is cached since the first request) activity snapshot cleared (only inside a transaction, as in
    # tests), sync cursor, savepoint (in production: SET TRANSACTION), count, page ids, content digest, release
    with django_assert_num_queries(7):
        assert again(client, "/api/v1/articles/", first).status_code == 304


# --- the updated_since cursor ----------------------------------------------------------------------------------


def _ids(response):
    return {i["external_id"] for i in response.json()["results"]}


def test_an_item_changed_in_the_same_instant_as_the_cursor_is_returned(kb, client):
    cursor = client.get("/api/v1/articles/")["Sync-Cursor"]
    at = datetime.fromisoformat(cursor)
    ArticleVersion.objects.update(published_at=at - timedelta(days=1))
    ArticleVersion.objects.filter(article__external_id="a-1").update(published_at=at)  # exactly the cursor
    ArticleVersion.objects.filter(article__external_id="a-2").update(published_at=at + timedelta(microseconds=1))

    assert _ids(client.get("/api/v1/articles/", {"updated_since": cursor})) == {"a-1", "a-2"}


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_late_by_a_transaction_opened_before_the_cursor_is_returned(api_key_client, monkeypatch):
    # No safety overlap: what keeps the item is the cursor stopping at the oldest transaction still open.
    monkeypatch.setattr("apps.core.api.sync.SYNC_CURSOR_OVERLAP", timedelta(0))
    client = api_key_client("articles:read")
    published_article(external_id="early")
    written, commit = threading.Event(), threading.Event()
    failures = []

    def late_writer():
        try:
            with transaction.atomic():
                published_article(external_id="late")
                written.set()
                assert commit.wait(10)
        except Exception as error:  # noqa: BLE001 (shown by the main thread)
            failures.append(error)
            written.set()
        finally:
            connection.close()

    writer = threading.Thread(target=late_writer)
    writer.start()
    try:
        assert written.wait(10)
        polled = client.get("/api/v1/articles/")
        assert _ids(polled) == {"early"}  # not committed yet
    finally:
        commit.set()
        writer.join(10)
    assert not failures

    late = ArticleVersion.objects.get(article__external_id="late")
    cursor = datetime.fromisoformat(polled["Sync-Cursor"])
    assert cursor <= late.published_at  # a cursor of "now" would have skipped it

    assert _ids(client.get("/api/v1/articles/", {"updated_since": polled["Sync-Cursor"]})) == {"late"}


@pytest.mark.django_db(transaction=True)
def test_polls_outside_a_transaction_read_one_snapshot_and_still_answer_304(api_key_client):
    published_article(external_id="a-1")
    client = api_key_client("articles:read")
    first = client.get("/api/v1/articles/")
    assert again(client, "/api/v1/articles/", first).status_code == 304
    assert not connection.in_atomic_block
