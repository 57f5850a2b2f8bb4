"""Shared fixtures. Everything is real: PostgreSQL with pgvector, Redis, and a Celery worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.roles import sync_role_permissions
from apps.apikeys.services import api_key_issue
from kbportal.embedded import data_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _roles(db):
    # Transactional tests flush the database, groups included; put the roles back for every test.
    sync_role_permissions(django_apps)


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read messages in English (the msgids); tests/kbportal/test_i18n.py checks the Chinese UI."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def mall():
    """The product most tests sell: a mother-and-baby shopping app."""
    from tests.factories import ProductFactory

    return ProductFactory(slug="mall-app", name="母婴商城 App")


@pytest.fixture
def bot(api_key_client) -> APIClient:
    """A bot's client: an API key with the ``answers`` scope."""
    return api_key_client("answers")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_key_client():
    """``api_key_client("answers", "articles:read")`` → an APIClient that sends such a key."""

    def make(*scopes: str, rate_limit: int | None = None) -> APIClient:
        issued = api_key_issue(name="test key", scopes=list(scopes), rate_limit_per_minute=rate_limit)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.plaintext}")
        client.api_key = issued.api_key
        return client

    return make


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def start_worker(
    test_db: str, log, *, name: str = "test", extra_env: dict | None = None, hostname: str | None = None
) -> subprocess.Popen:
    """Start ``celery -A kbportal worker`` (queues celery and qa, solo pool) on the test database and
    wait until it answers a ping. ``hostname`` (``name@host``, taken literally) names the worker as on
    another machine; the wait is then for that worker's own answer, with others running."""
    from kbportal.celery import app

    env = {
        **os.environ,
        "KBPORTAL_DB_NAME_OVERRIDE": test_db,
        "DJANGO_SETTINGS_MODULE": "kbportal.settings",
        **(extra_env or {}),
    }
    destination = [hostname] if hostname else None
    hostname = hostname or f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kbportal",
            "worker",
            "-Q",
            "celery,qa",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={hostname}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5, destination=destination):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"Celery worker exited; see {log.name}")
    process.terminate()
    raise RuntimeError(f"Celery worker did not start in 60 s; see {log.name}")


def running_worker(django_db_blocker, *, name: str = "test", extra_env: dict[str, str] | None = None):
    """Start a real ``celery -A kbportal worker`` on the real broker and the test database, with both queues
    emptied first (``purge()`` empties the default queue only); a generator for a module-scoped fixture to
    ``yield from``: it stops the worker at teardown."""
    from kbportal.celery import app

    with django_db_blocker.unblock():
        test_db = connection.settings_dict["NAME"]
    app.control.purge()
    _purge_queue("qa")
    log = open(data_dir() / f"{name}-worker.log", "w")  # noqa: SIM115 - closed at teardown
    process = start_worker(test_db, log, name=name, extra_env=extra_env)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def _celery_worker_process(django_db_setup, django_db_blocker):
    """A real ``celery -A kbportal worker`` process on the real broker, pointed at the test database.

    Module-scoped: publishing enqueues indexing, and a worker left running would touch the database
    while other modules' transactional tests truncate it.
    """
    yield from running_worker(django_db_blocker)


@pytest.fixture
def celery_worker(_celery_worker_process):
    yield _celery_worker_process
    # Let the worker finish what this test enqueued before the test database is flushed.
    _wait_until_idle()


def _purge_queue(name: str) -> None:
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(name)


def _wait_until_idle(timeout: float = 60.0) -> None:
    import redis
    from django.conf import settings

    from kbportal.celery import app

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        # A fresh connection each time: a pooled one may date from before a Redis restart
        # (tests/journeys/test_faults.py).
        with app.connection_for_write() as conn:
            inspector = app.control.inspect(timeout=0.5, connection=conn)
            busy = any((inspector.active() or {}).values()) or any((inspector.reserved() or {}).values())
        quiet = 0 if busy or broker.llen("celery") or broker.llen("qa") else quiet + 1
        time.sleep(0.1)


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll until ``condition()`` is truthy (work done by another process); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
