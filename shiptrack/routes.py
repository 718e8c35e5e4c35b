"""Declared voyages: the ports a vessel is said to call at, in order, and the sea route between them.

A voyage is declared as text, ``"Novorossiysk > Sfax? > Douala"``: ports joined by
``>``, a trailing ``?`` marking an optional call (allowed, not expected). Ports
resolve through :func:`shiptrack.reference.ports.resolve_port` (English names,
aliases, UN/LOCODEs). The expected path between consecutive ports comes from the
``searoute`` package's offline maritime network, with the origin and destination
ports appended, densified to a point at least every :data:`ROUTE_SPACING_NM`.

The Corinth Canal (25 m wide) is taken out of searoute's network: left in, it
makes the "shortest" route from the Black Sea to the western Mediterranean cut
through the Gulf of Corinth and the Strait of Messina, 100 nm from where a
merchant ship really sails (round Cape Matapan, through the Sicily Channel).

This is the declaration of a charterer, an owner or a reporter's source. The
crew's own declaration is the AIS type 5 destination, kept in the
``identity_history`` view (field ``destination``); :func:`list_voyages` shows it
beside the declared ports.

Tables: ``declared_voyages`` (one row per voyage), ``declared_voyage_ports``
(seq 0 = departure port), ``declared_route_points`` (the route as one polyline,
seq in order, through every declared port, optional ones included).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from shiptrack.errors import InputError, PortNotFound
from shiptrack.geo import distance_nm
from shiptrack.reference.ports import Port, resolve_port
from shiptrack.times import iso_utc, parse_utc

__all__ = [
    "DeclaredPort", "DeclaredVoyage", "ROUTE_SPACING_NM", "SAME_PORT_NM", "build_voyage", "create_voyage_windows",
    "declare_voyage", "distance_to_route_nm", "import_voyages", "list_voyages", "parse_declared_ports",
    "resolve_declared_ports", "sea_route",
]

ROUTE_SPACING_NM = 10.0  # the stored route has a point at least this often
# A port call whose mean position lies this close to a declared port counts as a call
# there: the World Port Index lists neighbouring terminals of one harbour as separate ports.
SAME_PORT_NM = 10.0
CSV_COLUMNS = ("mmsi", "ports", "departed")
# searoute network edges closed to merchant ships: (lon, lat) of both ends.
_CLOSED_EDGES = (((23.020113, 37.909026), (22.947178, 37.960508)),)  # Corinth Canal
_CLOSED = "closed_to_merchant_ships"


@dataclass(frozen=True, slots=True)
class DeclaredPort:
    text: str  # as the user wrote it, without the '?'
    port: Port
    optional: bool


@dataclass(frozen=True, slots=True)
class DeclaredVoyage:
    voyage_id: str  # first 16 hex of md5(mmsi|ports|departed)
    mmsi: int
    ports_text: str  # canonical text, e.g. "Novorossiysk > Sfax? > Douala"
    ports: tuple[DeclaredPort, ...]
    departed: datetime | None
    route: tuple[tuple[float, float], ...]  # (lat, lon) points of the expected sea route
    route_nm: float


def parse_declared_ports(text: str) -> list[tuple[str, bool]]:
    """ "Novorossiysk > Sfax? > Douala" -> [("Novorossiysk", False), ("Sfax", True), ("Douala", False)]."""
    parts = [p.strip() for p in text.split(">")]
    if len(parts) < 2 or any(not p.rstrip("?").strip() for p in parts):
        raise InputError(f"declared ports {text!r}: write at least two ports joined by '>', "
                         "e.g. 'Novorossiysk > Sfax? > Douala'")
    out = [(p.rstrip("?").strip(), p.endswith("?")) for p in parts]
    if out[0][1] or out[-1][1]:
        raise InputError(f"declared ports {text!r}: only an intermediate port can be optional ('?'); "
                         "the first is the departure and the last the destination")
    return out


def resolve_declared_ports(text: str) -> list[DeclaredPort]:
    """Parse and resolve each port; PortNotFound names the port that did not resolve."""
    return [DeclaredPort(name, resolve_port(name), optional) for name, optional in parse_declared_ports(text)]


@lru_cache(maxsize=1)
def _network():  # noqa: ANN202 - searoute's Marnet
    """searoute's maritime network, own copy, with the edges closed to merchant ships marked."""
    from searoute.classes import marnet
    from searoute.data.marnet_dict import edge_list, node_list
    from searoute.utils import from_nodes_edges_set

    net = from_nodes_edges_set(marnet.Marnet(), node_list, edge_list)
    for u, v in _CLOSED_EDGES:
        if net.has_edge(u, v):
            net[u][v]["passage"] = _CLOSED
    return net


