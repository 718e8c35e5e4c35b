# The two-command promise: `make demo` and `make test` on a fresh clone.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

ST     := $(VENV)/bin/shiptrack --db shiptrack.duckdb

# Ingesting and detecting are idempotent: running the demo twice changes nothing.
demo: $(STAMP)
	$(ST) ingest fixtures/nmea
	$(ST) detect
	$(ST) events --format table

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info shiptrack.duckdb shiptrack.duckdb.wal demo-output
