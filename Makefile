# The README's commands. Everything runs inside .venv, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The benchmarks also need the bench extra (dlt, matplotlib, profilers); make test does not.
BENCH_INSTALLED := $(VENV)/.installed-bench

.PHONY: install test lint demo ui simulator bench bench-quick clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

$(BENCH_INSTALLED): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_INSTALLED)

install: $(INSTALLED)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy oneconnect_pipelines assets tests bench

test: lint
	$(BIN)/pytest

demo: $(INSTALLED)
	$(BIN)/python -m assets.demo

ui: $(INSTALLED)
	$(BIN)/python -m assets.ui

simulator: $(INSTALLED)
	$(BIN)/oneconnect simulator

bench: $(BENCH_INSTALLED)
	$(BIN)/python -m bench

bench-quick: $(BENCH_INSTALLED)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
