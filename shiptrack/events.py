"""Query the events table: the findings, with vessel identity and evidence references."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb

from shiptrack.findings import summarise_event
from shiptrack.store.db import frame, rows

if TYPE_CHECKING:
    import polars as pl

# The CSV interface, in this order (README documents each column).
EVENT_COLUMNS = [
    "event_id", "kind", "mmsi", "segment", "imo", "vessel_name", "start_utc", "end_utc", "duration_h",
    "lat", "lon", "port", "port_distance_nm", "other_mmsi", "finding", "details", "evidence",
]
# Columns holding JSON text: objects in JSON and GeoJSON output, the text itself in CSV.
JSON_COLUMNS = ("details",)


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
    """Events matching the filters, oldest first: the columns of :data:`EVENT_COLUMNS`, with
    ``finding`` the dossier's sentence, ``details`` JSON text and ``evidence`` the list of
    'file:line' references, each once (see :func:`for_format`)."""
    import polars as pl

    sql, params = _events_query(kinds, mmsi, near_port_id, near_radius_nm, since, until, as_list=True)
    df = frame(con, sql, params)
    findings = [summarise_event(e["kind"], e, json.loads(e["details"]) if e["details"] else {})
                for e in df.select("kind", "mmsi", "port", "duration_h", "other_mmsi", "details").iter_rows(named=True)]
    return df.with_columns(pl.Series("finding", findings, dtype=pl.String)).select(EVENT_COLUMNS)


def for_format(df: pl.DataFrame, fmt: str) -> pl.DataFrame:
    """:func:`query_events`'s frame for an output format: ``evidence`` stays a list where the
    format has lists (JSON, GeoJSON, Parquet), else one cell 'file:line; file:line'."""
    import polars as pl

    if fmt in ("json", "geojson", "parquet") or "evidence" not in df.columns:
        return df
    return df.with_columns(pl.col("evidence").list.join("; "))


def event_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    mmsi: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """:func:`query_events` for one vessel as a list of dicts, ``evidence`` as one text
    'file:line; file:line' (no polars: a quick dossier)."""
    return rows(con, *_events_query(None, mmsi, None, 50.0, since, until))


def _events_query(kinds: list[str] | None, mmsi: int | None, near_port_id: int | None, near_radius_nm: float,
                  since: datetime | None, until: datetime | None, as_list: bool = False) -> tuple[str, dict[str, Any]]:
    # each message once, though a rule may cite it for two reasons (the end of one stay and
    # the start of the next)
    evidence = ("coalesce(list(s.name || ':' || CAST(ev.line_no AS VARCHAR) ORDER BY s.name, ev.line_no), [])"
                if as_list else
                "string_agg(s.name || ':' || CAST(ev.line_no AS VARCHAR), '; ' ORDER BY s.name, ev.line_no)")
    sql = f"""
        SELECT e.event_id, e.kind, e.mmsi, e.segment, v.imo, v.name AS vessel_name, e.start_utc, e.end_utc,
               e.duration_h, round(e.lat, 5) AS lat, round(e.lon, 5) AS lon, e.port,
               e.port_distance_nm, e.other_mmsi, CAST(e.details AS VARCHAR) AS details,
               (SELECT {evidence}
                FROM (SELECT DISTINCT r.source_id, r.line_no
                      FROM (SELECT unnest(e.evidence, recursive := true)) r) ev
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
    """  # noqa: S608 - `evidence` is one of the two expressions above; the values are bound
    params = {
        "kinds": kinds or None, "mmsi": mmsi, "since": since, "until": until,
        "port_id": near_port_id, "radius": near_radius_nm,
    }
    return sql, params
