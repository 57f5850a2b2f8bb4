#!/usr/bin/env bash
# make fuzz: schemathesis over /api/schema/ against the real web server (gunicorn) on loopback, every check;
# any failure fails the run. scripts/fuzz.py does the work and writes artifacts/fuzz/report.md. Without
# DATABASE_URL/REDIS_URL the embedded services run from their own data directory (a fresh database each run)
# and are stopped afterwards. FUZZ_MAX_EXAMPLES, FUZZ_SEED and FUZZ_PHASES tune the run.
set -uo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}  # development default; settings are safe (off) when DEBUG is unset
export KBPORTAL_DATA_DIR=${KBPORTAL_DATA_DIR:-$PWD/.data/fuzz}
.venv/bin/python scripts/fuzz.py "$@"
status=$?
if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  .venv/bin/python -m kbportal.embedded stop >/dev/null || true
fi
exit $status
