"""Each position's distance to its declared voyage's sea route, for the route_deviation rule.

All positions of vessels with a declared voyage under way (between the voyage
windows' departure and end, see ``shiptrack.routes.create_voyage_windows``) are
measured at once against their own voyage's route polyline with
:func:`shiptrack.routes.distance_to_route_nm` (a shapely search tree; numpy).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl

from shiptrack.routes import create_voyage_windows, distance_to_route_nm
from shiptrack.store.db import frame

_POSITIONS_SQL = """
SELECT w.voyage_id, p.mmsi, p.seg, p.ts, p.dup_key, p.lat, p.lon, p.source_id, p.line_no
FROM pos p JOIN voyage_windows w
  ON p.mmsi = w.mmsi AND p.ts >= w.dep_utc AND (w.end_utc IS NULL OR p.ts < w.end_utc)
WHERE w.voyage_id IN (SELECT voyage_id FROM declared_route_points)
"""
_ROUTES_SQL = """
SELECT voyage_id, lat, lon FROM declared_route_points
WHERE voyage_id IN (SELECT voyage_id FROM voyage_windows)
ORDER BY voyage_id, seq
"""


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """TEMP table ``route_offsets``: one row per position under way, with ``offset_nm``."""
    create_voyage_windows(con, float(params["max_voyage_days"]))
    positions = frame(con, _POSITIONS_SQL)
    routes = frame(con, _ROUTES_SQL)
    ids = sorted(set(routes["voyage_id"].to_list()))
    code = {v: i for i, v in enumerate(ids)}
    offsets = distance_to_route_nm(
        np.asarray([code[v] for v in positions["voyage_id"].to_list()], dtype=np.int64),
        positions["lat"].to_numpy(), positions["lon"].to_numpy(),
        np.asarray([code[v] for v in routes["voyage_id"].to_list()], dtype=np.int64),
        routes["lat"].to_numpy(), routes["lon"].to_numpy(),
    )
    table = positions.with_columns(pl.Series("offset_nm", offsets, dtype=pl.Float64))
    con.register("_route_offsets", table.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE route_offsets AS SELECT * FROM _route_offsets")
    con.unregister("_route_offsets")
