"""How far out of its way each position takes a vessel on a declared voyage (route_deviation).

For every position under way on a declared voyage (see
:func:`shiptrack.routes.create_voyage_windows`), :mod:`shiptrack.detour` measures
the **detour**: how much longer the voyage becomes by passing there, against every
leg the ship may be on and every reasonable route of that leg. A leg runs from a
declared port to a later one with only optional ports between; the ship may be on
any leg that leaves the last declared port it was seen calling at (a ``port_call``
within ``SAME_PORT_NM`` of it) or a later one, since a call the AIS did not show
cannot be ruled out.

A position is off the route when its detour exceeds its **limit**::

    limit = max(min_detour_nm, min_detour_pct% x leg length x openness)
    openness = min(1, distance from land / open_sea_nm)

Measuring every position would cost a search per position; instead (the bound of
``position_on_land``): the detour changes by at most twice the distance moved, so
each position is first judged at the centre of its :data:`COARSE_DEG` cell, and
only positions that could be off the route by that bound (or that the centre does
not see over water) are measured again at the centre of their :data:`FINE_DEG`
cell (at most 0.85 nm away). A voyage of 50,000 positions thus costs a few
thousand measurements at most.

TEMP tables: ``route_detours`` (one row per position under way, with
``detour_nm``, ``limit_nm``, ``outside``) and ``route_excursions`` (one row per
run of off-route positions lasting ``min_duration_h``, with its evidence), read by
``route_deviation.sql``.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

import duckdb
import numpy as np
import polars as pl

from shiptrack.detour import Voyage, sea_room_nm, sees, simplify
from shiptrack.geo import distance_nm
from shiptrack.routes import SAME_PORT_NM, create_voyage_windows, distance_to_route_nm
from shiptrack.store.db import frame

COARSE_DEG = 0.25  # first pass: each position judged at the centre of its cell
FINE_DEG = 0.02  # second pass, where the first cannot rule a deviation out
# The coarse judgement's allowance on top of twice the distance to the cell's centre: two
# points a few nm apart are joined to the network by different lines, so the bound is not
# exact. Measured on the Ural fixture, the test tracks and 2,000 random points of the
# Mediterranean: it failed by more than 20 nm for 0.3% of positions (next to islands), and
# never for a position off the route. A failure could only hide a finding, never make one.
_SLACK_NM = 30.0

_POSITIONS_SQL = """
SELECT w.voyage_id, p.mmsi, p.seg, p.ts, p.dup_key, p.lat, p.lon, p.source_id, p.line_no
FROM pos p JOIN voyage_windows w
  ON p.mmsi = w.mmsi AND p.ts >= w.dep_utc AND (w.end_utc IS NULL OR p.ts < w.end_utc)
ORDER BY w.voyage_id, p.ts, p.dup_key
"""
_PORTS_SQL = """
SELECT dp.voyage_id, dp.seq, dp.port_id, dp.optional, p.lat, p.lon
FROM declared_voyage_ports dp JOIN ports p USING (port_id)
WHERE dp.voyage_id IN (SELECT voyage_id FROM voyage_windows)
ORDER BY dp.voyage_id, dp.seq
"""
_CALLS_SQL = """
SELECT w.voyage_id, c.start_utc, c.port_id, c.lat, c.lon
FROM events c JOIN voyage_windows w
  ON c.mmsi = w.mmsi AND c.start_utc >= w.dep_utc AND (w.end_utc IS NULL OR c.start_utc < w.end_utc)
WHERE c.kind = 'port_call'
ORDER BY w.voyage_id, c.start_utc, c.event_id
"""
_EXCURSIONS_SQL = """
CREATE OR REPLACE TEMP TABLE route_excursions AS
WITH runs AS (
    SELECT *,
           row_number() OVER (PARTITION BY voyage_id, mmsi, seg ORDER BY ts, dup_key)
           - row_number() OVER (PARTITION BY voyage_id, mmsi, seg, outside ORDER BY ts, dup_key) AS run
    FROM route_detours
)
SELECT voyage_id, mmsi, seg, run, min(ts) AS start_utc, max(ts) AS end_utc, count(*) AS n_positions,
       first(struct_pack(ts, lat, lon, detour_nm, limit_nm, source_id, line_no) ORDER BY ts, dup_key) AS first_pos,
       first(struct_pack(ts, lat, lon, detour_nm, limit_nm, source_id, line_no) ORDER BY ts DESC, dup_key DESC)
           AS last_pos,
       first(struct_pack(ts, lat, lon, detour_nm, limit_nm, leg, route, via_nm, source_id, line_no)
             ORDER BY detour_nm DESC, ts, dup_key) AS max_pos
