"""Ingest: sources -> decoders -> store, one transaction per source file.

``ingest()`` is the library call behind ``shiptrack ingest``. It never prints;
it returns an :class:`IngestSummary` that the CLI renders.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from shiptrack.decode.nmea import TimeSource, decode_nmea
from shiptrack.decode.records import Batch
from shiptrack.errors import InputError
from shiptrack.read.sniff import sniff
from shiptrack.read.sources import Source, expand_inputs
from shiptrack.store.load import LoadCounts, Loader

ProgressFn = Callable[[Source, int], None]


@dataclass
class SourceResult:
    source: Source
    status: str  # "ingested" | "already" | "failed"
    format: str = ""
    format_detail: str = ""
    source_id: int | None = None
    counts: LoadCounts = field(default_factory=LoadCounts)
    error: str | None = None
    previous_ingest: datetime | None = None


@dataclass
class IngestSummary:
    results: list[SourceResult] = field(default_factory=list)
    vessels: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)

    def total(self) -> LoadCounts:
        t = LoadCounts()
        for r in self.results:
            c = r.counts
            t.lines += c.lines
            t.positions += c.positions
            t.static_reports += c.static_reports
            t.base_stations += c.base_stations
            t.duplicates += c.duplicates
            t.rejects += c.rejects
            t.type_counts.update(c.type_counts)
            t.reject_counts.update(c.reject_counts)
        return t


def decode_source(
    src: Source,
    fmt: str = "auto",
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
) -> tuple[str, str, Iterator[Batch]]:
    """Pick the decoder for one source; returns (format, how it was chosen, batches)."""
    chosen = sniff(src.head(), fmt, columns, src.display)
    detail = chosen.reason
    if chosen.format == "nmea":
        return "nmea", detail, decode_nmea(src.lines(), time_from=time_from)
    from shiptrack.decode.archives import decode_archive

    if chosen.columns:
        detail += "; columns " + ",".join(f"{k}={v}" for k, v in sorted(chosen.columns.items()))
    return chosen.format, detail, decode_archive(src.lines(), chosen.format, chosen.columns)  # type: ignore[arg-type]


def ingest(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    *,
    fmt: str = "auto",
    source_name: str | None = None,
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
    progress: ProgressFn | None = None,
) -> IngestSummary:
    """Ingest every file under ``paths``; a file already ingested (same SHA-256) adds nothing."""
    sources = expand_inputs(paths, source_name)
    summary = IngestSummary()
    for src in sources:
        summary.results.append(ingest_source(con, src, fmt, columns, time_from, progress))
    row = con.sql(
        "SELECT count(*), min(first_seen), max(last_seen) FROM vessels"
    ).fetchall()[0]
    summary.vessels, summary.first_ts, summary.last_ts = row
    return summary


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    fmt: str = "auto",
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
    progress: ProgressFn | None = None,
) -> SourceResult:
    """Load one source inside one transaction: all of it, or (on any failure) none of it."""
    try:
        sha = src.sha256
    except OSError as err:
        return SourceResult(src, "failed", error=f"cannot read: {err}")
    prev = con.execute(
        "SELECT source_id, ingested_at FROM sources WHERE sha256 = ?", [sha]
    ).fetchall()
    if prev:
        return SourceResult(src, "already", source_id=prev[0][0], previous_ingest=prev[0][1])
    try:
        fmt_name, detail, batches = decode_source(src, fmt, columns, time_from)
    except InputError as err:
        return SourceResult(src, "failed", error=str(err))
    con.execute("BEGIN TRANSACTION")
    try:
        source_id = con.execute("SELECT nextval('source_id_seq')").fetchall()[0][0]
        con.execute(
            "INSERT INTO sources (source_id, name, path, sha256, size_bytes, format, format_detail, "
            "ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [source_id, src.display, str(src.path) + (f"!{src.member}" if src.member else ""), sha,
             src.size_bytes, fmt_name, detail, datetime.now(UTC)],
        )
        loader = Loader(con, source_id)
        for batch in batches:
            loader.append(batch)
            if progress is not None:
                progress(src, src.bytes_read)
        c = loader.counts
        if c.time_sources:
            detail += "; time from " + ", ".join(f"{k} ({v:,})" for k, v in c.time_sources.most_common())
        con.execute(
            "UPDATE sources SET lines_read = ?, messages = ?, positions = ?, static_reports = ?, "
            "base_stations = ?, duplicates = ?, rejects = ?, type_counts = ?, reject_counts = ?, "
            "first_ts = ?, last_ts = ?, format_detail = ? WHERE source_id = ?",
            [c.lines, c.messages, c.positions, c.static_reports, c.base_stations, c.duplicates,
             c.rejects, _json(c.type_counts), _json(c.reject_counts), c.first_ts, c.last_ts, detail, source_id],
        )
        con.execute("COMMIT")
    except BaseException as err:
        con.execute("ROLLBACK")
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(err, (OSError, EOFError, InputError)):
            return SourceResult(src, "failed", fmt_name, detail, error=f"{type(err).__name__}: {err}")
        raise
    return SourceResult(src, "ingested", fmt_name, detail, source_id, c)


def _json(counter: Counter) -> str:
    return json.dumps({str(k): v for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))})
