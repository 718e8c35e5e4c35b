"""Inland water: how far is a position from the nearest mapped lake, river or waterway.

The coastline of `shiptrack.reference.land` treats lakes, rivers and canals as land:
a barge on the Rhine or a ferry on Loch Ness is "inland". This module measures the
other half, from `data/inland_water_10m.npz` (built by `build_water.py`):

* Natural Earth 1:10m lakes (polygons: a point inside is 0 km away; islands, the
  polygons' holes, are not water) and river and lake centre-lines, world plus the
  Europe and North America supplements (public domain);
* the lanes of the `searoute` marine network that cross land: canals (Suez, Panama,
  Volga-Don), ship channels and river routes (kind ``waterway``).

Accuracy, and what the maps cannot know:

* stored coordinates are the sources' own, rounded to 1e-4 degree (at most 8 m off:
  `MAP_ERROR_KM`);
* rivers are centre-lines of a 1:10m map: a bank can be a km or two from the line on a
  wide river (the Mississippi, the Neva, a delta), and the line itself is generalised
  by about as much. Callers add a margin of a few km;
* many navigable waters are missing: the Kiel Canal (neither in Natural Earth nor in
  searoute's network), most canals of Europe, intracoastal waterways, harbour basins,
  small rivers (the Parramatta in Sydney). Distance to "mapped water" is therefore an
  upper bound of the distance to water;
* some mapped "water" is dry most of the year: alkaline lakes (Lake Eyre), intermittent
  rivers. Being near one is counted as being near water.

Distances are great-circle km, measured like the coastline's (`land.coast_distance_km`):
to the nearest segment in the point's local frame, then along the great circle.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import shapely

from shiptrack.reference.land import _Coast, _coords, _nearest_km

__all__ = ["MAP_ERROR_KM", "WaterNearest", "inland_water_km", "water_feature"]

MAP_ERROR_KM = 0.01  # stored vertices are at most 7.9 m from the sources' (measured by build_water)
_WATER_FILE = "inland_water_10m.npz"
_KINDS = ("lake", "river", "waterway")
_CHUNK = 2048  # points per vectorised batch, as in land.py


@dataclass(frozen=True, slots=True)
class _Water:
    lines: _Coast  # every segment of every line and ring
    seg_feature: np.ndarray  # feature index of each segment
    lakes: tuple[shapely.Geometry, ...]  # lake polygons, for "inside a lake"
    lake_feature: np.ndarray  # feature index of each lake polygon
    lake_tree: shapely.STRtree
    kind: np.ndarray  # per feature: index into _KINDS
    name: np.ndarray  # per feature: its name, or ""


@dataclass(frozen=True, slots=True)
class WaterNearest:
    """Distance (km) of each point to the nearest mapped inland water, and which feature it is."""

    km: np.ndarray  # 0 inside a lake, NaN for NaN input
    feature: np.ndarray  # feature index (see water_feature), -1 when there is none


@lru_cache(maxsize=1)
def _water() -> _Water:
    """Read the bundled file (about 1 s and 0.2 GB the first time in a process; kept afterwards)."""
    from shiptrack.reference.build_water import decode

    with resources.files(__package__).joinpath("data", _WATER_FILE).open("rb") as f, np.load(f) as z:
        arrays = {k: z[k] for k in z.files}
    coords = decode(arrays)
    part_len = arrays["part_len"].astype(np.int64)
    part_feature = arrays["part_feature"].astype(np.int64)
    role = arrays["part_role"]
    ends = np.cumsum(part_len)
    starts = ends - part_len
    # segments: every vertex but each part's last, to the next vertex
    last = np.zeros(len(coords), dtype=bool)
    last[ends - 1] = True
    first_idx = np.flatnonzero(~last)
    seg = np.hstack([coords[first_idx], coords[first_idx + 1]])
    vertex_part = np.repeat(np.arange(len(part_len)), part_len)
    seg_feature = part_feature[vertex_part[first_idx]]
    lines = shapely.linestrings(np.stack([seg[:, :2], seg[:, 2:]], axis=1))
    # lake polygons: an outer ring and the holes that follow it
    polys, lake_feature = [], []
    k = 0
    while k < len(part_len):
        if role[k] != 1:
            k += 1
            continue
        holes = []
        j = k + 1
        while j < len(part_len) and role[j] == 2:
            holes.append(coords[starts[j]:ends[j]])
            j += 1
        poly = shapely.Polygon(coords[starts[k]:ends[k]], holes)
        # three Natural Earth lakes have a ring touching itself (Bratsk Reservoir): repaired so
        # that "inside" is well defined; their rings are measured as they are
        polys.append(poly if poly.is_valid else shapely.make_valid(poly))
        lake_feature.append(part_feature[k])
        k = j
    shapely.prepare(polys)
    return _Water(
        lines=_Coast(seg=seg, tree=shapely.STRtree(lines)),
        seg_feature=seg_feature,
        lakes=tuple(polys),
        lake_feature=np.asarray(lake_feature, dtype=np.int64),
        lake_tree=shapely.STRtree(polys),
        kind=arrays["feature_kind"],
        name=arrays["feature_name"],
    )


def _inside_lake(w: _Water, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Feature index of a lake polygon holding each point, or -1."""
    out = np.full(len(lat), -1)
    pi, gi = w.lake_tree.query(shapely.points(lon, lat))
    if len(pi) == 0:
        return out
    inside = np.array([shapely.contains_xy(w.lakes[g], lon[p], lat[p]) for p, g in zip(pi, gi, strict=True)])
    out[pi[inside]] = w.lake_feature[gi[inside]]
    return out


def inland_water_km(lat: np.ndarray | float, lon: np.ndarray | float) -> WaterNearest:
    """Distance in km from each point to the nearest mapped lake, river or waterway (0 inside
    a lake), with the feature it is measured to. The sea is not counted here: take the
    smaller of this and `land.coast_distance_km` for "distance to any mapped water"."""
    la, lo = _coords(lat, lon)
    la, lo = la.reshape(-1), lo.reshape(-1)
    km = np.full(len(la), np.nan)
    feature = np.full(len(la), -1)
    ok = np.flatnonzero(np.isfinite(la) & np.isfinite(lo))
    if len(ok):
        w = _water()
        for start in range(0, len(ok), _CHUNK):
            idx = ok[start:start + _CHUNK]
            d, s = _nearest_km(w.lines, la[idx], lo[idx])
            f = np.where(s >= 0, w.seg_feature[np.maximum(s, 0)], -1)
            lake = _inside_lake(w, la[idx], lo[idx])
            km[idx] = np.where(lake >= 0, 0.0, d)
            feature[idx] = np.where(lake >= 0, lake, f)
    shape = np.shape(np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))[0])
    return WaterNearest(km=km.reshape(shape), feature=feature.reshape(shape))


def water_feature(index: int) -> tuple[str, str]:
    """(kind, name) of a feature: kind ``lake``, ``river`` or ``waterway`` (a searoute
    lane over land: a canal, a ship channel, a river route); name may be empty."""
    w = _water()
    return _KINDS[int(w.kind[index])], str(w.name[index])
