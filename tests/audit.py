"""Findings that the store itself proves false: the checks of issue 13, as one function.

Each check reads only the store (positions and events) and a map of inland water, and
returns the offending events. A tool that publishes accusations must give none of them
on real archives; tests/e2e/test_trust_real_archives.py runs it on every real file we have,
and tests/e2e/test_ural.py on the Ural reconstruction.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent

# Vessels a store must hold before "nobody was heard" says something about reception.
MIN_VESSELS = 10
EMPTY_STRETCH_H = 12.0
MIN_CALL_MOVE_NM = 2.0
MAX_GAP_SPEED_KN = 30.0
NEAR_WATER_KM = 3.0
NEAR_GAP_NM = 60.0  # "other vessels heard near the gap": within this of either end


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(con.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = $t AND column_name = $c",
        {"t": table, "c": column}).fetchall())


def gaps_across_empty_archive(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """dark_period / ais_gap events holding a stretch of EMPTY_STRETCH_H or more in which the
    store (of MIN_VESSELS vessels or more) holds no position from anyone."""
    if con.execute("SELECT count(DISTINCT mmsi) FROM positions").fetchone()[0] < MIN_VESSELS:
        return []
    return _rows(con, """
        WITH e AS (
            SELECT event_id, kind, mmsi, start_utc, end_utc FROM events
            WHERE kind IN ('dark_period', 'ais_gap')
              AND epoch(end_utc) - epoch(start_utc) >= $h * 3600
        ), inside AS (
            SELECT e.event_id, p.ts FROM e JOIN positions p ON p.ts > e.start_utc AND p.ts < e.end_utc
            UNION ALL SELECT event_id, start_utc FROM e
            UNION ALL SELECT event_id, end_utc FROM e
        ), steps AS (
            SELECT event_id, epoch(ts) - epoch(lag(ts) OVER (PARTITION BY event_id ORDER BY ts)) AS dt FROM inside
        )
        SELECT e.*, max(s.dt) / 3600.0 AS empty_h
        FROM e JOIN steps s USING (event_id)
        GROUP BY ALL HAVING max(s.dt) >= $h * 3600
        ORDER BY e.mmsi, e.start_utc
    """, {"h": EMPTY_STRETCH_H})


def calls_without_moving(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Probable unreported calls claimed while the ship moved less than MIN_CALL_MOVE_NM."""
    return _rows(con, """
        SELECT event_id, kind, mmsi, start_utc, end_utc, port,
               haversine_nm(CAST(details->'$.before.lat' AS DOUBLE), CAST(details->'$.before.lon' AS DOUBLE),
                            CAST(details->'$.after.lat' AS DOUBLE), CAST(details->'$.after.lon' AS DOUBLE)) AS moved_nm
        FROM events
        WHERE kind IN ('dark_period', 'ais_gap')
          AND CAST(details->'$.probable_unreported_call' AS BOOLEAN)
          AND haversine_nm(CAST(details->'$.before.lat' AS DOUBLE), CAST(details->'$.before.lon' AS DOUBLE),
                           CAST(details->'$.after.lat' AS DOUBLE), CAST(details->'$.after.lon' AS DOUBLE)) < $nm
        ORDER BY mmsi, start_utc
    """, {"nm": MIN_CALL_MOVE_NM})


