# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install lock run test lint migrate clean bench fuzz

LOCK := requirements.lock
UV := $(BIN)/uv

# uv itself comes pinned and hashed from the lock, through the venv's own pip.
$(UV):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python tools/lockfile.py entry $(LOCK) uv \
		| $(BIN)/python -m pip install -q --require-hashes --no-deps -r /dev/stdin

# The venv holds exactly what the lock pins (the dev and bench extras, every hash checked) and
# this tree, editable; it is synced again whenever the lock or pyproject.toml changes.
$(INSTALLED): pyproject.toml $(LOCK) | $(UV)
	$(BIN)/python tools/lockfile.py check $(LOCK)
	$(UV) pip sync --python $(BIN)/python --require-hashes $(LOCK)
	$(UV) pip install --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

install: $(INSTALLED)

# Regenerates the lock from pyproject.toml, keeping every pin that still fits: upgrades are
# deliberate. `make lock UPGRADE=1` moves everything to the newest allowed versions,
# `make lock UPGRADE="fastapi starlette"` only those; review the lock's diff like code.
UPGRADE ?=
lock: $(UV)
	$(BIN)/python tools/lockfile.py build-requires \
		| $(UV) pip compile pyproject.toml - --all-extras --universal --python-version 3.11 \
			--generate-hashes --custom-compile-command 'make lock' --quiet --output-file $(LOCK) \
			$(if $(filter 1,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))
	$(BIN)/python tools/lockfile.py stamp $(LOCK)

migrate: install
	$(BIN)/pressroom migrate

# exec: the server replaces the shell, so Ctrl-C and SIGTERM reach it directly and its clean
# exit (0 after a graceful shutdown) is what make sees, not "Error 143".
run: migrate
	HOST=$(HOST) PORT=$(PORT) exec $(BIN)/pressroom serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src
	$(BIN)/lint-imports --no-logo

test: lint
	$(BIN)/pytest

# Pressroom next to a raw Starlette handler on a throwaway PostgreSQL database (docs/performance.md).
bench: install
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache

# Schemathesis against a real server on SQLite, 5 minutes per schema (OpenAPI, then GraphQL).
fuzz: install
	$(BIN)/python -m tests.security.fuzz_live --seconds-per-schema $(or $(FUZZ_SECONDS),300)