def _densify(lonlat: np.ndarray, spacing_nm: float) -> np.ndarray:
    """Points added along each (lon/lat straight) segment so that none is longer than spacing_nm."""
    a, b = lonlat[:-1], lonlat[1:]
    seg_nm = distance_nm(a[:, 1], a[:, 0], b[:, 1], b[:, 0])
    steps = np.maximum(1, np.ceil(seg_nm / spacing_nm).astype(int))
    pieces = [a[i] + (b[i] - a[i]) * (np.arange(n)[:, None] / n) for i, n in enumerate(steps)]
    return np.vstack([*pieces, lonlat[-1:]])


def sea_route(ports: Sequence[Port], spacing_nm: float = ROUTE_SPACING_NM) -> list[tuple[float, float]]:
    """The expected sea route through `ports` in order, as (lat, lon) points every <= spacing_nm."""
    import searoute

    legs: list[np.ndarray] = []
    for a, b in zip(ports[:-1], ports[1:], strict=True):
        if a.port_id == b.port_id:
            continue
        feature = searoute.searoute([a.lon, a.lat], [b.lon, b.lat], append_orig_dest=True, M=_network(),
                                    restrictions=["northwest", _CLOSED])
        coords = feature["geometry"]["coordinates"]
        if len(coords) < 2:
            raise InputError(f"no sea route from {a.name} to {b.name} in searoute's network")
        leg = np.asarray(coords, dtype=float)
        leg[0], leg[-1] = (a.lon, a.lat), (b.lon, b.lat)
        leg[:, 0] = np.unwrap(leg[:, 0], period=360.0)  # continuous across the antimeridian
        if legs:
            leg[:, 0] += 360.0 * np.round((legs[-1][-1, 0] - leg[0, 0]) / 360.0)
        legs.append(leg)
    if not legs:
        raise InputError("a declared voyage needs two different ports")
    line = _densify(np.vstack([legs[0], *(leg[1:] for leg in legs[1:])]), spacing_nm)
    return [(float(lat), float((lon + 180.0) % 360.0 - 180.0)) for lon, lat in line]


def _route_nm(route: Sequence[tuple[float, float]]) -> float:
    r = np.asarray(route)
    return float(distance_nm(r[:-1, 0], r[:-1, 1], r[1:, 0], r[1:, 1]).sum())


