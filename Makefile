# Two entry points: `make demo` and `make test`. Both set up .venv from pyproject.toml first.
VENV ?= .venv
PYTHON ?= python3

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $@

.PHONY: setup demo test lint bench
setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/cohortbot demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

bench: setup
	for b in benchmarks/bench_*.py; do $(VENV)/bin/python -m $$(basename $$b .py | sed "s/^/benchmarks./") || exit 1; done
