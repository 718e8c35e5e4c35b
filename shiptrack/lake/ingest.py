"""``shiptrack --db LAKE/ ingest FILES``: the store's ingest, written into a lake.

Each file is decoded and loaded exactly as into a store (shiptrack.ingest), into a
scratch DuckDB store inside the lake's folder whose de-duplication and coverage read the
lake's rows beside its own. Then the file's rows are written as that source's Parquet
files, the coverage is replaced, and the ``sources`` row goes last: the file is in the
lake whole, or (a failure, a kill) not at all. One writer per lake: the whole ingest
holds the lake's lock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from shiptrack.decode.accounting import LedgerHook
from shiptrack.decode.timesource import TimeSource
from shiptrack.errors import InputError, first_line
from shiptrack.ingest import (
    IngestSummary,
    ProgressFn,
    SourceResult,
    already_ingested,
    ingest_settings,
    ingest_source,
    store_span,
)
from shiptrack.lake import layout
from shiptrack.lake.read import open_lake, table_sql
from shiptrack.lake.write import (
    allocate_source_ids,
    coverage_sources,
    create_lake,
    lake_lock,
    remove_leftovers,
    replace_table,
    write_rows,
)
from shiptrack.read.sources import Source, expand_inputs, remove_temporary
from shiptrack.store import coverage
from shiptrack.store.db import connect

SCRATCH_PREFIX = ".scratch-"
# DuckDB's memory while it writes a source's Parquet files: a buffer per partition open
PUBLISH_MEMORY_LIMIT = "512MB"
_DEDUP_TABLES = ("positions", "static_reports", "base_stations")


def ingest_lake(
    path: str | os.PathLike[str],
    paths: list[str],
    *,
    fmt: str = "auto",
    source_name: str | None = None,
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
    progress: ProgressFn | None = None,
    ledger: Callable[[Source], LedgerHook] | None = None,
    wait_s: float = 30.0,
) -> IngestSummary:
    """Ingest every file under ``paths`` into the lake at ``path`` (made if missing); a file
    the lake holds already (same SHA-256) adds nothing."""
    lake = create_lake(path)
    summary = IngestSummary()
    with lake_lock(lake, wait_s):
        remove_leftovers(lake)
        scratch_dir = lake / f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"
        scratch_dir.mkdir()
        sources = expand_inputs(paths, source_name)
        try:
            scratch = _scratch_store(lake, scratch_dir / "scratch.duckdb")
            try:
                catch_up_coverage(scratch, lake)
                with ingest_settings(scratch):
                    for src in sources:
                        hook = ledger(src) if ledger is not None else None
                        summary.results.append(_ingest_one(lake, scratch, src, fmt, columns, time_from, progress,
                                                           hook))
            finally:
                scratch.close()
        finally:
            remove_temporary(sources)
            shutil.rmtree(scratch_dir, ignore_errors=True)
    finish_summary(summary, lake)
    return summary


def finish_summary(summary: IngestSummary, lake: str | os.PathLike[str]) -> None:
    """Complete ``summary`` after an ingest from the lake: the source (id, time of ingest)
    that each file found ``already`` there repeats, if not named yet, and the vessels and
    time span the lake holds."""
    con = open_lake(lake, confined=False)
    try:
        for r in summary.results:
            if r.status == "already" and r.source_id is None:
                prev = already_ingested(con, r.source.sha256)
                if prev is not None:
                    r.source_id, r.previous_ingest = prev
        summary.vessels, summary.first_ts, summary.last_ts = store_span(con)
    finally:
        con.close()


def _scratch_store(lake: Path, db: Path) -> duckdb.DuckDBPyConnection:
    """A store holding the lake's sources, meta and coverage (the small tables an ingest
    reads and updates), and views ``_seen_<table>`` adding the lake's rows to its own."""
    con = connect(db)
    for table in ("sources", "coverage", "meta"):
        if any(Path(p).exists() for p in _files(lake, table)):
            con.execute(f"DELETE FROM {table}")  # noqa: S608 - our table names
            con.execute(f"INSERT INTO {table} SELECT {layout.select_list(table)} FROM "  # noqa: S608
                        f"read_parquet($g, hive_partitioning = {table == 'sources'})", {"g": layout.glob(str(lake), table)})
    return con


def _files(lake: Path, table: str) -> list[str]:
    import glob

    return glob.glob(layout.glob(str(lake), table))


