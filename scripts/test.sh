#!/usr/bin/env bash
# The whole suite on real PostgreSQL (+pgvector) and Redis. Without DATABASE_URL/REDIS_URL the
# embedded services run from their own data directory, so a running `make run` is not disturbed,
# and they are stopped afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}  # development default; settings are safe (off) when DEBUG is unset
export KBPORTAL_DATA_DIR=${KBPORTAL_DATA_DIR:-$PWD/.data/test}
export KBPORTAL_TESTING=1
.venv/bin/ruff check . || exit 1
.venv/bin/python -m pytest --ignore=tests/e2e --ignore=tests/clients "$@"  # make e2e and make clients-test run those
status=$?
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  .venv/bin/python -m kbportal.embedded stop >/dev/null || true
fi
# pytest exits 5 when no test ran: that is a failure here too.
exit $status
