"""Open the DuckDB store: path resolution, schema creation, a bounded wait for the lock.

DuckDB allows one writing process per file; a second process (a scheduled report
during an ingest) cannot open it until the writer is done. We retry for a bounded
time and then fail with :class:`StoreBusy`, never hang and never corrupt.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from shiptrack.errors import InputError, StoreBusy

if TYPE_CHECKING:
    import polars as pl

DEFAULT_DB = "shiptrack.duckdb"
SCHEMA_VERSION = "9"


def default_path() -> Path:
    """``$SHIPTRACK_DB`` if set, else ``./shiptrack.duckdb``."""
    return Path(os.environ.get("SHIPTRACK_DB") or DEFAULT_DB)


def _is_lock_error(err: Exception) -> bool:
    text = str(err).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def confine(con: duckdb.DuckDBPyConnection, *, lock: bool = True) -> None:
    """From now on, SQL on this connection reads the store and nothing else: no files (no
    read_csv, read_text, glob, COPY, EXPORT, ATTACH), no extensions installed or loaded,
    and (``lock``) no setting changed. Python objects registered with ``con.register``
    stay readable; DuckDB cannot turn file access back on while the database is open."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_external_access = false")
    if lock:
        con.execute("SET lock_configuration = true")


def check_select(sql: str, what: str) -> str:
    """``sql`` if it is exactly one SELECT statement (a rule or a report), else RuleError."""
    from shiptrack.errors import RuleError

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise RuleError(f"{what}: {str(err).splitlines()[0]}") from err
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        raise RuleError(f"{what} must be one SELECT statement; it holds {', '.join(kinds) or 'nothing'}")
    return sql


def connect(
    path: str | Path | None = None, *, read_only: bool = False, wait_s: float = 30.0, confined: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open (and if needed create) the store, waiting up to ``wait_s`` for a lock.
    ``confined``: read-only, and user SQL on it reads the store and nothing else (:func:`confine`)."""
    read_only = read_only or confined
    db_path = Path(path) if path is not None else default_path()
    if read_only and not db_path.exists():
        raise InputError(f"database {db_path} does not exist; run `shiptrack ingest FILE` first")
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(db_path), read_only=read_only)
            break
        except duckdb.IOException as err:
            if not _is_lock_error(err):
                raise InputError(f"cannot open database {db_path}: {err}") from err
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"database {db_path} is in use by another process (an ingest?); "
                    f"waited {wait_s:.0f} s. Try again later or raise --wait."
                ) from err
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        ensure_schema(con)
    elif _version(con) not in (None, SCHEMA_VERSION):
        # a store an older shiptrack made: bring it up to date once, then read it
        con.close()
        connect(db_path, wait_s=max(0.0, deadline - time.monotonic())).close()
        return connect(db_path, read_only=True, wait_s=max(0.0, deadline - time.monotonic()), confined=confined)
    if confined:
        confine(con)
    return con


def _version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The store's schema version (None for a file that holds no shiptrack store)."""
    try:
        row = con.sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:
        return None
    return row[0][0] if row else None


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create tables and views if missing; load the bundled MID table once."""
    have = con.sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchall()[0][0]
    if have:
        row = con.sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        if row and row[0][0] == SCHEMA_VERSION:
            return
    sql = resources.files("shiptrack.store").joinpath("schema.sql").read_text(encoding="utf-8")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(sql)
        from shiptrack import geo, times  # (geo imports numpy: not for a store only read)

        con.execute(geo.SQL_MACROS + times.SQL_MACROS)
        _load_mid_flags(con)
        _load_ports(con)
        if not con.sql("SELECT count(*) FROM coverage").fetchall()[0][0]:
            from shiptrack.store import coverage

            coverage.rebuild(con)  # a store made before the coverage table: derive it once
        con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


# The bundled reference tables go in with DuckDB's CSV reader, straight from the package's
# files, not parsed in Python first: creating a store is part of a first ingest's start
# (tests check the rows against the gazetteer's and the MID table's own readers).
_CSV_COLUMNS = {
    "mid.csv": {"mid": "SMALLINT", "country": "VARCHAR", "iso2": "VARCHAR"},
    "ports.csv": {"port_id": "INTEGER", "name": "VARCHAR", "alt_names": "VARCHAR", "country": "VARCHAR",
                  "locode": "VARCHAR", "lat": "DOUBLE", "lon": "DOUBLE", "harbor_size": "VARCHAR"},
}


def _load_reference_csv(con: duckdb.DuckDBPyConnection, name: str, insert: str) -> None:
    """``insert`` (an INSERT ... SELECT ... FROM _csv) over the bundled reference file ``name``."""
    data = resources.files("shiptrack.reference").joinpath("data", name)
    if not data.is_file():  # reference data not installed: the table stays empty
        return
    with resources.as_file(data) as path:
        con.execute(
            f"WITH _csv AS (SELECT * FROM read_csv($path, header = true, columns = $columns, "  # noqa: S608
            f"quote = '\"', escape = '\"', nullstr = '', auto_detect = false)) {insert}",
            {"path": str(path), "columns": _CSV_COLUMNS[name]},
        )


def _load_mid_flags(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM mid_flags")
    _load_reference_csv(con, "mid.csv", "INSERT INTO mid_flags SELECT mid, country, iso2 FROM _csv")


def _load_ports(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM ports")
    _load_reference_csv(con, "ports.csv",
                        "INSERT INTO ports SELECT port_id, name, country, locode, lat, lon FROM _csv")


def _params(sql: str, params: dict | list | None) -> dict | list:
    if isinstance(params, dict):
        used = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", sql))
        params = {k: v for k, v in params.items() if k in used}  # DuckDB refuses unused names
    return params or {}


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> pl.DataFrame:
    """Run a parameterised query and return a polars frame (times in UTC)."""
    import polars as pl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the DB-API arrow copy is fine for our sizes
        table = con.execute(sql, _params(sql, params)).to_arrow_table()
    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df.with_columns(
        pl.col(c).dt.convert_time_zone("UTC") for c, t in df.schema.items()
        if isinstance(t, pl.Datetime) and t.time_zone is not None
    )


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> list[dict[str, Any]]:
    """Run a parameterised query and return its rows as dicts (times as UTC datetimes):
    :func:`frame` without polars and Arrow, for the small answers of a command that
    should start quickly (``shiptrack vessel``)."""
    cur = con.execute(sql, _params(sql, params))
    names = [d[0] for d in cur.description or []]
    return [{k: _utc(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]


def _utc(v: Any) -> Any:  # noqa: ANN401 - any SQL value
    if isinstance(v, datetime) and v.tzinfo is not None:
        return v.astimezone(UTC)
    return v
