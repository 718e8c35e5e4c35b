"""Where a lake keeps each table, and the columns it keeps: the layout every engine shares.

A lake is a directory (local, or an object-storage prefix for reading) holding
``shiptrack-lake.json`` and one folder per store table, in hive-partitioned Parquet
with the store's own column names and types:

* ``positions/day=YYYY-MM-DD/bucket=NN/<source_id>-<uuid>.parquet`` (NN = mmsi % 16),
* ``static_reports/`` and ``base_stations/`` by ``day=``, ``rejects/`` by ``source_id=``,
* ``sources/source_id=N/<source_id>-<uuid>.parquet``: written last for a source. Readers
  see a source's rows in the other tables only when its ``sources`` row exists, so one
  source's files appear together or not at all,
* the small tables as ``<table>/data.parquet``, replaced whole (temporary name, rename),
* ``events/*.parquet``, the folder replaced whole by ``detect``.

The columns are not written down twice: they are read from an in-memory DuckDB made
from shiptrack/store/schema.sql.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from shiptrack.errors import InputError
from shiptrack.store.db import SCHEMA_VERSION

MARKER = "shiptrack-lake.json"
FORMAT = "shiptrack-lake"
LOCK_FILE = ".shiptrack-lake.lock"
BUCKETS = 16

# table -> its hive partition columns, in folder order (not columns of the files)
PARTITIONED: dict[str, tuple[str, ...]] = {
    "positions": ("day", "bucket"),
    "static_reports": ("day",),
    "base_stations": ("day",),
    "rejects": ("source_id",),
    "sources": ("source_id",),
}
# the tables of one source, written before its sources row
SOURCE_TABLES = ("positions", "static_reports", "base_stations", "rejects")
# small tables, each one file replaced whole
SMALL = ("meta", "mid_flags", "ports", "areas", "declared_voyages", "declared_voyage_ports",
         "declared_route_points", "coverage")
# folders replaced whole (detect's output)
REPLACED = ("events",)
TABLES = (*PARTITIONED, *SMALL, *REPLACED)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type, as the store declares it


def is_remote(path: str | os.PathLike[str]) -> bool:
    """An object-storage or web address (s3://, gs://, https://...), read through DuckDB's httpfs."""
    return "://" in str(path)


def names_lake(db: str | os.PathLike[str]) -> bool:
    """Whether ``--db`` names a lake rather than a DuckDB file: an existing directory, a
    path ending in ``/``, or an object-storage address."""
    text = str(db)
    return is_remote(text) or text.endswith(("/", os.sep)) or Path(text).is_dir()


def is_lake(path: str | os.PathLike[str]) -> bool:
    """A local directory holding a shiptrack lake (its ``shiptrack-lake.json``)."""
    marker = Path(path) / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError):
        return False


def marker_text() -> str:
    return json.dumps({"format": FORMAT, "schema_version": SCHEMA_VERSION}) + "\n"


def root(path: str | os.PathLike[str]) -> str:
    """The lake's address without a trailing slash (local paths made absolute). Refuses
    an address holding a glob character: DuckDB reads the lake's files by pattern."""
    text = str(path)
    if any(c in text for c in "[]*?{}"):
        raise InputError(f"a lake's path may not contain [ ] * ? {{ }} (DuckDB reads its files by pattern): {text}")
    if is_remote(text):
        return text.rstrip("/")
    return str(Path(text).absolute())


def glob(lake: str, table: str) -> str:
    """The pattern of a table's data files."""
    depth = len(PARTITIONED.get(table, ()))
    if table in SMALL:
        return f"{lake}/{table}/data.parquet"
    return f"{lake}/{table}/" + "*/" * depth + "*.parquet"


def data_name(source_id: int, uuid: str) -> str:
    """A data file's name: the source first, so concurrent writers never collide."""
    return f"{source_id}-{uuid}.parquet"


@functools.cache
def schema_columns() -> dict[str, tuple[Column, ...]]:
    """Every store table's columns, in order, as shiptrack/store/schema.sql makes them."""
    con = duckdb.connect()
    try:
        con.execute(resources.files("shiptrack.store").joinpath("schema.sql").read_text(encoding="utf-8"))
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE') "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[Column]] = {}
    for table, name, typ in rows:
        out.setdefault(table, []).append(Column(name, typ))
    missing = set(TABLES) ^ set(out)
    if missing:  # a table added to the schema must be given a place in the lake
        raise RuntimeError(f"lake layout and store schema disagree on tables: {sorted(missing)}")
    return {t: tuple(cols) for t, cols in out.items()}


def select_list(table: str, alias: str = "") -> str:
    """``CAST(col AS type) AS col, ...`` for a table: the store's types, whatever a file holds."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'CAST({prefix}"{c.name}" AS {c.type}) AS "{c.name}"' for c in schema_columns()[table])
