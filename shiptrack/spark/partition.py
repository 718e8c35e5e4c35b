"""What one Spark task of ``detect`` does, in DuckDB: build a small in-memory store from its
share of the data, run the single-machine engine's own code on it, hand back Arrow.

No pyspark here: these functions take and return Arrow tables, so they run the same in a
Spark task, in a test, or in a plain loop. Three kinds of task (see shiptrack.spark.detect):

* :func:`segment_share`: the vessels of one MMSI share segment their whole tracks
  (``shiptrack.rules.segments``, via ``registry.prepare_inputs``): the ``pos`` rows every
  later task reads, each with its coverage cell and hour.
* :func:`gap_places`: where that share's gaps need reception measured (``gaps.points``).
* :func:`vessel_events` and :func:`cell_events`: every rule, on one share of vessels (with
  the other vessels' rows the gaps and identity rules look at), or, for the rules about
  several vessels (``CELL_RULES``), on one space cell with a halo.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from shiptrack.rules import registry
from shiptrack.store.coverage import CELL_HOUR
from shiptrack.store.db import ensure_schema

# Rules about several vessels at once: run per space cell with a halo, not per vessel.
CELL_RULES = ("sts_encounter",)
# The tables every task reads whole: small, and read by the rules about any vessel.
SMALL_TABLES = ("ports", "areas", "declared_voyages", "declared_voyage_ports", "declared_route_points",
                "mid_flags", "coverage", "sources")
# pos travels between tasks with dup_key as DECIMAL(20, 0): Spark has no unsigned integers.
_POS_OUT = "SELECT * REPLACE (CAST(dup_key AS DECIMAL(20, 0)) AS dup_key) FROM pos"


def open_source(path: str) -> duckdb.DuckDBPyConnection:
    """The data to read: a lake (a folder or an object-storage address, through
    shiptrack.lake) or a DuckDB store file."""
    from shiptrack.lake import names_lake, open_lake

    if names_lake(path):
        return open_lake(path, confined=False)
    con = duckdb.connect(path, read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def absolute_source(path: str) -> str:
    """``path`` as every task can open it: a local lake or store made absolute."""
    from shiptrack.lake import names_lake
    from shiptrack.lake.layout import root

    if names_lake(path):
        return root(path)
    return str(Path(path).absolute())


def _arrow(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
    return con.sql(sql, params=params or None).to_arrow_table()


def _copy(src: duckdb.DuckDBPyConnection, con: duckdb.DuckDBPyConnection, table: str, sql: str,
          params: dict[str, Any] | None = None) -> None:
    """Rows of ``sql`` on the source into ``table`` of the task's store, by column name."""
    data = _arrow(src, sql, params)
    con.register("_rows", data)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")  # noqa: S608 - our table names
    con.unregister("_rows")


def empty_store() -> duckdb.DuckDBPyConnection:
    """A task's in-memory store, on one thread: Spark gives each task one core
    (``spark.task.cpus``), and runs as many tasks as the executors have cores."""
    con = duckdb.connect(":memory:", config={"threads": 1})
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    return con


