"""The map step behind ``position_on_land.sql``: TEMP table ``pos_on_land`` and a measuring function.

SQL cannot read the land mask or measure distances to a coastline or a river, so this
step runs them, vectorised, over the positions in ``pos`` and keeps only the positions
that no map puts on or near water. Each step works on far fewer points than the one
before, and settles whole cells of points by their centre where it can (a distance to a
line or an area is 1-Lipschitz: no point of a cell is nearer or farther than its centre
by more than the cell's half-diagonal):

1. the 1 km mask (`is_land`) over every position;
2. `deep_inland`: more than ``min_inland_km`` from the Natural Earth coastline. A
   0.02-degree cell is settled by its centre when that is clearly on one side of the
   threshold (ships in port and along the shore; a barge fleet 200 km up the
   Mississippi); only the points of cells the threshold crosses are measured;
3. `classify`: off water (farther than ``water_margin_km`` from every mapped lake,
   river, waterway and WPI port, `shiptrack.reference.water`) and far from water
   (farther than ``far_from_water_km`` from those and from the coast), settled by cells
   of 0.02 and then 0.005 degree, the rest measured once per 0.0005-degree spot (at most
   40 m from the point; `MEASURE_SLACK_KM` allows for it).

``pos_on_land`` holds the positions off all water, with ``far``. Whether one is
*implausible* (an isolated fix that jumps onto land and back, or far from any water) is
decided in SQL from the track around it; the SQL function ``position_on_land_water``
then measures exactly, for the details, only the positions it reports.

Settling cells rather than points keeps the cost of a store with many positions on rivers
and canals, or wandering inland off every map, in reading the coastline and the water map.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import shapely

from shiptrack.geo import KM_PER_DEG, distance_km
from shiptrack.reference.land import coast_distance_km, inland_distance_km, is_land
from shiptrack.reference.water import MAP_ERROR_KM, inland_water_km, water_feature

TABLE = "pos_on_land"
CELL_DEG = 0.02  # cells of the distance bounds in steps 2 and 3
MIN_CELL_POINTS = 4  # cells with fewer points are measured point by point, without the bound
# Points are measured at this resolution (at most 40 m off): a moored ship's jittering fixes,
# and a fleet at anchor, are measured a few times rather than thousands. The coastline itself
# is only good to 1-2 km.
QUANTUM_DEG = 0.0005
# What a point's measured distance to inland water can be short of the truth: the stored
# map's rounding, and measuring each point at its 0.0005-degree spot (<= 40 m). A point is
# on water when its measured distance is within water_margin_km plus this.
MEASURE_SLACK_KM = MAP_ERROR_KM + QUANTUM_DEG / 2 * np.sqrt(2.0) * KM_PER_DEG
_HALF_DIAGONAL_KM = CELL_DEG / 2 * np.sqrt(2.0) * KM_PER_DEG + 0.05  # see _half_diagonal_km
# Positions read from ``pos`` per batch for the land mask (about 24 MB of arrays each).
_READ_ROWS = 1 << 20


def land_candidates(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Positions of ``pos`` that the 1 km mask puts on land (keys, lat, lon).

    The mask runs in numpy over batches of a million of ``pos``'s coordinates (a function
    called from SQL would get 2,048 rows at a time), and the rows it keeps are read back
    by rowid."""
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


