# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint migrate clean bench fuzz

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

BENCH_INSTALLED := $(VENV)/.installed-bench
$(BENCH_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $(BENCH_INSTALLED)

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

test: lint
	$(BIN)/pytest

# Pressroom next to a raw Starlette handler on a throwaway PostgreSQL database (docs/performance.md).
bench: $(BENCH_INSTALLED)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Schemathesis against a real server on SQLite, 5 minutes per schema (OpenAPI, then GraphQL).
fuzz: install
	$(BIN)/python -m tests.security.fuzz_live --seconds-per-schema $(or $(FUZZ_SECONDS),300)
