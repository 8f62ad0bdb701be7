# Deskhand: `make demo` and `make test` are all the set-up a fresh machine needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format install bench clean

demo: $(STAMP)
	$(BIN)/deskhand demo

test: lint
	$(BIN)/pytest -n auto

# Quick versions of the benchmarks; each prints a table and writes bench/results/*.json.
bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.reaction_storm
	$(BIN)/python -m bench.recipes
	$(BIN)/python -m bench.sync_lag
	$(BIN)/python -m bench.storm
	$(BIN)/python -m bench.scale

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(STAMP)

# Re-install whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
