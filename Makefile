# Two commands set up a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The suite runs on every core (pytest-xdist); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# eslint and node's test runner for the build-free front-end in static/ (npm, no bundler).
STAMP_NODE := node_modules/.installed

.PHONY: help run test lint migrate demo scheduler clean browser screenshots

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: $(STAMP_RUN) ## create or upgrade the database schema
	$(BIN)/flask --app wsgi pro migrate

demo: migrate ## load the demo study if the database is empty
	$(BIN)/flask --app wsgi pro demo --if-empty

run: demo ## install, migrate, load the demo, serve on http://127.0.0.1:$(PORT) (console SMS); prints the URLs once ready
	SMS_BACKEND=$${SMS_BACKEND:-console} bash .ci/serve $(PORT)

browser: ## install Debian's chromium for the browser tests (needs root and apt)
	bash .ci/install-browser

test: $(STAMP_TEST) $(STAMP_NODE) browser ## install test dependencies and run the whole suite (JS unit tests, then pytest)
	node --test tests/js/
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

screenshots: ## copy the browser tests' screenshots (test-artifacts/) to docs/screenshots
	@ls test-artifacts/screenshots/*.png >/dev/null 2>&1 || { \
		echo "no screenshots in test-artifacts/screenshots: run the browser tests first" \
		"(make test, or .venv/bin/pytest -m browser)"; exit 1; }
	cp test-artifacts/screenshots/*.png docs/screenshots/

lint: $(STAMP_TEST) $(STAMP_NODE) ## ruff, mypy (pro_server/) and the import layers (import-linter) for Python, eslint for static/ and tests/js
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	npx --no-install eslint static tests/js eslint.config.js

clean: ## remove the virtual environment and local data
	rm -rf $(VENV) instance node_modules
