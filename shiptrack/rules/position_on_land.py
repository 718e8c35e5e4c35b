"""The land test behind ``position_on_land.sql``: TEMP table ``pos_on_land``.

SQL cannot read the land mask or measure distances to a coastline, so this step
runs them, vectorised, over the positions in ``pos`` and keeps only those that are
deep inland. Three steps, each on far fewer points than the one before:

1. the 1 km mask (`is_land`) over every position, inside DuckDB through a
   vectorised UDF (about 0.2 s per million positions);
2. for the points the mask puts on land, a bound per 0.02-degree cell holding at
   least a few of them: distance to the coast is 1-Lipschitz, so if a cell's centre
   is closer to the coast than ``min_inland_km`` minus the cell's half-diagonal, no
   point in the cell can be deep inland and none of them is measured (ships in port
   and along the shore; scattered points are measured directly);
3. `inland_distance_km` for the remaining points, each 0.0005-degree spot once (a
   point is measured at most 40 m from where it is; the coastline is good to 1-2 km,
   and beyond 100 km inland the coarse line of shiptrack.reference.land to a few per
   cent, so there the value can move by a km or two between neighbouring spots).

River and lake ports: the coastline does not know the Elbe, the Scheldt, the
Mississippi or the Great Lakes, so Hamburg, Antwerp or Chicago are 7 to 950 km
"inland" (464 of the 3,798 WPI ports are more than 5 km). A position is therefore
measured against the ports around it: it stays in the table only when it is more
than ``min_inland_km`` deeper inland than the deepest WPI port within
``inland_port_radius_km`` (ports on the coast count as 0 km), so a ship on the
Elbe near Hamburg is not flagged while one 30 km inland of Banghazi is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from shiptrack.reference.land import coast_distance_km, inland_distance_km, is_land

TABLE = "pos_on_land"
CELL_DEG = 0.02  # cells of the coast-distance bound in step 2
MIN_CELL_POINTS = 4  # cells with fewer points are measured point by point, without the bound
# Points are measured at this resolution (at most 40 m off): a moored ship's jittering fixes,
# and a fleet at anchor, are measured a few times rather than thousands. The coastline itself
# is only good to 1-2 km.
QUANTUM_DEG = 0.0005
KM_PER_DEG = 6371.0088 * np.pi / 180.0
# Largest distance from a cell's centre to any point in it (at the equator), plus a margin
# for the coastline's local-frame search: a point is at most this much deeper than its cell's centre.
_HALF_DIAGONAL_KM = CELL_DEG / 2 * np.sqrt(2.0) * KM_PER_DEG + 0.05
# Positions read from ``pos`` per batch for the land mask (about 24 MB of arrays each).
_READ_ROWS = 1 << 20

_port_inland_cache: dict[tuple[float, float], float] = {}  # (lat, lon) of a port -> inland km


def land_candidates(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Positions of ``pos`` that the 1 km mask puts on land (keys, lat, lon).

    The mask runs in numpy over batches of ``pos``'s coordinates, and the rows it keeps
    are read back by rowid. (A DuckDB Arrow UDF did the same through 2,048-row calls:
    2.1 s on 10M positions, against about 0.6 s this way.)"""
    rowids = []
    rel = con.sql("SELECT rowid AS r, lat, lon FROM pos")
    # to_arrow_reader since duckdb 1.4 (fetch_arrow_reader, before, is deprecated in 2.0)
    reader = rel.to_arrow_reader(_READ_ROWS) if hasattr(rel, "to_arrow_reader") else rel.fetch_arrow_reader(_READ_ROWS)
    for batch in reader:
        lat = batch.column(1).to_numpy(zero_copy_only=False)
        lon = batch.column(2).to_numpy(zero_copy_only=False)
        rowids.append(batch.column(0).to_numpy(zero_copy_only=False)[is_land(lat, lon)])
    con.register("_land_rows", pa.table({"r": np.concatenate(rowids) if rowids else np.zeros(0, dtype=np.int64)}))
    try:
        return con.sql(
            "SELECT mmsi, seg, ts, dup_key, lat, lon FROM pos WHERE rowid IN (SELECT r FROM _land_rows) "
            "ORDER BY rowid"
        ).to_arrow_table()
    finally:
        con.unregister("_land_rows")


