# rtmposelib — two commands do everything: `make reproduce` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SCALE  ?= cpu
PYTEST_ARGS ?=

.PHONY: install test lint reproduce smoke lab bench clean-venv

# Create .venv when missing and install the project with its test extras; a second run does nothing
# unless pyproject.toml changed.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name rtmposelib --display-name "rtmposelib" >/dev/null
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

# ruff (lint), mypy (types of the library) and import-linter (the layers in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check rtmposelib tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

reproduce: $(STAMP)
	$(BIN)/rtmpose suite --scale $(SCALE)

smoke: $(STAMP)
	$(BIN)/rtmpose suite --scale smoke

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
