# The two-command promise: `make demo` and `make test` on a fresh clone.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-spark clean venv kernels

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,spark]'
	touch $(STAMP)

venv: $(STAMP)

# The decoding loops compiled ahead of time (shiptrack/decode/accel/kernels.py): ingest then starts
# without numba's 0.5 s. Rebuilt when their sources change; without it shiptrack would
# compile them just in time, with the same results.
KERNELS := $(VENV)/.kernels
KERNEL_SOURCES := $(addprefix shiptrack/decode/accel/,kernels.py build.py vframe.py fast.py batch.py dedup.py)

$(KERNELS): $(STAMP) $(KERNEL_SOURCES)
	$(PY) -m shiptrack.decode.accel.build
	touch $(KERNELS)

kernels: $(KERNELS)

# The bytecode of shiptrack's own modules, written once. Where PYTHONDONTWRITEBYTECODE is
# set (as on this project's machines) Python never writes it, and every command compiled
# its modules again: 0.03-0.05 s of each start.
BYTECODE := $(VENV)/.bytecode
PY_SOURCES := $(shell find shiptrack -name '*.py')

$(BYTECODE): $(STAMP) $(PY_SOURCES)
	$(PY) -m compileall -q shiptrack
	touch $(BYTECODE)

ST     := $(VENV)/bin/shiptrack --db shiptrack.duckdb

# The Ural reconstruction end to end. Every step is idempotent: running the demo twice
# changes nothing in the store. It ends by printing the Ural's dossier.
demo: $(KERNELS) $(BYTECODE)
	$(ST) ingest fixtures/ural/ural.nmea
	$(ST) route import fixtures/ural/routes.csv
	$(ST) detect
	$(ST) report run dark_near_ports --param since=2018-02-01 --param until=2018-03-05
	$(ST) events --vessel URAL --format csv -o ural_events.csv
	$(ST) track URAL --format kml -o ural_track.kml
	$(ST) vessel URAL --map ural.html --png ural.png

test: $(KERNELS) $(BYTECODE)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# gpsd's C decoder is a baseline (Debian package gpsd-clients); without it that column is n/a.
bench: $(KERNELS) $(BYTECODE)
	command -v gpsdecode >/dev/null || (apt-get update -q && apt-get install -y -q gpsd-clients) || true
	$(PY) benchmarks/run.py

# The Spark engine beside DuckDB: ingest and detect, local[1], local[2] and a two-worker
# standalone cluster on this machine (Java 17); benchmarks/spark.py --positions 10000000 for 10M.
bench-spark: $(KERNELS) $(BYTECODE)
	$(PY) benchmarks/spark.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache shiptrack.duckdb shiptrack.duckdb.wal demo-output shiptrack/decode/accel/_kernels.*
