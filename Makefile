# Two entry points: `make run` (the main job on the bundled data) and `make test`.
# Both bootstrap what they need on a machine with only python3, pip and make:
# uv (into .cache/tools), Python 3.12 (found locally, else installed by uv), the locked env.
SHELL := /bin/bash
UV_DIR := .cache/tools
UV := $(UV_DIR)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced-stamp

.PHONY: run test test-slow lint format bench env browser

run: $(STAMP)
	$(VENV)/bin/winset run

# `make test` is the everyday suite; tests marked `slow` (subprocesses killed mid-run, real
# servers, calibration) run with `make test-slow`, and CI runs both.
test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -m "not slow" --durations=15

test-slow: $(STAMP) browser
	$(VENV)/bin/pytest -m slow --durations=15

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/ingest.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

env: $(STAMP)

# Headless Chromium for tests/reports/test_browser.py: installed with apt-get where that is
# possible (root on Debian/Ubuntu); anywhere else the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	       && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium unavailable: browser tests will be skipped"

$(UV):
	python3 -m pip install --quiet --disable-pip-version-check --target $(UV_DIR) uv

$(STAMP): $(UV) uv.lock pyproject.toml .python-version Makefile
	@python=$$(scripts/find-python 2>/dev/null || { $(UV) python install 3.12 >&2 && $(UV) python find 3.12; }) \
	  && echo "Using $$python" \
	  && $(UV) sync --locked --compile-bytecode --python "$$python"
	@touch $@
