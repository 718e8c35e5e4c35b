"""One vessel's positions with their provenance, for maps and exports."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

from shiptrack.store.db import frame

if TYPE_CHECKING:
    import polars as pl

# Stable, documented columns of `shiptrack track --format csv`.
TRACK_COLUMNS = ["ts", "mmsi", "lat", "lon", "sog", "cog", "heading", "nav_status", "msg_type",
                 "station", "source", "line_no", "raw"]


def vessel_track(con: duckdb.DuckDBPyConnection, mmsi: int, since: datetime | None = None,
                 until: datetime | None = None) -> pl.DataFrame:
    """Positions with a place, oldest first, each with the file and line it came from."""
    return frame(con, """
        SELECT p.ts, p.mmsi, p.lat, p.lon, p.sog, p.cog, p.heading, p.nav_status, p.msg_type,
               p.station, s.name AS source, p.line_no, p.raw
        FROM positions p JOIN sources s USING (source_id)
        WHERE p.mmsi = $m AND p.lat IS NOT NULL AND p.lon IS NOT NULL
          AND ($since IS NULL OR p.ts >= $since) AND ($until IS NULL OR p.ts < $until)
        ORDER BY p.ts, p.dup_key
    """, {"m": mmsi, "since": since, "until": until}).select(TRACK_COLUMNS)
