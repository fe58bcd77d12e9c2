# The two commands of the README: `make demo` and `make test`.
VENV := .venv
BIN := $(VENV)/bin
# Three workers on two cores: the tests mostly wait on PostgreSQL, SQLite's fsync and Chromium.
PYTEST_ARGS ?= -n 3 --dist loadgroup

.PHONY: setup demo test lint typecheck pytest format bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(BIN)/plenary demo

test: setup lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache test-artifacts
