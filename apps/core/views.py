from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "unhealthy", reported below
        return False


def _broker_ok() -> bool:
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 200 when the database and the Celery broker answer, else 503."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": {k: "ok" if v else "down" for k, v in checks.items()}},
        status=200 if healthy else 503,
    )


@login_required
def portal_home(request: HttpRequest) -> HttpResponseRedirect:
    """``/``: each role's own home (the reviewer's queue, the lead's dashboard, …), also after signing in."""
    from apps.core.navigation import home_for

    return HttpResponseRedirect(home_for(request.user))
