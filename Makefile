# Two commands on a fresh machine: `make run` (install, index, start) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install index run chat test test-fast lint format bench bench-scale bench-100k browser axe audit clean
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU torch first, so nothing pulls the multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(BIN)/roleguide ingest

run: index
	$(BIN)/roleguide serve

chat: index
	$(BIN)/roleguide chat

# pyright reads its settings (standard mode over src/) from [tool.pyright] in pyproject.toml.
lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pyright

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# The browser tests drive Debian's Chromium (no browser download by Playwright).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# axe-core, the accessibility auditor the browser tests inject (tests/package.json, locked).
AXE := tests/node_modules/axe-core/axe.min.js
$(AXE): tests/package.json tests/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	cd tests && npm ci --no-audit --no-fund --loglevel=error
	touch $(AXE)

axe: $(AXE)

test: lint browser axe
	$(BIN)/python -m pytest

# The inner loop: all but the slow tests (10k corpus, real-model indexes, servers, Chromium).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not web and not browser and not server"

# Each script runs alone too and rewrites its own section of docs/benchmarks.md (and its
# rows of the Targets section): core (cold/warm ask), web app + HTTP API, ingest throughput.
bench: install
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_ui.py
	$(BIN)/python benchmarks/bench_browser.py
	$(BIN)/python benchmarks/bench_ingest.py

# 10k and 100k synthetic corpora; the first 100k build takes the better part of an hour.
bench-scale: install
	$(BIN)/python benchmarks/bench_scale.py

# Only the 100k rows of the Targets section (ask p50, serve RSS); reuses a built 100k index.
# The Scale section then lists the 100k row alone: `make bench-scale` writes every size.
bench-100k: install
	$(BIN)/python benchmarks/bench_scale.py --sizes 100k

# Needs the vulnerability service (PyPI / OSV); offline, tests/test_dependencies.py checks floors.
audit: install
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --skip-editable --progress-spinner off

clean:
	rm -rf .roleguide .pytest_cache .ruff_cache tests/artifacts tests/node_modules
