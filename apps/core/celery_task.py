"""The base of every Celery task in the portal (``kbportal/celery.py`` installs it as ``app.Task``).

What a task may meet and what then happens:

- **The database restarts or drops the connection** (``OperationalError``, ``InterfaceError``): the task is
  retried with exponential back-off and jitter (up to about 10 minutes in all); Django opens a new connection
  for the next try (Celery closes unusable connections between tasks).
- **The worker dies** (killed, out of memory): acks are late and the task is handed out again
  (``reject_on_worker_lost``); every task is idempotent, so running it twice is the same as once.
- **It runs too long**: the soft and hard limits of ``CELERY_TASK_SOFT_TIME_LIMIT`` /
  ``CELERY_TASK_TIME_LIMIT`` stop it; its transaction rolls back, and the periodic sweepers take the work up.
"""

from __future__ import annotations

from celery import Task
from django.db import InterfaceError, OperationalError


class PortalTask(Task):
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 2
    retry_backoff_max = 120
    retry_jitter = True
    max_retries = 8
