"""Gunicorn configuration for the portal: the one way the web server runs, started by ``scripts/serve.sh``
(used by ``make run`` and by the answers benchmark, so what is measured is what a newcomer runs).

Threaded workers (``gthread``): a request mostly waits on PostgreSQL, Redis or the embedder, so a few
processes with many threads each serve many clients in little memory. One worker per core by default:
the CPU-bound part of a request (embedding a question) runs one at a time per worker, and the workers
share the cores.

The application is loaded in each worker after the fork, never in the master (no ``preload_app``):
nothing the portal opens (database connections, Redis connections, the embedding model and its OpenMP
threads) may be shared between processes, and none of it is created before a worker exists.

Environment variables:

- ``HOST`` (default ``127.0.0.1``) and ``PORT`` (default ``8000``): the address to listen on.
- ``WEB_CONCURRENCY``: worker processes (default: the number of CPU cores available).
- ``GUNICORN_THREADS``: threads per worker (default 16).
- ``GUNICORN_GRACEFUL_TIMEOUT``: seconds a stopping worker has to finish its requests (default 10).
- ``GUNICORN_KEEPALIVE``: seconds an idle kept-alive connection stays open (default 75, above a load
  balancer's usual 60 s, so the balancer closes first and never sends on a connection gunicorn is closing).
- ``GUNICORN_ACCESS_LOG``: ``1`` writes one line per request to stdout (default: off).
- ``LOG_LEVEL``: gunicorn's own log level, as for Django's logging (default ``INFO``).
- ``EMBEDDING_THREADS``: left as set; when unset, each worker's embedder gets an equal share of the
  cores (cores / workers, at least 1) instead of every worker's embedder using all of them.

``GUNICORN_CMD_ARGS`` still overrides any of these for a one-off run.
"""

from __future__ import annotations

import os


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer.") from None
    if value < minimum:
        raise SystemExit(f"{name}={raw!r} must be at least {minimum}.")
    return value


_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

wsgi_app = "kbportal.wsgi:application"
bind = [f"{os.environ.get('HOST') or '127.0.0.1'}:{_int('PORT', 8000)}"]
worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", _cores)
threads = _int("GUNICORN_THREADS", 16)
preload_app = False
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 10, minimum=0)
# Idle kept-alive connections are closed after this long. Gunicorn's default (2 s) is shorter than bots'
# connection pools and load balancers keep them: a request sent on a connection just as gunicorn closes it
# is dropped unread (make load saw it). Longer than the usual proxy idle timeout (60 s): the proxy closes first.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "").strip().lower() in {"1", "true", "yes", "on"} else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
# No control socket: its default path is per user, and `make run` and a benchmark may run side by side.
control_socket_disable = True
# Not a gunicorn setting (gunicorn ignores unknown names); the answers benchmark reports it.
embedding_threads = os.environ.get("EMBEDDING_THREADS") or str(max(1, _cores // workers))
# Set in the master before any worker starts, so every worker (and only the web server) sees it.
raw_env = [f"EMBEDDING_THREADS={embedding_threads}"]
