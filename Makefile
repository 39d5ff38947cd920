# The front door: every target bootstraps .venv from the lock file first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-lock
# What serving needs, and nothing else: `make run` installs the runtime lock only (a subset
# of requirements.lock at the same pins; tests/test_locks.py holds the two together).
RUNTIME_STAMP := $(VENV)/.installed-from-runtime-lock

HOST ?= 127.0.0.1
PORT ?= 8000
MOCK_PORT ?= 4010
# The suite's worker processes (pytest-xdist): many tests wait on a server or a database, so
# twice the cores keeps both cores busy; PYTEST_WORKERS=0 runs it in one process. The slow
# tests come first (tests/conftest.py), and each worker takes two tests at a time
# (--maxschedchunk 2), so they spread over the workers instead of filling the first one's
# batch.
PYTEST_WORKERS ?= 4

.PHONY: help install run mock token test lint lint-contract lint-rules client-check client docs-screenshot codegen contract-diff fuzz security mutate bench bench-check bench-telemetry lock clean

# node and npm are not needed to run the API: the targets that use them (contract lint, the
# TypeScript client) skip with the reason where they are missing; under CI=true they fail.
HAVE_NODE := $(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo yes)
NPM_STAMP := node_modules/.installed-from-lock
define without_node
	@case "$${CI:-}" in 1|true|yes) echo "CI must run $(1), but node/npm are missing (.ci/run installs them)"; exit 1;; esac
	@echo "== SKIPPED $(1): node/npm not found (Debian: apt-get install nodejs npm)"
endef

help:
	@echo "make run       serve the API on SQLite (http://$(HOST):$(PORT)/docs)"
	@echo "make mock      serve the contract's examples without the server (Prism, http://127.0.0.1:$(MOCK_PORT))"
	@echo "make token     print a development token (USER_ID=alice by default)"
	@echo "make test      make lint, the contract gate, the whole test suite, the performance budget"
	@echo "make lint      ruff + mypy + codegen --check + contract lint (Spectral, Redocly) + squawk + promtool"
	@echo "make client    regenerate clients/typescript/src/schema.d.ts from openapi/"
	@echo "make docs-screenshot  retake docs/swagger-ui-try-it-out.png with the browser test"
	@echo "make codegen   regenerate openapi/ and generated/ from specs/"
	@echo "make contract-diff  what changed since the last release, and is the version right"
	@echo "make fuzz      long randomized contract fuzzing on SQLite and PostgreSQL"
	@echo "make security  security suite with a figure table"
	@echo "make mutate    mutation testing of the critical modules (MODULE=backend/auth/tokens.py for one;"
	@echo "               SURVIVORS=1 retries only the last run's survivors)"
	@echo "make bench     load benchmark against baselines; writes docs/BENCHMARKS.md; then the"
	@echo "               events crash run (10,000 reminders, kill -9) and reminder lateness"
	@echo "make bench-check  performance budget: CPU per request against the last release"
	@echo "make bench-telemetry  telemetry's cost: CPU per request with it on against off (<= 1.05x)"
	@echo "make lock      re-resolve requirements.lock and requirements-runtime.lock from pyproject.toml"

$(STAMP): requirements.lock
	@echo "== installing pinned dependencies into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@touch $(STAMP)

$(RUNTIME_STAMP): requirements-runtime.lock
	@echo "== installing the pinned runtime dependencies into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-runtime.lock
	@touch $(RUNTIME_STAMP)

install: $(STAMP)

# A fresh checkout gets a random development secret in .env (never committed).
.env:
	@echo "== writing .env with a random development BETTER_AUTH_SECRET"
	@$(PYTHON) -c "import secrets; print('BETTER_AUTH_SECRET=' + secrets.token_hex(32))" > .env

run: $(RUNTIME_STAMP) .env
	@echo "== serving the Todo API on http://$(HOST):$(PORT) (SQLite unless DATABASE_URL is set)"
	$(PY) -m uvicorn backend.main:app --host $(HOST) --port $(PORT) --no-access-log

test: lint
	@echo "== contract gate: the spec against the last release"
	$(PY) codegen.py diff
	@echo "== pytest ($(PYTEST_WORKERS) worker processes)"
	$(PY) -m pytest -n $(PYTEST_WORKERS) --maxschedchunk 2
	@$(MAKE) --no-print-directory bench-check

token: $(RUNTIME_STAMP) .env
	@$(PY) -m backend.auth.mint_token $(or $(USER_ID),alice)

lint: $(STAMP) lint-contract client-check lint-rules
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) codegen.py --check
	@echo "== migration lint: squawk on the SQL of every revision (PostgreSQL 15, timeouts required)"
	$(PY) lint/migration_lint.py

