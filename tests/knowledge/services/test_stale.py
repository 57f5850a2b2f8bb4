"""Stale flagging when a release ships, and verification intervals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog.models import Release
from apps.catalog.services import release_record
from apps.knowledge.models import Article, StaleFlag, StaleReason
from apps.knowledge.services import workflow
from apps.knowledge.services.stale import release_flag_stale_content, verifications_mark_overdue
from tests.conftest import wait_for
from tests.factories import FeatureFactory, ProductFactory, article_content, editor, published_article, published_script


def record(product, version, features):
    return release_record(product=product, version=version, changed_feature_slugs=features, announce=False).release


@pytest.mark.django_db
def test_a_release_flags_published_content_linked_to_changed_features():
    mall = ProductFactory(slug="mall-app")
    refund = published_article(product=mall, features=["refund"])
    logistics = published_article(product=mall, features=["logistics"])
    script = published_script(product=mall, features=["refund"])
    release = record(mall, "5.3.0", ["refund"])

    result = release_flag_stale_content(release_id=release.pk)

    assert (result.articles_flagged, result.scripts_flagged) == (1, 1)
    flag = StaleFlag.objects.get(article=refund.article)
    assert (flag.release, flag.reason, flag.features) == (release, StaleReason.FEATURE_CHANGED, ["refund"])
    assert not StaleFlag.objects.filter(article=logistics.article).exists()
    assert StaleFlag.objects.filter(script=script.script).exists()


@pytest.mark.django_db
def test_drafts_and_other_products_are_not_flagged():
    mall, wallet = ProductFactory(slug="mall-app"), ProductFactory(slug="wallet-app")
    from tests.factories import draft_article

    draft_article(product=mall, features=["refund"])
    published_article(product=wallet, features=["refund"])
    release = record(mall, "5.3.0", ["refund"])
    assert release_flag_stale_content(release_id=release.pk).articles_flagged == 0


@pytest.mark.django_db
def test_content_whose_version_range_ended_before_the_release_is_flagged():
    mall = ProductFactory(slug="mall-app")
    old = published_article(product=mall, max_product_version="5.1.9")
    current = published_article(product=mall, max_product_version="5.10.0")  # 5.10 > 5.3: proper ordering
    release = record(mall, "5.3.0", [])

    release_flag_stale_content(release_id=release.pk)

    assert StaleFlag.objects.get(article=old.article).reason == StaleReason.RANGE_ENDED
    assert not StaleFlag.objects.filter(article=current.article).exists()


@pytest.mark.django_db
def test_processing_the_same_release_twice_creates_no_second_flag():
    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, features=["refund"])
    release = record(mall, "5.3.0", ["refund"])

    release_flag_stale_content(release_id=release.pk)
    again = release_flag_stale_content(release_id=release.pk)

    assert again.articles_flagged == 0
    assert StaleFlag.objects.count() == 1


@pytest.mark.django_db
def test_verifying_clears_the_flag_and_reprocessing_does_not_bring_it_back():
    mall = ProductFactory(slug="mall-app")
    article = published_article(product=mall, features=["refund"]).article
    release = record(mall, "5.3.0", ["refund"])
    release_flag_stale_content(release_id=release.pk)

    workflow.item_verify(item=article, by=editor())
    release_flag_stale_content(release_id=release.pk)

    flag = StaleFlag.objects.get(article=article)
    assert flag.cleared_at is not None and flag.cleared_because == "verified"


@pytest.mark.django_db
def test_publishing_a_new_version_clears_the_flag():
    mall = ProductFactory(slug="mall-app")
    article = published_article(product=mall, features=["refund"]).article
    release_flag_stale_content(release_id=record(mall, "5.3.0", ["refund"]).pk)

    new = workflow.version_create(
        item=article,
        base_number=1,
        by=None,
        content=article_content(answer="5.3.0 起自动退款", feature_slugs=["refund"]),
    )
    workflow.version_submit(version=new, by=None)
    workflow.version_publish(version=new, by=None)

    assert StaleFlag.objects.get(article=article).cleared_because == "republished"


@pytest.mark.django_db
def test_overdue_content_is_marked_needs_verification_once():
    fresh = published_article().article
    overdue = published_article().article
    Article.objects.filter(pk=overdue.pk).update(last_verified_at=timezone.now() - timedelta(days=91))
    Article.objects.filter(pk=fresh.pk).update(last_verified_at=timezone.now() - timedelta(days=89))

    assert verifications_mark_overdue()["article"] == 1
    assert verifications_mark_overdue()["article"] == 0
    assert set(Article.objects.filter(needs_verification=True)) == {overdue}

    workflow.item_verify(item=overdue, by=editor())
    overdue.refresh_from_db()
    assert not overdue.needs_verification


@pytest.mark.django_db(transaction=True)
def test_a_release_posted_by_ci_flags_stale_articles_through_the_celery_worker(celery_worker, api_key_client):
    mall = ProductFactory(slug="mall-app")
    FeatureFactory(product=mall, slug="logistics")
    refund = published_article(product=mall, features=["refund"], external_id="mall-refund-001")
    published_article(product=mall, features=["membership"], external_id="mall-member-001")
    ci = api_key_client("releases:write")
    reader = api_key_client("articles:read")

    response = ci.post(
        "/api/v1/releases/",
        {"product": "mall-app", "version": "5.3.0", "changed_features": ["refund", "logistics"], "notes": "自动价保"},
        format="json",
    )
    assert response.status_code == 201, response.content
    release = Release.objects.get(version="5.3.0")

    wait_for(lambda: Release.objects.filter(pk=release.pk, stale_check__isnull=False).exists())
    body = reader.get("/api/v1/articles/", {"stale": "true"}).json()
    assert [item["external_id"] for item in body["results"]] == ["mall-refund-001"]
    [reason] = body["results"][0]["stale_reasons"]
    assert (reason["release"], reason["reason"], reason["features"]) == ("5.3.0", "feature_changed", ["refund"])

    # CI retries the same call: 200, the same release, no second flag even after the worker runs again.
    again = ci.post(
        "/api/v1/releases/",
        {"product": "mall-app", "version": "5.3.0", "changed_features": ["logistics", "refund"]},
        format="json",
    )
    assert again.status_code == 200
    from apps.knowledge.tasks import flag_stale_for_release

    assert flag_stale_for_release.delay(release.pk).get(timeout=30) == {"articles_flagged": 0, "scripts_flagged": 0}
    assert StaleFlag.objects.filter(article=refund.article).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_beat_job_marks_overdue_content_through_the_worker(celery_worker):
    overdue = published_article().article
    Article.objects.filter(pk=overdue.pk).update(last_verified_at=timezone.now() - timedelta(days=120))
    from apps.knowledge.tasks import mark_overdue_verifications_task

    assert mark_overdue_verifications_task.delay().get(timeout=30)["article"] == 1
    overdue.refresh_from_db()
    assert overdue.needs_verification


@pytest.mark.django_db
def test_the_article_list_shows_a_stale_badge_naming_the_release(client):
    mall = ProductFactory(slug="mall-app")
    refund = published_article(product=mall, features=["refund"], external_id="refund-1")
    published_article(product=mall, features=["logistics"], external_id="logistics-1")
    release_flag_stale_content(release_id=record(mall, "5.3.0", ["refund"]).pk)
    client.force_login(editor())
    page = client.get("/admin/knowledge/article/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert page.count("kb-stale") == 1
    assert "过期（5.3.0）" in page
    assert refund.article.external_id in page
    import re

    stale_cells = re.findall(r'<td class="[^"]*field-stale[^"]*"[^>]*>(.*?)</td>', page, re.S)
    assert len(stale_cells) == 2 and not any("<img" in cell for cell in stale_cells)  # no tick reading "fine"


@pytest.mark.django_db
def test_the_stale_queue_shows_questions_and_feature_names_not_ids_and_slugs(client):
    mall = ProductFactory(slug="mall-app")
    published_article(product=mall, features=["refund"], external_id="refund-1", standard_question="退款多久到账？")
    from apps.catalog.models import Feature

    Feature.objects.filter(product=mall, slug="refund").update(name="退款")
    release_flag_stale_content(release_id=record(mall, "5.3.0", ["refund"]).pk)
    client.force_login(editor())
    page = client.get("/admin/knowledge/staleflag/").content.decode()
    assert "退款多久到账？" in page
    import re

    features = [
        cell.strip() for cell in re.findall(r'<td class="[^"]*field-changed_features[^"]*"[^>]*>(.*?)</td>', page, re.S)
    ]
    assert features == ["退款"]
