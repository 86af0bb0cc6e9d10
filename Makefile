# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test soak install lint chromium nginx pgtools clean messages screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/comptoir demo

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's Chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The reverse-proxy test runs docs/nginx.conf in front of two app processes.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installing Debian's nginx for the reverse-proxy test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nginx >/dev/null; }

# The backup test runs pg_dump and pg_restore against PostgreSQL.
pgtools:
	@command -v pg_dump >/dev/null 2>&1 || { \
	  echo "Installing Debian's PostgreSQL client tools for the backup test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql-client >/dev/null; }

# The browser tests run beside the others, in a second process: they wait on browsers and
# servers much of the time, and keep to their own SQLite copies, ports and PostgreSQL
# database, so the two keep both cores busy. Their report follows the others'.
test: install chromium nginx pgtools
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	@mkdir -p .test-logs; \
	$(BIN)/pytest --basetemp=.test-logs/tmp-browser tests/browser > .test-logs/browser.txt 2>&1 & \
	browser=$$!; \
	$(BIN)/pytest --basetemp=.test-logs/tmp-rest --ignore=tests/browser; rest=$$?; \
	wait $$browser; browsers=$$?; \
	echo "=== the browser tests (tests/browser), run meanwhile ==="; cat .test-logs/browser.txt; \
	echo "=== exit: others $$rest, browser tests $$browsers ==="; \
	[ $$rest -eq 0 ] && [ $$browsers -eq 0 ]

# The table lifecycle's model test for longer than `make test` gives it: SOAK_S seconds on
# each database (ten minutes in all by default), many more and longer random journeys.
SOAK_S ?= 300
soak: install
	COMPTOIR_SOAK=$(SOAK_S) $(BIN)/pytest -q tests/ordering/test_table_lifecycle.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The README's screenshots, taken by the browser tests that walk those pages (a normal run
# keeps them out of the checkout).
screenshots: install chromium
	COMPTOIR_SCREENSHOTS=1 $(BIN)/pytest tests/browser/test_table_journey.py \
	    "tests/browser/test_backoffice.py::test_the_home_fits_a_phone_a_tablet_and_a_desk" \
	    tests/browser/test_station_display.py

# Extract translatable messages and merge them into every catalog (see docs/i18n.md).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -c Translators: \
	    --project=Comptoir --version=0.1.0 --copyright-holder=Comptoir \
	    -o i18n/messages.pot .
	$(BIN)/pybabel update -D messages -i i18n/messages.pot -d i18n --no-fuzzy-matching

clean:
	rm -rf $(VENV) comptoir.db comptoir.db-* .pytest_cache
