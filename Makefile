# Chatsite: `make run` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-lock

# A Python 3.12+ interpreter: $(PYTHON) if given, else the first that answers.
PYTHON ?= $(shell scripts/find-python)

.PHONY: help run test lint format bench .venv messages

help:
	@echo "make run    - set up .venv, migrate, load the demo, serve on http://$(HOST):$(PORT)"
	@echo "make test   - set up .venv and run the whole test suite (PostgreSQL, Redis where they answer)"
	@echo "make lint   - ruff check and ruff format --check"
	@echo "make .venv  - create or refresh only the virtual environment from requirements.lock"

.venv: $(STAMP)

$(STAMP): requirements.lock
	@test -n "$(PYTHON)" || { echo "No Python 3.12+ found: install one or pass PYTHON=/path/to/python3.12" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@touch $@

run: export DEBUG ?= 1
run: .venv
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) chatsite.asgi:application

test: .venv
	scripts/testenv $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: .venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: .venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: .venv
	DEBUG=1 $(PY) manage.py makemessages -l en --ignore=.venv --ignore=var
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv
