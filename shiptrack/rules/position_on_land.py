"""The map step behind ``position_on_land.sql``: TEMP table ``pos_on_land``.

SQL cannot read the land mask or measure distances to a coastline or a river, so this
step runs them, vectorised, over the positions in ``pos`` and keeps only the positions
that no map puts on or near water. Four steps, each on far fewer points than the one
before:

1. the 1 km mask (`is_land`) over every position (about 0.06 s per million positions);
2. distance to the coastline, for the points the mask puts on land, keeping those more
   than ``min_inland_km`` inland. A bound per 0.02-degree cell holding at least a few
   points saves most measurements: distance is 1-Lipschitz, so if a cell's centre is
   closer to the coast than ``min_inland_km`` minus the cell's half-diagonal, no point in
   the cell can be deep inland (ships in port and along the shore);
3. distance to mapped inland water (`shiptrack.reference.water`: Natural Earth lakes
   and rivers, the searoute network's canals and river routes) for those, with the same
   kind of bound: a cell whose centre lies within ``water_margin_km`` minus its
   half-diagonal of a lake, river or canal holds only positions on water (a barge fleet
   on the Rhine is measured once per cell, not once per position);
4. the rest are measured once per 0.0005-degree spot (at most 40 m from the point), and
   against the WPI ports too: a position within ``water_margin_km`` of any mapped water
   or port is on water and leaves the table.

``pos_on_land`` keeps, per remaining position, its inland distance (to the coast) and
its distance to the nearest mapped water of any kind (coast, lake, river, waterway,
port) with that water's kind and name. Whether the position is *implausible* (an
isolated fix that jumps in and back, or a place far from any water) is decided in SQL,
from the track around it.
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
from shiptrack.reference.water import MAP_ERROR_KM, inland_water_km, water_feature

TABLE = "pos_on_land"
CELL_DEG = 0.02  # cells of the distance bounds in steps 2 and 3
MIN_CELL_POINTS = 4  # cells with fewer points are measured point by point, without the bound
# Points are measured at this resolution (at most 40 m off): a moored ship's jittering fixes,
# and a fleet at anchor, are measured a few times rather than thousands. The coastline itself
# is only good to 1-2 km.
QUANTUM_DEG = 0.0005
KM_PER_DEG = 6371.0088 * np.pi / 180.0
# Largest distance from a cell's centre to any point in it (at the equator), plus a margin
# for the local-frame search: a point is at most this much farther than its cell's centre.
_HALF_DIAGONAL_KM = CELL_DEG / 2 * np.sqrt(2.0) * KM_PER_DEG + 0.05
# What a point's measured distance to inland water can be short of the truth: the stored
# map's rounding, and measuring each point at its 0.0005-degree spot (<= 40 m). A point is
# on water when its measured distance is within water_margin_km plus this.
MEASURE_SLACK_KM = MAP_ERROR_KM + QUANTUM_DEG / 2 * np.sqrt(2.0) * KM_PER_DEG
# Positions read from ``pos`` per batch for the land mask (about 24 MB of arrays each).
_READ_ROWS = 1 << 20


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
    _land_rows = pa.table({"r": np.concatenate(rowids) if rowids else np.zeros(0, dtype=np.int64)})  # noqa: F841
    return con.sql(
        "SELECT mmsi, seg, ts, dup_key, lat, lon FROM pos WHERE rowid IN (SELECT r FROM _land_rows) "
        "ORDER BY rowid"
    ).to_arrow_table()


def _cells(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 0.02-degree cells of the points: (cells (k, 2), cell of each point, points per cell)."""
    cy = np.floor(lat / CELL_DEG).astype(np.int64)
    cx = np.floor(lon / CELL_DEG).astype(np.int64)
    cells, cell_of, count = np.unique(np.stack([cy, cx], axis=1), axis=0, return_inverse=True,
                                      return_counts=True)
    return cells, cell_of.ravel(), count


