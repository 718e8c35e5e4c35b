"""Polygon areas for the port_call rule: which positions lie inside each user polygon.

SQL tests circles (grid-cell join + haversine); polygons are tested here with
shapely, one vectorised pass per area over the positions in its bounding box.
Leaving a polygon area needs going ``leave_radius_nm - port_radius_nm`` beyond
its edge, as leaving a circle does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import polars as pl
import shapely

from shiptrack.areas import area_polygon
from shiptrack.geo import distance_nm
from shiptrack.store.db import frame

_SCHEMA = pl.Schema({
    "mmsi": pl.Int32(), "seg": pl.Int32(), "ts": pl.Datetime("us", "UTC"), "dup_key": pl.UInt64(),
    "place_id": pl.Int64(), "port_id": pl.Int32(), "port": pl.String(), "area": pl.String(),
    "distance_nm": pl.Float64(), "in_enter": pl.Boolean(), "in_leave": pl.Boolean(),
})


def _widen(geom: shapely.Geometry, margin_nm: float) -> shapely.Geometry:
    """The polygon widened by margin_nm, in a frame where a degree of longitude is as long
    as one of latitude at the polygon's centre."""
    if margin_nm <= 0:
        return geom
    k = max(np.cos(np.radians(geom.centroid.y)), 0.01)
    flat = shapely.transform(geom, lambda xy: xy * np.array([k, 1.0]))
    wide = shapely.buffer(flat, margin_nm / 60.0)
    return shapely.transform(wide, lambda xy: xy / np.array([k, 1.0]))


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """TEMP table ``port_call_polygon_hits``: positions inside a polygon area or its leave margin.

    Areas are numbered -1, -2, ... by name, as port_call.sql numbers them.
    """
    margin_nm = max(float(params["leave_radius_nm"]) - float(params["port_radius_nm"]), 0.0)
    areas = con.execute(
        "SELECT a.place_id, a.name, a.port_id, coalesce(p.name, a.name), p.lat, p.lon, a.geojson "
        "FROM (SELECT *, -row_number() OVER (ORDER BY name) AS place_id FROM areas) a "
        "LEFT JOIN ports p USING (port_id) WHERE a.geojson IS NOT NULL ORDER BY a.name"
    ).fetchall()
    frames = [pl.DataFrame(schema=_SCHEMA)]
    for place_id, name, port_id, port, plat, plon, text in areas:
        inner = area_polygon(text)
        outer = _widen(inner, margin_nm)
        minx, miny, maxx, maxy = outer.bounds
        cand = frame(con, "SELECT mmsi, seg, ts, dup_key, lat, lon FROM pos "
                          "WHERE lat BETWEEN $s AND $n AND lon BETWEEN $w AND $e",
                     {"s": miny, "n": maxy, "w": minx, "e": maxx})
        if cand.is_empty():
            continue
        lat, lon = cand["lat"].to_numpy(), cand["lon"].to_numpy()
        in_leave = shapely.contains_xy(outer, lon, lat) | shapely.intersects_xy(outer, lon, lat)
        in_enter = shapely.contains_xy(inner, lon, lat) | shapely.intersects_xy(inner, lon, lat)
        if plat is None:
            ref = inner.representative_point()
            plat, plon = ref.y, ref.x
        frames.append(
            cand.select("mmsi", "seg", "ts", "dup_key").with_columns(
                pl.lit(place_id, pl.Int64).alias("place_id"), pl.lit(port_id, pl.Int32).alias("port_id"),
                pl.lit(port).alias("port"), pl.lit(name).alias("area"),
                pl.Series("distance_nm", distance_nm(lat, lon, plat, plon)),
                pl.Series("in_enter", in_enter), pl.Series("in_leave", in_leave),
            ).filter(pl.col("in_leave")).cast(_SCHEMA)
        )
    hits = pl.concat(frames)
    con.register("_polygon_hits", hits.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE port_call_polygon_hits AS SELECT * FROM _polygon_hits")
    con.unregister("_polygon_hits")
