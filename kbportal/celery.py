"""The Celery application: ``celery -A kbportal worker`` / ``celery -A kbportal beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbportal.settings")

# Every task retries on database faults and is bounded in time (apps/core/celery_task.py).
app = Celery("kbportal", task_cls="apps.core.celery_task:PortalTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
