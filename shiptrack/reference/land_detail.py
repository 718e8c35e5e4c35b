"""Land at full Natural Earth 1:10m detail, for maps drawn at harbour scale.

The land that the rules and most maps use (``data/land_10m.geojson.gz``, see
:mod:`shiptrack.reference.land`) is simplified at 0.01 degree: up to 1.1 km off the
coastline, which on a map of one harbour (Boston's is 25 km across) draws the channels
shut and puts ships on land. ``data/land_10m_detail.npz`` keeps every vertex of Natural
Earth 1:10m land (411,137), rounded to 0.0001 degree (about 11 m), stored as int32
deltas with each polygon's bounding box so that a map reads only the polygons in its
extent (1.4 MB).

Build it from the repository root (running it twice gives the same bytes)::

    .venv/bin/python -m shiptrack.reference.land_detail /path/to/ne_10m_land.json
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape

DETAIL_FILE = "land_10m_detail.npz"
SCALE = 10_000  # coordinates in 1e-4 degree
DEFAULT_SOURCE = Path("/work/shared/data/natural-earth/ne_10m_land.json")

BBox = tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max


def build(source: Path, target: Path) -> tuple[int, int]:
    """Write the detail file from Natural Earth's GeoJSON; returns (polygons, vertices)."""
    polys: list[shapely.Polygon] = []
    for f in json.loads(source.read_text(encoding="utf-8"))["features"]:
        g = shape(f["geometry"])
        polys.extend(p for p in getattr(g, "geoms", [g]) if isinstance(p, shapely.Polygon) and p.area > 0)
    bounds, poly_rings, ring_lens, deltas = [], [], [], []
    for p in polys:
        rings = [p.exterior, *p.interiors]
        poly_rings.append(len(rings))
        bounds.append(p.bounds)
        for ring in rings:
            c = np.round(np.asarray(ring.coords) * SCALE).astype(np.int64)
            ring_lens.append(len(c))
            deltas.append(np.diff(c, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)))
    d = np.concatenate(deltas)
    with target.open("wb") as f:
        np.savez_compressed(
            f, bounds=np.asarray(bounds, dtype=np.float32), poly_rings=np.asarray(poly_rings, dtype=np.int32),
            ring_lens=np.asarray(ring_lens, dtype=np.int32), deltas=d.astype(np.int32))
    return len(polys), len(d)


@lru_cache(maxsize=1)
def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(polygon bounds, first ring of each polygon, ring starts, vertices in degrees)."""
    with resources.files(__package__).joinpath("data", DETAIL_FILE).open("rb") as f:
        z = np.load(f)
        bounds, poly_rings, ring_lens, deltas = z["bounds"], z["poly_rings"], z["ring_lens"], z["deltas"]
    # deltas restart at each ring (its first vertex is relative to 0)
    starts = np.concatenate([[0], np.cumsum(ring_lens)])
    coords = np.cumsum(deltas.astype(np.int64), axis=0)
    coords -= np.repeat(coords[starts[:-1]] - deltas[starts[:-1]], ring_lens, axis=0)
    first_ring = np.concatenate([[0], np.cumsum(poly_rings)])
    return bounds.astype(np.float64), first_ring, starts, coords / SCALE


def polygons(bbox: BBox) -> list[shapely.Polygon]:
    """The full-detail land polygons that meet ``bbox``, clipped to it."""
    bounds, first_ring, starts, xy = _data()
    x0, y0, x1, y1 = bbox
    hit = np.flatnonzero((bounds[:, 0] <= x1) & (bounds[:, 2] >= x0) & (bounds[:, 1] <= y1) & (bounds[:, 3] >= y0))
    out: list[shapely.Polygon] = []
    for i in hit.tolist():
        rings = [xy[starts[r]:starts[r + 1]] for r in range(first_ring[i], first_ring[i + 1])]
        p = shapely.Polygon(rings[0], rings[1:])
        if not p.is_valid:
            p = shapely.make_valid(p)
        clipped = shapely.clip_by_rect(p, *bbox)
        out.extend(g for g in getattr(clipped, "geoms", [clipped]) if isinstance(g, shapely.Polygon) and not g.is_empty)
    return out


def land_geojson(tolerance_deg: float, bbox: BBox) -> dict:
    """Full-detail land in ``bbox`` as a GeoJSON FeatureCollection, simplified by ``tolerance_deg``
    (for the map's scale), coordinates to 0.0001 degree."""
    features = []
    for p in polygons(bbox):
        small = shapely.simplify(p, tolerance_deg, preserve_topology=True) if tolerance_deg > 0 else p
        if not small.is_empty:
            small = shapely.transform(small, lambda c: np.round(c, 4))
            features.append({"type": "Feature", "properties": {}, "geometry": mapping(small)})
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    target = Path(__file__).parent / "data" / DETAIL_FILE
    n, v = build(source, target)
    sys.stderr.write(f"wrote {n} polygons, {v} vertices, {target.stat().st_size} bytes to {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
