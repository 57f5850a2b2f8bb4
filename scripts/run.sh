#!/usr/bin/env bash
# Start the web server, a Celery worker and Celery beat; Ctrl-C stops all of them and the embedded
# PostgreSQL/Redis (when those are in use), leaving no process behind.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
DATA_DIR=${KBPORTAL_DATA_DIR:-.data}
mkdir -p "$DATA_DIR"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping KB Portal…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
    $PY -m kbportal.embedded stop || true
  fi
}
trap cleanup INT TERM EXIT

$PY -m celery -A kbportal worker --loglevel=INFO --concurrency=2 --hostname="kbportal@%h" &
pids+=($!)
$PY -m celery -A kbportal beat --loglevel=INFO --schedule="$DATA_DIR/celerybeat-schedule" &
pids+=($!)
$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

echo "KB Portal: http://$HOST:$PORT/admin/  (Ctrl-C stops the web server, worker, beat and embedded services)"
wait -n "${pids[@]}"
