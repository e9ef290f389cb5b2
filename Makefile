# Two commands do all set-up on a fresh machine:
#   make site   builds the sample portfolio in content/ into site/
#   make test   installs what the tests need and runs them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: site test lint clean system-deps browser-deps

# WeasyPrint lays out the PDF with Pango; install it with apt-get where it is missing and we can.
system-deps:
	@ldconfig -p 2>/dev/null | grep -q 'libpango-1.0' || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 ; } || \
	  echo "warning: Pango (libpango-1.0-0) is missing: install it to build the PDF"

# The browser tests drive Debian's chromium; install it with apt-get where it is missing.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	  >/dev/null ; } || echo "warning: chromium is missing: the browser tests cannot run"

$(BIN)/portfolio: pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-deps: $(BIN)/portfolio
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

site: $(BIN)/portfolio
	$(BIN)/portfolio build content -o site

lint: $(VENV)/.test-deps
	$(BIN)/ruff check generator tests bench
	$(BIN)/ruff format --check generator tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint browser-deps
	$(BIN)/pytest

clean:
	rm -rf $(VENV) site
