"""Every Celery task is bounded and survives database faults: nothing can stall a queue forever."""

from django.conf import settings
from django.db import InterfaceError, OperationalError

from kbportal.celery import app


def _portal_tasks():
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_has_a_soft_and_a_hard_time_limit():
    tasks = _portal_tasks()
    assert len(tasks) >= 12
    for name, task in tasks.items():
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert soft and hard and soft < hard, name


def test_every_task_is_retried_on_database_faults_and_acknowledged_late():
    for name, task in _portal_tasks().items():
        assert {OperationalError, InterfaceError} <= set(task.autoretry_for), name
        assert task.acks_late and task.reject_on_worker_lost, name
        assert task.max_retries >= 5, name


def test_every_periodic_task_names_a_registered_task():
    tasks = _portal_tasks()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in tasks