def _voyage_id(mmsi: int, ports_text: str, departed: datetime | None) -> str:
    key = f"{mmsi}|{ports_text}|{iso_utc(departed) or ''}"
    return hashlib.md5(key.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _check_mmsi(mmsi: int) -> int:
    if not 100_000_000 <= int(mmsi) <= 999_999_999:
        raise InputError(f"MMSI {mmsi!r} is not a 9-digit number")
    return int(mmsi)


def build_voyage(mmsi: int, ports_text: str, departed: datetime | None = None) -> DeclaredVoyage:
    """Resolve the ports and compute the route, without storing anything."""
    declared = resolve_declared_ports(ports_text)
    canonical = " > ".join(d.text + ("?" if d.optional else "") for d in declared)
    if departed is not None and departed.tzinfo is None:
        departed = departed.replace(tzinfo=UTC)
    route = sea_route([d.port for d in declared])
    return DeclaredVoyage(
        voyage_id=_voyage_id(_check_mmsi(mmsi), canonical, departed), mmsi=int(mmsi), ports_text=canonical,
        ports=tuple(declared), departed=departed, route=tuple(route), route_nm=_route_nm(route),
    )


def _store(con: duckdb.DuckDBPyConnection, voyages: Sequence[DeclaredVoyage]) -> None:
    now = datetime.now(UTC)
    points = pl.DataFrame(
        [(v.voyage_id, i, lat, lon) for v in voyages for i, (lat, lon) in enumerate(v.route)],
        schema={"voyage_id": pl.String, "seq": pl.Int32, "lat": pl.Float64, "lon": pl.Float64}, orient="row",
    )
    con.execute("BEGIN TRANSACTION")
    try:
        for v in voyages:
            for table in ("declared_route_points", "declared_voyage_ports", "declared_voyages"):
                con.execute(f"DELETE FROM {table} WHERE voyage_id = $v", {"v": v.voyage_id})  # noqa: S608
            con.execute("INSERT INTO declared_voyages VALUES ($v, $m, $p, $d, $now)",
                        {"v": v.voyage_id, "m": v.mmsi, "p": v.ports_text, "d": v.departed, "now": now})
            con.executemany("INSERT INTO declared_voyage_ports VALUES (?, ?, ?, ?)",
                            [[v.voyage_id, i, d.port.port_id, d.optional] for i, d in enumerate(v.ports)])
        con.register("_route_points", points.to_arrow())
        con.execute("INSERT INTO declared_route_points SELECT voyage_id, seq, lat, lon FROM _route_points")
        con.unregister("_route_points")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def declare_voyage(
    con: duckdb.DuckDBPyConnection, mmsi: int, ports_text: str, departed: datetime | None = None
) -> DeclaredVoyage:
    """Store a declared voyage and its sea route; declaring the same voyage again replaces it."""
    voyage = build_voyage(mmsi, ports_text, departed)
    _store(con, [voyage])
    return voyage


def import_voyages(con: duckdb.DuckDBPyConnection, path: Path) -> list[DeclaredVoyage]:
    """Declare every voyage of a CSV file (columns mmsi,ports,departed); all or nothing.

    ``departed`` may be empty (the rules then take the end of the vessel's first call
    at the departure port). An error names the file, line and column.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read {path}: {err}") from err
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}: needs the columns {','.join(CSV_COLUMNS)}; missing {', '.join(missing)}")
    voyages = []
    for line_no, row in enumerate(reader, start=2):
        where = f"{path}:{line_no}"
        mmsi_text = (row["mmsi"] or "").strip()
        if not re.fullmatch(r"\d{9}", mmsi_text):
            raise InputError(f"{where}: mmsi {mmsi_text!r} is not a 9-digit MMSI")
        departed_text = (row["departed"] or "").strip()
        try:
            departed = parse_utc(departed_text) if departed_text else None
        except ValueError as err:
            raise InputError(f"{where}: departed {departed_text!r} is not an ISO-8601 time") from err
        try:
            voyages.append(build_voyage(int(mmsi_text), row["ports"] or "", departed))
        except (InputError, PortNotFound) as err:
            raise InputError(f"{where}: {err}") from err
    _store(con, voyages)
    return voyages


_LIST_SQL = """
WITH pts AS (
    SELECT voyage_id, CASE WHEN seq > 0 THEN haversine_nm(lag(lat) OVER w, lag(lon) OVER w, lat, lon) END AS leg_nm,
           count(*) OVER w2 AS n
    FROM declared_route_points
    WINDOW w AS (PARTITION BY voyage_id ORDER BY seq), w2 AS (PARTITION BY voyage_id)
), len AS (
    SELECT voyage_id, sum(leg_nm) AS route_nm, any_value(n) AS route_points
    FROM pts GROUP BY voyage_id
), res AS (
    SELECT dp.voyage_id,
           string_agg(p.name || coalesce(' (' || p.locode || ')', '') || CASE WHEN dp.optional THEN '?' ELSE '' END,
                      ' > ' ORDER BY dp.seq) AS resolved
    FROM declared_voyage_ports dp JOIN ports p USING (port_id) GROUP BY dp.voyage_id
), dest AS (
    SELECT mmsi, value, first_seen, last_seen,
           lead(first_seen) OVER (PARTITION BY mmsi ORDER BY first_seen, last_seen, value) AS next_first_seen
    FROM identity_history WHERE field = 'destination'
), ais AS (
    -- the destination in force at departure, and every change after it, in time order
    SELECT v.voyage_id, string_agg(d.value, ' / ' ORDER BY d.first_seen, d.value) AS ais_destinations
    FROM declared_voyages v JOIN dest d
      ON d.mmsi = v.mmsi AND (v.departed IS NULL OR d.next_first_seen IS NULL OR d.next_first_seen > v.departed)
    GROUP BY v.voyage_id
)
SELECT v.voyage_id, v.mmsi, vs.name AS vessel_name, v.ports AS declared, v.departed,
       res.resolved AS ports_resolved, round(len.route_nm, 1) AS route_nm, len.route_points,
       ais.ais_destinations
FROM declared_voyages v
LEFT JOIN res USING (voyage_id) LEFT JOIN len USING (voyage_id) LEFT JOIN ais USING (voyage_id)
LEFT JOIN vessels vs ON vs.mmsi = v.mmsi
WHERE $mmsi IS NULL OR v.mmsi = $mmsi
ORDER BY v.mmsi, v.departed NULLS LAST, v.voyage_id
"""


def list_voyages(con: duckdb.DuckDBPyConnection, mmsi: int | None = None) -> pl.DataFrame:
    """The declared voyages, with their resolved ports, route length and the AIS destinations
    the crew broadcast (the vessel's own declaration): the one in force at the declared
    departure and every later one, in time order, joined by ' / '."""
    from shiptrack.store.db import frame

    return frame(con, _LIST_SQL, {"mmsi": mmsi})


# -- what the rules read ------------------------------------------------------------------------

_WINDOWS_SQL = """
CREATE OR REPLACE TEMP TABLE voyage_windows AS
WITH vp AS (
    SELECT dp.voyage_id, dp.seq, dp.port_id, p.lat, p.lon,
           max(dp.seq) OVER (PARTITION BY dp.voyage_id) AS last_seq
    FROM declared_voyage_ports dp JOIN ports p USING (port_id)
), calls AS (
    SELECT mmsi, start_utc, end_utc, port_id, lat, lon FROM events WHERE kind = 'port_call'
), inferred AS (
    SELECT v.voyage_id, min(c.end_utc) AS dep_utc
    FROM declared_voyages v
    JOIN vp ON vp.voyage_id = v.voyage_id AND vp.seq = 0
    JOIN calls c ON c.mmsi = v.mmsi
         AND (c.port_id = vp.port_id OR haversine_nm(c.lat, c.lon, vp.lat, vp.lon) <= $same_port_nm)
    WHERE v.departed IS NULL
    GROUP BY v.voyage_id
), d AS (
    SELECT v.voyage_id, v.mmsi, v.ports, v.departed, coalesce(v.departed, i.dep_utc) AS dep_utc,
           v.departed IS NULL AS departure_inferred
    FROM declared_voyages v LEFT JOIN inferred i USING (voyage_id)
), arrived AS (
    SELECT d.voyage_id, min(c.start_utc) AS final_arrival_utc
    FROM d
    JOIN vp ON vp.voyage_id = d.voyage_id AND vp.seq = vp.last_seq
    JOIN calls c ON c.mmsi = d.mmsi AND c.start_utc > d.dep_utc
         AND (c.port_id = vp.port_id OR haversine_nm(c.lat, c.lon, vp.lat, vp.lon) <= $same_port_nm)
    GROUP BY d.voyage_id
)
SELECT d.*, a.final_arrival_utc,
       least(a.final_arrival_utc,
             d.dep_utc + to_seconds(CAST($max_voyage_days AS DOUBLE) * 86400),
             lead(d.dep_utc) OVER (PARTITION BY d.mmsi ORDER BY d.dep_utc, d.voyage_id)) AS end_utc
FROM d LEFT JOIN arrived a USING (voyage_id)
WHERE d.dep_utc IS NOT NULL
"""


def create_voyage_windows(
    con: duckdb.DuckDBPyConnection, max_voyage_days: float, same_port_nm: float = SAME_PORT_NM
) -> None:
    """TEMP table ``voyage_windows``: when each declared voyage was under way.

    From ``dep_utc`` (the declared departure, else the end of the vessel's first
    ``port_call`` at the departure port) to ``end_utc``: the arrival at the final
    port (the first call there after departing), or ``max_voyage_days`` later, or
    the vessel's next declared departure, whichever comes first. A call within
    ``same_port_nm`` of a declared port counts as a call there. Voyages with no
    known departure are left out. Reads ``port_call`` events: run after that rule.
    """
    con.execute(_WINDOWS_SQL, {"same_port_nm": same_port_nm, "max_voyage_days": max_voyage_days})


def _local_segment_nm(lat: np.ndarray, lon: np.ndarray, a_lat: np.ndarray, a_lon: np.ndarray,
                      b_lat: np.ndarray, b_lon: np.ndarray) -> np.ndarray:
    """Distance from each point to the segment a-b, in the point's local equirectangular frame."""
    k = np.cos(np.radians(lat))
    ax, ay = ((a_lon - lon + 180.0) % 360.0 - 180.0) * k, a_lat - lat
    bx, by = ((b_lon - lon + 180.0) % 360.0 - 180.0) * k, b_lat - lat
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    return np.hypot(ax + t * dx, ay + t * dy) * 60.0


_CELLS_PER_BLOCK = 1 << 22  # positions x route points per matrix product (32 MB of float64)
# Segments are measured in a local flat frame only this close to the route; farther out,
# the nearest route point (<= 10 nm apart) is within 0.25 nm of the segment distance.
_LOCAL_FRAME_NM = 50.0


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def distance_to_route_nm(
    group: np.ndarray, lat: np.ndarray, lon: np.ndarray,
    route_group: np.ndarray, route_lat: np.ndarray, route_lon: np.ndarray,
) -> np.ndarray:
    """Distance in nm from each point to the polyline of its own group's route.

    ``route_*`` are the route points, sorted by group and then along the route;
    ``group`` says which route each point is measured against (NaN where its group
    has no route). The nearest route point is exact on the sphere: points and route
    points become unit vectors, and the largest dot product (one matrix product per
    route, in blocks) is the smallest great-circle distance. The distance to the two
    route segments that meet there is then taken in the point's local frame.
    Works across the antimeridian and at any latitude.
    """
    n = len(lat)
    out = np.full(n, np.nan)
    if n == 0 or len(route_lat) == 0:
        return out
    pts, route = _unit_vectors(lat, lon), _unit_vectors(route_lat, route_lon)
    nearest = np.full(n, -1, dtype=np.int64)
    order = np.argsort(group, kind="stable")
    groups, starts = np.unique(group[order], return_index=True)
    ends = np.r_[starts[1:], n]
    for g, a, b in zip(groups, starts, ends, strict=True):
        r0, r1 = np.searchsorted(route_group, g, "left"), np.searchsorted(route_group, g, "right")
        if r0 == r1:
            continue
        step = max(1, _CELLS_PER_BLOCK // (r1 - r0))
        for s in range(a, b, step):
            idx = order[s:min(s + step, b)]
            nearest[idx] = r0 + np.argmax(pts[idx] @ route[r0:r1].T, axis=1)
    ok = nearest >= 0
    near = nearest[ok]
    la, lo = lat[ok], lon[ok]
    best = distance_nm(la, lo, route_lat[near], route_lon[near])
    close = np.flatnonzero(best < _LOCAL_FRAME_NM)
    la, lo, near = la[close], lo[close], near[close]
    last = len(route_lat) - 1
    for step in (-1, 1):  # the segments before and after the nearest route point
        other = np.clip(near + step, 0, last)
        same = (route_group[other] == route_group[near]) & (other != near)
        seg = _local_segment_nm(la, lo, route_lat[near], route_lon[near], route_lat[other], route_lon[other])
        best[close] = np.where(same, np.minimum(best[close], seg), best[close])
    out[ok] = best
    return out
