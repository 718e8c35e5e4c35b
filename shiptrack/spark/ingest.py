"""``shiptrack --db LAKE/ ingest --engine spark FILES``: one Spark task per file.

Each task runs the store's own ingest (shiptrack.lake.ingest.decode_file: decoding,
cleaning, rejects with their reasons, provenance), then writes that source's Parquet files
with the lake's writer (shiptrack.lake.write_source: the data first, the ``sources`` row
last, so a file is in the lake whole or not at all). The driver holds the lake's lock and
gives out the source ids, and at the end recomputes ``coverage`` from all positions (a count
of distinct vessels per cell and hour cannot be added up from the files' own counts).

The driver hashes the files before it deals them out: a file the lake holds already, and
every copy after the first of one file given twice in a run, are not read (``already``).

Limits, against a sequential ingest: a transmission heard twice is merged within its file
and not across the files of one run (each task sees only its own rows). A zip archive of
several files is one task's input and fails (give its members, unpacked).
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from shiptrack.decode.timesource import TimeSource
from shiptrack.ingest import IngestSummary, SourceResult
from shiptrack.read.sources import Source, expand_inputs, remove_temporary

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def ingest_file(lake: str, path: str, source_id: int, fmt: str = "auto", columns: dict[str, str] | None = None,
                time_from: TimeSource = "auto", source_name: str | None = None) -> SourceResult:
    """One file into the lake as source ``source_id`` (a task's work): the lake's
    ``decode_file`` (the store's ingest, into a scratch store on the executor's disk), then
    ``write_source``; a file whose bytes the lake holds already adds nothing (``already``)."""
    from shiptrack.lake import write_source
    from shiptrack.lake.ingest import decode_file

    result, tables = decode_file(path, source_id, tempfile.gettempdir(), fmt=fmt, columns=columns,
                                 time_from=time_from, source_name=source_name)
    if result.status == "ingested" and not write_source(lake, source_id, tables):
        result = SourceResult(result.source, "already", result.format, result.format_detail)
    return result


def _to_read(sources: list[Source], held: set[str]) -> tuple[list[Source], list[Source]]:
    """The sources to read (the first of each SHA-256 the lake does not hold) and the others,
    ``already`` there. A file the driver cannot read is dealt out all the same: its task
    reports why it failed."""
    seen = set(held)
    unique: list[Source] = []
    skipped: list[Source] = []
    for src in sources:
        try:
            sha = src.sha256
        except Exception:  # noqa: BLE001 - unreadable or a damaged zip: its task says which
            unique.append(src)
            continue
        (skipped if sha in seen else unique).append(src)
        seen.add(sha)
    return unique, skipped


def ingest_lake(spark: SparkSession, lake: str, paths: list[str], *, fmt: str = "auto",
                source_name: str | None = None, columns: dict[str, str] | None = None,
                time_from: TimeSource = "auto", wait_s: float = 30.0) -> IngestSummary:
    """Every file under ``paths`` into the lake at ``lake`` (made if missing), one Spark task
    per file. The files must be readable where the executors run (a shared or object store)."""
    from shiptrack.lake import allocate_source_ids, create_lake, lake_lock
    from shiptrack.lake.ingest import finish_summary, rebuild_coverage

    root = str(create_lake(lake))
    sources = expand_inputs(paths, source_name)
    summary = IngestSummary()
    try:
        with lake_lock(root, wait_s):
            unique, skipped = _to_read(sources, _held_sha256(root))
            # absolute: an executor's working folder is not the driver's
            paths_abs = [str(Path(s.path).absolute()) for s in unique]
            jobs = list(zip(allocate_source_ids(root, len(unique)), paths_abs, strict=True))
            names = [s.name for s in unique]

            def run(k: int) -> bytes:
                sid, path = jobs[k]
                return pickle.dumps(ingest_file(root, path, sid, fmt, columns, time_from, names[k]))

            done = spark.sparkContext.parallelize(range(len(jobs)), max(1, len(jobs))).map(run).collect()
            summary.results = [pickle.loads(b) for b in done]  # noqa: S301 - from our own tasks
            summary.results += [SourceResult(src, "already") for src in skipped]
        rebuild_coverage(root, wait_s)  # (it takes the lock itself)
    finally:
        remove_temporary(sources)
    finish_summary(summary, root)  # (names the source each skipped file repeats)
    return summary


def _held_sha256(lake: str) -> set[str]:
    """The SHA-256 of every source the lake holds."""
    from shiptrack.lake import open_lake

    con = open_lake(lake, confined=False)
    try:
        return {sha for (sha,) in con.execute("SELECT sha256 FROM sources").fetchall()}
    finally:
        con.close()
