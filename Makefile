# Shuangsui — `make run` starts the platform, `make test` proves it. Nothing else is needed.
SHELL := /bin/bash
PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen
export XDG_RUNTIME_DIR ?= /tmp

.PHONY: help setup run test lint format schemas compose bench clean

help:
	@echo "make run     start PostgreSQL, NATS and every service; Ctrl-C stops everything"
	@echo "make test    lint, then every test against real PostgreSQL and NATS"
	@echo "make lint    ruff, mypy, import-linter, event-schema and compose checks"
	@echo "make compose write docker-compose.yml from the processes make run starts"
	@echo "make bench   benchmarks beside their baselines (QUICK=1 for a short run)"
	@echo "make clean   remove .data/ (the local database, broker store and logs)"

# uv may be missing on a fresh machine: the package registry is the only network, so pip it.
setup: .venv/.synced

.venv/.synced: uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

run: setup
	$(RUN) shuangsui dev up

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy libs/*/src services/*/src
	$(RUN) lint-imports
	$(RUN) python -m shuangsui.contracts.schemas check
	$(RUN) python -m shuangsui.devstack.compose check

format: setup
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

test: lint
	$(RUN) pytest --durations=15

schemas: setup
	$(RUN) python -m shuangsui.contracts.schemas write

compose: setup
	$(RUN) python -m shuangsui.devstack.compose write

bench: setup
	$(RUN) python -m bench $(if $(QUICK),--quick,)

clean:
	rm -rf .data
