"""Land and coastline: is a position on land, and how far from the coast is it.

Two data sets, both public domain, answer two different questions:

* `is_land` reads the GLOBE-derived 1 km grid of the `global-land-mask`
  package (cells of 1/120 degree, about 0.9 km north-south). Most lakes count
  as land. A position within about 1 km of the shore can fall either way.
* `inland_distance_km` / `coast_distance_km` measure, along the great circle,
  to the coastline of Natural Earth 1:10m land simplified at 0.01 degree
  (bundled as `data/land_10m.geojson.gz`; the artificial edges along the
  antimeridian and at 90S are not coastline). That line is within about 1.1 km
  of Natural Earth's own, which is itself a generalised map line, not a survey:
  expect errors of 1-2 km near the coast. Beyond about 100 km from the coast a
  coarser 0.1-degree line is used, and results can be off by a few per cent
  (up to 4% measured against a brute-force search, at high latitudes). The two
  data sets can disagree within a km or two of the shore: a point the mask puts
  on land may be just outside the polygons, and gets a small positive distance.

WPI port coordinates are rounded to about 0.01 degree and several big ports
(Banghazi, Mersa Sfax, Novorossiysk) fall 0.2-2 km on the land side of the line.
A rule such as "more than 5 km inland" therefore needs a margin of a few km;
never treat "on land" alone as evidence that a position is false.

Inland waters are land in both data sets, except the Caspian Sea (water in
Natural Earth): a barge on the Rhine or Danube, a ship on the Great Lakes, Lake
Ladoga or the Volga-Don canal, gets a large inland distance. Rules that flag
"inland" positions must exclude such areas (or vessels) explicitly.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import time
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import IO

import numpy as np
import shapely
from shapely.geometry import mapping

from shiptrack.geo import KM_PER_DEG, distance_km

__all__ = ["coast_distance_km", "inland_distance_km", "is_land", "land_geojson", "land_geometries"]

COARSE_BEYOND_KM = 100.0  # beyond this distance the coarse coastline is precise enough
COARSE_SIMPLIFY_DEG = 0.1
_REFINE_BELOW_KM = COARSE_BEYOND_KM + COARSE_SIMPLIFY_DEG * KM_PER_DEG  # coarse line is <= 11 km off
_CHUNK = 2048  # points per vectorised batch, to bound the memory of candidate pairs
_LAND_FILE = "land_10m.geojson.gz"
_MASK_FILE = "globe_combined_mask_compressed.npz"


@dataclass(frozen=True, slots=True)
class _Mask:
    bits: np.ndarray  # (rows, cols/8) uint8, np.packbits of the 1 km grid, 1 = sea
    lat0: float
    dlat: float
    lat_lo: float
    lat_hi: float
    lon0: float
    dlon: float
    lon_lo: float
    lon_hi: float


@dataclass(frozen=True, slots=True)
class _Coast:
    seg: np.ndarray  # (n, 4) lon1, lat1, lon2, lat2 of every coastline segment
    tree: shapely.STRtree  # over the same segments as 2-point LineStrings


def _coords(lat: np.ndarray | float, lon: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of one broadcast shape; longitude wrapped to [-180, 180)."""
    la, lo = np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))
    bad = np.abs(la) > 90
    if np.any(bad):
        raise ValueError(f"latitude outside -90..90: {la[bad].ravel()[:3].tolist()}")
    return la.copy(), (lo + 180.0) % 360.0 - 180.0


# -- the 1 km land mask -------------------------------------------------------------------------