def deep_inland_km(
    lat: np.ndarray, lon: np.ndarray, min_inland_km: float,
    cell_floor_km: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Inland distance (km) of each point, or 0.0 where it is certainly not above the threshold.

    The threshold is ``min_inland_km``, plus ``cell_floor_km(centre_lat, centre_lon)`` of
    the point's 0.02-degree cell when given (a lower bound of what the point will be
    compared against). Points the mask calls sea are 0 without measuring; points on land
    whose cell centre is too close to the coast are 0 by the Lipschitz bound; the rest
    are measured once per 0.0005-degree spot (at most 40 m from the point).
    """
    out = np.zeros(len(lat))
    if len(lat) == 0:
        return out
    todo = np.flatnonzero(is_land(lat, lon))
    if len(todo) == 0:
        return out
    cy = np.floor(lat[todo] / CELL_DEG).astype(np.int64)
    cx = np.floor(lon[todo] / CELL_DEG).astype(np.int64)
    cells, cell_of, count = np.unique(np.stack([cy, cx], axis=1), axis=0, return_inverse=True,
                                      return_counts=True)
    cell_of = cell_of.ravel()
    dense = np.flatnonzero(count >= MIN_CELL_POINTS)  # measuring the centre first pays off
    if len(dense):
        c_lat, c_lon = (cells[dense, 0] + 0.5) * CELL_DEG, (cells[dense, 1] + 0.5) * CELL_DEG
        threshold = np.full(len(dense), min_inland_km)
        if cell_floor_km is not None:
            threshold += cell_floor_km(c_lat, c_lon)
        hopeless = np.zeros(len(cells), dtype=bool)
        hopeless[dense] = coast_distance_km(c_lat, c_lon) + _HALF_DIAGONAL_KM <= threshold
        todo = todo[~hopeless[cell_of]]
        if len(todo) == 0:
            return out
    grid = np.round(np.stack([lat[todo], lon[todo]], axis=1) / QUANTUM_DEG).astype(np.int64)
    cells_q, back = np.unique(grid, axis=0, return_inverse=True)
    km = inland_distance_km(cells_q[:, 0] * QUANTUM_DEG, cells_q[:, 1] * QUANTUM_DEG)
    out[todo] = km[back.ravel()]
    return out


def _port_inland_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Inland distance of WPI ports (0 at sea), each measured once per process."""
    keys = [(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]
    missing = [i for i, key in enumerate(keys) if key not in _port_inland_cache]
    if missing:
        km = inland_distance_km(lat[missing], lon[missing])
        for i, d in zip(missing, km, strict=True):
            _port_inland_cache[keys[i]] = float(d)
    return np.array([_port_inland_cache[key] for key in keys])


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def reference_ports(
    lat: np.ndarray, lon: np.ndarray, ports: dict[str, np.ndarray], radius_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the deepest-inland WPI port within ``radius_km``: (index into ports or -1, km)."""
    best = np.full(len(lat), -1)
    best_km = np.zeros(len(lat))
    if len(lat) == 0 or radius_km <= 0:
        return best, best_km
    tree = shapely.STRtree(shapely.points(ports["lon"], ports["lat"]))
    dlat = radius_km / KM_PER_DEG
    dlon = np.minimum(radius_km / (KM_PER_DEG * np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.0)))), 180.0)
    pi, qi = tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    close = _haversine_km(lat[pi], lon[pi], ports["lat"][qi], ports["lon"][qi]) <= radius_km
    pi, qi = pi[close], qi[close]
    if len(pi) == 0:
        return best, best_km
    used = np.unique(qi)
    inland = np.zeros(len(ports["port_id"]))
    inland[used] = _port_inland_km(ports["lat"][used], ports["lon"][used])
    order = np.lexsort((qi, -inland[qi], pi))  # per point: deepest port first, then lowest index
    first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
    best[pi[first]] = qi[first]
    best_km[pi[first]] = inland[qi[first]]
    return best, best_km


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """Create TEMP table ``pos_on_land``: positions deep inland, with the port they were measured against."""
    min_inland_km = float(params["min_inland_km"])
    radius_km = float(params["inland_port_radius_km"])
    cand = land_candidates(con)
    lat = cand["lat"].to_numpy()
    lon = cand["lon"].to_numpy()
    ports = con.execute("SELECT port_id, name, lat, lon FROM ports ORDER BY port_id").fetchnumpy()
    ports = {k: np.asarray(v) for k, v in ports.items()}

    def cell_floor_km(c_lat: np.ndarray, c_lon: np.ndarray) -> np.ndarray:
        # ports within radius - half-diagonal of a cell's centre are within radius of all its points
        return reference_ports(c_lat, c_lon, ports, radius_km - _HALF_DIAGONAL_KM)[1]

    km = deep_inland_km(lat, lon, min_inland_km, cell_floor_km)
    keep = np.flatnonzero(km > min_inland_km)
    cand, lat, lon, km = cand.take(pa.array(keep)), lat[keep], lon[keep], km[keep]
    ref, ref_km = reference_ports(lat, lon, ports, radius_km)
    has_ref = ref >= 0
    table = cand.append_column("inland_km", pa.array(km)).append_column(
        "ref_port_id", pa.array(np.where(has_ref, ports["port_id"][np.maximum(ref, 0)], 0), mask=~has_ref)
    ).append_column(
        "ref_port", pa.array([str(ports["name"][i]) if i >= 0 else None for i in ref], type=pa.string())
    ).append_column("ref_port_inland_km", pa.array(ref_km))
    con.register("_pos_on_land_frame", table)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {TABLE} AS "  # noqa: S608 - constant name
            "SELECT *, inland_km - ref_port_inland_km AS excess_km FROM _pos_on_land_frame "
            "WHERE inland_km - ref_port_inland_km > $min_inland_km",
            {"min_inland_km": min_inland_km},
        )
    finally:
        con.unregister("_pos_on_land_frame")
