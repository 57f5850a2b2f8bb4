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


def _redis_ok(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and monitoring. 503 only when the database is down: without it the portal cannot
    serve. Redis down (the cache, the task broker) is "degraded", a 200: bots are answered from PostgreSQL,
    rate limits are counted in each process, and follow-up work is queued again by the sweepers when the
    broker returns."""
    checks = {
        "database": _database_ok(),
        "cache": _redis_ok(settings.CACHES["default"]["LOCATION"]),
        "broker": _redis_ok(settings.CELERY_BROKER_URL),
    }
    if not checks["database"]:
        state, code = "unavailable", 503
    elif not all(checks.values()):
        state, code = "degraded", 200
    else:
        state, code = "ok", 200
    return JsonResponse(
        {"status": state, "checks": {name: "ok" if up else "down" for name, up in checks.items()}}, status=code
    )


@login_required
def portal_home(request: HttpRequest) -> HttpResponseRedirect:
    """``/``: each role's own home (the reviewer's queue, the lead's dashboard, …), also after signing in."""
    from apps.core.navigation import home_for

    return HttpResponseRedirect(home_for(request.user))
