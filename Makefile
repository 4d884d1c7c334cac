# Two entry points for a fresh machine: `make run` and `make test` (see README.md).
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
HOST    ?= 127.0.0.1
PORT    ?= 8000

.PHONY: run test install install-test browser services node-deps lint test-js test-py bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch is pinned in pyproject.toml; the CPU wheel index first keeps pip from pulling the multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --retries 1 --timeout 15 --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
	  || $(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser services node-deps

# Debian's chromium drives the browser tests (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# The multi-service tests (pytest -m services) start Debian's PostgreSQL, Redis and nginx as plain processes.
services:
	@if ! command -v redis-server >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1 \
	    || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql, redis-server and nginx for the multi-service tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server nginx >/dev/null; fi

node-deps:
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --silent; fi

run: install
	$(BIN)/gradtrace serve --host $(HOST) --port $(PORT)

test-js: node-deps
	@if [ -f package.json ]; then npm test --silent; fi

# Linters: ruff for Python, eslint for the page (configs in pyproject.toml and eslint.config.js).
lint: install-test
	$(BIN)/ruff check backend tests bench
	npx --no-install eslint .

# --durations: the slowest tests are printed every run, so a slow one is seen when it arrives.
# -n: most of the suite waits (servers starting, browsers drawing, runs reaching their limits), so two pytest
# workers share the 2 cores; --dist loadfile keeps a module's fixtures in one worker. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test-py: install-test
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25

test: install-test lint test-js test-py

# Timings are benchmarks, never tests: bench/README.md records the figures.
bench: install-test
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python bench/chain_bench.py
	$(BIN)/python bench/trace_bench.py
	$(BIN)/python bench/http_bench.py
	$(BIN)/python bench/corpus_bench.py
	$(BIN)/python bench/browser_bench.py
	$(BIN)/python bench/class_bench.py

clean:
	rm -rf $(VENV) node_modules
