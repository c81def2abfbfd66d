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

.PHONY: install run run-prod test test-sdk test-embedded test-services bench lint format browser-deps check-deploy faults mlflow-venv fuzz

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

# The SDK installs as its users install it (pip install ./clients/python); reinstalled when
# its sources change. The product's tests use it against the live server.
SDK_STAMP := $(VENV)/.installed-sdk
$(SDK_STAMP): $(STAMP) clients/python/pyproject.toml $(wildcard clients/python/governance_sdk/*.py)
	$(PY) -m pip install --quiet --no-deps --force-reinstall ./clients/python
	touch $(SDK_STAMP)

install: $(STAMP) $(SDK_STAMP)

# `make run PORT=8123 HOST=0.0.0.0` serves elsewhere (add the host name to ALLOWED_HOSTS).
# Plain assignments: only the command line overrides them, not a HOST the shell exports.
HOST = 127.0.0.1
PORT = 8000

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_catalog
	$(PY) manage.py load_policies
	$(PY) manage.py seed_demo
	@$(PY) -m governance.reports.pdf_engine
	@echo "Serving http://$(HOST):$(PORT) (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The same demo served as in production: gunicorn with uvicorn (ASGI) workers, static files
# from whitenoise, so 1,000 open event streams cost no threads. WEB_WORKERS sets the count.
WEB_WORKERS ?= 2
WEB_BIND ?= 127.0.0.1:8000
run-prod: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_catalog
	$(PY) manage.py load_policies
	$(PY) manage.py seed_demo
	DEBUG=false $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving http://$(WEB_BIND) with $(WEB_WORKERS) uvicorn workers (Ctrl-C to stop)"
	DEBUG=false ALLOWED_HOSTS=127.0.0.1,localhost $(VENV)/bin/gunicorn governance.asgi:application \
	  --bind $(WEB_BIND) --workers $(WEB_WORKERS) --worker-class uvicorn_worker.UvicornWorker

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

# The MLflow integration tests start a real MLflow tracking server. MLflow is a test tool, not
# a dependency of the product: it lives in its own virtualenv, outside requirements.lock.
MLFLOW_VENV := .venv-mlflow
MLFLOW_STAMP := $(MLFLOW_VENV)/.installed

$(MLFLOW_STAMP):
	test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MLFLOW_VENV)/bin/python -m pip install --quiet "mlflow==3.17.*"
	touch $(MLFLOW_STAMP)

mlflow-venv: $(MLFLOW_STAMP)

# Pass 1: embedded defaults (SQLite, eager Celery). Pass 2: PostgreSQL, Redis and a real
# Celery worker, including the integration tests. Both must pass.
test: install browser-deps mlflow-venv test-sdk test-embedded test-services

# The SDK's own tests (a standard-library stand-in server; no Django).
test-sdk: install
	cd clients/python && ../../$(PY) -m pytest -p no:django -p no:cacheprovider $(PYTEST_ARGS)

test-embedded: install
	env -u DATABASE_URL -u REDIS_URL -u OPA_URL $(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

test-services: install
	DATABASE_URL=$${DATABASE_URL:-$(SERVICES_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(SERVICES_REDIS_URL)} \
	GOVERNANCE_REQUIRE_SERVICES=1 $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	DATABASE_URL=$${DATABASE_URL:-$(SERVICES_DATABASE_URL)} $(PY) bench/run.py

# Fault injection on a private stack (PostgreSQL on 55432, Redis on 56379, gunicorn on 8140, a
# Celery worker and beat): kill, freeze and restart them under load; a few minutes.
faults: install
	$(PY) faults/run.py

# schemathesis against a live server with the demo data (fuzz/run.py): every check, a token per
# scope and an admin session, bounded by fuzz/schemathesis.toml. SQLite in a temporary directory
# unless FUZZ_DATABASE_URL names a PostgreSQL database (dropped and created). Any 5xx or
# conformance failure fails it. FUZZ_ARGS go to `schemathesis run` (e.g. --max-time 60).
fuzz: install
	env -u DATABASE_URL -u REDIS_URL -u OPA_URL $(PY) fuzz/run.py $(FUZZ_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check-deploy: install
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')} \
	ALLOWED_HOSTS=governance.example.com \
	AUDIT_SIGNING_KEY=$${AUDIT_SIGNING_KEY:-$$($(PY) manage.py audit_keygen --name governance.example.com/audit 2>/dev/null)} \
	$(PY) manage.py check --deploy --fail-level WARNING --settings=governance.settings.production
