"""The read API integrations and offline bots sync from."""

import pytest

from apps.catalog.services import release_record
from apps.knowledge.services import workflow
from apps.knowledge.services.stale import release_flag_stale_content
from tests.factories import ProductFactory, article_content, draft_article, published_article, published_script

pytestmark = pytest.mark.django_db


def test_lists_published_articles_with_everything_a_bot_needs(api_key_client):
    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, features=["refund"], external_id="mall-refund-001", tags=["退款"])
    client = api_key_client("articles:read")

    body = client.get("/api/v1/articles/").json()

    assert body["count"] == 1
    [item] = body["results"]
    assert item["external_id"] == "mall-refund-001"
    assert item["product"] == "mall-app"
    assert item["features"] == ["refund"]
    assert item["version"] == 1
    assert item["standard_question"] == "退款多久到账？"
    assert item["similar_questions"] == ["退款什么时候到", "钱怎么还没退回来"]
    assert item["channel_answers"] == {"wechat": "亲，退款 1–3 个工作日原路退回哦～"}
    assert item["stale"] is False and item["stale_reasons"] == []
    assert item["needs_verification"] is False
    assert item["published_at"]


def test_drafts_and_versions_in_review_never_appear(api_key_client):
    draft_article(external_id="draft-only")
    published = published_article(external_id="live", answer="线上答案")
    newer = workflow.version_create(
        item=published.article, base_number=1, by=None, content=article_content(answer="草稿答案，不能给机器人")
    )
    workflow.version_submit(version=newer, by=None)

    body = api_key_client("articles:read").get("/api/v1/articles/").json()

    assert [(i["external_id"], i["answer"]) for i in body["results"]] == [("live", "线上答案")]


def test_filters_by_product_feature_and_stale(api_key_client):
    mall, wallet = ProductFactory(slug="mall-app"), ProductFactory(slug="wallet-app")
    published_article(product=mall, features=["refund"], external_id="m-1")
    published_article(product=mall, features=["logistics"], external_id="m-2")
    published_article(product=wallet, features=["refund"], external_id="w-1")
    release = release_record(product=mall, version="5.3.0", changed_feature_slugs=["logistics"], announce=False).release
    release_flag_stale_content(release_id=release.pk)
    client = api_key_client("articles:read")

    def ids(**params):
        return [i["external_id"] for i in client.get("/api/v1/articles/", params).json()["results"]]

    assert ids(product="mall-app") == ["m-1", "m-2"]
    assert ids(feature="refund") == ["m-1", "w-1"]
    assert ids(stale="true") == ["m-2"]
    assert ids(stale="false", product="mall-app") == ["m-1"]


def test_the_channel_filter_returns_that_channels_answer(api_key_client):
    published_article(external_id="a-1", answer="默认答案", channel_answers={"wechat": "微信答案"})
    client = api_key_client("articles:read")
    assert client.get("/api/v1/articles/a-1/", {"channel": "wechat"}).json()["answer"] == "微信答案"
    assert client.get("/api/v1/articles/a-1/", {"channel": "phone"}).json()["answer"] == "默认答案"


def test_bad_filters_get_field_errors(api_key_client):
    response = api_key_client("articles:read").get(
        "/api/v1/articles/", {"channel": "fax", "updated_since": "yesterday"}
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"channel", "updated_since"}


def test_an_unknown_or_unpublished_article_is_404(api_key_client):
    draft_article(external_id="draft-only")
    client = api_key_client("articles:read")
    assert client.get("/api/v1/articles/draft-only/").status_code == 404
    assert client.get("/api/v1/articles/nope/").status_code == 404


def test_scripts_are_listed_with_their_placeholders(api_key_client):
    published_script(external_id="s-1", features=["refund"])
    [item] = api_key_client("articles:read").get("/api/v1/scripts/").json()["results"]
    assert item["external_id"] == "s-1"
    assert item["scenario"] == "refund"
    assert item["placeholders"] == ["customer_name", "order_id", "refund_days"]
    assert item["text"] == "您好{customer_name}，退款已提交。"


def test_the_list_costs_a_fixed_number_of_queries(api_key_client, django_assert_max_num_queries):
    for n in range(20):
        published_article(external_id=f"a-{n}", features=["refund"])
    client = api_key_client("articles:read")
    # key lookup, key touch, activity snapshot cleared (tests only) and sync cursor, savepoint (in production: SET
    # TRANSACTION), count, page ids, content digest (for the ETag), page, similar questions, channel answers,
    # features, stale flags, release savepoint
    with django_assert_max_num_queries(14):
        assert client.get("/api/v1/articles/").json()["count"] == 20


def test_updated_since_includes_new_stale_flags_so_syncing_bots_see_them(api_key_client):
    from datetime import timedelta

    from django.utils import timezone

    from apps.knowledge.models import Article, ArticleVersion

    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, features=["refund"], external_id="m-1")
    published_article(product=mall, features=["logistics"], external_id="m-2")
    ArticleVersion.objects.update(published_at=timezone.now() - timedelta(days=2))
    Article.objects.update(
        last_verified_at=timezone.now() - timedelta(days=2), updated_at=timezone.now() - timedelta(days=2)
    )
    since = timezone.now() - timedelta(days=1)
    release = release_record(product=mall, version="5.3.0", changed_feature_slugs=["refund"], announce=False).release
    release_flag_stale_content(release_id=release.pk)

    body = api_key_client("articles:read").get("/api/v1/articles/", {"updated_since": since.isoformat()}).json()

    assert [i["external_id"] for i in body["results"]] == ["m-1"]


def test_updated_since_includes_items_that_became_due_for_verification(api_key_client):
    from datetime import timedelta

    from django.utils import timezone

    from apps.knowledge.models import Article, ArticleVersion
    from apps.knowledge.services.stale import verifications_mark_overdue

    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, external_id="m-1")
    published_article(product=mall, external_id="m-2")
    long_ago = timezone.now() - timedelta(days=400)
    ArticleVersion.objects.update(published_at=long_ago)
    Article.objects.update(last_verified_at=long_ago, updated_at=long_ago)
    Article.objects.filter(external_id="m-2").update(verification_interval_days=3650)
    since = timezone.now()
    verifications_mark_overdue()

    body = api_key_client("articles:read").get("/api/v1/articles/", {"updated_since": since.isoformat()}).json()

    assert [(i["external_id"], i["needs_verification"]) for i in body["results"]] == [("m-1", True)]