def _cells(lat: np.ndarray, lon: np.ndarray, cell_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cells of ``cell_deg`` holding the points: (centre lat, centre lon, cell of each
    point, points per cell)."""
    cy = np.floor(lat / cell_deg).astype(np.int64)
    cx = np.floor(lon / cell_deg).astype(np.int64)
    keys, cell_of, count = np.unique(cy * (1 << 32) + cx, return_inverse=True, return_counts=True)
    ky = np.floor_divide(keys + (1 << 31), 1 << 32)
    kx = keys - ky * (1 << 32)
    return (ky + 0.5) * cell_deg, (kx + 0.5) * cell_deg, cell_of.ravel(), count


def _half_diagonal_km(cell_deg: float) -> float:
    """Largest distance from a cell's centre to a point in it (at the equator), plus a margin
    for the local-frame search: a point is at most this much nearer or farther than its centre."""
    return cell_deg / 2 * np.sqrt(2.0) * KM_PER_DEG + 0.05


def _by_spot(lat: np.ndarray, lon: np.ndarray,
             measure: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """``measure`` each 0.0005-degree spot once, and give every point its spot's values."""
    gy = np.round(lat / QUANTUM_DEG).astype(np.int64)
    gx = np.round(lon / QUANTUM_DEG).astype(np.int64)
    keys, back = np.unique(gy * (1 << 32) + gx, return_inverse=True)
    ky = np.floor_divide(keys + (1 << 31), 1 << 32)
    values = measure(ky * QUANTUM_DEG, (keys - ky * (1 << 32)) * QUANTUM_DEG)
    return tuple(v[back.ravel()] for v in values)


def deep_inland(lat: np.ndarray, lon: np.ndarray, min_inland_km: float) -> np.ndarray:
    """True where a point is more than ``min_inland_km`` inland (both the mask and the
    coastline's polygons put it on land, and it is that far from the coastline).

    Distance to the coast is 1-Lipschitz, so a 0.02-degree cell holding a few points is
    settled by its centre alone when the centre is closer to the coast than the threshold
    minus the cell's half-diagonal (no point can be deep), or on land and farther than the
    threshold plus the half-diagonal (every point is: no coastline crosses the cell). The
    other points are measured once per 0.0005-degree spot (at most 40 m from the point)."""
    out = np.zeros(len(lat), dtype=bool)
    todo = np.flatnonzero(is_land(lat, lon)) if len(lat) else np.zeros(0, dtype=np.int64)
    if len(todo) == 0:
        return out
    c_lat, c_lon, cell_of, count = _cells(lat[todo], lon[todo], CELL_DEG)
    dense = np.flatnonzero(count >= MIN_CELL_POINTS)  # measuring the centre first pays off
    if len(dense):
        signed = inland_distance_km(c_lat[dense], c_lon[dense], signed=True)
        settled = np.zeros(len(c_lat), dtype=bool)
        deep = np.zeros(len(c_lat), dtype=bool)
        settled[dense] = (np.abs(signed) + _HALF_DIAGONAL_KM <= min_inland_km) | (
            signed - _HALF_DIAGONAL_KM > min_inland_km)
        deep[dense] = signed - _HALF_DIAGONAL_KM > min_inland_km
        out[todo[deep[cell_of]]] = True
        todo = todo[~settled[cell_of]]
    if len(todo):
        out[todo] = _by_spot(lat[todo], lon[todo], lambda a, b: (inland_distance_km(a, b),))[0] > min_inland_km
    return out


def deep_inland_km(lat: np.ndarray, lon: np.ndarray, min_inland_km: float) -> np.ndarray:
    """Inland distance (km) of each point more than ``min_inland_km`` inland, else 0.0
    (`deep_inland`, then the deep points measured once per 0.0005-degree spot)."""
    out = np.zeros(len(lat))
    deep = np.flatnonzero(deep_inland(lat, lon, min_inland_km))
    if len(deep):
        out[deep] = _by_spot(lat[deep], lon[deep], lambda a, b: (inland_distance_km(a, b),))[0]
    return out


class Maps:
    """Every mapped water a position is measured against: the coastline, inland water
    (`shiptrack.reference.water`) and the store's WPI ports."""

    def __init__(self, ports: dict[str, np.ndarray]) -> None:
        self.ports = ports
        self.port_tree = shapely.STRtree(shapely.points(ports["lon"], ports["lat"]))

    def port_km(self, lat: np.ndarray, lon: np.ndarray, radius_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance (km) to the nearest port within ``radius_km`` of each point, and its index
        (inf and -1 when none is that close)."""
        best = np.full(len(lat), np.inf)
        idx = np.full(len(lat), -1)
        if len(lat) == 0 or len(self.ports["lat"]) == 0:
            return best, idx
        r = np.minimum(radius_km, 2000.0)
        dlat = r / KM_PER_DEG
        dlon = np.minimum(r / (KM_PER_DEG * np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.0)))), 180.0)
        pi, qi = self.port_tree.query(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        if len(pi) == 0:
            return best, idx
        d = distance_km(lat[pi], lon[pi], self.ports["lat"][qi], self.ports["lon"][qi])
        order = np.lexsort((qi, d, pi))  # per point: nearest first, then lowest index
        first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
        close = d[first] <= radius_km[pi[first]]
        best[pi[first][close]] = d[first][close]
        idx[pi[first][close]] = qi[first][close]
        return best, idx

    def measure(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                     np.ndarray, np.ndarray]:
        """(coast km, inland water km, its feature, port km, its index) of each point. The
        coast is the great-circle distance to the coastline, on land or not."""
        coast = coast_distance_km(lat, lon)
        water = inland_water_km(lat, lon)
        port, port_idx = self.port_km(lat, lon, np.minimum(coast, water.km))
        return coast, water.km, water.feature, port, port_idx

    def describe(self, lat: np.ndarray, lon: np.ndarray) -> pa.StructArray:
        """For the rule's details: inland km (to the coastline), km to the nearest mapped water
        of any kind, and that water's kind and name."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        inland = inland_distance_km(lat, lon)
        coast, water, feature, port, port_idx = self.measure(lat, lon)
        kinds: list[str] = []
        names: list[str | None] = []
        for i in range(len(lat)):
            if port[i] <= min(coast[i], water[i]):
                kinds.append("port")
                names.append(str(self.ports["name"][port_idx[i]]))
            elif coast[i] <= water[i]:
                kinds.append("coast")
                names.append(None)
            else:
                kind, name = water_feature(int(feature[i]))
                kinds.append(kind)
                names.append(name or None)
        return pa.StructArray.from_arrays(
            [pa.array(inland), pa.array(np.minimum(np.minimum(coast, water), port)),
             pa.array(kinds, type=pa.string()), pa.array(names, type=pa.string())],
            names=["inland_km", "km", "kind", "name"])


def classify(lat: np.ndarray, lon: np.ndarray, maps: Maps, margin_km: float,
             far_km: float) -> tuple[np.ndarray, np.ndarray]:
    """For points already known to be deep inland: (off all water, far from all water).

    Off water: farther than ``margin_km`` from mapped inland water and from every port.
    Far: farther than ``far_km`` from those and from the coast. Cells holding a few points
    are settled by their centre where it lies clearly on one side of each threshold
    (0.02-degree cells, then 0.005-degree ones for the points left: a fleet on a wide river
    beside the centre-line); the other points are measured once per 0.0005-degree spot."""
    off = np.zeros(len(lat), dtype=bool)
    far = np.zeros(len(lat), dtype=bool)
    todo = np.arange(len(lat))
    for cell_deg in (CELL_DEG, CELL_DEG / 4):
        if len(todo) == 0:
            break
        c_lat, c_lon, cell_of, count = _cells(lat[todo], lon[todo], cell_deg)
        dense = np.flatnonzero(count >= MIN_CELL_POINTS)
        if len(dense) == 0:
            continue
        hd = _half_diagonal_km(cell_deg)
        coast, water, _, port, _ = maps.measure(c_lat[dense], c_lon[dense])
        wet_km = np.minimum(water, port)
        any_km = np.minimum(coast, wet_km)
        settled = np.zeros(len(c_lat), dtype=bool)
        cell_off = np.zeros(len(c_lat), dtype=bool)
        cell_far = np.zeros(len(c_lat), dtype=bool)
        wet = wet_km + hd <= margin_km
        dry = (wet_km - hd > margin_km) & ((any_km - hd > far_km) | (any_km + hd <= far_km))
        settled[dense] = wet | dry
        cell_off[dense] = dry
        cell_far[dense] = dry & (any_km - hd > far_km)
        done = settled[cell_of]
        off[todo[done]] = cell_off[cell_of[done]]
        far[todo[done]] = cell_far[cell_of[done]]
        todo = todo[~done]
    if len(todo):
        coast, water, _, port, _ = _by_spot(lat[todo], lon[todo], lambda a, b: maps.measure(a, b))
        wet_km = np.minimum(water, port)
        off[todo] = wet_km > margin_km
        far[todo] = (wet_km > margin_km) & (np.minimum(coast, wet_km) > far_km)
    return off, far


WATER_UDF = "position_on_land_water"
_WATER_TYPE = {"inland_km": "DOUBLE", "km": "DOUBLE", "kind": "VARCHAR", "name": "VARCHAR"}


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """Create TEMP table ``pos_on_land`` (positions deep inland and off every mapped water,
    with ``far``: farther than far_from_water_km from all of it) and the SQL function
    ``position_on_land_water(lat, lon)`` that measures a position for the details: a
    STRUCT of inland_km, km (to the nearest mapped water of any kind), kind and name. The
    rule calls it for the positions it reports only."""
    min_inland_km = float(params["min_inland_km"])
    margin_km = float(params["water_margin_km"]) + MEASURE_SLACK_KM
    far_km = float(params["far_from_water_km"])
    cand = land_candidates(con)
    lat = cand["lat"].to_numpy()
    lon = cand["lon"].to_numpy()
    keep = np.flatnonzero(deep_inland(lat, lon, min_inland_km))
    cand, lat, lon = cand.take(pa.array(keep)), lat[keep], lon[keep]
    ports = con.execute("SELECT port_id, name, lat, lon FROM ports ORDER BY port_id").fetchnumpy()
    maps = Maps({k: np.asarray(v) for k, v in ports.items()})
    off, far = classify(lat, lon, maps, margin_km, far_km)
    keep = np.flatnonzero(off)
    table = cand.take(pa.array(keep)).append_column("far", pa.array(far[keep]))
    con.register("_pos_on_land_frame", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} AS SELECT * FROM _pos_on_land_frame")  # noqa: S608
    finally:
        con.unregister("_pos_on_land_frame")

    def water(lat: pa.Array, lon: pa.Array) -> pa.StructArray:
        return maps.describe(lat.to_numpy(zero_copy_only=False), lon.to_numpy(zero_copy_only=False))

    try:
        con.remove_function(WATER_UDF)
    except (duckdb.InvalidInputException, duckdb.CatalogException):
        pass  # not registered on this connection yet
    # "arrow" as text: the enum it stands for moved between DuckDB versions (duckdb.functional, duckdb.func)
    con.create_function(WATER_UDF, water, ["DOUBLE", "DOUBLE"], duckdb.struct_type(_WATER_TYPE),  # type: ignore[call-overload]
                        type="arrow", side_effects=False)
