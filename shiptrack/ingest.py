"""Ingest: sources -> decoders -> store, one transaction per source file.

``ingest()`` is the library call behind ``shiptrack ingest``. It never prints;
it returns an :class:`IngestSummary` that the CLI renders.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import duckdb

from shiptrack.decode.accounting import LINE_CATEGORIES, LedgerHook
from shiptrack.decode.records import Batch
from shiptrack.decode.sniff import SNIFF_LINES, sniff
from shiptrack.decode.stream import DecodeState, decode_chunks, decode_nmea_chunks
from shiptrack.decode.stream import warm_up as decode_warm_up
from shiptrack.decode.timesource import TimeSource, time_spread_s
from shiptrack.errors import InputError, first_line
from shiptrack.read.sources import READ_ERRORS, Source, expand_inputs, read_error_text, remove_temporary
from shiptrack.store import coverage
from shiptrack.store.load import LoadCounts, Loader, prepare_batch

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
    warnings: list[str] = field(default_factory=list)


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
            t.untimed.update(c.untimed)
            t.line_counts.update(c.line_counts)
        return t


def decode_source(
    src: Source,
    fmt: str = "auto",
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
) -> tuple[str, str, Iterator[Batch]]:
    """Pick the decoder for one source; returns (format, how it was chosen, batches). An
    archive's header is read now: one that cannot be understood raises InputError before
    anything is stored."""
    head = src.head(SNIFF_LINES)
    chosen = sniff(head, fmt, columns, src.display)
    detail = chosen.reason
    if chosen.format == "nmea":
        return "nmea", detail, decode_nmea_chunks(src.chunks(CHUNK_BYTES), time_from)
    if chosen.columns:
        detail += "; columns " + mapping_text(chosen.columns)
    state = DecodeState.of_archive(chosen.format, chosen.columns)  # type: ignore[arg-type]
    assert state.archive is not None
    state.archive.open(list(enumerate(head, 1)))
    return chosen.format, detail, decode_chunks(src.chunks(CHUNK_BYTES), state)


def warm_up() -> None:
    """Load the compiled loops of the decoder and of the loader (the AOT module, or numba's
    JIT from its cache), so that an ingest can do it while it opens the store."""
    for batch in decode_warm_up():
        prepare_batch(batch)


def mapping_text(columns: dict[str, str]) -> str:
    """``mmsi=MMSI, ts=Time, lat=Latitude_degrees, ...``: the fields in their usual order."""
    from shiptrack.decode.archives import FIELDS

    order = {f: i for i, f in enumerate(FIELDS)}
    return ", ".join(f"{k}={v}" for k, v in sorted(columns.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))


def ingest(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    *,
    fmt: str = "auto",
    source_name: str | None = None,
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
    progress: ProgressFn | None = None,
    ledger: Callable[[Source], LedgerHook] | None = None,
) -> IngestSummary:
    """Ingest every file under ``paths``; a file already ingested (same SHA-256) adds nothing.
    ``ledger(source)``, if given, makes the hook that receives what became of each line of that
    source (see ``shiptrack.decode.accounting.LineTally``)."""
    sources = expand_inputs(paths, source_name)
    summary = IngestSummary()
    try:
        with ingest_settings(con):
            for src in sources:
                hook = ledger(src) if ledger is not None else None
                summary.results.append(ingest_source(con, src, fmt, columns, time_from, progress, hook))
    finally:
        remove_temporary(sources)
    with contextlib.suppress(duckdb.Error):  # a store that could not be written may not be readable
        summary.vessels, summary.first_ts, summary.last_ts = store_span(con)
    return summary


def store_span(con: duckdb.DuckDBPyConnection) -> tuple[int, datetime | None, datetime | None]:
    """(vessels, first time, last time) of the whole store: what the ``vessels`` view would
    give, without building it (the view joins every table; this reads the MMSIs only, and
    min/max of ts come from DuckDB's statistics)."""
    row = con.sql(
        "SELECT (SELECT count(*) FROM (SELECT mmsi FROM positions UNION SELECT mmsi FROM static_reports)), "
        "least((SELECT min(ts) FROM positions), (SELECT min(ts) FROM static_reports)), "
        "greatest((SELECT max(ts) FROM positions), (SELECT max(ts) FROM static_reports))"
    ).fetchall()[0]
    return int(row[0]), row[1], row[2]


# Lines are read, framed and decoded by chunks of about this many bytes (a batch each).
CHUNK_BYTES = 1 << 22
# Prepared batches (about 15 MB each) that may wait for the writer, so that decoding goes
# on while DuckDB inserts. The writer is the slower of the two: a deeper queue only holds
# more batches in memory (the queue is bounded: a longer file fills it, and no more).
PREPARED_AHEAD = 3
# Rows held back that the writer inserts when no prepared batch is waiting (rather than
# wait for FLUSH_ROWS), so that less is left to insert once decoding ends. The first batch
# is inserted at once, whatever its size: the writer has nothing else to do until the next.
IDLE_FLUSH_ROWS = 100_000


# DuckDB keeps the pages an ingest writes in its buffer pool up to memory_limit (80% of
# RAM by default), so without a lower limit the memory of a one-transaction ingest grows
# with the file. Those pages are on disk already: evicting them costs nothing.
INGEST_MEMORY_LIMIT = "64MB"
# DuckDB's block allocator keeps up to this much memory for its blocks once it has it,
# rather than give freed blocks back to the system and fault fresh pages in for the next
# ones (an ingest allocates and evicts blocks all along, the memory limit being low): fewer
# page faults, the same peak memory. DuckDB cannot lower it again, so it stays for the
# connection's life (an ingest never raises it above this).
INGEST_BLOCK_MEMORY = "128MB"


@contextlib.contextmanager
def ingest_settings(con: duckdb.DuckDBPyConnection, limit: str = INGEST_MEMORY_LIMIT) -> Iterator[None]:
    """Lower DuckDB's memory_limit to ``limit`` for the duration (never raise it), and let
    DuckDB use one thread: the other core decodes, and the same inserts cost less CPU on
    one thread. Its block allocator keeps :data:`INGEST_BLOCK_MEMORY` (this one is not
    given back: DuckDB cannot lower it).

    (preserve_insertion_order stays on: without it DuckDB inserts with two threads but
    writes larger row groups, which the checkpoint at close spends longer on than the
    insert saves.)"""
    before, threads = con.sql("SELECT current_setting('memory_limit'), current_setting('threads')").fetchall()[0]
    lower = _bytes(before) > _bytes(limit)
    if lower:
        con.execute(f"SET memory_limit = '{limit}'")
    con.execute("SET threads = 1")
    _keep_block_memory(con)
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")
        if lower:
            con.execute(f"SET memory_limit = '{before}'")


def _keep_block_memory(con: duckdb.DuckDBPyConnection) -> None:
    try:
        have = con.sql("SELECT current_setting('block_allocator_memory')").fetchall()[0][0]
        if _bytes(str(have)) < _bytes(INGEST_BLOCK_MEMORY):
            con.execute(f"SET block_allocator_memory = '{INGEST_BLOCK_MEMORY}'")
    except duckdb.Error:  # a DuckDB without the setting (before 1.3): only slower
        pass


_UNITS = {"b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _bytes(text: str) -> float:
    """'18.8 GiB', '256MB' -> bytes (unknown text: no limit)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    if m is None or m.group(2).lower() not in _UNITS:
        return float("inf")
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    fmt: str = "auto",
    columns: dict[str, str] | None = None,
    time_from: TimeSource = "auto",
    progress: ProgressFn | None = None,
    ledger: LedgerHook | None = None,
    seen: Mapping[str, str] | None = None,
) -> SourceResult:
    """Load one source inside one transaction: all of it, or (on any failure) none of it.
    A source that cannot be read (a corrupt member or stream, no permission) fails alone.
    ``seen``: per table, the relation holding the rows stored before (for de-duplication
    and coverage; a lake's scratch store adds the lake's rows to its own)."""
    if src.error is not None:
        return SourceResult(src, "failed", error=src.error)
    try:
        # The SHA-256 is needed first only when the store holds a source of this size (the
        # same file again?); otherwise it is computed while decoding reads the file.
        if src.known_sha256 is not None or src.member is not None or _size_seen(con, src.size_bytes):
            sha: str | None = src.sha256
        else:
            sha = None
    except READ_ERRORS as err:
        return SourceResult(src, "failed", error=read_error_text(err))
    if sha is not None and (prev := already_ingested(con, sha)) is not None:
        return SourceResult(src, "already", source_id=prev[0], previous_ingest=prev[1])
    try:
        fmt_name, detail, batches = decode_source(src, fmt, columns, time_from)
    except InputError as err:
        return SourceResult(src, "failed", error=str(err))
    except READ_ERRORS as err:
        return SourceResult(src, "failed", error=read_error_text(err))
    con.execute("BEGIN TRANSACTION")
    try:
        source_id = con.execute("SELECT nextval('source_id_seq')").fetchall()[0][0]
        loader = Loader(con, source_id, ledger=ledger, seen=seen)
        # decoding (numpy, polars) runs in helper threads while DuckDB stores the previous
        # batch: they release the GIL for much of their work
        prepared_batches = prefetch(loader.prepare, prefetch(_same, batches), PREPARED_AHEAD)
        inserted = False
        for prepared in prepared_batches:
            loader.store(prepared)
            if isinstance(prepared_batches, prefetch) and not prepared_batches.ready() and (
                    loader.pending_rows >= IDLE_FLUSH_ROWS or not inserted):
                loader.flush()  # rather than wait for the next batch
                inserted = True
            if progress is not None:
                progress(src, prepared.bytes_done or src.bytes_read)
        loader.finish()
        if sha is None:
            sha = src.sha256  # streamed: the decoder read the whole file
            if (prev := already_ingested(con, sha)) is not None:  # not expected: its size was not seen
                con.execute("ROLLBACK")
                return SourceResult(src, "already", source_id=prev[0], previous_ingest=prev[1])
        c = loader.counts
        coverage.update(con, source_id, (seen or {}).get("positions", "positions"))
        notes, warnings = clock_report(c)
        detail += "".join("; " + n for n in notes) + "".join("; WARNING: " + w for w in warnings)
        # the sources row goes in last, when its SHA-256 and counts are known: in the same
        # transaction as the rows that cite its source_id
        con.execute(
            "INSERT INTO sources (source_id, name, path, sha256, size_bytes, format, format_detail, "
            "ingested_at, lines_read, messages, positions, static_reports, base_stations, duplicates, "
            "rejects, type_counts, reject_counts, first_ts, last_ts, line_counts, time_spread_s) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [source_id, src.display, str(src.path) + (f"!{src.member}" if src.member else ""), sha,
             src.size_bytes, fmt_name, detail, datetime.now(UTC), c.lines, c.messages, c.positions,
             c.static_reports, c.base_stations, c.duplicates, c.rejects, _json(c.type_counts),
             _json(c.reject_counts), c.first_ts, c.last_ts, _line_json(c.line_counts),
             time_spread_s(time_from, c.time_sources)],
        )
        con.execute("COMMIT")
    except BaseException as err:
        with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended the transaction itself
            con.execute("ROLLBACK")
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(err, InputError):
            return SourceResult(src, "failed", fmt_name, detail, error=first_line(err))
        if isinstance(err, READ_ERRORS):  # a corrupt stream or member, a read error: this source only
            return SourceResult(src, "failed", fmt_name, detail, error=read_error_text(err))
        if isinstance(err, duckdb.Error):  # a full disk, a file size limit, a store that went away
            return SourceResult(src, "failed", fmt_name, detail,
                                error=f"the store could not be written: {first_line(err)}")
        raise
    return SourceResult(src, "ingested", fmt_name, detail, source_id, c, warnings=warnings)


_CLOCK_NAMES = {"tagblock": "tag-block", "pghp": "$PGHP", "prefix": "prefix", "trailer": "trailing",
                "rmc": "receiver-clock ($GPRMC/$GPZDA)", "basestation": "base-station (type 4)"}


def clock_report(c: LoadCounts) -> tuple[list[str], list[str]]:
    """What the summary says of a file's clocks: which timed how many sentences, how they
    compared where a sentence had two, what was rejected for a clock not trusted; and the
    warnings (a file whose sentences were timed by more than one clock)."""
    from shiptrack.decode.nmea import (
        CLOCK_TOLERANCE_S,
        CLOCK_WINDOW_LINES,
        UNTIMED_ARRIVAL,
        UNTIMED_CLOCK_FAR,
        UNTIMED_CLOCK_MISMATCH,
        UNTIMED_TAG_STREAM,
    )

    tol = f"{CLOCK_TOLERANCE_S / 60:.0f} min"
    st, notes, warnings = c.clock_stats, [], []
    if c.time_sources:
        notes.append("time from " + ", ".join(f"{k} ({v:,})" for k, v in c.time_sources.most_common()))
    if c.time_sources["basestation"]:
        notes.append(f"{c.time_sources['basestation']:,} sentences timed by the type 4 base-station report "
                     f"before them (within {CLOCK_WINDOW_LINES} lines)")
    for kind in ("pghp", "tagblock"):
        n = st[f"trailer~{kind}.n"]
        if not n:
            continue
        mean_min = st[f"trailer~{kind}.sum_s"] / n / 60
        if st[f"trailer~{kind}.over"]:
            notes.append(f"trailing times are another clock (ground arrival): {mean_min:+.0f} min from the "
                         f"{_CLOCK_NAMES[kind]} times on average, over {n:,} sentences with both; they time nothing")
        else:
            notes.append(f"trailing times agree with the {_CLOCK_NAMES[kind]} times within {tol} "
                         f"({n:,} sentences with both)")
    for name in ("trailing", "prefix"):
        n = st[f"rmc~{name}.n"]
        if n:
            over = st[f"rmc~{name}.over"]
            notes.append(f"receiver clock checked against {n:,} {name} times: "
                         + (f"{over:,} differ by more than {tol}" if over else f"all within {tol}"))
    why = {
        UNTIMED_ARRIVAL: "their only time is a ground-arrival time (--time-from trailer stores them at it)",
        UNTIMED_CLOCK_MISMATCH: f"the clock before them (the receiver's, or a base station's) disagrees by more "
                                f"than {tol} with the trailing or prefix times near it, or with another base station",
        UNTIMED_CLOCK_FAR: f"no receiver clock within {CLOCK_WINDOW_LINES} lines before them",
        UNTIMED_TAG_STREAM: "no time of their own, in a stream timed by tag blocks",
    }
    for cat, text in why.items():
        if c.untimed[cat]:
            notes.append(f"{c.untimed[cat]:,} rejected (no_timestamp) for a clock not trusted: {text}")
    if st["pghp.unpaired"]:
        notes.append(f"{st['pghp.unpaired']:,} $PGHP lines named no message near them")
    if len(c.time_sources) > 1:
        clocks = ", ".join(f"{_CLOCK_NAMES[k]} {v:,}" for k, v in c.time_sources.most_common())
        warnings.append(f"sentences timed by {len(c.time_sources)} different clocks ({clocks}); "
                        f"a track mixing them may show false jumps (--time-from keeps one)")
    return notes, warnings


def _size_seen(con: duckdb.DuckDBPyConnection, size: int) -> bool:
    return bool(con.execute("SELECT count(*) FROM sources WHERE size_bytes = ?", [size]).fetchall()[0][0])


def already_ingested(con: duckdb.DuckDBPyConnection, sha: str) -> tuple[int, datetime] | None:
    """(source_id, ingested_at) of the stored source with this SHA-256, if any."""
    row = con.execute("SELECT source_id, ingested_at FROM sources WHERE sha256 = ?", [sha]).fetchall()
    return (row[0][0], row[0][1]) if row else None


T = TypeVar("T")
R = TypeVar("R")


class prefetch(Generic[R]):  # noqa: N801 - used like a generator function
    """``fn(item)`` for each item, computed in a helper thread up to ``depth`` ahead.

    An exception in the helper is raised here, in order; closing the iterator (an
    exception in the consumer) stops the helper at its next item. :meth:`ready` says how
    many results are waiting.
    """

    def __init__(self, fn: Callable[[T], R], items: Iterable[T], depth: int = 2) -> None:
        self._results: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self._iter = self._run(fn, items)

    def __iter__(self) -> Iterator[R]:
        return self._iter

    def __next__(self) -> R:
        return next(self._iter)

    def ready(self) -> int:
        return self._results.qsize()

    def close(self) -> None:
        self._iter.close()

    def _run(self, fn: Callable[[T], R], items: Iterable[T]) -> Generator[R, None, None]:
        results = self._results
        stop = threading.Event()

        def work() -> None:
            try:
                for item in items:
                    if stop.is_set():
                        return
                    results.put(("ok", fn(item)))
            except BaseException as err:  # handed to the consumer
                results.put(("err", err))
                return
            results.put(("end", None))

        helper = threading.Thread(target=work, name="shiptrack-decode", daemon=True)
        helper.start()
        try:
            while True:
                kind, value = results.get()
                if kind == "end":
                    return
                if kind == "err":
                    raise value
                yield value
        finally:
            stop.set()
            while helper.is_alive():  # unblock a helper waiting on a full queue
                try:
                    results.get(timeout=0.05)
                except queue.Empty:
                    pass
            helper.join()


def _same(item: T) -> T:
    return item


def _line_json(counts: Counter[str]) -> str:
    """Lines by category, every category named (in LINE_CATEGORIES order), then any other."""
    out = {name: counts.get(name, 0) for name in LINE_CATEGORIES}
    out.update({k: v for k, v in counts.items() if k not in out})
    return json.dumps(out)


def _json(counter: Counter) -> str:
    return json.dumps({str(k): v for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))})
