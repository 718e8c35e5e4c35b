"""Append decoded batches to the store: cleaned, de-duplicated, with provenance.

One source file is loaded inside one transaction (see ``shiptrack.ingest``): if
the process dies half-way, DuckDB rolls the whole file back and it can simply be
ingested again. Within it, batches are appended as Arrow tables (no row-by-row
INSERT), and a row whose transmission is already stored (the same payload heard
by another receiver within ``dedup_window_s``, or an overlapping file) is skipped
and counted as a duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import duckdb
import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from shiptrack.decode import accounting
from shiptrack.decode.accounting import LedgerHook, LineTally
from shiptrack.decode.normalize import clean_base_stations, clean_positions, clean_statics, explain_untimed
from shiptrack.decode.records import Batch
from shiptrack.errors import InputError
from shiptrack.kernels import compiled, jit, readonly

_COLUMNS = {
    "positions": "mmsi, ts, lat, lon, sog, cog, heading, nav_status, accuracy, msg_type, station",
    "static_reports": (
        "mmsi, ts, msg_type, part, imo, name, callsign, ship_type, to_bow, to_stern, to_port, "
        "to_starboard, draught, destination, eta, ais_version, epfd, station"
    ),
    "base_stations": "mmsi, ts, station_time, lat, lon, accuracy, epfd, station",
}


@dataclass
class LoadCounts:
    positions: int = 0
    static_reports: int = 0
    base_stations: int = 0
    duplicates: int = 0
    rejects: int = 0
    lines: int = 0
    type_counts: Counter[int] = field(default_factory=Counter)
    reject_counts: Counter[str] = field(default_factory=Counter)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    time_sources: Counter[str] = field(default_factory=Counter)
    untimed: Counter[str] = field(default_factory=Counter)  # no_timestamp rejects by the clock not trusted
    clock_stats: Counter[str] = field(default_factory=Counter)  # how the clocks of the same sentences compared
    line_counts: Counter[str] = field(default_factory=Counter)  # lines by what became of them (decode.accounting)

    @property
    def messages(self) -> int:
        return sum(self.type_counts.values())


# How dup_key is computed from a row's ``dedup`` text (:func:`dup_keys`), recorded in the
# store's meta table: a store whose keys were made otherwise cannot de-duplicate new rows.
KEY_HASH = "dedup64"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)


def dup_keys(texts: pl.Series) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each text (its UTF-8 bytes), the ``dup_key`` of new stores.

    Defined here once and for all (stored keys must never change): start from the
    length times M1, then for each 8-byte little-endian word w of the text (the
    last one zero-padded): h = ((h ^ w) * M2) ^ (h >> 31). A compiled loop over the
    column's Arrow buffers, read in place; NULL hashes as "".
    """
    col = texts.cast(pl.String)
    if col.null_count():
        col = col.fill_null("")
    arr = col.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    out = np.zeros(n, dtype=np.uint64)
    if n == 0:
        return out
    if arr.type == pa.string_view() and len(arr.buffers()) <= 10:  # polars' own layout: no copy
        bufs = arr.buffers()
        views = np.frombuffer(bufs[1], dtype=np.int32, count=4 * (arr.offset + n)).reshape(-1, 4)[arr.offset :]
        lengths = views[:, 0].astype(np.int64)
        inline = lengths <= 12  # the text is in the view itself, from its 5th byte
        view_bytes = readonly(np.ascontiguousarray(views).reshape(-1).view(np.uint8))
        _hash_spans(view_bytes, _words(view_bytes), np.arange(4, 16 * n, 16, dtype=np.int64), lengths, inline, out)
        for k, buf in enumerate(bufs[2:]):  # else in data buffer k, at the offset in the view
            in_k = ~inline & (views[:, 2] == k)
            if in_k.any():
                data = np.frombuffer(buf, dtype=np.uint8)
                _hash_spans(data, _words(data), views[:, 3].astype(np.int64), lengths, in_k, out)
        return out
    arr = arr.cast(pa.large_string())
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(bufs[2] if bufs[2] is not None else bytes(8), dtype=np.uint8)
    _hash_spans(data, _words(data), offsets[:-1].copy(), np.diff(offsets), np.ones(n, dtype=np.bool_), out)
    return out