def accusations_nobody_heard(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """A dark_period, or a probable call, with no other vessel heard within NEAR_GAP_NM of
    either end of the gap while it lasted."""
    return _rows(con, """
        WITH e AS (
            SELECT event_id, kind, mmsi, start_utc, end_utc,
                   CAST(details->'$.before.lat' AS DOUBLE) AS lat0, CAST(details->'$.before.lon' AS DOUBLE) AS lon0,
                   CAST(details->'$.after.lat' AS DOUBLE) AS lat1, CAST(details->'$.after.lon' AS DOUBLE) AS lon1
            FROM events
            WHERE kind = 'dark_period'
               OR (kind = 'ais_gap' AND coalesce(CAST(details->'$.probable_unreported_call' AS BOOLEAN), false))
        )
        SELECT e.event_id, e.kind, e.mmsi, e.start_utc, e.end_utc FROM e
        WHERE NOT EXISTS (
            SELECT 1 FROM positions p
            WHERE p.mmsi <> e.mmsi AND p.ts > e.start_utc AND p.ts < e.end_utc
              AND (haversine_nm(p.lat, p.lon, e.lat0, e.lon0) <= $nm OR haversine_nm(p.lat, p.lon, e.lat1, e.lon1) <= $nm))
        ORDER BY e.mmsi, e.start_utc
    """, {"nm": NEAR_GAP_NM})


def gaps_too_fast(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """dark_period / ais_gap events whose two ends imply more than MAX_GAP_SPEED_KN."""
    return _rows(con, """
        SELECT event_id, kind, mmsi, start_utc, end_utc, speed_kn FROM (
            SELECT *, haversine_nm(CAST(details->'$.before.lat' AS DOUBLE), CAST(details->'$.before.lon' AS DOUBLE),
                                   CAST(details->'$.after.lat' AS DOUBLE), CAST(details->'$.after.lon' AS DOUBLE))
                      / ((epoch(end_utc) - epoch(start_utc)) / 3600.0) AS speed_kn
            FROM events WHERE kind IN ('dark_period', 'ais_gap') AND end_utc > start_utc)
        WHERE speed_kn > $kn ORDER BY mmsi, start_utc
    """, {"kn": MAX_GAP_SPEED_KN})


@cache
def _inland_water() -> tuple[shapely.STRtree, list[shapely.Geometry]]:
    """Natural Earth 10m lakes and river centre-lines (world, Europe, North America)."""
    folder = ROOT / "fixtures" / "water"
    geoms: list[shapely.Geometry] = []
    for path in sorted(folder.glob("ne_10m_*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for feat in json.load(f)["features"]:
                if feat.get("geometry"):
                    geoms.append(shapely.from_geojson(json.dumps(feat["geometry"])))
    return shapely.STRtree(geoms), geoms


def distance_to_water_km(lat: float, lon: float) -> float:
    """Distance from a point to the nearest mapped lake or river, in km (local flat frame)."""
    tree, geoms = _inland_water()
    k = max(np.cos(np.radians(lat)), 0.01)
    box = shapely.box(lon - 0.5 / k, lat - 0.5, lon + 0.5 / k, lat + 0.5)
    best = float("inf")
    for i in tree.query(box):
        g = geoms[i]
        flat = shapely.transform(g, lambda xy: (xy - np.array([lon, lat])) * np.array([k, 1.0]))
        best = min(best, shapely.distance(flat, shapely.Point(0.0, 0.0)) * 111.195)
    return best


def land_beside_water(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """position_on_land events whose positions lie within NEAR_WATER_KM of a mapped lake or river."""
    out = []
    for e in _rows(con, "SELECT event_id, mmsi, start_utc, lat, lon, details FROM events "
                        "WHERE kind = 'position_on_land' ORDER BY mmsi, start_utc"):
        d = json.loads(e["details"]) if isinstance(e["details"], str) else e["details"]
        points = [(e["lat"], e["lon"])]
        for key in ("deepest_position", "last_position"):
            p = d.get(key) or {}
            if p.get("lat") is not None:
                points.append((p["lat"], p["lon"]))
        km = min(distance_to_water_km(la, lo) for la, lo in points)
        if km <= NEAR_WATER_KM:
            out.append({**e, "water_km": round(km, 2)})
    return out


def _pghp_time(lines: list[str], line_no: int, checksum: str, window: int = 12) -> float | None:
    """The time of the $PGHP line that times the sentence on line ``line_no`` (1-based): the
    Gatehouse wrapper's last field is the checksum of its sentence, which it may precede or
    follow by a few lines."""
    from datetime import UTC, datetime

    best = None
    for i in range(max(0, line_no - 1 - window), min(len(lines), line_no + window)):
        text = lines[i]
        if not text.startswith("$PGHP"):
            continue
        f = text.split("*")[0].split(",")
        if f[-1].upper() != checksum.upper() or len(f) < 9:
            continue
        try:
            t = datetime(int(f[2]), int(f[3]), int(f[4]), int(f[5]), int(f[6]), int(f[7]), int(f[8]) * 1000,
                         tzinfo=UTC).timestamp()
        except ValueError:
            continue
        if best is None or abs(i - (line_no - 1)) < best[0]:
            best = (abs(i - (line_no - 1)), t)
    return None if best is None else best[1]


def jumps_between_clocks(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """spoofing_jump events whose first jump joins two positions of one file that were not
    timed by one clock: a position stored with a time other than the $PGHP that times its own
    sentence (a trailing arrival time, or another sentence's $PGHP), where the file has one."""
    out = []
    files: dict[str, list[str]] = {}
    for e in _rows(con, "SELECT event_id, mmsi, start_utc, evidence FROM events WHERE kind = 'spoofing_jump'"):
        ev = e["evidence"][:2]
        if len(ev) < 2:
            continue
        off = []
        for ref in ev:
            ts, raw, path = con.execute(
                "SELECT epoch(p.ts), p.raw, s.path FROM positions p JOIN sources s USING (source_id) "
                "WHERE p.source_id = $s AND p.line_no = $l LIMIT 1",
                {"s": ref["source_id"], "l": ref["line_no"]}).fetchone()
            if path not in files:
                try:
                    files[path] = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    files[path] = []
            star = raw.find("*") if raw else -1
            true = _pghp_time(files[path], ref["line_no"], raw[star + 1:star + 3]) if star >= 0 else None
            off.append(true is not None and abs(true - ts) > 1.0)
        if any(off):
            out.append({"event_id": e["event_id"], "mmsi": e["mmsi"], "start_utc": e["start_utc"],
                        "mistimed_ends": off})
    return out


def two_ports_at_once(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """One transmitter (MMSI and track segment) in port calls at two different ports at
    overlapping times."""
    seg = "coalesce(segment, 0)" if _has_column(con, "events", "segment") else "0"
    return _rows(con, f"""
        WITH c AS (SELECT event_id, mmsi, {seg} AS seg, port_id, port, start_utc, end_utc
                   FROM events WHERE kind = 'port_call')
        SELECT a.mmsi, a.seg, a.port AS port_a, b.port AS port_b, a.start_utc AS a_start, a.end_utc AS a_end,
               b.start_utc AS b_start, b.end_utc AS b_end
        FROM c a JOIN c b ON a.mmsi = b.mmsi AND a.seg = b.seg AND a.event_id < b.event_id
                        AND a.port_id IS DISTINCT FROM b.port_id
                        AND a.start_utc < b.end_utc AND b.start_utc < a.end_utc
        ORDER BY a.mmsi, a.start_utc
    """)  # noqa: S608 - a constant expression


def dark_longer_than_observed(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Transmitters (MMSI and track segment) whose gap events add up to more hours than the
    segment was observed, and vessels whose dossier says they were dark longer than observed."""
    seg = "coalesce(segment, 0)" if _has_column(con, "events", "segment") else "0"
    out = _rows(con, f"""
        WITH e AS (SELECT mmsi, {seg} AS seg, start_utc, end_utc, duration_h FROM events
                   WHERE kind IN ('dark_period', 'ais_gap')),
             obs AS (SELECT e.mmsi, e.seg, (epoch(max(p.ts)) - epoch(min(p.ts))) / 3600.0 AS observed_h
                     FROM (SELECT DISTINCT mmsi, seg FROM e) e JOIN positions p ON p.mmsi = e.mmsi GROUP BY ALL),
             dark AS (SELECT mmsi, seg, sum(duration_h) AS dark_h FROM e GROUP BY ALL)
        SELECT mmsi, seg, round(dark_h, 1) AS dark_h, round(observed_h, 1) AS observed_h
        FROM dark JOIN obs USING (mmsi, seg) WHERE dark_h > observed_h + 0.01 ORDER BY mmsi
    """)  # noqa: S608 - a constant expression
    from shiptrack.dossier import build_dossier
    from shiptrack.vessels import _vessels

    for (mmsi,) in con.execute("SELECT DISTINCT mmsi FROM events WHERE kind = 'dark_period'").fetchall():
        d = build_dossier(con, _vessels(con, [mmsi])[0])
        if d.first_seen and d.last_seen:
            from shiptrack.times import parse_utc

            observed_h = (parse_utc(d.last_seen) - parse_utc(d.first_seen)).total_seconds() / 3600.0
            if d.time_dark_h > observed_h + 0.05:
                out.append({"mmsi": mmsi, "dossier_dark_h": d.time_dark_h, "observed_h": round(observed_h, 1)})
    return out


CHECKS = {
    "gap across an empty archive": gaps_across_empty_archive,
    "probable call without moving": calls_without_moving,
    "accusation with nobody heard": accusations_nobody_heard,
    "gap implying > 30 kn": gaps_too_fast,
    "on land beside a lake or river": land_beside_water,
    "jump between two clocks": jumps_between_clocks,
    "two ports at once": two_ports_at_once,
    "dark longer than observed": dark_longer_than_observed,
}


def proved_false(db: Path, name: str) -> list[dict]:
    """The findings of the store ``db`` that the check ``name`` of :data:`CHECKS` proves false."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return CHECKS[name](con)
    finally:
        con.close()


def audit(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict]]:
    """Every check's offending events (an empty list each when the findings hold up)."""
    con.execute("SET TimeZone = 'UTC'")
    return {name: check(con) for name, check in CHECKS.items()}


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many findings each check proves false, and how many findings there are."""
    found = audit(con)
    kinds = dict(con.execute("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind").fetchall())
    return {**{k: len(v) for k, v in found.items()}, **{f"events:{k}": n for k, n in kinds.items()}}