def _read_npy_rows_packed(f: IO[bytes], step: int = 600) -> np.ndarray:
    """Stream a 2-D boolean .npy and return it bit-packed along rows (8x less memory)."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    if fortran or dtype != np.bool_ or len(shape) != 2:
        raise ValueError("unexpected land mask layout")
    rows, cols = shape
    bits = np.empty((rows, (cols + 7) // 8), dtype=np.uint8)
    for r0 in range(0, rows, step):
        n = min(step, rows - r0)
        block = np.frombuffer(f.read(n * cols), dtype=np.bool_).reshape(n, cols)
        bits[r0 : r0 + n] = np.packbits(block, axis=1)
    return bits


@lru_cache(maxsize=1)
def _mask() -> _Mask:
    """The global-land-mask grid, read without its 933 MB unpacked copy (about 117 MB packed).

    Unpacking the package's compressed grid takes about 1.5 s; the packed grid is kept in
    a cache folder (see :func:`cache_dir`) and mapped from there on later runs, where only
    the pages a query touches are read. A cache that cannot be written or read is skipped.
    The copy is named by the content of the grid it was made from (:func:`mask_key`), so
    every environment that installed the same global-land-mask shares one copy, and copies
    nobody uses any more are removed (:func:`_remove_stale`).
    """
    path = mask_source()
    folder, key = cache_dir(), mask_key(path)
    cached = _cached_mask(folder, key)
    if cached is None:
        cached = _unpack_mask(path)
        _store_mask(folder, key, cached)
    _remove_stale(folder, key)
    return cached


def mask_source() -> Path:
    """The compressed grid of the installed global-land-mask package."""
    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("global-land-mask is not installed")
    return Path(spec.origin).parent / _MASK_FILE


# The layout of the cached grid: a new layout takes new names, and the old copies are removed.
MASK_CACHE_FORMAT = 2
# A cached grid of other content (another global-land-mask version, in another environment)
# that no environment has used for this long is removed.
STALE_AFTER_S = 30 * 86400


def mask_key(path: Path) -> str:
    """The cache name of the grid in ``path``: a digest of its bytes (2.5 MB, a few ms), not
    of where or when it was installed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return f"land-mask-v{MASK_CACHE_FORMAT}-{h.hexdigest()[:20]}"


def _unpack_mask(path: Path) -> _Mask:
    with zipfile.ZipFile(path) as zf:
        with zf.open("mask.npy") as f:
            bits = _read_npy_rows_packed(f)
        with zf.open("lat.npy") as f:
            lat = np.load(f)
        with zf.open("lon.npy") as f:
            lon = np.load(f)
    return _Mask(
        bits=bits,
        lat0=float(lat[0]),
        dlat=float(lat[1] - lat[0]),
        lat_lo=float(lat.min()),
        lat_hi=float(lat.max()),
        lon0=float(lon[0]),
        dlon=float(lon[1] - lon[0]),
        lon_lo=float(lon.min()),
        lon_hi=float(lon.max()),
    )


def _remove_stale(folder: Path | None, key: str) -> None:
    """Remove the cached grids nobody will read: those of an older cache layout (the names
    before content keys, ``land-mask-<size>-<mtime>``, one per environment), those of other
    content unused for :data:`STALE_AFTER_S`, and temporary files of writes that died.
    The copy in use is marked as used (at most once a day). A grid another process has
    mapped stays readable by it after its name is removed."""
    if folder is None:
        return
    now = time.time()
    current, keep = f"land-mask-v{MASK_CACHE_FORMAT}-", (f"{key}.npy", f"{key}.json")
    try:
        used = folder / keep[1]
        if now - used.stat().st_mtime > 86400:
            os.utime(used)
        entries = [e for e in folder.iterdir() if e.name.startswith("land-mask-") and e.name not in keep]
    except OSError:
        return
    for entry in entries:
        try:
            if entry.name.endswith(".tmp"):
                stale = now - entry.stat().st_mtime > 3600
            elif entry.name.startswith(current):
                marker = entry.with_suffix(".json")
                stale = now - (marker if marker.exists() else entry).stat().st_mtime > STALE_AFTER_S
            else:
                stale = True
            if stale:
                entry.unlink()
        except OSError:  # gone already (another process cleaning up), or not ours to remove
            continue


