# Two commands: `make run` serves the demo, `make test` checks everything. Both set up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint check-migrations bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/motcua demo

test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src
	$(BIN)/ruff format --check src
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/motcua makemigrations --check --dry-run

bench: setup
	$(BIN)/motcua bench registry --citizens 100000

clean:
	rm -rf $(VENV) var
