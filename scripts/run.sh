#!/usr/bin/env bash
# Start the web server (gunicorn, via scripts/serve.sh), a Celery worker and Celery beat; Ctrl-C stops
# all of them and the embedded PostgreSQL/Redis (when those are in use), leaving no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}  # development default; settings are safe (off) when DEBUG is unset
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
DATA_DIR=${KBPORTAL_DATA_DIR:-.data}
mkdir -p "$DATA_DIR"

pids=()
cleanup() {
  # Ignore further Ctrl-C (make forwards it again): the shutdown must run to the end.
  trap '' INT TERM
  trap - EXIT
  echo
  echo "Stopping KB Portal…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  pkill -KILL -f "celery -A kbportal .*--hostname=kbportal-$$@" 2>/dev/null || true
  if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
    $PY -m kbportal.embedded stop || true
  fi
}
trap cleanup INT TERM EXIT

$PY -m celery -A kbportal worker -Q celery,qa --loglevel=INFO --concurrency=2 --hostname="kbportal-$$@%h" &
pids+=($!)
$PY -m celery -A kbportal beat --loglevel=INFO --schedule="$DATA_DIR/celerybeat-schedule" &
pids+=($!)
# The same server, with the same configuration, as the answers benchmark measures (scripts/serve.sh).
HOST=$HOST PORT=$PORT bash scripts/serve.sh &
pids+=($!)

echo "KB Portal: http://$HOST:$PORT/admin/  (Ctrl-C stops the web server, worker, beat and embedded services)"
wait -n "${pids[@]}"