def cache_dir() -> Path | None:
    """Where derived reference data is kept between runs: ``$SHIPTRACK_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/shiptrack`` or ``~/.cache/shiptrack`` (``SHIPTRACK_CACHE_DIR=""``: none)."""
    env = os.environ.get("SHIPTRACK_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shiptrack"


def _cached_mask(folder: Path | None, key: str) -> _Mask | None:
    if folder is None:
        return None
    try:
        meta = json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        bits = np.load(folder / f"{key}.npy", mmap_mode="r")
        if bits.dtype != np.uint8 or list(bits.shape) != meta.pop("shape"):
            return None
        return _Mask(bits=bits, **{k: float(v) for k, v in meta.items()})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store_mask(folder: Path | None, key: str, mask: _Mask) -> None:
    """Write the packed grid, then its description (which marks the cache as complete)."""
    if folder is None:
        return
    meta = {f: getattr(mask, f) for f in ("lat0", "dlat", "lat_lo", "lat_hi", "lon0", "dlon", "lon_lo", "lon_hi")}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{key}.npy.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            np.save(f, np.ascontiguousarray(mask.bits))
        os.replace(tmp, folder / f"{key}.npy")
        tmp = folder / f"{key}.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({**meta, "shape": list(mask.bits.shape)}), encoding="utf-8")
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        pass


def is_land(lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
    """True where the 1 km GLOBE grid says land (lakes mostly count as land).

    Vectorised over numpy arrays (scalars give a 0-d array). Longitudes are
    wrapped into -180..180; NaN positions are not land; |lat| > 90 raises ValueError.
    The answer matches `global_land_mask.globe.is_land` cell for cell (it reads the
    same grid, bit-packed: about 1.5 s and 117 MB the first time, not 933 MB).
    """
    la, lo = np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))
    if la.size <= _BLOCK:
        return _is_land(*_coords(la, lo))
    # by blocks: the dozen temporaries of a block stay in the CPU's cache
    out = np.empty(la.shape, dtype=bool)
    flat_la, flat_lo, flat_out = la.reshape(-1), lo.reshape(-1), out.reshape(-1)
    for k in range(0, la.size, _BLOCK):
        flat_out[k : k + _BLOCK] = _is_land(*_coords(flat_la[k : k + _BLOCK], flat_lo[k : k + _BLOCK]))
    return out


# Points per block of :func:`is_land`: its dozen temporaries stay in the CPU's cache (over
# a whole array, each would be as large as the input, every page of it faulted in).
_BLOCK = 1 << 16


def _is_land(la: np.ndarray, lo: np.ndarray) -> np.ndarray:
    ok = np.isfinite(la) & np.isfinite(lo)
    m = _mask()
    la_c = np.clip(np.where(ok, la, 0.0), m.lat_lo, m.lat_hi)
    lo_c = np.clip(np.where(ok, lo, 0.0), m.lon_lo, m.lon_hi)
    rows, cols8 = m.bits.shape
    i = np.clip(((la_c - m.lat0) / m.dlat).astype(np.int64), 0, rows - 1)
    j = np.clip(((lo_c - m.lon0) / m.dlon).astype(np.int64), 0, cols8 * 8 - 1)
    sea = (m.bits[i, j >> 3] >> (7 - (j & 7))) & 1
    return ok & (sea == 0)


# -- Natural Earth polygons and coastline --------------------------------------------------------


def _polygon(coords: list) -> shapely.Polygon:
    return shapely.Polygon(coords[0], coords[1:])


@lru_cache(maxsize=1)
def _land() -> tuple[shapely.Polygon, ...]:
    raw = resources.files(__package__).joinpath("data", _LAND_FILE).read_bytes()
    features = json.loads(gzip.decompress(raw))["features"]
    polys: list[shapely.Polygon] = []
    for f in features:
        g = f["geometry"]
        parts = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        polys.extend(_polygon(p) for p in parts)
    return tuple(polys)


def land_geometries() -> tuple[shapely.Polygon, ...]:
    """The bundled land polygons (Natural Earth 1:10m, simplified at 0.01 degree), lon/lat."""
    return _land()


@lru_cache(maxsize=1)
def _land_tree() -> shapely.STRtree:
    polys = _land()
    shapely.prepare(list(polys))  # fast repeated point-in-polygon tests
    return shapely.STRtree(polys)