def _by_spot(lat: np.ndarray, lon: np.ndarray,
             measure: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """``measure`` each 0.0005-degree spot once, and give every point its spot's values."""
    grid = np.round(np.stack([lat, lon], axis=1) / QUANTUM_DEG).astype(np.int64)
    spots, back = np.unique(grid, axis=0, return_inverse=True)
    values = measure(spots[:, 0] * QUANTUM_DEG, spots[:, 1] * QUANTUM_DEG)
    return tuple(v[back.ravel()] for v in values)


def deep_inland_km(lat: np.ndarray, lon: np.ndarray, min_inland_km: float) -> np.ndarray:
    """Inland distance (km) of each point, or 0.0 where it is certainly not above ``min_inland_km``.

    Points the mask calls sea are 0 without measuring; points on land whose cell centre
    is too close to the coast are 0 by the Lipschitz bound; the rest are measured once
    per 0.0005-degree spot (at most 40 m from the point).
    """
    out = np.zeros(len(lat))
    if len(lat) == 0:
        return out
    todo = np.flatnonzero(is_land(lat, lon))
    if len(todo) == 0:
        return out
    cells, cell_of, count = _cells(lat[todo], lon[todo])
    dense = np.flatnonzero(count >= MIN_CELL_POINTS)  # measuring the centre first pays off
    if len(dense):
        c_lat, c_lon = (cells[dense, 0] + 0.5) * CELL_DEG, (cells[dense, 1] + 0.5) * CELL_DEG
        hopeless = np.zeros(len(cells), dtype=bool)
        hopeless[dense] = coast_distance_km(c_lat, c_lon) + _HALF_DIAGONAL_KM <= min_inland_km
        todo = todo[~hopeless[cell_of]]
        if len(todo) == 0:
            return out
    out[todo] = _by_spot(lat[todo], lon[todo], lambda a, b: (inland_distance_km(a, b),))[0]
    return out


def off_water(lat: np.ndarray, lon: np.ndarray, margin_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) of each point to the nearest mapped inland water and that feature's
    index, or (0.0, -1) where the point is certainly within ``margin_km`` of it.

    Cells holding a few points whose centre lies within ``margin_km`` minus the cell's
    half-diagonal of water are on water without measuring their points; the rest are
    measured once per 0.0005-degree spot."""
    km = np.zeros(len(lat))
    feature = np.full(len(lat), -1)
    if len(lat) == 0:
        return km, feature
    todo = np.arange(len(lat))
    cells, cell_of, count = _cells(lat, lon)
    dense = np.flatnonzero(count >= MIN_CELL_POINTS)
    if len(dense):
        c_lat, c_lon = (cells[dense, 0] + 0.5) * CELL_DEG, (cells[dense, 1] + 0.5) * CELL_DEG
        wet = np.zeros(len(cells), dtype=bool)
        wet[dense] = inland_water_km(c_lat, c_lon).km + _HALF_DIAGONAL_KM <= margin_km
        todo = todo[~wet[cell_of]]
        if len(todo) == 0:
            return km, feature

    def measure(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        near = inland_water_km(a, b)
        return near.km, near.feature

    km[todo], feature[todo] = _by_spot(lat[todo], lon[todo], measure)
    return km, feature


def nearest_port_km(lat: np.ndarray, lon: np.ndarray, ports: dict[str, np.ndarray],
                    radius_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) to the nearest port within ``radius_km`` of each point, and its index
    into ``ports`` (inf and -1 when none is that close)."""
    best = np.full(len(lat), np.inf)
    idx = np.full(len(lat), -1)
    if len(lat) == 0 or len(ports["lat"]) == 0:
        return best, idx
    tree = shapely.STRtree(shapely.points(ports["lon"], ports["lat"]))
    r = np.minimum(radius_km, 2000.0)
    dlat = r / KM_PER_DEG
    dlon = np.minimum(r / (KM_PER_DEG * np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.0)))), 180.0)
    pi, qi = tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    if len(pi) == 0:
        return best, idx
    d = _haversine_km(lat[pi], lon[pi], ports["lat"][qi], ports["lon"][qi])
    order = np.lexsort((qi, d, pi))  # per point: nearest first, then lowest index
    first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
    close = d[first] <= radius_km[pi[first]]
    best[pi[first][close]] = d[first][close]
    idx[pi[first][close]] = qi[first][close]
    return best, idx


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """Create TEMP table ``pos_on_land``: positions deep inland and off every mapped water,
    with their distances to the coast and to the nearest mapped water."""
    min_inland_km = float(params["min_inland_km"])
    margin_km = float(params["water_margin_km"]) + MEASURE_SLACK_KM
    cand = land_candidates(con)
    lat = cand["lat"].to_numpy()
    lon = cand["lon"].to_numpy()
    inland = deep_inland_km(lat, lon, min_inland_km)
    keep = np.flatnonzero(inland > min_inland_km)
    cand, lat, lon, inland = cand.take(pa.array(keep)), lat[keep], lon[keep], inland[keep]
    water_km, feature = off_water(lat, lon, margin_km)
    keep = np.flatnonzero(water_km > margin_km)
    cand, lat, lon, inland = cand.take(pa.array(keep)), lat[keep], lon[keep], inland[keep]
    water_km, feature = water_km[keep], feature[keep]
    ports = con.execute("SELECT port_id, name, lat, lon FROM ports ORDER BY port_id").fetchnumpy()
    ports = {k: np.asarray(v) for k, v in ports.items()}
    port_km, port = nearest_port_km(lat, lon, ports, np.minimum(water_km, inland))
    keep = np.flatnonzero(port_km > margin_km)  # within the margin of a port: a ship in port
    kinds, names = [], []
    nearest_km = np.minimum(np.minimum(water_km, inland), port_km)[keep]
    for i in keep:
        if port_km[i] <= min(water_km[i], inland[i]):
            kinds.append("port")
            names.append(str(ports["name"][port[i]]))
        elif inland[i] <= water_km[i]:
            kinds.append("coast")
            names.append(None)
        else:
            kind, name = water_feature(int(feature[i]))
            kinds.append(kind)
            names.append(name or None)
    table = cand.take(pa.array(keep)).append_column("inland_km", pa.array(inland[keep])).append_column(
        "water_km", pa.array(nearest_km)).append_column(
        "water_kind", pa.array(kinds, type=pa.string())).append_column(
        "water_name", pa.array(names, type=pa.string()))
    con.register("_pos_on_land_frame", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT * FROM _pos_on_land_frame")  # noqa: S608
    finally:
        con.unregister("_pos_on_land_frame")