FROM runs WHERE outside
GROUP BY voyage_id, mmsi, seg, run
HAVING seconds_between(min(ts), max(ts)) / 3600.0 >= $min_duration_h
ORDER BY voyage_id, mmsi, start_utc
"""


@lru_cache(maxsize=256)
def _voyage(ports: tuple[tuple[float, float], ...], optional: tuple[bool, ...], max_ratio: float) -> Voyage:
    return Voyage(ports, optional, max_ratio)


def _progress(ports: pl.DataFrame, calls: pl.DataFrame, ts: np.ndarray) -> np.ndarray:
    """Per position, the index of the last declared port the ship had called at by then (0:
    the departure): calls are matched in the declared order, never backwards."""
    out = np.zeros(len(ts), dtype=np.int64)
    if calls.is_empty():
        return out
    pid = ports["port_id"].to_numpy()
    plat, plon = ports["lat"].to_numpy(), ports["lon"].to_numpy()
    cur, times, reached = 0, [], []
    for c in calls.iter_rows(named=True):
        near = (pid == c["port_id"]) | (distance_nm(plat, plon, np.full(len(pid), c["lat"]),
                                               np.full(len(pid), c["lon"])) <= SAME_PORT_NM)
        later = np.flatnonzero(near[cur:])
        if len(later):
            cur += int(later[0])
        times.append(c["start_utc"])
        reached.append(cur)
    at = np.searchsorted(np.asarray([t.timestamp() for t in times]), ts, side="right")
    return np.where(at > 0, np.asarray(reached)[np.maximum(at - 1, 0)], 0)


def _cells(lat: np.ndarray, lon: np.ndarray, deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres of the cells of ``deg`` degrees holding the points, and each point's cell."""
    key = np.column_stack([np.floor(lat / deg), np.floor(lon / deg)])
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    return (uniq[:, 0] + 0.5) * deg, (uniq[:, 1] + 0.5) * deg, inv.ravel()


def _openness(lat: np.ndarray, lon: np.ndarray, open_sea_nm: float) -> np.ndarray:
    """0 at the coast, 1 at open_sea_nm or more from land."""
    if open_sea_nm <= 0:
        return np.ones(len(lat))
    return sea_room_nm(lat, lon, open_sea_nm) / open_sea_nm


