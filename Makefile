# Two commands for a newcomer: `make demo` (install everything, run the demo) and `make test` (install what the
# tests need, then lint, type-check and run the whole suite on SQLite and on PostgreSQL).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: demo test install install-test system-deps lint test-sqlite test-postgres bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	npm ci --no-audit --no-fund --silent

install-test: $(BIN)/python system-deps
	$(BIN)/pip install -q -e '.[test]'
	npm ci --no-audit --no-fund --silent

# Debian packages the tests drive for real: Chromium (browser tests), Kannel + fakesmsc (SMS), Dovecot (IMAP).
system-deps:
	@./scripts/install-system-deps

demo: install
	$(BIN)/legation demo

lint:
	$(BIN)/ruff check .
	$(BIN)/mypy legation

test-sqlite:
	$(BIN)/python -m pytest -q

test-postgres:
	DATABASE_URL=$(PG_URL) LEGATION_DB_TESTS_ONLY=1 $(BIN)/python -m pytest -q

test: install-test lint test-sqlite test-postgres

# Benchmarks print JSON figures; they are not tests (see bench/README.md).
bench:
	$(BIN)/python bench/nlp_bench.py
	$(BIN)/python bench/publish_fanout.py
	$(BIN)/python bench/publish_fanout.py --postgres $(PG_URL)
	DATABASE_URL=$(PG_URL) $(BIN)/python bench/listening_ingest.py --rows 1000000 --db sqlite,postgres
