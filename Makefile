# The two commands: `make run` and `make test`. Everything else is a step they share.
SHELL := /bin/bash
PYTHON_BIN ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FRONTEND_STAMP := frontend/node_modules/.installed
export PYTHONPATH := $(CURDIR)/platform:$(CURDIR)

.PHONY: run test test-backend bench load lint frontend install migrations-check clean

run: install frontend  ## web, worker, beat and the demo shop, with embedded services unless configured
	$(PY) -m devserver run

test: install frontend  ## the whole suite: backend, frontend unit tests, browser tests
	$(PY) -m devserver test

test-backend: install frontend
	$(PY) -m devserver test --backend-only $(ARGS)

bench: install frontend  ## `make bench NAME=provisioning`; all benchmarks without NAME
	$(PY) -m devserver bench $(NAME)

load: install frontend  ## `make load`: 100 shops for 5 minutes; LOAD_SHOPS=5 LOAD_SECONDS=60 for a shorter one
	$(PY) -m devserver load

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd frontend && npx tsc --noEmit

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON_BIN) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON_BIN))"; exit 1; }
	test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

frontend: $(FRONTEND_STAMP) frontend/dist/index.html

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: $(FRONTEND_STAMP) $(shell find frontend/src frontend/index.html frontend/vite.config.* -type f 2>/dev/null)
	cd frontend && npm run build

migrations-check: install
	$(PY) -m devserver exec $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf var frontend/dist