def measure_voyage(voyage: Voyage, lat: np.ndarray, lon: np.ndarray, progress: np.ndarray,
                   params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per position: detour_nm, limit_nm, leg, route, via_nm, outside (see the module docstring)."""
    n = len(lat)
    floor_nm, pct = float(params["min_detour_nm"]), float(params["min_detour_pct"])
    leg_nm = np.array([leg.length_nm for leg in voyage.legs])
    out = {"detour_nm": np.full(n, np.nan), "limit_nm": np.full(n, np.nan), "leg": np.full(n, -1),
           "route": np.full(n, -1), "via_nm": np.full(n, np.nan)}
    if n == 0 or not voyage.legs:
        return {**out, "outside": np.zeros(n, dtype=bool)}
    # first pass: at the centres of coarse cells, against the smallest limit there can be
    clat, clon, cell = _cells(lat, lon, COARSE_DEG)
    detour, route, via = voyage.measure_legs(clat, clon)
    coarse = voyage.choose(detour[cell], route[cell], via[cell], progress,
                           np.full((n, len(voyage.legs)), floor_nm))
    moved = distance_nm(lat, lon, clat[cell], clon[cell])
    sure = (coarse.detour_nm + 2 * moved + _SLACK_NM <= floor_nm) & sees(clat[cell], clon[cell], lat, lon, moved)
    for key in ("detour_nm", "leg", "route", "via_nm"):
        out[key] = getattr(coarse, key).astype(out[key].dtype)
    out["limit_nm"][:] = floor_nm
    # second pass: the rest, at the centres of fine cells, each against its own limit
    rest = np.flatnonzero(~sure)
    if len(rest):
        flat, flon, fine = _cells(lat[rest], lon[rest], FINE_DEG)
        detour, route, via = voyage.measure_legs(flat, flon)
        # the sea room matters only where the detour is over the floor on a leg long enough
        openness = np.zeros(len(flat))
        needed = ((detour > floor_nm) & (pct / 100.0 * leg_nm[None, :] > floor_nm)).any(axis=1)
        openness[needed] = _openness(flat[needed], flon[needed], float(params["open_sea_nm"]))
        limit = np.maximum(floor_nm, pct / 100.0 * leg_nm[None, :] * openness[:, None])
        m = voyage.choose(detour[fine], route[fine], via[fine], progress[rest], limit[fine])
        for key in out:
            out[key][rest] = getattr(m, key)
    outside = np.zeros(n, dtype=bool)
    outside[rest] = (out["detour_nm"][rest] > out["limit_nm"][rest])
    return {**out, "outside": outside}


def prepare(con: duckdb.DuckDBPyConnection, params: dict[str, Any], since: datetime | None,
            until: datetime | None) -> None:
    """TEMP tables ``route_detours`` and ``route_excursions`` (see the module docstring)."""
    create_voyage_windows(con, float(params["max_voyage_days"]))
    positions = frame(con, _POSITIONS_SQL)
    ports = frame(con, _PORTS_SQL)
    calls = frame(con, _CALLS_SQL)
    ratio = float(params["max_alternative_ratio"])
    parts, voyages = [], {}
    for (vid,), pos in positions.group_by(["voyage_id"], maintain_order=True):
        vp = ports.filter(pl.col("voyage_id") == vid)
        if vp.height < 2:
            continue
        voyage = _voyage(tuple(zip(vp["lat"].to_list(), vp["lon"].to_list(), strict=True)),
                         tuple(vp["optional"].to_list()), ratio)
        voyages[vid] = voyage
        progress = _progress(vp, calls.filter(pl.col("voyage_id") == vid), pos["ts"].dt.epoch("us").to_numpy() / 1e6)
        m = measure_voyage(voyage, pos["lat"].to_numpy(), pos["lon"].to_numpy(), progress, params)
        parts.append(pos.with_columns(pl.Series(k, v) for k, v in m.items()))
    schema = {"voyage_id": pl.String(), "mmsi": pl.Int32(), "seg": pl.Int64(), "ts": pl.Datetime("us", "UTC"),
              "dup_key": pl.UInt64(), "lat": pl.Float64(), "lon": pl.Float64(), "source_id": pl.Int32(),
              "line_no": pl.Int64(), "detour_nm": pl.Float64(), "limit_nm": pl.Float64(), "leg": pl.Int64(),
              "route": pl.Int64(), "via_nm": pl.Float64(), "outside": pl.Boolean()}
    table = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame(schema=schema)
    con.register("_route_detours", table.to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE route_detours AS SELECT * FROM _route_detours")
    con.unregister("_route_detours")
    con.execute(_EXCURSIONS_SQL, {"min_duration_h": float(params["min_duration_h"])})
    names = {vid: [p.strip().rstrip("?").strip() for p in text.split(">")]
             for vid, text in con.execute("SELECT voyage_id, ports FROM voyage_windows").fetchall()}
    runs = frame(con, "SELECT voyage_id, mmsi, seg, run, max_pos FROM route_excursions")
    rows = [_evidence(r, voyages[r["voyage_id"]], names[r["voyage_id"]], float(params["open_sea_nm"]))
            for r in runs.iter_rows(named=True)]
    evidence = pl.DataFrame(rows, schema={"voyage_id": pl.String, "mmsi": pl.Int32, "seg": pl.Int64,
                                          "run": pl.Int64, "evidence": pl.String}, orient="row")
    con.register("_route_evidence", evidence.to_arrow())
    con.execute("ALTER TABLE route_excursions ADD COLUMN measured JSON")
    con.execute("UPDATE route_excursions e SET measured = CAST(v.evidence AS JSON) FROM _route_evidence v "
                "WHERE e.voyage_id = v.voyage_id AND e.mmsi = v.mmsi AND e.seg = v.seg AND e.run = v.run")
    con.unregister("_route_evidence")


def _evidence(run: dict[str, Any], voyage: Voyage, names: list[str], open_sea_nm: float) -> tuple:
    """What the farthest point of an excursion rests on, as JSON text."""
    mp = run["max_pos"]
    li, ri = int(mp["leg"]), int(mp["route"])
    leg = voyage.legs[li]
    route = leg.routes[ri]
    line = np.asarray(voyage.route_line(li, 0), dtype=float)
    shortest = distance_to_route_nm(np.zeros(1, dtype=np.int64), np.array([mp["lat"]]), np.array([mp["lon"]]),
                                    np.zeros(len(line), dtype=np.int64), line[:, 0], line[:, 1])[0]
    out = {
        "leg": f"{names[leg.k]} > {names[leg.j]}",
        "leg_nm": round(leg.length_nm, 1),
        "route_nm": round(route.length_nm, 1),
        "route_passages": list(route.passages),
        "route_avoids": list(route.avoiding),
        "via_nm": round(float(mp["via_nm"]), 1),
        "via_waypoints": simplify(voyage.via_waypoints(li, ri, mp["lat"], mp["lon"])),
        "sea_room_nm": float(sea_room_nm(np.array([mp["lat"]]), np.array([mp["lon"]]), open_sea_nm)[0]),
        "shortest_route_offset_nm": round(float(shortest), 1),
    }
    return run["voyage_id"], run["mmsi"], run["seg"], run["run"], json.dumps(out)
