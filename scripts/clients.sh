#!/usr/bin/env bash
# make clients: the bot teams' generated clients, from the schema of `manage.py spectacular`, into build/clients/
# (ignored by git). Any warning, from drf-spectacular or from a client generator, fails the run.
#   build/clients/openapi.yaml   the schema the clients were generated from
#   build/clients/python/        openapi-python-client (package kbportal_client), from .venv-clients
#   build/clients/typescript/    scripts/clients-typescript.sh, when present
# `scripts/clients.sh --test [pytest args]` then runs the clients' smoke tests (tests/clients) against a live
# server on the embedded services (make clients-test), and stops the services afterwards like scripts/e2e.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}  # development default; settings are safe (off) when DEBUG is unset
export KBPORTAL_DATA_DIR=${KBPORTAL_DATA_DIR:-$PWD/.data/test}
export KBPORTAL_TESTING=1
OUT=build/clients
SCHEMA=$OUT/openapi.yaml
VENV=.venv-clients
PYTHON=${PYTHON:-python3}

stop_services() {
  if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
    .venv/bin/python -m kbportal.embedded stop >/dev/null || true
  fi
}

fail() {
  echo "clients.sh: $*" >&2
  stop_services
  exit 1
}

# The generator lives in its own venv: its dependencies (pydantic, typer, httpx…) never move the app's pins.
if [ ! -x "$VENV/bin/python" ] || [ requirements-clients.txt -nt "$VENV/.installed" ]; then
  "$PYTHON" -m venv "$VENV" || fail "cannot create $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-clients.txt \
    || fail "cannot install requirements-clients.txt into $VENV"
  touch "$VENV/.installed"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
.venv/bin/python manage.py spectacular --file "$SCHEMA" --validate --fail-on-warn \
  || fail "the schema has warnings (manage.py spectacular --validate --fail-on-warn)"

# The generator's post hooks (clients/python-config.yaml) run the ruff of .venv-clients, found on PATH.
output=$(PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate --path "$SCHEMA" \
  --output-path "$OUT/python" --config clients/python-config.yaml --overwrite --fail-on-warning 2>&1)
status=$?
echo "$output"
warnings=$(grep -ci "warning" <<<"$output")
echo "openapi-python-client: exit $status, $warnings warning(s)"
if [ "$status" -ne 0 ] || [ "$warnings" -ne 0 ]; then
  fail "openapi-python-client did not generate cleanly (exit $status; warnings above)"
fi

if [ -f scripts/clients-typescript.sh ]; then
  bash scripts/clients-typescript.sh "$SCHEMA" || fail "scripts/clients-typescript.sh failed"
fi

if [ "${1:-}" = "--test" ]; then
  shift
  .venv/bin/python -m pytest tests/clients "$@"
  status=$?
  stop_services
  # pytest exits 5 when no test ran: that is a failure here too.
  exit $status
fi
stop_services
echo "clients.sh: generated $OUT/python$( [ -d "$OUT/typescript" ] && echo " and $OUT/typescript") from $SCHEMA"
