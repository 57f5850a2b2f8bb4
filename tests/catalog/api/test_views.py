"""CI/CD records releases over REST."""

import pytest

from apps.catalog.models import Release
from tests.factories import FeatureFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mall():
    product = ProductFactory(slug="mall-app")
    for slug in ("refund", "logistics"):
        FeatureFactory(product=product, slug=slug)
    return product


def post(client, **body):
    return client.post("/api/v1/releases/", body, format="json")


def test_a_release_is_recorded_with_its_changed_features(api_key_client, mall):
    response = post(
        api_key_client("releases:write"),
        product="mall-app",
        version="5.3.0",
        released_at="2026-11-04T10:00:00+08:00",
        changed_features=["refund", "logistics"],
        notes="自动价保",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["product"], body["version"], body["changed_features"]) == (
        "mall-app",
        "5.3.0",
        ["logistics", "refund"],
    )
    assert body["stale_check"] == "queued"


def test_bad_input_gets_field_errors_and_writes_nothing(api_key_client, mall):
    client = api_key_client("releases:write")
    response = post(client, product="mall-app", version="five", changed_features="refund")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"version", "changed_features"}
    assert not Release.objects.exists()


def test_an_unknown_product_or_feature_is_a_404_naming_it(api_key_client, mall):
    # Well-formed, but naming something that does not exist: the schema cannot list what exists.
    client = api_key_client("releases:write")
    response = post(client, product="no-such-app", version="1.0.0")
    assert response.status_code == 404 and "product" in response.json()["errors"]

    response = post(client, product="mall-app", version="5.3.0", changed_features=["refund", "teleport"])
    assert response.status_code == 404
    assert "teleport" in response.json()["errors"]["changed_features"][0]
    assert not Release.objects.exists()


def test_a_retry_returns_the_same_release_and_a_different_one_conflicts(api_key_client, mall):
    client = api_key_client("releases:write")
    assert post(client, product="mall-app", version="5.3.0", changed_features=["refund"]).status_code == 201
    assert post(client, product="mall-app", version="5.3.0", changed_features=["refund"]).status_code == 200
    response = post(client, product="mall-app", version="5.3.0", changed_features=["logistics"])
    assert response.status_code == 409
    assert Release.objects.count() == 1


def test_the_releases_endpoint_needs_the_releases_scope(api_key_client, mall):
    assert post(api_key_client("articles:read"), product="mall-app", version="5.3.0").status_code == 403


def test_versions_sort_numerically(mall):
    from apps.catalog.services import release_record

    for version in ["5.9.0", "5.10.0", "5.3.0rc1", "5.3.0", "10.0"]:
        release_record(product=mall, version=version, changed_feature_slugs=[], announce=False)
    ordered = list(Release.objects.filter(product=mall).order_by("version_key").values_list("version", flat=True))
    assert ordered == ["5.3.0rc1", "5.3.0", "5.9.0", "5.10.0", "10.0"]


def test_a_version_too_large_to_store_is_a_field_error_not_a_server_error(api_key_client, mall):
    client = api_key_client("releases:write")
    response = post(client, product="mall-app", version="100000000000000000000.1")
    assert response.status_code == 400 and "version" in response.json()["errors"]
    bot = api_key_client("answers")
    answer = bot.post("/api/v1/answers/", {"question": "退款", "product_version": 10**20}, format="json")
    assert answer.status_code == 400 and "product_version" in answer.json()["errors"]
