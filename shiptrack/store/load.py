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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import polars as pl

from shiptrack.decode.normalize import clean_base_stations, clean_positions, clean_statics
from shiptrack.decode.records import Batch

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

    @property
    def messages(self) -> int:
        return sum(self.type_counts.values())


class Loader:
    """Appends batches for one source; accumulates the counts for its summary."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source_id: int) -> None:
        self.con = con
        self.source_id = source_id
        self.counts = LoadCounts()

    def append(self, batch: Batch) -> None:
        c = self.counts
        c.lines += batch.lines
        c.type_counts.update(batch.type_counts)
        c.duplicates += batch.duplicates
        c.time_sources.update(batch.time_sources)
        pos, rej_p = clean_positions(batch.positions)
        st, rej_s = clean_statics(batch.statics)
        bs, rej_b = clean_base_stations(batch.base_stations)
        rejects = pl.concat([batch.rejects, rej_p, rej_s, rej_b])
        for frame in (pos, st, bs):
            if frame.height:
                lo, hi = frame["ts"].min(), frame["ts"].max()
                c.first_ts = lo if c.first_ts is None or lo < c.first_ts else c.first_ts  # type: ignore[operator]
                c.last_ts = hi if c.last_ts is None or hi > c.last_ts else c.last_ts  # type: ignore[operator]
        w = batch.dedup_window_s
        c.positions += self._insert("positions", pos, w)
        c.static_reports += self._insert("static_reports", st, w)
        c.base_stations += self._insert("base_stations", bs, w)
        if rejects.height:
            c.rejects += rejects.height
            c.reject_counts.update(rejects["reason"].to_list())
            self.con.register("_rejects", rejects.to_arrow())
            self.con.execute(
                "INSERT INTO rejects SELECT ?, line_no, reason, detail, raw FROM _rejects",
                [self.source_id],
            )
            self.con.unregister("_rejects")

    def _insert(self, table: str, frame: pl.DataFrame, window_s: float) -> int:
        """Insert rows not already stored; returns the number inserted."""
        if frame.height == 0:
            return 0
        cols = _COLUMNS[table]
        lo, hi = frame["ts"].min(), frame["ts"].max()
        self.con.register("_batch", frame.to_arrow())
        # Within the batch: a row repeating the payload of the previous row of the same
        # MMSI less than window_s earlier is the same transmission. Against the table:
        # the same test, restricted to the batch's time range (zone-map pruning).
        same = "p.ts = b.ts" if window_s <= 0 else (
            "p.ts BETWEEN b.ts - to_microseconds($window_us) AND b.ts + to_microseconds($window_us)"
        )
        keep = "prev_ts IS NULL OR ts <> prev_ts" if window_s <= 0 else (
            "prev_ts IS NULL OR ts - prev_ts >= to_microseconds($window_us)"
        )
        sql = f"""
            INSERT INTO {table} ({cols}, source_id, line_no, raw, dup_key)
            WITH keyed AS (
                SELECT *, md5_number_lower(dedup) AS dup_key FROM _batch
            ), ordered AS (
                SELECT *, lag(ts) OVER (PARTITION BY mmsi, dup_key ORDER BY ts, line_no) AS prev_ts
                FROM keyed
            )
            SELECT {cols}, $source_id AS source_id, line_no, raw, dup_key
            FROM ordered b
            WHERE ({keep})
              AND NOT EXISTS (
                SELECT 1 FROM {table} p
                WHERE p.mmsi = b.mmsi AND p.dup_key = b.dup_key
                  AND p.ts BETWEEN $lo AND $hi
                  AND {same})
        """  # noqa: S608 - table and column names are constants above; values are bound
        margin = timedelta(seconds=max(window_s, 0))
        params: dict[str, object] = {"source_id": self.source_id, "lo": lo - margin, "hi": hi + margin}
        if window_s > 0:
            params["window_us"] = int(window_s * 1_000_000)
        inserted = self.con.execute(sql, params).fetchall()[0][0]
        self.con.unregister("_batch")
        self.counts.duplicates += frame.height - inserted
        return int(inserted)