def _inside_land(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """True where a (finite) point lies inside the bundled land polygons."""
    polys, tree = _land(), _land_tree()
    inside = np.zeros(len(lat), dtype=bool)
    pi, gi = tree.query(shapely.points(lon, lat))  # bounding boxes first
    if len(gi) == 0:  # e.g. only points of the mask's ice shelves, outside every polygon's box
        return inside
    order = np.argsort(gi, kind="stable")
    pi, gi = pi[order], gi[order]
    edges = np.flatnonzero(np.r_[True, gi[1:] != gi[:-1], True])
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        sel = pi[a:b]
        inside[sel] |= shapely.contains_xy(polys[gi[a]], lon[sel], lat[sel])
    return inside


BBox = tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max


@lru_cache(maxsize=8)
def _land_geojson_text(tolerance_deg: float, bbox: BBox | None) -> str:
    polys = _land()
    if bbox is not None:
        polys = tuple(shapely.clip_by_rect(p, *bbox) for p in polys if p.intersects(shapely.box(*bbox)))
    features = []
    for p in polys:
        small = shapely.simplify(p, tolerance_deg, preserve_topology=True) if tolerance_deg > 0 else p
        if not small.is_empty:
            small = shapely.transform(small, lambda xy: np.round(xy, 3))
            features.append({"type": "Feature", "properties": {}, "geometry": mapping(small)})
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


def land_geojson(tolerance_deg: float = 0.02, bbox: BBox | None = None) -> dict:
    """Land as a GeoJSON FeatureCollection for map display, simplified by `tolerance_deg`.

    `bbox` (lon_min, lat_min, lon_max, lat_max) clips to a region: the whole world at
    the default 0.02 degree (about 2 km) is 2.1 MB of JSON, the Mediterranean and
    Black Sea (-6, 30, 42, 47) about 80 KB. Use tolerance 0 for the bundled geometry
    unchanged. Each call returns a fresh dict.
    """
    box = None if bbox is None else (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3]))
    return json.loads(_land_geojson_text(float(tolerance_deg), box))


def _segments(polys: tuple[shapely.Polygon, ...] | list[shapely.Polygon]) -> np.ndarray:
    """Ring segments, without the artificial edges along the antimeridian and the South Pole."""
    pieces = []
    for p in polys:
        for ring in (p.exterior, *p.interiors):
            c = np.asarray(ring.coords)
            pieces.append(np.hstack([c[:-1], c[1:]]))
    seg = np.vstack(pieces)
    on_180 = (np.abs(seg[:, 0]) >= 179.9999) & (np.abs(seg[:, 2]) >= 179.9999)
    on_pole = (seg[:, 1] <= -89.9999) & (seg[:, 3] <= -89.9999)
    return seg[~(on_180 | on_pole)]


def _build_coast(polys: tuple[shapely.Polygon, ...] | list[shapely.Polygon]) -> _Coast:
    seg = _segments(polys)
    lines = shapely.linestrings(np.stack([seg[:, :2], seg[:, 2:]], axis=1))
    return _Coast(seg=seg, tree=shapely.STRtree(lines))


@lru_cache(maxsize=2)
def _coast(coarse: bool) -> _Coast:
    polys = _land()
    if coarse:
        polys = tuple(shapely.simplify(p, COARSE_SIMPLIFY_DEG, preserve_topology=True) for p in polys)
    return _build_coast(polys)


def _pair(
    coast: _Coast, lat: np.ndarray, lon: np.ndarray, seg_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance in km from each point to one segment in a local equirectangular frame,
    and where along the segment (0..1) the nearest point lies."""
    s = coast.seg[seg_idx]
    k = np.cos(np.radians(lat))
    ax = ((s[:, 0] - lon + 180.0) % 360.0 - 180.0) * k
    ay = s[:, 1] - lat
    bx = ax + (s[:, 2] - s[:, 0]) * k  # not wrapped separately: a segment never spans 180 degrees
    by = s[:, 3] - lat
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    return np.hypot(ax + t * dx, ay + t * dy) * KM_PER_DEG, t


def _search_boxes(lat: np.ndarray, lon: np.ndarray, radius_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat boxes holding every point within radius_km, repeated across the antimeridian."""
    dlat = radius_km / KM_PER_DEG
    cos = np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.9)))
    dlon = np.minimum(radius_km / (KM_PER_DEG * cos), 180.0)
    owner = [np.arange(len(lat))]
    boxes = [shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)]
    for shift, crosses in ((360.0, lon - dlon < -180.0), (-360.0, lon + dlon > 180.0)):
        i = np.flatnonzero(crosses)
        owner.append(i)
        boxes.append(
            shapely.box(
                lon[i] - dlon[i] + shift, lat[i] - dlat[i], lon[i] + dlon[i] + shift, lat[i] + dlat[i]
            )
        )
    return np.concatenate(owner), np.concatenate(boxes)