def task_store(src: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """An empty in-memory store with the source's small tables (ports, areas, declared
    voyages, coverage, ...)."""
    con = empty_store()
    for table in SMALL_TABLES:
        con.execute(f"DELETE FROM {table}")  # noqa: S608 - our table names
        _copy(src, con, table, f"SELECT * FROM {table}")  # noqa: S608 - our table names
    return con


def _share(n: int, k: int) -> tuple[str, dict[str, int]]:
    return "mmsi % $n = $k", {"n": n, "k": k}


def segment_share(source: str, n: int, k: int, since: datetime | None, until: datetime | None) -> pa.Table:
    """``pos`` of the vessels with ``mmsi % n == k`` (whole tracks: a vessel's segments depend on
    all of its positions), with ``share`` (k) and each row's coverage cell and hour."""
    where, params = _share(n, k)
    src = open_source(source)
    try:
        con = empty_store()
        _copy(src, con, "positions", f"SELECT * EXCLUDE (raw) FROM positions WHERE {where}", params)  # noqa: S608
        _copy(src, con, "sources", "SELECT * FROM sources")  # their time spread, for the segmenter
    finally:
        src.close()
    registry.prepare_inputs(con, since, until)
    out = _pos_rows(con, k)
    con.close()
    return out


def _pos_rows(con: duckdb.DuckDBPyConnection, k: int) -> pa.Table:
    return _arrow(con, f"SELECT *, CAST($k AS INTEGER) AS share, {CELL_HOUR} FROM ({_POS_OUT})",  # noqa: S608
                  {"k": k})


def pos_schema() -> pa.Schema:
    """The columns of :func:`segment_share`'s rows (made on an empty store)."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    ensure_schema(con)
    registry.prepare_inputs(con, None, None)
    schema = _pos_rows(con, 0).schema
    con.close()
    return schema


def _load_pos(con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
    """TEMP table ``pos`` from rows made by :func:`segment_share` (the columns and types
    ``registry.prepare_inputs`` gives it, made here on the empty positions table)."""
    registry.prepare_inputs(con, None, None)
    con.register("_pos", rows)
    names = [r[0] for r in con.execute("DESCRIBE pos").fetchall()]
    con.execute(f"INSERT INTO pos BY NAME SELECT {', '.join(names)} FROM _pos")  # noqa: S608 - column names
    con.unregister("_pos")


def gap_places(source: str, rows: pa.Table, others: bool, gap_params: dict[str, Any]) -> pa.Table:
    """For one share's ``pos`` rows: the coverage cells and hour ranges (``h0``..``h1``) in which
    the gaps rule counts the other vessels heard near its gaps (``gaps.points``)."""
    from shiptrack.rules import gaps

    src = open_source(source)
    try:
        con = task_store(src)
    finally:
        src.close()
    _load_pos(con, rows)
    con.execute("CREATE TEMP TABLE detect_scope AS SELECT $o AS others", {"o": others})
    gaps.points(con, gap_params)
    out = _arrow(
        con,
        """
        SELECT DISTINCT pc.cell_lat, pc.cell_lon,
               epoch_us(p.w0) // 3600000000 AS h0, epoch_us(p.w1) // 3600000000 AS h1
        FROM gap_point_cells pc JOIN gap_points p USING (pid)
        """,
    )
    con.close()
    return out


def vessel_events(source: str, n: int, k: int, rows: pa.Table, context_mmsis: Iterable[int], others: bool,
                  since: datetime | None, until: datetime | None, params: list[str],
                  rule_names: list[str]) -> pa.Table:
    """The events of the vessels with ``mmsi % n == k`` by the per-vessel rules: ``rows`` are their
    ``pos`` rows and the other vessels' rows heard where their gaps are; ``context_mmsis``
    the other MMSIs that reported one of their IMO numbers (identity_change), whose static
    reports are read too. Events of the other vessels are dropped: their own task makes them."""
    where, share = _share(n, k)
    ctx = pa.table({"mmsi": pa.array(sorted(set(context_mmsis)), pa.int32())})
    src = open_source(source)
    try:
        con = task_store(src)
        src.register("_ctx", ctx)
        _copy(src, con, "static_reports",
              f"SELECT * FROM static_reports WHERE {where} OR mmsi IN (SELECT mmsi FROM _ctx)", share)  # noqa: S608
    finally:
        src.close()
    _load_pos(con, rows)
    con.execute("CREATE TEMP TABLE detect_scope AS SELECT $o AS others", {"o": others})
    registry.run(con, rule_names, since, until, params, prepared=True)
    out = _arrow(con, f"SELECT * FROM events WHERE {where} ORDER BY event_id", share)  # noqa: S608
    con.close()
    return out


# Cells are dealt to tasks by (cell_lat * CELL_MIX + cell_lon) mod tasks: a task runs the
# rule once over the rows of all its cells and their halos (each row once), which costs one
# store per task rather than one per cell.
CELL_MIX = 7919


def cell_events(source: str, group: int, groups: int, cell_deg: float, rows: pa.Table,
                since: datetime | None, until: datetime | None, params: list[str],
                rule_names: list[str]) -> pa.Table:
    """The events of the rules about several vessels (``CELL_RULES``) that start in the space
    cells of task ``group``: ``rows`` are the ``pos`` rows of those cells and their halos. An
    event belongs to the cell holding its anchor (the lower MMSI's position at the start),
    so that a meeting on a border is found by the cell it starts in, whole, and by no other."""
    src = open_source(source)
    try:
        con = task_store(src)
        ids = pa.table({"mmsi": pa.array(sorted(set(rows.column("mmsi").to_pylist())), pa.int32())})
        src.register("_ids", ids)
        _copy(src, con, "static_reports",
              "SELECT * FROM static_reports WHERE mmsi IN (SELECT mmsi FROM _ids)")
    finally:
        src.close()
    _load_pos(con, rows)
    registry.run(con, rule_names, since, until, params, prepared=True)
    out = _arrow(
        con,
        """
        WITH anchored AS (
            SELECT event_id,
                   CAST(floor(CAST(json_extract(details, '$.start_position.lat') AS DOUBLE) / $deg) AS BIGINT) AS cy,
                   CAST(floor(CAST(json_extract(details, '$.start_position.lon') AS DOUBLE) / $deg) AS BIGINT) AS cx
            FROM events
        )
        SELECT * FROM events
        WHERE event_id IN (SELECT event_id FROM anchored WHERE ((cy * $mix + cx) % $n + $n) % $n = $g)
        ORDER BY event_id
        """,
        {"deg": cell_deg, "mix": CELL_MIX, "n": groups, "g": group},
    )
    con.close()
    return out


def to_ipc(table: pa.Table) -> bytes:
    """One Arrow table as bytes: how a task hands its events back through Spark unchanged
    (JSON, lists of structs, unsigned integers and time zones as DuckDB made them)."""
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def from_ipc(blobs: Iterable[bytes]) -> pa.Table | None:
    tables = [pa.ipc.open_stream(b).read_all() for b in blobs]
    return pa.concat_tables(tables) if tables else None
