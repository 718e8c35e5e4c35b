"""Derive the bundled inland-water map (`data/inland_water_10m.npz`) from Natural Earth and searoute.

Run from the repository root:

    .venv/bin/python -m shiptrack.reference.build_water /path/to/natural-earth

The folder holds the six gzipped GeoJSON files of Natural Earth 1:10m inland water
(public domain): lakes (world, Europe and North America supplements) and river and
lake centre-lines (the same three). The searoute package's marine network
(``searoute/data/marnet_searoute.geojson``, Apache-2.0, installed with shiptrack)
adds the lanes that cross land: canals (Suez, Panama, Volga-Don), ship channels and
river routes (the Mississippi to Baton Rouge, the St. Lawrence and the Great Lakes,
the Parana, the Yangtze, the Columbia...).

Nothing is simplified: the rivers are already generalised at 1:10m and
Douglas-Peucker saved little (at 0.002 degree, 0.2 km, 1.75 MB instead of 2.2 MB).
Coordinates are rounded to 1e-4 degree, which moves a point by at most 8 m; that is
the only difference from the sources, and `water.MAP_ERROR_KM` allows for it.

What is kept, feature by feature, in the source order (lakes, rivers, then the network):

* every Natural Earth feature with a geometry (one river feature has none); kind
  ``lake`` for lake polygons and lake centre-lines, ``river`` for the rest
  (rivers, intermittent rivers); its ``name`` (empty when it has none);
* every marnet edge that touches the bundled land polygons (`land_10m.geojson.gz`), as
  kind ``waterway`` named after its passage if it has one (``suez``, ``panama``);
  edges given with longitudes beyond 180 (across the antimeridian) are cut there and
  shifted back into -180..180. Edges entirely at sea are left out: at sea nothing is
  flagged, so they would only weigh.

The file is an ``.npz`` (a zip of deflated ``.npy`` arrays) written with a fixed timestamp (the same
bytes on every run), holding:

* ``xy`` int32 (n, 2): lon, lat in 1e-4 degree, each part's first vertex absolute and
  the next ones as differences from the previous vertex (they compress much better);
* ``part_len`` int32: vertices per part; ``part_feature`` int32: the feature of each
  part; ``part_role`` int8: 0 a line, 1 a polygon's outer ring, 2 a hole (island);
* ``feature_kind`` int8 (0 lake, 1 river, 2 waterway) and ``feature_name`` (unicode).
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_SOURCE = Path("/work/shared/data/natural-earth")
OUTPUT_NAME = "inland_water_10m.npz"
SCALE = 10_000  # coordinates stored in 1e-4 degree
KINDS = ("lake", "river", "waterway")
SOURCES = (  # file, what it is
    ("ne_10m_lakes.json.gz", "lakes"),
    ("ne_10m_lakes_europe.json.gz", "lakes"),
    ("ne_10m_lakes_north_america.json.gz", "lakes"),
    ("ne_10m_rivers_lake_centerlines.json.gz", "rivers"),
    ("ne_10m_rivers_europe.json.gz", "rivers"),
    ("ne_10m_rivers_north_america.json.gz", "rivers"),
)
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _name(props: dict) -> str:
    for key in ("name", "name_en", "name_alt"):
        value = props.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return ""


def _parts(geom: shapely.Geometry) -> list[tuple[np.ndarray, int]]:
    """(coordinates, role) of each line and ring: role 0 line, 1 outer ring, 2 hole."""
    out: list[tuple[np.ndarray, int]] = []
    if isinstance(geom, shapely.LineString):
        out.append((np.asarray(geom.coords)[:, :2], 0))
    elif isinstance(geom, shapely.Polygon):
        out.append((np.asarray(geom.exterior.coords)[:, :2], 1))
        out.extend((np.asarray(r.coords)[:, :2], 2) for r in geom.interiors)
    else:
        for g in getattr(geom, "geoms", []):
            out.extend(_parts(g))
    return [(c, role) for c, role in out if len(c) >= 2]


def natural_earth_features(folder: Path) -> list[tuple[int, str, shapely.Geometry]]:
    """(kind, name, geometry) of every Natural Earth lake and river feature, in source order."""
    out = []
    for file_name, what in SOURCES:
        with gzip.open(folder / file_name, "rt", encoding="utf-8") as f:
            features = json.load(f)["features"]
        for feat in features:
            if not feat.get("geometry"):
                continue
            props = feat.get("properties") or {}
            cla = str(props.get("featurecla") or "")
            kind = 0 if what == "lakes" or cla.startswith("Lake") else 1
            out.append((kind, _name(props), shape(feat["geometry"])))
    return out


def _unwrap(line: shapely.LineString) -> list[shapely.LineString]:
    """A marnet edge as pieces within -180..180 (edges across the antimeridian use lon > 180)."""
    pieces: list[shapely.LineString] = []
    for lo, shift in ((-180.0, 0.0), (180.0, -360.0), (-540.0, 360.0)):
        part = shapely.clip_by_rect(line, lo, -90.0, lo + 360.0, 90.0)
        if part.is_empty:
            continue
        part = shapely.transform(part, lambda xy, s=shift: xy + np.array([s, 0.0]))
        pieces.extend(g for g in getattr(part, "geoms", [part]) if isinstance(g, shapely.LineString)
                      and len(g.coords) >= 2)
    return pieces


def marnet_features(land: list[shapely.Polygon]) -> list[tuple[int, str, shapely.Geometry]]:
    """(kind, name, geometry) of the searoute network's edges that touch land."""
    import searoute

    path = Path(searoute.__file__).parent / "data" / "marnet_searoute.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    tree = shapely.STRtree(land)
    out = []
    for feat in features:
        geom = shape(feat["geometry"])
        lines = [geom] if isinstance(geom, shapely.LineString) else list(getattr(geom, "geoms", []))
        pieces = [p for ln in lines for p in _unwrap(ln)]
        touching = [p for p in pieces if len(tree.query(p, predicate="intersects"))]
        if touching:
            name = str((feat.get("properties") or {}).get("passage") or "")
            geom_out = touching[0] if len(touching) == 1 else shapely.MultiLineString(touching)
            out.append((2, name, geom_out))
    return out


