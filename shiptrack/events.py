"""Query the events table: the findings, with vessel identity and evidence references."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from shiptrack.store.db import frame, rows

if TYPE_CHECKING:
    import polars as pl

# The CSV interface, in this order (README documents each column).
EVENT_COLUMNS = [
    "event_id", "kind", "mmsi", "segment", "imo", "vessel_name", "start_utc", "end_utc", "duration_h",
    "lat", "lon", "port", "port_distance_nm", "other_mmsi", "details", "evidence",
]


def query_events(
    con: duckdb.DuckDBPyConnection,
    *,
    kinds: list[str] | None = None,
    mmsi: int | None = None,
    near_port_id: int | None = None,
    near_radius_nm: float = 50.0,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pl.DataFrame:
    """Events matching the filters, oldest first, with ``evidence`` as 'file:line; ...'."""
    sql, params = _events_query(kinds, mmsi, near_port_id, near_radius_nm, since, until)
    return frame(con, sql, params).select(EVENT_COLUMNS)


def event_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    mmsi: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """:func:`query_events` for one vessel as a list of dicts (no polars: a quick dossier)."""
    return rows(con, *_events_query(None, mmsi, None, 50.0, since, until))


def _events_query(kinds: list[str] | None, mmsi: int | None, near_port_id: int | None, near_radius_nm: float,
                  since: datetime | None, until: datetime | None) -> tuple[str, dict[str, Any]]:
    sql = """
        SELECT e.event_id, e.kind, e.mmsi, e.segment, v.imo, v.name AS vessel_name, e.start_utc, e.end_utc,
               e.duration_h, round(e.lat, 5) AS lat, round(e.lon, 5) AS lon, e.port,
               e.port_distance_nm, e.other_mmsi, CAST(e.details AS VARCHAR) AS details,
               (SELECT string_agg(s.name || ':' || CAST(ev.line_no AS VARCHAR), '; '
                                  ORDER BY s.name, ev.line_no)
                FROM (SELECT unnest(e.evidence, recursive := true)) ev
                JOIN sources s ON s.source_id = ev.source_id) AS evidence
        FROM events e
        LEFT JOIN vessels v ON v.mmsi = e.mmsi
        WHERE ($kinds IS NULL OR list_contains($kinds, e.kind))
          AND ($mmsi IS NULL OR e.mmsi = $mmsi OR e.other_mmsi = $mmsi)
          AND ($since IS NULL OR e.start_utc >= $since)
          AND ($until IS NULL OR e.start_utc < $until)
          AND ($port_id IS NULL OR e.port_id = $port_id OR EXISTS (
                SELECT 1 FROM ports p WHERE p.port_id = $port_id
                  AND haversine_nm(p.lat, p.lon, e.lat, e.lon) <= $radius))
        ORDER BY e.start_utc, e.kind, e.mmsi, e.event_id
    """  # the columns of EVENT_COLUMNS, in its order
    params = {
        "kinds": kinds or None, "mmsi": mmsi, "since": since, "until": until,
        "port_id": near_port_id, "radius": near_radius_nm,
    }
    return sql, params