@jit
def _hash_spans(data: npt.NDArray[np.uint8], words: npt.NDArray[np.uint64], starts: npt.NDArray[np.int64],
                lengths: npt.NDArray[np.int64], selected: npt.NDArray[np.bool_], out: npt.NDArray[np.uint64]) -> None:
    """``out[i]`` = :func:`dup_keys` of ``data[starts[i]:starts[i] + lengths[i]]`` where
    ``selected[i]``; ``words[j]``: the 8 bytes from ``data[j]`` on, little-endian."""
    shift = np.uint64(31)
    for i in range(starts.size):
        if not selected[i]:
            continue
        j, end = starts[i], starts[i] + lengths[i]
        h = np.uint64(lengths[i]) * _M1
        while j + 8 <= end:
            h = ((h ^ words[j]) * _M2) ^ (h >> shift)
            j += 8
        if j < end:  # the last, partial word, zero-padded
            if j < words.size:
                w = words[j] & ((np.uint64(1) << np.uint64(8 * (end - j))) - np.uint64(1))
            else:
                w = np.uint64(0)
                for b in range(end - j):
                    w |= np.uint64(data[j + b]) << np.uint64(8 * b)
            h = ((h ^ w) * _M2) ^ (h >> shift)
        out[i] = h


_hash_spans = compiled("hash_spans", _hash_spans)


