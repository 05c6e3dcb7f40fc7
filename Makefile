# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WORLD := .cache/demo-world
SEED ?= 7
HOST ?= 127.0.0.1
PORT ?= 8000
PIP_FLAGS := --quiet --disable-pip-version-check
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: demo test lint bench clean world chromium

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changed (the stamp is older than it).
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install $(PIP_FLAGS) -e '.[dev]' 2>&1 | sed '/is ignored: it is neither a file nor a directory/d'
	$(PY) -c "import torch, torchvision, open_clip, fastapi"
	touch $(STAMP)

# The demo world is built once and cached; `make clean` removes it.
$(WORLD)/world.json: | $(STAMP)
	$(VENV)/bin/artwork demo build --out $(WORLD) --seed $(SEED)

world: $(WORLD)/world.json

demo: $(STAMP) $(WORLD)/world.json
	$(VENV)/bin/artwork serve --world $(WORLD) --db .cache/events.db --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The browser tests (tests/e2e) drive Debian's Chromium; install it when missing and apt can,
# else say so and let those tests skip.
CHROMIUM_PKG ?= chromium
chromium:
	@command -v $(CHROMIUM_PKG) >/dev/null 2>&1 || { \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); command -v apt-get >/dev/null 2>&1 && { \
	    timeout 300 $$sudo apt-get install -y -qq $(CHROMIUM_PKG) || { \
	    timeout 300 $$sudo apt-get update -qq && \
	    timeout 300 $$sudo apt-get install -y -qq $(CHROMIUM_PKG); }; } >/dev/null 2>&1; } || \
	  echo "$(CHROMIUM_PKG) could not be installed (no apt, no root or no mirror): the e2e tests will skip"

test: $(STAMP) lint chromium
	$(PY) -m pytest -q

BENCHES := tagging tagging_scale tag_quality ope ope_coverage bandit recommender event_store service rows_demo

bench: $(STAMP)
	$(PY) -m pip install $(PIP_FLAGS) -e '.[dev,bench]' 2>&1 | sed '/is ignored: it is neither a file nor a directory/d'
	for b in $(BENCHES); do $(PY) -m bench.$$b || exit 1; done

clean:
	rm -rf .cache
