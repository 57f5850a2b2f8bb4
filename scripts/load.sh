#!/usr/bin/env bash
# Mixed load on loopback (benchmarks/load.py; `make load`, `make soak` = `--soak`): the real server
# (scripts/serve.sh) and a Celery worker on embedded PostgreSQL and Redis of their own data directory,
# stopped afterwards. Report: artifacts/load/report.md. Exits non-zero on errors, lost or twice-stored
# conversations, missing scores, or (soak) memory or connection growth.
set -uo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}  # set-up commands only; the server and the worker run with production settings
export KBPORTAL_DATA_DIR=${KBPORTAL_DATA_DIR:-$PWD/.data/load}
export KBPORTAL_DB_NAME=${KBPORTAL_DB_NAME:-kbportal_load}
if [ -n "${DATABASE_URL:-}" ] || [ -n "${REDIS_URL:-}" ]; then
  echo "scripts/load.sh runs on its own embedded services: unset DATABASE_URL and REDIS_URL." >&2
  exit 2
fi
(cd benchmarks && ../.venv/bin/python load.py "$@")
status=$?
.venv/bin/python -m kbportal.embedded stop >/dev/null || true
exit $status
