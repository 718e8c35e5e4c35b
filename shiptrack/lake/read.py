"""Open a lake as a DuckDB connection on which every read command and rule runs unchanged.

The connection is an in-memory DuckDB made from the store's schema (its macros and
views: ``vessels``, ``identity_history``), in which each table is replaced by a view of
the same name over the lake's Parquet files. A partitioned table shows only the rows of
the sources that have their ``sources`` row (written last): a source half written by a
writer that died is not seen.

DuckDB may read the lake's folder and nothing else (``allowed_directories``): user SQL
(``query``, reports) cannot read other files even though the views read Parquet files.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import resources

import duckdb

from shiptrack.errors import InputError, first_line
from shiptrack.lake import layout
from shiptrack.store.db import SCHEMA_VERSION, confine


def open_lake(path: str | os.PathLike[str], *, confined: bool, events_table: bool = False,
              in_memory: Iterable[str] = ()) -> duckdb.DuckDBPyConnection:
    """The lake at ``path`` as a connection whose views have the store's table names.

    ``confined``: for user SQL: DuckDB reads the lake and nothing else, loads no extension,
    and no setting can be changed. ``sources`` is an in-memory table, read when the
    connection opens (a snapshot). ``events_table``: ``events`` is an in-memory table
    holding the lake's events (for ``detect``, which rewrites it; see
    :func:`shiptrack.lake.detect.detect_lake`), not a view; ``in_memory``: other tables
    made so, for a writer that rewrites them (:func:`shiptrack.lake.ingest.rebuild_coverage`)."""
    lake = layout.root(path)
    tables = set(in_memory)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        _check_marker(con, lake)
        con.execute(resources.files("shiptrack.store").joinpath("schema.sql").read_text(encoding="utf-8"))
        from shiptrack import geo, times

        con.execute(geo.SQL_MACROS + times.SQL_MACROS)
        present = _tables_present(con, lake)
        for table in layout.TABLES:
            # sources is read once, into memory: the connection sees the sources there were
            # when it opened, each with all its files (written before its sources row), even
            # while a writer adds more
            if table == "sources" or (table == "events" and events_table) or table in tables:
                if table in present:
                    con.execute(f"INSERT INTO {table} {table_sql(lake, table)}")  # noqa: S608 - lake path, our tables
                continue
            con.execute(f"DROP TABLE {table}")
            body = table_sql(lake, table) if table in present else _empty_sql(table)
            con.execute(f"CREATE VIEW {table} AS {body}")
        con.execute("SET allowed_directories = $dirs", {"dirs": [lake + "/"]})
        con.execute("SET enable_external_access = false")  # from now on: the lake only
        if confined:
            confine(con)
    except BaseException:
        con.close()
        raise
    return con


def _check_marker(con: duckdb.DuckDBPyConnection, lake: str) -> None:
    """Refuse a folder that holds no lake, or a lake of another schema version."""
    if not layout.is_remote(lake):
        if not layout.is_lake(lake):
            raise InputError(f"{lake} is not a shiptrack lake (no {layout.MARKER}); make one with "
                             "`shiptrack lake export STORE LAKE` or `shiptrack --db LAKE/ ingest FILES`")
    try:
        row = con.execute("SELECT format, CAST(schema_version AS VARCHAR) FROM read_json_auto($p)",
                          {"p": f"{lake}/{layout.MARKER}"}).fetchall()
    except duckdb.Error as err:
        raise InputError(f"cannot read {lake}/{layout.MARKER}: {first_line(err)}") from err
    if not row or row[0][0] != layout.FORMAT:
        raise InputError(f"{lake} is not a shiptrack lake")
    if row[0][1] != SCHEMA_VERSION:
        raise InputError(f"lake {lake} has schema version {row[0][1]}, this shiptrack reads {SCHEMA_VERSION}: "
                         "export its store again with this version")


def _tables_present(con: duckdb.DuckDBPyConnection, lake: str) -> set[str]:
    """The tables that have at least one data file (a glob over none is an error in DuckDB)."""
    have = set()
    for table in layout.TABLES:
        if con.execute("SELECT count(*) FROM (SELECT 1 FROM glob($g) LIMIT 1)",
                       {"g": layout.glob(lake, table)}).fetchall()[0][0]:
            have.add(table)
    return have


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_sql(lake: str, table: str) -> str:
    """The SELECT over a table's files, with the store's column types; a source's rows only
    once its ``sources`` row is there (in the relation named ``sources`` where it runs)."""
    hive = "true" if table in layout.PARTITIONED else "false"
    scan = f"read_parquet({_quote(layout.glob(lake, table))}, hive_partitioning = {hive})"
    body = f"SELECT {layout.select_list(table)} FROM {scan}"  # noqa: S608 - our columns, the path quoted
    if table in layout.SOURCE_TABLES:
        body += " WHERE source_id IN (SELECT source_id FROM sources)"
    return body


def _empty_sql(table: str) -> str:
    cols = ", ".join(f'CAST(NULL AS {c.type}) AS "{c.name}"' for c in layout.schema_columns()[table])
    return f"SELECT {cols} WHERE false"
