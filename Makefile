# Two commands: `make run` serves the demo, `make test` checks everything. Both set up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Browser tests drive Debian's Chromium (Playwright cannot download its own build here).
CHROMIUM := /usr/bin/chromium
# The PDFs Motcua prints need a TrueType font with Vietnamese glyphs (settings.PDF_FONT).
PDF_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
# Linkage's Spark backend (pyspark 4) runs on a Java 17 runtime.
JAVA := /usr/bin/java

.PHONY: setup run test lint check-migrations bench clean

setup: $(STAMP) $(CHROMIUM) $(PDF_FONT) $(JAVA)

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(PDF_FONT):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core

$(JAVA):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless

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
