# Two commands do all set-up on a fresh machine:
#   make site   builds the sample portfolio in content/ into site/
#   make test   installs what the tests need and runs them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: site test lint clean

$(BIN)/portfolio: pyproject.toml
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
	$(BIN)/ruff check generator tests
	$(BIN)/ruff format --check generator tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) site
