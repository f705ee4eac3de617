# The two commands of the quick start: `make demo` and `make test`.
# Each creates .venv when it is missing and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Test processes (pytest-xdist), one per core of the 2-core machines the suite is timed on.
JOBS ?= 2

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(VENV)/.installed-base $@

demo: $(VENV)/.installed-base
	$(BIN)/orderportal demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(JOBS) $(PYTEST_ARGS)

# Needs wrk, the HTTP load generator, from the OS packages (Debian: apt-get install wrk).
bench: $(VENV)/.installed-base
	@command -v wrk >/dev/null || { echo "make bench needs wrk; installing it from the OS packages"; \
	  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null; }
	$(BIN)/python bench/bench_sim.py

lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet ruff mypy
	$(BIN)/ruff check contracts supplier_sim portal scenarios tests bench
	$(BIN)/ruff format --check contracts supplier_sim portal scenarios tests bench
	$(BIN)/mypy contracts supplier_sim portal scenarios

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
