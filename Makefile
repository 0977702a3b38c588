# 学工随行 — `make run` serves the app with demo data, `make test` runs every test.
# `make help` lists the rest.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/xuegong_test
export HOST PORT

.PHONY: help setup run test test-sqlite test-postgres lint bench clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

setup: $(VENV)/.installed node_modules/.package-lock.json ## install Python and npm packages

run: setup ## migrate, load demo data when empty, serve on http://$(HOST):$(PORT)
	$(VENV)/bin/xuegong migrate
	$(VENV)/bin/xuegong demo --size small --weeks 4 --if-empty
	$(VENV)/bin/xuegong run

test: setup lint test-sqlite test-postgres ## every test on SQLite (browser too), then on PostgreSQL

lint: setup ## ruff
	$(VENV)/bin/ruff check server tests bench

# the browser suite runs once, here, in a pytest run of its own: Playwright's sync API keeps an
# event loop running in the test process, where the load and login tests run their own
test-sqlite: setup ## every test on SQLite, then the browser suite (it runs once, here)
	$(PY) -m pytest -q -m "not browser"
	$(PY) -m pytest -q -m browser

test-postgres: setup ## the suite but the browser tests on PostgreSQL (skipped, saying why, when unreachable outside CI)
	@if $(PY) -m tests.postgres "$(TEST_POSTGRES_URL)"; then \
		XUEGONG_TEST_DATABASE_URL="$(TEST_POSTGRES_URL)" $(PY) -m pytest -q -m "not browser"; \
	else \
		test -z "$$CI$$XUEGONG_REQUIRE_POSTGRES" || { echo "PostgreSQL is required here"; exit 1; }; \
	fi

bench: setup ## benchmarks under bench/ (figures go to docs/performance.md)
	$(PY) -m bench

clean: ## remove the virtualenv, node_modules and var/
	rm -rf $(VENV) node_modules var
