# The two commands: `make run` (serve the demo) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-lock
CHROMIUM ?= /usr/bin/chromium

# The suite's second pass runs on the real services; these are the local defaults.
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/governance
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test test-embedded test-services bench lint format browser-deps check-deploy

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_catalog
	$(PY) manage.py load_policies
	$(PY) manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(PY) manage.py runserver 127.0.0.1:8000

# Browser journeys drive Debian's chromium; the report tests read PDFs with poppler-utils
# (pdftotext, pdfinfo). Install them when they are missing and we may.
browser-deps:
	@if [ ! -x $(CHROMIUM) ] || ! command -v pdftotext >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	  else \
	    echo "chromium or poppler-utils is missing: sudo apt-get install chromium poppler-utils (the browser and report tests need them)"; exit 1; \
	  fi; \
	fi

# Pass 1: embedded defaults (SQLite, eager Celery). Pass 2: PostgreSQL, Redis and a real
# Celery worker, including the integration tests. Both must pass.
test: install browser-deps test-embedded test-services

test-embedded: install
	env -u DATABASE_URL -u REDIS_URL -u OPA_URL $(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

test-services: install
	DATABASE_URL=$${DATABASE_URL:-$(SERVICES_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(SERVICES_REDIS_URL)} \
	GOVERNANCE_REQUIRE_SERVICES=1 $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(SERVICES_DATABASE_URL)} $(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: install
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')} \
	ALLOWED_HOSTS=governance.example.com \
	$(PY) manage.py check --deploy --fail-level WARNING --settings=governance.settings.production