$(NPM_STAMP): package-lock.json
	@echo "== installing the pinned npm tools into node_modules (npm ci)"
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $(NPM_STAMP)

ifeq ($(HAVE_NODE),yes)
lint-contract: $(NPM_STAMP)
	@echo "== contract lint: Spectral (spectral:oas) and Redocly (recommended), 0 warnings"
	node lint/contract.mjs

client-check: $(NPM_STAMP)
	@echo "== TypeScript client types --check"
	node clients/typescript/generate.mjs --check

client: $(NPM_STAMP)
	node clients/typescript/generate.mjs

# The committed document, not a server's: a front end can start before the API runs.
mock: $(NPM_STAMP)
	@echo "== mock of openapi/openapi.json on http://127.0.0.1:$(MOCK_PORT) (Prism; Prefer: code=404, example=NAME)"
	node_modules/.bin/prism mock --host 127.0.0.1 --port $(MOCK_PORT) openapi/openapi.json
else
lint-contract:
	$(call without_node,the contract lint)

client-check:
	$(call without_node,the TypeScript client check)

client:
	$(call without_node,the TypeScript client generation)

mock:
	$(call without_node,the mock of the contract)
endif

# The Prometheus rules (ops/prometheus/): checked and unit-tested by promtool, from Debian's
# prometheus package; without it they skip with the reason, under CI=true they fail.
HAVE_PROMTOOL := $(shell command -v promtool >/dev/null 2>&1 && echo yes)
ifeq ($(HAVE_PROMTOOL),yes)
lint-rules:
	@echo "== Prometheus rules: promtool check rules, then their unit tests (ops/prometheus/)"
	promtool check rules ops/prometheus/rules/*.yml
	promtool test rules ops/prometheus/tests/*.yml
else
lint-rules:
	@case "$${CI:-}" in 1|true|yes) echo "CI must run the Prometheus rules' check, but promtool is missing (.ci/run installs it)"; exit 1;; esac
	@echo "== SKIPPED the Prometheus rules' check: promtool not found (Debian: apt-get install prometheus)"
endif

codegen: $(STAMP)
	$(PY) codegen.py

contract-diff: $(STAMP)
	$(PY) codegen.py diff $(BASE)

FUZZ_EXAMPLES ?= 1000

fuzz: $(STAMP)
	@echo "== contract fuzzing: $(FUZZ_EXAMPLES) examples per operation, fresh seed, SQLite and PostgreSQL"
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/contract -q -p no:cacheprovider --timeout=0

docs-screenshot: $(STAMP)
	@echo "== browser test of /docs, keeping its screenshot in docs/"
	DOCS_SCREENSHOT_DIR=docs $(PY) -m pytest tests/browser/test_docs.py -q -p no:cacheprovider

security: $(STAMP)
	@echo "== security suite: tokens, cross-user, properties, hostile input, concurrency, DB faults, logs (SQLite and PostgreSQL)"
	$(PY) -m pytest tests/security -p no:cacheprovider

# Not part of `make test` (too slow): docs/TESTING.md has the kill rates and every survivor.
mutate: $(STAMP)
	@echo "== mutation testing (mutmut) of $(or $(MODULE),every listed module), with their fast tests"
	$(PY) -m tests.support.mutation $(if $(SURVIVORS),--survivors) $(MODULE)

lock:
	@echo "== resolving requirements.lock and requirements-runtime.lock (needs uv: pip install uv)"
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -c requirements.lock -o requirements-runtime.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench-check: $(STAMP)
	@echo "== performance budget: server CPU per request against the last release (bench/accepted-costs.toml)"
	$(PY) -m bench.budget $(BENCH_CHECK_ARGS)

bench-telemetry: $(STAMP)
	@echo "== telemetry's cost: CPU per request with telemetry on at its defaults, against off (<= 1.05x)"
	$(PY) -m bench.telemetry_cost $(BENCH_CHECK_ARGS)

bench: $(STAMP)
	@echo "== load benchmark: API vs baselines on SQLite and PostgreSQL (writes docs/BENCHMARKS.md)"
	$(PY) -m bench $(BENCH_ARGS)
	@echo "== events crash run: 10,000 reminders, writes, kill -9 of every server, a receiver failing 30 % (docs/PERFORMANCE.md)"
	$(PY) -m bench.crash
	@echo "== events: reminder.due lateness after remind_at, healthy receiver, PostgreSQL 2 x 2 workers"
	$(PY) -m bench.reminder_lateness --reminders 1000
	$(PY) -m bench.reminder_lateness --reminders 2000
