"""The user's own areas: a port's real anchorage and berths, as a circle or a GeoJSON polygon.

The ``port_call`` rule uses a circle of ``port_radius_nm`` round each World Port
Index position. Where that is wrong for a port (a big anchorage 10 nm out, a long
canal port), an area replaces the circle for that port: ``--radius-nm`` round the
port's position, or a polygon (GeoJSON, lon/lat, kept as text). A polygon area
need not name a port: calls there are reported under the area's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl
import shapely
from shapely.geometry import shape

from shiptrack.errors import InputError
from shiptrack.reference.ports import Port

__all__ = ["Area", "add_area", "area_polygon", "list_areas"]


@dataclass(frozen=True, slots=True)
class Area:
    name: str
    port_id: int | None
    lat: float | None
    lon: float | None
    radius_nm: float | None
    geojson: str | None


def area_polygon(geojson_text: str) -> shapely.Geometry:
    """The (multi)polygon of a GeoJSON geometry, Feature or FeatureCollection (all its polygons)."""
    try:
        obj = json.loads(geojson_text)
    except json.JSONDecodeError as err:
        raise InputError(f"not GeoJSON: {err}") from err
    if not isinstance(obj, dict):
        raise InputError("not GeoJSON: expected an object with a 'type'")
    if obj.get("type") == "FeatureCollection":
        geoms = [f.get("geometry") for f in obj.get("features") or []]
    elif obj.get("type") == "Feature":
        geoms = [obj.get("geometry")]
    else:
        geoms = [obj]
    try:
        shapes = [shape(g) for g in geoms if g]
    except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as err:
        raise InputError(f"GeoJSON geometry is not readable: {err}") from err
    polys = [s for s in shapes if s.geom_type in ("Polygon", "MultiPolygon") and not s.is_empty]
    if not polys:
        raise InputError("the GeoJSON holds no Polygon or MultiPolygon")
    geom = shapely.union_all([shapely.make_valid(p) for p in polys])
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError("GeoJSON coordinates must be longitude, latitude in degrees (lon first)")
    return geom


def add_area(
    con: duckdb.DuckDBPyConnection, name: str, port: Port | None = None,
    radius_nm: float | None = None, geojson_text: str | None = None,
) -> Area:
    """Store (or replace) an area: a port and a radius, or a GeoJSON polygon (with or without a port)."""
    name = name.strip()
    if not name:
        raise InputError("an area needs a name")
    if (radius_nm is None) == (geojson_text is None):
        raise InputError("give an area either --radius-nm (with --port) or --geojson")
    if radius_nm is not None:
        if port is None:
            raise InputError("--radius-nm needs --port: the circle is drawn round the port")
        if not 0 < radius_nm <= 200:
            raise InputError(f"--radius-nm {radius_nm}: expected a radius between 0 and 200 nm")
    text = None
    if geojson_text is not None:
        area_polygon(geojson_text)  # validate before storing
        text = geojson_text.strip()
    area = Area(name, port.port_id if port else None, port.lat if port else None, port.lon if port else None,
                radius_nm, text)
    con.execute(
        "INSERT OR REPLACE INTO areas VALUES ($name, $port_id, $lat, $lon, $radius_nm, $geojson, $now)",
        {"name": area.name, "port_id": area.port_id, "lat": area.lat, "lon": area.lon,
         "radius_nm": area.radius_nm, "geojson": area.geojson, "now": datetime.now(UTC)},
    )
    return area


def list_areas(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The areas, with their port, radius or polygon size."""
    from shiptrack.store.db import frame

    df = frame(con, """
        SELECT a.name, a.port_id, p.name AS port, p.locode, a.lat, a.lon, a.radius_nm,
               a.geojson IS NOT NULL AS polygon, a.geojson, a.created_at
        FROM areas a LEFT JOIN ports p USING (port_id) ORDER BY a.name""")
    bounds = [_bounds_text(g) for g in df["geojson"].to_list()]
    return df.drop("geojson").with_columns(pl.Series("polygon_bounds", bounds, dtype=pl.String))


def _bounds_text(geojson_text: str | None) -> str | None:
    if geojson_text is None:
        return None
    minx, miny, maxx, maxy = area_polygon(geojson_text).bounds
    return f"lon {minx:.4f}..{maxx:.4f}, lat {miny:.4f}..{maxy:.4f}"
