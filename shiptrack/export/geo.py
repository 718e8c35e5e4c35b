"""GeoJSON and KML: for QGIS and Google Earth.

Text from AIS (names, destinations) is untrusted: GeoJSON is written with
``json.dumps`` and KML with XML escaping, never by pasting strings together.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from shiptrack.safe_text import xml
from shiptrack.times import iso_utc_expr

_LAT = ("lat", "latitude")
_LON = ("lon", "longitude")


def _coord_columns(df: pl.DataFrame) -> tuple[str, str]:
    lat = next((c for c in df.columns if c.lower() in _LAT), None)
    lon = next((c for c in df.columns if c.lower() in _LON), None)
    if lat is None or lon is None:
        from shiptrack.errors import InputError

        raise InputError("GeoJSON needs lat and lon columns; this result has: " + ", ".join(df.columns))
    return lat, lon


def _iso(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(iso_utc_expr(pl.col(pl.Datetime)))


def frame_to_geojson(df: pl.DataFrame, line: bool = False, json_columns: tuple[str, ...] = ()) -> str:
    """Point features, one per row with a position (and a LineString of them if ``line``);
    the JSON text of ``json_columns`` becomes objects among the properties."""
    from shiptrack.export.tabular import _json_value, json_rows

    lat, lon = _coord_columns(df)
    rows = json_rows(df, json_columns)
    features: list[dict[str, Any]] = []
    for r in rows:
        if r[lat] is None or r[lon] is None:
            continue
        props = {k: v for k, v in r.items() if k not in (lat, lon)}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r[lon], r[lat]]},
                         "properties": props})
    if line and len(features) > 1:
        features.insert(0, {"type": "Feature", "properties": {"kind": "track"},
                            "geometry": {"type": "LineString",
                                         "coordinates": [f["geometry"]["coordinates"] for f in features]}})
    return json.dumps({"type": "FeatureCollection", "features": features}, default=_json_value, ensure_ascii=False)


def track_to_kml(df: pl.DataFrame, name: str) -> str:
    """A KML document: the track as a LineString and each position as a timed Placemark."""
    lat, lon = _coord_columns(df)
    rows = [r for r in _iso(df).to_dicts() if r[lat] is not None and r[lon] is not None]
    coords = " ".join(f"{r[lon]},{r[lat]},0" for r in rows)
    marks = []
    for r in rows:
        desc = "".join(f"<b>{xml(str(k))}</b>: {xml(str(v))}<br/>" for k, v in r.items()
                       if k not in (lat, lon) and v is not None)
        when = f"<TimeStamp><when>{xml(str(r['ts']))}</when></TimeStamp>" if r.get("ts") else ""
        marks.append(
            f"<Placemark><name>{xml(str(r.get('ts', '')))}</name>{when}"
            f"<description><![CDATA[{desc.replace(']]>', ']]&gt;')}]]></description>"
            f"<styleUrl>#pos</styleUrl><Point><coordinates>{r[lon]},{r[lat]},0</coordinates></Point></Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"<name>{xml(name)}</name>"
        '<Style id="pos"><IconStyle><scale>0.4</scale></IconStyle></Style>'
        '<Style id="line"><LineStyle><color>ff0000ff</color><width>2</width></LineStyle></Style>'
        f"<Placemark><name>{xml(name)} track</name><styleUrl>#line</styleUrl>"
        f"<LineString><tessellate>1</tessellate><coordinates>{coords}</coordinates></LineString></Placemark>"
        f"<Folder><name>positions</name>{''.join(marks)}</Folder>"
        "</Document></kml>\n"
    )
