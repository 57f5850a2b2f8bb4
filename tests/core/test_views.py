import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_cache_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}


def test_healthz_is_degraded_but_200_when_the_broker_is_down(client, settings):
    # A load balancer keeps the portal in: bots are answered without Redis (tests/journeys/test_faults.py).
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "ok", "broker": "down"}}


def test_every_model_change_has_its_migration():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_a_nul_character_in_any_path_is_a_404_not_a_server_error(client):
    for path in ("/api/v1/scripts/a%00b/", "/api/v1/articles/%00/", "/admin/knowledge/article/%00/change/"):
        assert client.get(path).status_code == 404, path
