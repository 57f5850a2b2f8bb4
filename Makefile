# KB Portal. `make run` and `make test` work on a fresh clone with nothing but Python 3.11+.
PYTHON ?= python3
# Development and tests run with DEBUG on; settings default to off, so a deployment never shows a debug page.
export DEBUG ?= 1
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO ?= 1
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test e2e bench eval lint format deps migrate messages demo stop clean fuzz load soak test-external clients clients-test schema

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

deps: $(STAMP)

messages: deps
	$(PY) -m kbportal.i18n

migrate: deps
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# Web server, Celery worker and beat in one process group; Ctrl-C stops them and the embedded services.
run: messages migrate
	@if [ "$(DEMO)" != "0" ]; then $(MAKE) --no-print-directory demo; fi
	@HOST=$(HOST) PORT=$(PORT) bash scripts/run.sh

test: messages
	bash scripts/test.sh

# Browser tests: Playwright driving Debian's Chromium (apt-get install chromium); screenshots in artifacts/e2e/.
e2e: messages
	bash scripts/e2e.sh

# The bot teams' API clients (openapi-python-client, openapi-typescript + openapi-fetch) generated from the schema
# into build/clients/ (ignored); any warning fails. The generators live in .venv-clients and node_modules.
clients: deps
	bash scripts/clients.sh

# The generated clients' smoke tests against a live portal (tests/clients), after generating them.
clients-test: messages
	bash scripts/clients.sh --test

bench: messages
	bash scripts/bench.sh

# Property-based requests over the OpenAPI schema (schemathesis), every check; 0 failures expected.
fuzz: messages
	bash scripts/fuzz.sh

# Mixed load on loopback at several client counts (bots, conversation batches, reviewers, a release).
load: messages
	bash scripts/load.sh

# The load held for 10 minutes: memory and connections must not grow; every conversation scored once.
soak: messages
	LOAD_SOAK_SECONDS=$${LOAD_SOAK_SECONDS:-600} bash scripts/load.sh --soak

# The whole suite against separate PostgreSQL (+pgvector) and Redis services (Debian packages), by URL.
test-external: messages
	bash scripts/test-external.sh

# The API contract, committed: docs/openapi.yaml is what the code serves (tests/core/api/test_schema.py fails
# when they differ, so every API change shows up in review as a schema diff). Regenerate it with this.
schema: deps
	KBPORTAL_DATA_DIR=$${KBPORTAL_DATA_DIR:-.data/test} $(PY) manage.py spectacular --lang en --validate --fail-on-warn --file docs/openapi.yaml

# Style (ruff) and the house's floors: apps import only the apps below them (import-linter, pyproject.toml).
lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/lint-imports

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

stop:
	$(PY) -m kbportal.embedded stop

clean: stop
	rm -rf .data staticfiles

eval: messages
	.venv/bin/python eval/run_eval.py
	.venv/bin/python eval/qa_sentiment.py
