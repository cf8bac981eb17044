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
# The design system comes from the npm registry; gettext's tools compile the English catalog.
NPM := /usr/bin/npm
MSGFMT := /usr/bin/msgfmt
FRONTEND := build/frontend
CATALOG := src/motcua/locale/en/LC_MESSAGES/django

.PHONY: setup run test lint check-migrations bench clean messages

setup: $(STAMP) $(CHROMIUM) $(PDF_FONT) $(JAVA) $(FRONTEND)/.built $(CATALOG).mo

$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(PDF_FONT):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core

$(JAVA):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless

$(NPM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm

$(MSGFMT):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext

# GOV.UK Frontend themed by Motcua's Sass, its script, and axe-core for the accessibility tests.
$(FRONTEND)/.built: package.json package-lock.json src/motcua/web/frontend/motcua.scss | $(NPM)
	npm ci --no-audit --no-fund --ignore-scripts
	mkdir -p $(FRONTEND)
	node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map \
		--quiet-deps src/motcua/web/frontend/motcua.scss $(FRONTEND)/motcua.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(FRONTEND)/
	cp node_modules/axe-core/axe.min.js $(FRONTEND)/
	touch $@

$(CATALOG).mo: $(CATALOG).po | $(MSGFMT)
	msgfmt --check -o $@ $<

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
	rm -rf $(VENV) var build node_modules $(CATALOG).mo

# After changing text: collect new messages into the English catalog, translate, `make setup`.
messages: setup
	cd src/motcua && ../../$(BIN)/django-admin makemessages -l en -i tests -i migrations \
		-i bench --no-location
