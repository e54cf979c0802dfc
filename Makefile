# The two commands a newcomer needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 8000
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: install install-loadtest run serve worker beat test lint format bench loadtest

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

## The whole suite against real PostgreSQL and Redis (started when not running).
test: install
	bash .ci/services
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Benchmarks (need PostgreSQL and Redis): figures are in the README.
bench: install
	bash .ci/services
	$(BIN)/python bench/hot_path.py
	$(BIN)/python bench/ratelimit.py

## Rate limits under load: Locust against gunicorn, PostgreSQL and Redis on loopback (~4 min).
loadtest:
	loadtests/run
