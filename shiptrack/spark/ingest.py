"""``shiptrack --db LAKE/ ingest --engine spark FILES``: one Spark task per file.

Each task runs the store's own ingest (shiptrack.ingest: decoding, cleaning, rejects with
their reasons, provenance) into an in-memory DuckDB store, then writes that source's
Parquet files with the lake's writer (shiptrack.lake.write_source: the data first, the
``sources`` row last, so a file is in the lake whole or not at all). The driver holds the
lake's lock, gives out the source ids, and at the end recomputes ``coverage`` from all
positions (a count of distinct vessels per cell and hour cannot be added up from the
files' own counts).

Limits, against a sequential ingest: a transmission heard twice is merged within its file
and not across the files of one run (each task sees only its own rows), and two copies
of one file given in the same run are both written.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

import duckdb

from shiptrack.decode.timesource import TimeSource
from shiptrack.ingest import IngestSummary, SourceResult, ingest_source, store_span
from shiptrack.read.sources import Source, expand_inputs, remove_temporary
from shiptrack.store.db import ensure_schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_ROWS = ("positions", "static_reports", "base_stations", "rejects", "sources")


def ingest_file(lake: str, src: Source, source_id: int, fmt: str = "auto", columns: dict[str, str] | None = None,
                time_from: TimeSource = "auto") -> SourceResult:
    """One file into the lake as source ``source_id`` (the task's work); a file whose bytes the
    lake holds already adds nothing (status ``already``)."""
    from shiptrack.lake import open_lake, write_source

    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        ensure_schema(con)
        known = open_lake(lake, confined=False)
        try:  # the lake's sources: ingest_source skips a file whose SHA-256 they hold
            con.register("_known", known.sql("SELECT * FROM sources").to_arrow_table())
            con.execute("INSERT INTO sources BY NAME SELECT * FROM _known")
        finally:
            known.close()
        con.execute("DROP SEQUENCE source_id_seq")
        con.execute(f"CREATE SEQUENCE source_id_seq START {int(source_id)}")
        result = ingest_source(con, src, fmt, columns, time_from)
        if result.status == "ingested":
            tables = {t: con.sql(f"SELECT * FROM {t} WHERE source_id = {int(source_id)}").to_arrow_table()  # noqa: S608
                      for t in _ROWS}
            if not write_source(lake, source_id, tables):  # the same bytes, in another task of this run
                result = SourceResult(src, "already", result.format, result.format_detail)
        return result
    finally:
        con.close()


def ingest_lake(spark: SparkSession, lake: str, paths: list[str], *, fmt: str = "auto",
                source_name: str | None = None, columns: dict[str, str] | None = None,
                time_from: TimeSource = "auto", wait_s: float = 30.0) -> IngestSummary:
    """Every file under ``paths`` into the lake at ``lake`` (made if missing), one Spark task
    per file. The files must be readable where the executors run (a shared or object store)."""
    from shiptrack.lake import allocate_source_ids, create_lake, lake_lock, open_lake, replace_table
    from shiptrack.store import coverage

    root = str(create_lake(lake))
    sources = expand_inputs(paths, source_name)
    summary = IngestSummary()
    try:
        with lake_lock(root, wait_s):
            jobs = list(zip(allocate_source_ids(root, len(sources)), sources, strict=True))

            def run(k: int) -> bytes:
                sid, src = jobs[k]
                return pickle.dumps(ingest_file(root, src, sid, fmt, columns, time_from))

            done = spark.sparkContext.parallelize(range(len(jobs)), max(1, len(jobs))).map(run).collect()
            summary.results = [pickle.loads(b) for b in done]  # noqa: S301 - from our own tasks
            con = open_lake(root, confined=False)
            try:
                replace_table(root, "coverage", coverage.recomputed(con))
            finally:
                con.close()
    finally:
        remove_temporary(sources)
    con = open_lake(root, confined=False)
    try:
        summary.vessels, summary.first_ts, summary.last_ts = store_span(con)
    finally:
        con.close()
    return summary


