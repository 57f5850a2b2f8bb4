#!/usr/bin/env bash
# Browser tests (Playwright + Debian's Chromium) on the embedded services, like `make test`.
set -uo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}  # development default; settings are safe (off) when DEBUG is unset
export KBPORTAL_DATA_DIR=${KBPORTAL_DATA_DIR:-$PWD/.data/test}
export KBPORTAL_TESTING=1
.venv/bin/python -m pytest tests/e2e "$@"
status=$?
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  .venv/bin/python -m kbportal.embedded stop >/dev/null || true
fi
exit $status