def _seen_views(lake: Path, con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``_seen_<table>``: the scratch store's rows and those of the lake's sources."""
    for table in _DEDUP_TABLES:
        body = f"SELECT * FROM {table}"  # noqa: S608 - our table names
        if _files(lake, table):
            body += f" UNION ALL {table_sql(str(lake), table)}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW _seen_{table} AS {body}")
    return {table: f"_seen_{table}" for table in _DEDUP_TABLES}


def _ingest_one(lake: Path, scratch: duckdb.DuckDBPyConnection, src: Source, fmt: str,
                columns: dict[str, str] | None, time_from: TimeSource, progress: ProgressFn | None,
                hook: LedgerHook | None) -> SourceResult:
    (source_id,) = allocate_source_ids(lake, 1)
    scratch.execute("DROP SEQUENCE source_id_seq")
    scratch.execute(f"CREATE SEQUENCE source_id_seq START {int(source_id)}")
    seen = _seen_views(lake, scratch)
    result = ingest_source(scratch, src, fmt, columns, time_from, progress, hook, seen=seen)
    if result.status != "ingested":
        return result
    try:
        with _all_threads(scratch):
            publish_source(scratch, lake, source_id)
    except (OSError, duckdb.Error) as err:
        _forget(scratch, source_id, sources=True)
        return SourceResult(src, "failed", result.format, result.format_detail,
                            error=f"the lake could not be written: {first_line(err)}")
    _forget(scratch, source_id, sources=False)
    return result


@contextlib.contextmanager
def _all_threads(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Let DuckDB use every core while it writes Parquet (compressing is most of the work,
    and no decoding runs then), where the ingest gives it one."""
    threads, limit = con.sql("SELECT current_setting('threads'), current_setting('memory_limit')").fetchall()[0]
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.execute(f"SET memory_limit = '{PUBLISH_MEMORY_LIMIT}'")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET memory_limit = '{limit}'")


def publish_source(scratch: duckdb.DuckDBPyConnection, lake: Path, source_id: int) -> None:
    """Write source ``source_id`` from the scratch store into the lake: its rows, then its
    ``sources`` row (what makes the rest visible), then the coverage and meta."""
    for table in layout.SOURCE_TABLES:
        write_rows(scratch, lake, table, f"SELECT * FROM {table} WHERE source_id = $sid",  # noqa: S608
                   source_id, {"sid": source_id})
    write_rows(scratch, lake, "sources", "SELECT * FROM sources WHERE source_id = $sid", source_id,
               {"sid": source_id})
    publish_coverage(scratch, lake)


def publish_coverage(scratch: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Replace the lake's coverage and meta with the scratch store's, which count its sources."""
    ids = [r[0] for r in scratch.sql("SELECT source_id FROM sources").fetchall()]
    replace_table(lake, "coverage", scratch.sql("SELECT * FROM coverage").to_arrow_table(), covered_sources=ids)
    replace_table(lake, "meta", scratch.sql("SELECT * FROM meta").to_arrow_table())


def catch_up_coverage(scratch: duckdb.DuckDBPyConnection, lake: Path) -> list[int]:
    """Add to the coverage the sources it does not count yet (a writer died after their
    ``sources`` row, before the coverage); returns their ids."""
    covered = coverage_sources(lake)
    if covered is None:
        return []
    missing = sorted({r[0] for r in scratch.sql("SELECT source_id FROM sources").fetchall()} - covered)
    if missing:
        seen = _seen_views(lake, scratch)
        for sid in missing:
            coverage.update(scratch, sid, seen["positions"])
        publish_coverage(scratch, lake)
    return missing


def _forget(scratch: duckdb.DuckDBPyConnection, source_id: int, *, sources: bool) -> None:
    """Drop a source's rows from the scratch store: in the lake now (or failed there:
    ``sources``, its row too, so that the lake's files of it stay unread)."""
    with contextlib.suppress(duckdb.Error):
        for table in layout.SOURCE_TABLES:  # (they hold this source's rows only)
            scratch.execute(f"TRUNCATE {table}")
        if sources:
            scratch.execute("DELETE FROM sources WHERE source_id = $sid", {"sid": source_id})


def rebuild_coverage(path: str | os.PathLike[str], wait_s: float = 30.0) -> int:
    """Recompute the lake's whole coverage from its positions (after writers that do not
    keep it, such as a parallel ingest that appends sources with :func:`write_source`);
    returns its rows."""
    lake = Path(layout.root(path))
    with lake_lock(lake, wait_s):
        con = open_lake(lake, confined=False, in_memory=("coverage",))
        try:
            coverage.rebuild(con)
            ids = [r[0] for r in con.sql("SELECT source_id FROM sources").fetchall()]
            replace_table(lake, "coverage", con.sql("SELECT * FROM coverage").to_arrow_table(), covered_sources=ids)
            return int(con.sql("SELECT count(*) FROM coverage").fetchall()[0][0])
        finally:
            con.close()


def decode_file(
    path: str,
    source_id: int,
    workdir: str | os.PathLike[str],
    *,
    fmt: str = "auto",
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
    source_name: str | None = None,
) -> tuple[SourceResult, dict[str, pa.Table]]:
    """One file decoded and loaded as ``ingest`` loads it, as source ``source_id``, returned as
    the tables :func:`shiptrack.lake.write_source` appends (none when it failed): for a task
    of a parallel ingest (Spark), on its own, so de-duplicated within the file only. The
    scratch store lives in ``workdir`` while it runs."""
    sources = expand_inputs([path], source_name)
    try:
        if len(sources) != 1:
            raise InputError(f"{path}: decode_file takes one file, not {len(sources)} (a folder or an archive)")
        scratch_dir = Path(workdir) / f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"
        scratch_dir.mkdir(parents=True)
        try:
            scratch = connect(scratch_dir / "scratch.duckdb")
            try:
                scratch.execute("DROP SEQUENCE source_id_seq")
                scratch.execute(f"CREATE SEQUENCE source_id_seq START {int(source_id)}")
                with ingest_settings(scratch):
                    result = ingest_source(scratch, sources[0], fmt, columns, time_from)
                if result.status != "ingested":
                    return result, {}
                return result, {t: scratch.sql(f"SELECT * FROM {t}").to_arrow_table()  # noqa: S608 - our tables
                                for t in (*layout.SOURCE_TABLES, "sources")}
            finally:
                scratch.close()
        finally:
            shutil.rmtree(scratch_dir, ignore_errors=True)
    finally:
        remove_temporary(sources)