def encode(features: list[tuple[int, str, shapely.Geometry]]) -> dict[str, np.ndarray]:
    """The arrays of the bundled file (see the module docstring)."""
    xy, part_len, part_feature, part_role = [], [], [], []
    for i, (_, _, geom) in enumerate(features):
        for coords, role in _parts(geom):
            q = np.round(coords * SCALE).astype(np.int64)
            d = q.copy()
            d[1:] -= q[:-1]
            xy.append(d)
            part_len.append(len(q))
            part_feature.append(i)
            part_role.append(role)
    return {
        "xy": np.concatenate(xy).astype(np.int32),
        "part_len": np.asarray(part_len, dtype=np.int32),
        "part_feature": np.asarray(part_feature, dtype=np.int32),
        "part_role": np.asarray(part_role, dtype=np.int8),
        "feature_kind": np.asarray([k for k, _, _ in features], dtype=np.int8),
        "feature_name": np.asarray([n for _, n, _ in features], dtype=str),
    }


def decode(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Absolute coordinates in degrees (n, 2) from the delta-encoded ``xy``."""
    d = arrays["xy"].astype(np.int64)
    starts = np.r_[0, np.cumsum(arrays["part_len"])[:-1]]
    run = np.cumsum(d, axis=0)
    base = np.repeat(run[starts] - d[starts], arrays["part_len"], axis=0)
    return (run - base) / SCALE


def write_npz(arrays: dict[str, np.ndarray], path: Path) -> None:
    """np.savez_compressed, but with a fixed timestamp in the zip so the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def max_error_km(features: list[tuple[int, str, shapely.Geometry]], arrays: dict[str, np.ndarray]) -> float:
    """Largest distance, in km (north-south degrees, the worst direction), between a source
    vertex and the stored one."""
    coords = decode(arrays)
    source = np.concatenate([c for _, _, g in features for c, _ in _parts(g)])
    return float(np.abs(coords - source).max() * np.sqrt(2.0) * 111.195)


def main(argv: list[str]) -> int:
    from shiptrack.reference.land import land_geometries

    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    features = natural_earth_features(folder) + marnet_features(list(land_geometries()))
    arrays = encode(features)
    target = DATA_DIR / OUTPUT_NAME
    write_npz(arrays, target)
    kinds = np.bincount(arrays["feature_kind"], minlength=len(KINDS))
    sys.stderr.write(
        f"wrote {len(features)} features ({', '.join(f'{n} {k}' for k, n in zip(KINDS, kinds, strict=True))}), "
        f"{len(arrays['part_len'])} parts, {len(arrays['xy'])} vertices, {target.stat().st_size} bytes "
        f"to {target}; largest vertex shift {max_error_km(features, arrays) * 1000:.1f} m\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