def _distance_km(coast: _Coast, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance in km from each point to the nearest point of `coast`."""
    return _nearest_km(coast, lat, lon)[0]


def _nearest_km(coast: _Coast, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle distance in km from each point to the nearest segment of `coast`, and
    that segment's index (-1 and NaN when `coast` has no segment at all).

    The nearest segment in degrees gives an upper bound; every segment inside the
    box of that radius is then measured in the point's local frame, and the
    distance to the closest one is finally taken along the great circle.
    """
    out = np.full(len(lat), np.nan)
    nearest = np.full(len(lat), -1)
    if len(lat) == 0 or len(coast.seg) == 0:
        return out, nearest
    points = shapely.points(lon, lat)
    pi, si = coast.tree.query_nearest(points)
    bound = np.full(len(lat), np.inf)
    np.minimum.at(bound, pi, _pair(coast, lat[pi], lon[pi], si)[0])
    owner, boxes = _search_boxes(lat, lon, bound * 1.001 + 1e-6)
    bi, si = coast.tree.query(boxes)
    pi = owner[bi]
    d, t = _pair(coast, lat[pi], lon[pi], si)
    order = np.lexsort((d, pi))
    first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]  # the closest pair of each point
    s, tt = coast.seg[si[first]], t[first]
    near_lon = s[:, 0] + tt * (s[:, 2] - s[:, 0])
    near_lat = s[:, 1] + tt * (s[:, 3] - s[:, 1])
    p = pi[first]
    out[p] = distance_km(lat[p], lon[p], near_lat, near_lon)
    nearest[p] = si[first]
    return out, nearest


def coast_distance_km(lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
    """Distance in km to the nearest bundled coastline, on land or at sea (NaN for NaN input)."""
    la, lo = _coords(lat, lon)
    out = np.full(la.shape, np.nan)
    ok = np.isfinite(la) & np.isfinite(lo)
    flat_la, flat_lo = la[ok], lo[ok]
    d = np.empty(len(flat_la))
    for start in range(0, len(flat_la), _CHUNK):
        sl = slice(start, start + _CHUNK)
        d[sl] = _distance_km(_coast(True), flat_la[sl], flat_lo[sl])
        near = np.flatnonzero(d[sl] < _REFINE_BELOW_KM) + start
        if len(near):
            d[near] = _distance_km(_coast(False), flat_la[near], flat_lo[near])
    out[ok] = d
    return out


def inland_distance_km(
    lat: np.ndarray | float, lon: np.ndarray | float, *, signed: bool = False
) -> np.ndarray:
    """How far inland each point is, in km (great-circle distance to the nearest coastline),
    or 0.0 for a point at sea.

    A point is inland only when both the 1 km mask (`is_land`) and the bundled
    coastline polygons put it on land, so the Caspian Sea (land to the mask) and
    1-2 km disagreements at the shore count as sea. Only the points the mask puts
    on land are measured, which keeps thousands of candidates well under a second.
    With `signed=True` every other point is measured too and comes back negative
    (km offshore). NaN positions give NaN. Lakes and rivers are land: see the
    module docstring before using this on inland waterways.
    """
    la, lo = _coords(lat, lon)
    land = is_land(la, lo)
    out = np.where(np.isfinite(la) & np.isfinite(lo), 0.0, np.nan)
    todo = np.isfinite(out) if signed else land
    if np.any(todo):
        t_la, t_lo = la[todo], lo[todo]
        inland = land[todo] & _inside_land(t_la, t_lo)
        d = coast_distance_km(t_la, t_lo)
        out[todo] = np.where(inland, d, -d if signed else 0.0)
    return out
