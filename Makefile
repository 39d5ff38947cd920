# The front door: every target bootstraps .venv from the lock file first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-lock

HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run token test lint codegen fuzz security bench lock clean

help:
	@echo "make run       serve the API on SQLite (http://$(HOST):$(PORT)/docs)"
	@echo "make token     print a development token (USER_ID=alice by default)"
	@echo "make test      run the whole test suite (PostgreSQL included where available)"
	@echo "make lint      ruff + mypy + codegen --check"
	@echo "make codegen   regenerate openapi/ and generated/ from specs/"
	@echo "make fuzz      long randomized contract fuzzing on SQLite and PostgreSQL"
	@echo "make security  security suite with a figure table"
	@echo "make bench     load benchmark against baselines; writes docs/BENCHMARKS.md"
	@echo "make lock      re-resolve requirements.lock from pyproject.toml"

$(STAMP): requirements.lock
	@echo "== installing pinned dependencies into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@touch $(STAMP)

install: $(STAMP)

# A fresh checkout gets a random development secret in .env (never committed).
.env:
	@echo "== writing .env with a random development BETTER_AUTH_SECRET"
	@$(PYTHON) -c "import secrets; print('BETTER_AUTH_SECRET=' + secrets.token_hex(32))" > .env

run: $(STAMP) .env
	@echo "== serving the Todo API on http://$(HOST):$(PORT) (SQLite unless DATABASE_URL is set)"
	$(PY) -m uvicorn backend.main:app --host $(HOST) --port $(PORT) --no-access-log

test: $(STAMP)
	@echo "== codegen --check"
	$(PY) codegen.py --check
	@echo "== pytest"
	$(PY) -m pytest

token: $(STAMP) .env
	@$(PY) -m backend.mint_token $(or $(USER_ID),alice)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) codegen.py --check

codegen: $(STAMP)
	$(PY) codegen.py

FUZZ_EXAMPLES ?= 1000

fuzz: $(STAMP)
	@echo "== contract fuzzing: $(FUZZ_EXAMPLES) examples per operation, fresh seed, SQLite and PostgreSQL"
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/contract -q -p no:cacheprovider --timeout=0

security: $(STAMP)
	@echo "== security suite: tokens, cross-user, properties, hostile input, concurrency, DB faults, logs (SQLite and PostgreSQL)"
	$(PY) -m pytest tests/security -p no:cacheprovider

lock:
	@echo "== resolving requirements.lock (needs uv: pip install uv)"
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench: $(STAMP)
	@echo "== load benchmark: API vs baselines on SQLite and PostgreSQL (writes docs/BENCHMARKS.md)"
	$(PY) -m bench $(BENCH_ARGS)
