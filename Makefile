# The two commands of the README's quick start, and the pieces they are made of.
# `make run`: set up and serve the bridge on its embedded default (SQLite, local keys).
# `make test`: set up and run the linters, the type checker and the whole test suite.

PYTHON ?= python3
VENV ?= .venv
BRIDGE_HOME ?= .bridge
PORT ?= 5000
BIN := $(VENV)/bin

.PHONY: run test install lint typecheck pytest bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "bridge needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	@test -f $(BRIDGE_HOME)/bridge.yaml || $(BIN)/bridge init --home $(BRIDGE_HOME)
	$(BIN)/bridge serve --home $(BRIDGE_HOME) --port $(PORT)

lint: install
	$(BIN)/ruff check bridge tests benchmarks
	$(BIN)/ruff format --check bridge tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/policy_engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
