# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# the dashboard's browser test drives Debian's Chromium (Playwright cannot download a browser here)
CHROMIUM := /usr/bin/chromium

.PHONY: install demo test lint lock currencies dev bench real-files clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# bytecode is compiled at install: every command, dbt and test starts from it, even where
# PYTHONDONTWRITEBYTECODE keeps Python from caching it
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/recon demo

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif command -v sudo >/dev/null 2>&1; then \
		sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "error: the dashboard's browser test needs Chromium at $(CHROMIUM): apt-get install chromium (as root)" >&2; \
		exit 1; \
	fi

test: install $(CHROMIUM)
	$(BIN)/ruff check dagster_project python_udfs tests benchmarks dashboard
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check dagster_project python_udfs tests benchmarks dashboard

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev -o requirements.lock

# Regenerate dbt_project/seeds/currencies.csv from the pinned ISO 4217 package (after its pin changes).
currencies: install
	$(BIN)/python -m dagster_project.currencies

dev: install
	$(BIN)/recon dev

bench: install
	$(BIN)/python benchmarks/run.py --sizes 10000 100000

# the readers over the sample files statement importers publish (downloaded into a cache on first
# use); not part of `make test`: it needs the package index and takes some 15 minutes
real-files: install
	$(BIN)/python benchmarks/real_files.py

clean:
	rm -rf $(VENV) .recon_home