def _words(data: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """The 8 bytes from each position of ``data`` on, as little-endian integers (unaligned loads)."""
    return np.ndarray((max(data.size - 7, 0),), dtype="<u8", buffer=data, strides=(1,))


# Rows held back before an INSERT: DuckDB stores a few large inserts with less CPU than
# many small ones (benchmarks/stages.py times the store stage).
FLUSH_ROWS = 400_000


@dataclass
class Rows:
    """The clean rows of one table in a batch, keyed and unique within the batch: the
    columns to insert, and as arrays what the de-duplication against the store reads."""

    frame: pl.DataFrame  # the columns inserted (no ``dedup``)
    mmsi: npt.NDArray[np.int64]
    key: npt.NDArray[np.uint64]  # dup_key
    t: npt.NDArray[np.int64]  # receive time, microseconds since the epoch
    line_no: npt.NDArray[np.int64] | None = None  # (None: the frame's column)

    @classmethod
    def of(cls, frame: pl.DataFrame) -> Rows:
        """From a keyed frame with ``_t`` (see :func:`_within_batch`)."""
        return cls(frame.drop("_t", "dedup"), frame["mmsi"].to_numpy().astype(np.int64),
                   frame["dup_key"].to_numpy(), frame["_t"].to_numpy(), frame["line_no"].to_numpy())

    @classmethod
    def none(cls) -> Rows:
        return cls(pl.DataFrame(), np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros(0, np.int64),
                   np.zeros(0, np.int64))

    @property
    def height(self) -> int:
        return self.frame.height

    def without(self, drop: npt.NDArray[np.bool_]) -> Rows:
        keep = ~drop
        return Rows(self.frame.filter(pl.Series(keep)), self.mmsi[keep], self.key[keep], self.t[keep],
                    self.lines()[keep])

    def lines(self) -> npt.NDArray[np.int64]:
        """The rows' line numbers (their messages' first lines)."""
        return self.line_no if self.line_no is not None else self.frame["line_no"].to_numpy()


@dataclass
class Prepared:
    """A batch made ready for the store by :meth:`Loader.prepare`."""

    lines: int
    type_counts: Counter[int]
    duplicates: int  # repeated fragments dropped by the decoder
    time_sources: Counter[str]
    untimed: Counter[str]
    clock_stats: Counter[str]
    frames: dict[str, Rows]  # per table: the clean rows, keyed
    rejects: pl.DataFrame
    window_us: int
    offered: dict[str, int]  # clean rows per table, before any de-duplication
    ts_range: tuple[datetime, datetime] | None  # receive times of the clean rows
    bytes_done: int = 0  # how far into its file the batch reaches (for progress), when known
    # what became of the lines (shiptrack.decode.accounting): entries (the batch's, plus its
    # rejects and the rows repeated within it), links, and the lines they are final below
    entry_lines: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    entry_cats: npt.NDArray[np.int8] = field(default_factory=lambda: np.zeros(0, np.int8))
    link_from: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    link_to: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    final_below: int = accounting.NO_LIMIT
    last_line: int = 0


# Why replacement scans (a local variable named in the SQL) rather than con.register():
# with duckdb 2.0.1, the memory of a registered Arrow table is not given back after
# unregister(), so an ingest grew by the size of every batch it loaded.


class Loader:
    """Appends batches for one source; accumulates the counts for its summary.

    De-duplication (a row whose transmission is already stored is skipped): within a
    batch, a row repeating the ``dedup`` of the previous row of the same MMSI less than
    the window earlier; against the store, a row with the same MMSI and ``dedup`` within
    the window either side. The second test runs in DuckDB only when the store holds
    other sources' rows in the batch's time range, or this source's rows from before the
    previous batch; otherwise it runs in memory against the previous batch's rows.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, source_id: int, flush_rows: int = 0,
                 ledger: LedgerHook | None = None, seen: Mapping[str, str] | None = None) -> None:
        self.con = con
        # per table, where the rows stored before are read for de-duplication: the table
        # itself, or (a lake's scratch store) a view adding the lake's rows to it
        self._seen = {table: (seen or {}).get(table, table) for table in _COLUMNS}
        self.flush_rows = flush_rows or FLUSH_ROWS
        self.source_id = source_id
        self.counts = LoadCounts()
        self.lines = LineTally(hook=ledger)  # what became of each line
        self._last_line = 0
        self._row_lines: list[tuple[npt.NDArray[np.int64], int]] = []  # the stored and repeated rows' lines
        _check_key_hash(con)
        # per table: time range of each earlier batch, and the last batch's keys
        self._ranges: dict[str, list[tuple[int, int]]] = {}
        self._last: dict[str, _Keys] = {}
        # per table: receive times the store held before this source (None: no rows); only
        # this source writes until it commits, so a batch outside it meets no other source
        self._before: dict[str, tuple[int, int] | None] = {}
        # per table: rows accepted but not yet inserted; DuckDB writes a few large
        # inserts faster than many small ones, see FLUSH_ROWS
        self._pending: dict[str, list[pl.DataFrame]] = {}
        self._pending_rows = 0
        for table in _COLUMNS:
            lo, hi = con.execute(
                f"SELECT epoch_us(min(ts)), epoch_us(max(ts)) FROM {self._seen[table]}"  # noqa: S608 - constant
            ).fetchall()[0]
            self._before[table] = None if lo is None else (int(lo), int(hi))

    def append(self, batch: Batch) -> None:
        """Prepare and store one batch, its rows inserted at once."""
        self.store(self.prepare(batch))
        self.flush()

    def prepare(self, batch: Batch) -> Prepared:
        """The half of :meth:`append` that needs no database (see :func:`prepare_batch`);
        safe to run in another thread than :meth:`store`."""
        return prepare_batch(batch)

    def store(self, prepared: Prepared) -> None:
        """Insert a prepared batch: the rows not already stored, and the rejects."""
        c = self.counts
        c.lines += prepared.lines
        c.type_counts.update(prepared.type_counts)
        c.duplicates += prepared.duplicates
        c.time_sources.update(prepared.time_sources)
        c.untimed.update(prepared.untimed)
        c.clock_stats.update(prepared.clock_stats)
        for table, frame in prepared.frames.items():
            offered = prepared.offered[table]
            inserted = self._insert(table, frame, prepared.window_us)
            c.duplicates += offered - inserted
            setattr(c, table, getattr(c, table) + inserted)
        self._account(prepared)
        if prepared.ts_range is not None:
            lo, hi = prepared.ts_range
            c.first_ts = lo if c.first_ts is None or lo < c.first_ts else c.first_ts
            c.last_ts = hi if c.last_ts is None or hi > c.last_ts else c.last_ts
        rejects = prepared.rejects
        if rejects.height:
            c.rejects += rejects.height
            c.reject_counts.update(dict(rejects["reason"].value_counts().iter_rows()))
            _st_rejects = rejects.to_arrow()  # read by DuckDB's replacement scan  # noqa: F841
            self.con.execute(
                "INSERT INTO rejects SELECT ?, line_no, reason, detail, raw FROM _st_rejects",
                [self.source_id],
            )

    def _account(self, prepared: Prepared) -> None:
        """Hand the batch's line entries (its own, and its stored and repeated rows') to the tally."""
        lines, cats = [prepared.entry_lines], [prepared.entry_cats]
        for got, cat in self._row_lines:
            lines.append(got)
            cats.append(np.full(got.size, cat, dtype=np.int8))
        self._row_lines = []
        self._last_line = max(self._last_line, prepared.last_line)
        self.lines.add(np.concatenate(lines), np.concatenate(cats), prepared.link_from, prepared.link_to,
                       prepared.final_below, self._last_line)

    def _insert(self, table: str, rows: Rows, window_us: int) -> int:
        """Insert the rows not already stored (held back until :meth:`flush`)."""
        if rows.height == 0:
            return 0
        lo, hi = int(rows.t.min()), int(rows.t.max())
        stored = self._stored(table, rows, lo, hi, window_us)
        if stored is not None:
            self._row_lines.append((rows.lines()[stored], accounting.DUPLICATE))
            rows = rows.without(stored)
        self._row_lines.append((rows.lines(), accounting.STORED))
        if rows.height:
            self._pending.setdefault(table, []).append(rows.frame)
            self._pending_rows += rows.height
            self._ranges.setdefault(table, []).append((int(rows.t.min()), int(rows.t.max())))
            self._last[table] = _by_key(rows)
            if self._pending_rows >= self.flush_rows:
                self.flush()
        return rows.height

    def flush(self) -> None:
        """Insert the rows held back (call before committing: :meth:`finish`)."""
        for table, frames in self._pending.items():
            if not frames:
                continue
            cols = _COLUMNS[table]
            # read by the replacement scan; string views: no copy of the text
            _st_batch = pl.concat(frames, rechunk=False).to_arrow(compat_level=pl.CompatLevel.newest())  # noqa: F841
            self.con.execute(
                f"INSERT INTO {table} ({cols}, source_id, line_no, raw, dup_key) "  # noqa: S608 - constants
                f"SELECT {cols}, $source_id, line_no, raw, dup_key FROM _st_batch",
                {"source_id": self.source_id},
            )
            del _st_batch
        self._pending = {}
        self._pending_rows = 0

    @property
    def pending_rows(self) -> int:
        """Rows accepted but not inserted yet (see :meth:`flush`)."""
        return self._pending_rows

    def finish(self) -> None:
        """Everything stored: the rows of every batch given are in the transaction, and every
        line is accounted for (``counts.line_counts``)."""
        self.flush()
        self.lines.finish(self._last_line)
        self.counts.line_counts = self.lines.counts

    def _stored(self, table: str, rows: Rows, lo: int, hi: int, window_us: int) -> npt.NDArray[np.bool_] | None:
        """Which rows the store already holds (None: none)."""
        lo_w, hi_w = lo - window_us, hi + window_us
        ranges = self._ranges.get(table, [])
        older = any(a <= hi_w and b >= lo_w for a, b in ranges[:-1])
        before = self._before[table]
        others = before is not None and before[0] <= hi_w and before[1] >= lo_w and self.con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {self._seen[table]} WHERE ts BETWEEN $lo AND $hi "  # noqa: S608
            "AND source_id <> $source_id LIMIT 1)",
            {"lo": _utc(lo_w), "hi": _utc(hi_w), "source_id": self.source_id},
        ).fetchall()[0][0]
        if others or older:
            self.flush()  # the earlier batches' rows must be in the table to be found
            return self._stored_in_db(table, rows, lo_w, hi_w, window_us)
        last = self._last.get(table)
        if last is None or not ranges or ranges[-1][1] < lo_w or ranges[-1][0] > hi_w:
            return None
        out = np.zeros(rows.height, dtype=np.bool_)
        found = _seen_in(rows.mmsi, rows.key, rows.t, last.mmsi, last.key, last.t, last.slots, window_us, out)
        return out if found else None

    def _stored_in_db(self, table: str, rows: Rows, lo_w: int, hi_w: int,
                      window_us: int) -> npt.NDArray[np.bool_] | None:
        _st_probe = pa.table({  # read by the replacement scan  # noqa: F841
            "mmsi": rows.mmsi, "dup_key": rows.key, "_t": rows.t, "_i": np.arange(rows.height, dtype=np.int64)})
        hits = self.con.execute(
            f"SELECT DISTINCT b._i FROM _st_probe b JOIN {self._seen[table]} p "  # noqa: S608 - a constant
            "ON p.mmsi = b.mmsi AND p.dup_key = b.dup_key "
            "WHERE p.ts BETWEEN $lo AND $hi AND abs(epoch_us(p.ts) - b._t) <= $w",
            {"lo": _utc(lo_w), "hi": _utc(hi_w), "w": window_us},
        ).fetchnumpy()["_i"]
        if len(hits) == 0:
            return None
        out = np.zeros(rows.height, dtype=np.bool_)
        out[np.asarray(hits, dtype=np.int64)] = True
        return out


@dataclass
class _Keys:
    """The (mmsi, dup_key, time) of a batch's stored rows, and a hash table of their keys
    (open addressing: ``slots[h]`` is a row index + 1, or 0 for an empty slot)."""

    mmsi: npt.NDArray[np.int64]
    key: npt.NDArray[np.uint64]
    t: npt.NDArray[np.int64]
    slots: npt.NDArray[np.int64]


def _by_key(rows: Rows) -> _Keys:
    size = 1 << max(int(2 * rows.key.size - 1).bit_length(), 4)  # at most half full
    slots = np.zeros(size, dtype=np.int64)
    _fill_slots(rows.key, slots)
    return _Keys(rows.mmsi, rows.key, rows.t, slots)


@jit
def _fill_slots(key: npt.NDArray[np.uint64], slots: npt.NDArray[np.int64]) -> None:
    mask = np.uint64(slots.size - 1)
    for j in range(key.size):
        h = key[j] & mask  # the keys are hashes already: their low bits are spread
        while slots[h] != 0:
            h = (h + np.uint64(1)) & mask
        slots[h] = j + 1


_fill_slots = compiled("fill_slots", _fill_slots)


@jit
def _seen_in(mmsi: npt.NDArray[np.int64], key: npt.NDArray[np.uint64], t: npt.NDArray[np.int64],
             p_mmsi: npt.NDArray[np.int64], p_key: npt.NDArray[np.uint64], p_t: npt.NDArray[np.int64],
             slots: npt.NDArray[np.int64], window_us: int, out: npt.NDArray[np.bool_]) -> bool:
    """``out[i]``: an earlier row (``p_*``, its keys in ``slots``) has row i's MMSI and key,
    at most ``window_us`` apart in time. Returns whether any row was found."""
    mask = np.uint64(slots.size - 1)
    found = False
    for i in range(key.size):
        h = key[i] & mask
        while slots[h] != 0:
            j = slots[h] - 1
            if p_key[j] == key[i] and p_mmsi[j] == mmsi[i] and abs(t[i] - p_t[j]) <= window_us:
                out[i] = True
                found = True
                break
            h = (h + np.uint64(1)) & mask
    return found


_seen_in = compiled("seen_in", _seen_in)


def prepare_batch(batch: Batch) -> Prepared:
    """Cleaning, keys and the de-duplication within the batch: everything of an append
    that needs no database."""
    pos, rej_p = clean_positions(batch.positions)
    st, rej_s = clean_statics(batch.statics)
    bs, rej_b = clean_base_stations(batch.base_stations)
    rejects, untimed = explain_untimed(pl.concat([batch.rejects, rej_p, rej_s, rej_b]), batch.time_notes)
    window_us = int(max(batch.dedup_window_s, 0) * 1_000_000)
    frames: dict[str, Rows] = {}
    offered: dict[str, int] = {}
    span: list[datetime] = []
    e_lines, e_cats, link_from, link_to = batch.entries.arrays()
    lines, cats = [e_lines, rejects["line_no"].to_numpy()], [e_cats, np.full(rejects.height, accounting.REJECTED,
                                                                              dtype=np.int8)]
    for table, frame in (("positions", pos), ("static_reports", st), ("base_stations", bs)):
        offered[table] = frame.height
        if frame.height:
            span += [cast(datetime, frame["ts"].min()), cast(datetime, frame["ts"].max())]
        if frame.height == 0:
            frames[table] = Rows.none()
        else:
            keys = pl.Series("dup_key", dup_keys(frame["dedup"]), dtype=pl.UInt64)
            kept, repeated = _within_batch(frame.with_columns(keys), window_us)
            frames[table] = Rows.of(kept)
            if repeated.size:
                lines.append(repeated)
                cats.append(np.full(repeated.size, accounting.DUPLICATE, dtype=np.int8))
    ts_range = (min(span), max(span)) if span else None
    return Prepared(batch.lines, batch.type_counts, batch.duplicates, batch.time_sources, untimed,
                    batch.clock_stats, frames, rejects, window_us, offered, ts_range,
                    entry_lines=np.concatenate(lines), entry_cats=np.concatenate(cats), link_from=link_from,
                    link_to=link_to, final_below=batch.final_below, last_line=batch.last_line)


def _utc(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _within_batch(frame: pl.DataFrame, window_us: int) -> tuple[pl.DataFrame, npt.NDArray[np.int64]]:
    """The rows of a keyed frame that do not repeat an earlier one of the batch, with ``_t``
    (the receive time in microseconds); and the line numbers of those that do."""
    frame = frame.with_columns(pl.col("ts").dt.epoch("us").alias("_t"))
    keep = _first_of_repeats(frame, window_us)
    if keep is None:
        return frame, np.zeros(0, np.int64)
    return frame.filter(keep), frame["line_no"].to_numpy()[~keep.to_numpy()]


def _first_of_repeats(frame: pl.DataFrame, window_us: int) -> pl.Series | None:
    """False for a row repeating the key of the previous row of its MMSI (by ts, line_no)
    less than the window later (the same ts when the window is 0); None: no row does."""
    keys = frame["dup_key"].to_numpy()
    keep = np.ones(frame.height, dtype=bool)
    s = np.sort(keys)
    repeated = s[1:][s[1:] == s[:-1]]
    if repeated.size == 0:  # every key once: nothing to compare
        return None
    rows = np.flatnonzero(np.isin(keys, repeated))
    mmsi = frame["mmsi"].to_numpy()[rows]
    ts = frame["_t"].to_numpy()[rows]
    line = frame["line_no"].to_numpy()[rows]
    order = np.lexsort((line, ts, keys[rows], mmsi))
    m, k, t = mmsi[order], keys[rows][order], ts[order]
    same = (m[1:] == m[:-1]) & (k[1:] == k[:-1])
    gap = t[1:] - t[:-1]
    drop = same & ((gap < window_us) if window_us > 0 else (gap == 0))
    keep[rows[order[1:][drop]]] = False
    return pl.Series(keep)


def _check_key_hash(con: duckdb.DuckDBPyConnection) -> None:
    """Record :data:`KEY_HASH` in a new store; refuse a store whose keys were made otherwise."""
    row = con.execute("SELECT value FROM meta WHERE key = 'dup_key_hash'").fetchall()
    if not row:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('dup_key_hash', ?)", [KEY_HASH])
    elif row[0][0] != KEY_HASH:
        raise InputError(f"this store's duplicate keys were made with {row[0][0]!r}, not {KEY_HASH!r} (a "
                         "development version of shiptrack made it): ingest its files into a new store")
