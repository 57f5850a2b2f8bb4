"""Error reports show no service URL or password: what a crash mails to ADMINS is safe to forward."""

from django.test import RequestFactory
from django.views.debug import ExceptionReporter


def test_an_error_report_cleanses_every_service_url_and_password(settings):
    settings.DATABASE_URL = "postgres://kb:db-secret@db.internal:5432/kb"
    settings.REDIS_URL = "redis://:redis-secret@cache.internal:6379"
    settings.CELERY_BROKER_URL = "redis://:broker-secret@cache.internal:6379/0"
    settings.EMBEDDING_MODEL_NOTE = "served from https://user:embed-secret@models.internal/e5"
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        report = ExceptionReporter(RequestFactory().get("/"), type(exc), exc, exc.__traceback__)
        text = report.get_traceback_text()
    for secret in ("db-secret", "redis-secret", "broker-secret", "embed-secret", "db.internal", "cache.internal"):
        assert secret not in text, secret
    assert "boom" in text  # the report still says what went wrong
