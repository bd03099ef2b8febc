# Chatsite: `make run` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
# The ASGI server of `make run` and `make run-cluster`: daphne, or uvicorn (scripts/serve).
SERVER ?= daphne
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-lock
DEV_STAMP := $(VENV)/.installed-from-dev-lock
NODE_STAMP := node_modules/.installed-from-lock

# A Python 3.12+ interpreter: $(PYTHON) if given, else the first that answers.
PYTHON ?= $(shell scripts/find-python)

.PHONY: help check-server run run-cluster test lint format bench bench-history bench-moderation .venv .venv-dev messages retention-tables backup restore restore-drill screenshots ux-budget

help:
	@echo "make run    - set up .venv, migrate, load the demo, serve on http://$(HOST):$(PORT)"
	@echo "make run SERVER=uvicorn - the same app served by uvicorn (uvloop, httptools) instead of daphne"
	@echo "make run-cluster N=2 - like run, N server processes (SERVER) on ports PORT, PORT+1... sharing REDIS_URL (required)"
	@echo "make test   - set up .venv and run the whole test suite (PostgreSQL, Redis where they answer)"
	@echo "make lint   - ruff check, ruff format --check and the import layers (lint-imports)"
	@echo "make .venv  - create or refresh only the virtual environment from requirements.lock (runtime only)"
	@echo "make .venv-dev - the same plus the tests and tooling of requirements-dev.lock"
	@echo "make screenshots - regenerate the README's screenshots (docs/screenshots/) from the browser tests"
	@echo "make ux-budget - measure page weight, requests and time to interactive (docs/ux.md)"
	@echo "make bench  - load benchmark: the real app and the baselines (PostgreSQL, Redis; BENCH_SCALE, BENCH_ARGS)"
	@echo "make bench-history - history paging with 1 million messages, with the query plans (PostgreSQL)"
	@echo "make bench-moderation - the queue, landing and case-file pages at 5,000 members, 200 reports an hour (PostgreSQL)"
	@echo "make retention-tables - rewrite the retention tables of docs/records-of-processing.md and docs/dpia.md from the policy, and the recipients table from compliance/disclosures.py"
	@echo "make backup - pg_dump of DATABASE_URL into var/backups/ (docs/operations.md)"
	@echo "make restore BACKUP=file TARGET_DATABASE_URL=url - restore into a new, empty database"
	@echo "make restore-drill [CHECKPOINT=file] - dump, restore into a scratch database, compare, audit_verify"

.venv: $(STAMP)

$(STAMP): requirements.lock
	@test -n "$(PYTHON)" || { echo "No Python 3.12+ found: install one or pass PYTHON=/path/to/python3.12" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@touch $@

# Tests, benchmarks and tooling on top of the runtime set; requirements-dev.lock is compiled
# against requirements.lock (-c), so the packages both name have one version.
.venv-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock -r requirements-dev.lock
	@touch $@

run: export DEBUG ?= 1
# Mail links and the age flow point at the server actually started (CONTRACT.md).
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: check-server .venv
	@mkdir -p var
	$(PY) scripts/ensure_database.py
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	scripts/serve $(SERVER) $(HOST) $(PORT)

# Before anything is installed or migrated: a typo in SERVER is an error, not daphne.
check-server:
	@case "$(SERVER)" in daphne|uvicorn) ;; *) echo "SERVER=$(SERVER) is not a server of make run: daphne (the default) or uvicorn" >&2; exit 2;; esac

# Several processes meeting through Redis (docs/deploy.md); a load balancer goes in front.
N ?= 2
run-cluster: export DEBUG ?= 1
run-cluster: check-server .venv
	@test -n "$(REDIS_URL)" || { echo "make run-cluster needs REDIS_URL (the processes meet through Redis)" >&2; exit 2; }
	@mkdir -p var
	$(PY) scripts/ensure_database.py
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	scripts/run-cluster $(N) $(HOST) $(PORT) $(SERVER)

test: .venv-dev $(NODE_STAMP)
	scripts/testenv $(VENV)/bin/pytest $(PYTEST_ARGS)

# Test-only JavaScript (axe-core for the accessibility browser tests), pinned by
# package-lock.json; nothing from node_modules is ever served to users.
$(NODE_STAMP): package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ (the accessibility tests need axe-core)" >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

# The README's screenshots, taken by the browser tests (tests/browser/test_screenshots.py).
screenshots: .venv-dev $(NODE_STAMP)
	UPDATE_SCREENSHOTS=1 scripts/testenv $(VENV)/bin/pytest tests/browser/test_screenshots.py -q

# Lighthouse-style budget of the main pages (docs/ux.md), on a scratch SQLite database
# of its own: never a timed assertion in tests.
ux-budget: .venv-dev
	$(PY) bench/ux_budget.py $(UX_BUDGET_ARGS)

# The import contract (pyproject.toml, [tool.importlinter]): imports point down the layers.
lint: .venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: .venv-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs PostgreSQL and Redis (bench/run.py checks); docs/performance.md explains the figures.
bench: .venv-dev
	$(PY) bench/run.py $(BENCH_ARGS)

# History paging at a million messages (docs/performance.md); the rows are made once.
bench-history: .venv-dev
	$(PY) bench/history.py $(BENCH_HISTORY_ARGS)

# Backups and the restore drill (docs/operations.md): PostgreSQL only.
backup: .venv
	$(PY) scripts/backup.py dump
	$(PY) manage.py rotate_backups

restore: .venv
	@test -n "$(BACKUP)" -a -n "$(TARGET_DATABASE_URL)" || { echo "usage: make restore BACKUP=var/backups/FILE.dump TARGET_DATABASE_URL=postgres://..." >&2; exit 2; }
	$(PY) scripts/backup.py restore "$(BACKUP)" "$(TARGET_DATABASE_URL)"
	$(PY) scripts/backup.py verify "$(BACKUP)" "$(TARGET_DATABASE_URL)"

restore-drill: .venv
	$(PY) scripts/backup.py drill $(if $(CHECKPOINT),--checkpoint "$(CHECKPOINT)")

# The retention tables of docs/records-of-processing.md and docs/dpia.md, from the code's
# policy (tests/compliance/test_retention_docs.py fails when they differ).
retention-tables: .venv
	$(PY) scripts/retention_table.py
	$(PY) scripts/recipients_table.py

# One project catalogue, locale/en (tests/chatsite/test_translations.py keeps it complete):
# after this, translate the new or fuzzy entries, then run it again to compile.
messages: .venv
	DEBUG=1 $(PY) manage.py makemessages -l en --no-obsolete --ignore=.venv --ignore=var --ignore=bench --ignore=tests --ignore=node_modules --ignore='*/locale'
	DEBUG=1 $(PY) manage.py compilemessages -l en --ignore=.venv --ignore=var

# The moderators' pages (queue, landing, case file) at 5,000 members and 200 reports an
# hour (docs/performance.md); PostgreSQL, a bench database of its own, rebuilt each run.
bench-moderation: .venv-dev
	$(PY) bench/moderation_pages.py $(BENCH_MODERATION_ARGS)
