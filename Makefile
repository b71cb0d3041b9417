# RareBridge — the two commands: `make demo` runs it, `make test` tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(VENV)
ADDR ?= 127.0.0.1:8000

.PHONY: demo test test-fast test-postgres bench lint check-deploy chromium messages clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

## demo: set up, migrate, load the demo world and serve it on http://$(ADDR)
demo: $(VENV)/.synced
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py seed_demo
	@$(BIN)/python manage.py demo_signins
	RAREBRIDGE_DEMO=true $(BIN)/python manage.py serve $(ADDR)

## chromium: Debian's Chromium for the browser tests (browsers cannot be downloaded here)
chromium:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## test: install what the tests need and run the whole suite (SQLite unless DATABASE_URL is set),
## measuring coverage against the floor in pyproject.toml (scripts/coverage_floor.py raises it)
test: $(VENV)/.synced chromium
	RAREBRIDGE_ENV=test $(BIN)/pytest -n 2 --cov --cov-report=

## test-postgres: the same suite on the local PostgreSQL
test-postgres: $(VENV)/.synced chromium
	RAREBRIDGE_ENV=test DATABASE_URL=$${PG_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rarebridge} $(BIN)/pytest -n 2

## bench: run the benchmarks under bench/ and print their medians
bench: $(VENV)/.synced
	RAREBRIDGE_ENV=test $(BIN)/python bench/run.py

## lint: formatting, lint, types, architecture and migrations
lint: $(VENV)/.synced
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy rarebridge
	$(BIN)/lint-imports
	RAREBRIDGE_ENV=test $(BIN)/python manage.py makemigrations --check --dry-run

## check-deploy: Django's deployment checks under production settings
check-deploy: $(VENV)/.synced
	RAREBRIDGE_ENV=production DEBUG=false SECRET_KEY=ci-only-$$(head -c 64 /dev/urandom | base64 | tr -dc A-Za-z0-9) \
	  ALLOWED_HOSTS=rarebridge.example.org RAREBRIDGE_VAR_DIR=$$(mktemp -d) \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

## messages: refresh the translation catalogues after changing strings (needs gettext)
messages: $(VENV)/.synced
	$(BIN)/python manage.py makemessages -l de -l pl -l nl -l hu -l fr --no-obsolete --ignore=.venv --ignore=var --ignore=content
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf var/rarebridge.sqlite3* var/static
