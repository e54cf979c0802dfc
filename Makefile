# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 8000
BIN := $(VENV)/bin
# pytest-xdist processes for `make test`; each has its own database and Redis indexes.
TEST_WORKERS ?= 2
export FLASK_APP := wsgi.py

.PHONY: install install-loadtest run serve worker beat test test-fast lint format bench loadtest vendor screenshots

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate setup.cfg pyproject.toml clients/python/pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]" -e ./clients/python
	touch $@

install: $(VENV)/.installed

$(VENV)/.installed-loadtest: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev,loadtest]"
	touch $@

install-loadtest: $(VENV)/.installed-loadtest

## Serve the API on 127.0.0.1:$(PORT) (SQLite, in-process limiter, eager Celery by default;
## with JWT_ALGORITHM=ES256/EdDSA and no key file, a development key in instance/).
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask ensure-admin
	$(BIN)/flask ensure-signing-key
	$(BIN)/gunicorn --workers 1 --threads 4 --bind 127.0.0.1:$(PORT) wsgi:app

## A Celery worker (needs CELERY_BROKER_URL, and the same DATABASE_URL/settings as the API).
worker: install
	$(BIN)/celery -A workers.celery_app worker --loglevel=INFO

## The beat scheduler of the periodic tasks (run exactly one per deployment).
beat: install
	mkdir -p instance
	$(BIN)/celery -A workers.celery_app beat --loglevel=INFO --schedule instance/celerybeat-schedule

## Serve the way production does: gunicorn.conf.py (GUNICORN_* settings), no migrations
## or admin creation (run `flask db upgrade` first). APP_ENV=production needs real secrets.
serve: install
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

## The whole suite against real PostgreSQL and Redis (started when not running), in
## TEST_WORKERS processes (TEST_WORKERS=0: one process, no pytest-xdist).
test: install
	bash .ci/services
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=15

## The tests that start no processes (no `slow` marker): the quick loop while developing.
test-fast: install
	bash .ci/services
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not slow"

## ruff (lint and format) and mypy --strict on app/ and workers/ (settings in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Benchmarks (need PostgreSQL and Redis): figures are in docs/architecture.md.
bench: install
	bash .ci/services
	$(BIN)/python -m bench.hot_path
	$(BIN)/python -m bench.ratelimit
	$(BIN)/python -m bench.usage
	command -v wrk >/dev/null || apt-get install -y -qq wrk || echo "bench.throughput needs wrk"
	$(BIN)/python -m bench.throughput

## Rate limits under load: Locust against gunicorn, PostgreSQL and Redis on loopback (~4 min).
loadtest:
	loadtests/run

## Retake docs/screenshots/ (every dashboard page, 1280x800, made-up data; needs chromium).
screenshots: install
	$(BIN)/python -m tests.dashboard.screenshots docs/screenshots

## Re-fetch the dashboard's vendored front-end library from the npm registry (pinned
## version and integrity; see app/dashboard/static/vendor/README.md). Needs npm.
HTM_VERSION := 3.1.1
HTM_INTEGRITY := sha512-983Vyg8NwUE7JkZ6NmOqpCZ+sh1bKv2iYTlUkzlWmA5JD2acKoxd4KVxbMmxX/85mtfdnDmTFoNKcg5DGAvxNQ==
VENDOR_DIR := app/dashboard/static/vendor
.PHONY: vendor
vendor:
	set -e; work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	integrity=$$(cd "$$work" && npm pack --json htm@$(HTM_VERSION) | $(PYTHON) -c 'import json, sys; print(json.load(sys.stdin)[0]["integrity"])'); \
	test "$$integrity" = "$(HTM_INTEGRITY)" || { echo "htm@$(HTM_VERSION): integrity $$integrity differs from the pinned one"; exit 1; }; \
	tar -xzf "$$work/htm-$(HTM_VERSION).tgz" -C "$$work"; \
	cp "$$work/package/preact/standalone.module.js" $(VENDOR_DIR)/htm-preact-standalone.module.js; \
	cp "$$work/package/LICENSE" $(VENDOR_DIR)/htm-preact-standalone.LICENSE
