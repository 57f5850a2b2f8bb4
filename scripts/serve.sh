#!/usr/bin/env bash
# The portal's web server: gunicorn with kbportal/gunicorn.conf.py (its docstring lists the environment
# variables). `make run` (scripts/run.sh) and the answers benchmark both start it through this script.
# With DEBUG=0 whitenoise serves only what collectstatic gathered (hashed, compressed), so that runs first;
# with DEBUG on it serves the apps' static files straight from their directories.
set -euo pipefail
cd "$(dirname "$0")/.."
debug=${DEBUG-0}  # unset: off, as in kbportal/settings.py (make run sets DEBUG=1)
case "${debug,,}" in
  0 | false | no | off | "") .venv/bin/python manage.py collectstatic --noinput --verbosity 0 ;;
esac
exec .venv/bin/gunicorn --config kbportal/gunicorn.conf.py
