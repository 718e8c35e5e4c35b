"""Declared voyages (route declare/import/list), unplanned_port_call and route_deviation."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from shiptrack.detour import Sources, Voyage, alternatives, graph, sea_room_nm
from shiptrack.errors import InputError
from shiptrack.geo import distance_nm
from shiptrack.reference.land import coast_distance_km, is_land
from shiptrack.reference.ports import resolve_port
from shiptrack.routes import distance_to_route_nm, parse_declared_ports, sea_route
from shiptrack.times import parse_utc
from tests.conftest import ingest_lines, ping, query, run_cli, voyage

URAL = 273358000
NOVOROSSIYSK = (44.716667, 37.783333)
SFAX = (34.733333, 10.766667)
DEPARTED = "2018-02-03T00:00:00Z"


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def stay(start: str, where: tuple[float, float], hours: float, every_min: int = 20, mmsi: int = URAL) -> list[str]:
    t0 = parse_utc(start)
    n = int(hours * 60 / every_min)
    return [ping(iso(t0 + timedelta(minutes=i * every_min)), *where, 0.0, 0.0, mmsi=mmsi, status=5)
            for i in range(n + 1)]


def pings(start: str, points: list[tuple[float, float]], every_h: float, sog: float = 12.0,
          mmsi: int = URAL) -> list[str]:
    t0 = parse_utc(start)
    return [ping(iso(t0 + timedelta(hours=i * every_h)), lat, lon, sog, 270.0, mmsi=mmsi)
            for i, (lat, lon) in enumerate(points)]


def ural_with_sfax_call() -> list[str]:
    """Berthed at Novorossiysk, departs, calls at Sfax 2018-02-08T06:00Z for 30 h, sails on."""
    lines = voyage("2018-02-01T00:00:00Z", mmsi=URAL, name="URAL", destination="DOUALA", callsign="UBAB2",
                   imo=9000003)
    lines += stay("2018-02-01T12:00:00Z", NOVOROSSIYSK, hours=36)
    lines += pings("2018-02-03T01:00:00Z", [(44.6, 37.6), (44.4, 37.2)], every_h=1)
    lines += pings("2018-02-08T04:00:00Z", [(35.0, 11.4), (34.85, 11.05)], every_h=1)
    lines += stay("2018-02-08T06:00:00Z", (34.728, 10.772), hours=30)
    lines += pings("2018-02-09T13:00:00Z", [(34.9, 11.1), (35.3, 11.5)], every_h=1)
    return lines


def detect(db: Path, rules: str) -> None:
    result = run_cli(["detect", "--rules", rules], db)
    assert result.exit_code == 0, result.output


def events(db: Path, kind: str) -> list[tuple]:
    return query(db, "SELECT mmsi, port, port_id, start_utc, end_utc, details FROM events "
                     "WHERE kind = ? ORDER BY start_utc", [kind])


# -- declaring voyages ---------------------------------------------------------------------------

def test_parse_declared_ports_marks_optional_calls() -> None:
    assert parse_declared_ports("Novorossiysk > Sfax? > Douala") == [
        ("Novorossiysk", False), ("Sfax", True), ("Douala", False)]
    with pytest.raises(InputError, match="at least two ports"):
        parse_declared_ports("Novorossiysk")
    with pytest.raises(InputError, match="only an intermediate port"):
        parse_declared_ports("Novorossiysk? > Douala")


def test_declare_import_list_round_trip(db: Path, tmp_path: Path) -> None:
    ingest_lines(db, ural_with_sfax_call())
    out = run_cli(["route", "declare", str(URAL), "Novorossiysk > Sfax? > Douala", "--departed", DEPARTED], db)
    assert out.exit_code == 0, out.output
    assert "Mersa Sfax (TNSFA)?" in out.output and "departed 2018-02-03T00:00:00Z" in out.output
    by_name = run_cli(["route", "declare", "URAL", "Novorossiysk > Douala"], db)  # find_vessel: name
    assert by_name.exit_code == 0 and f"MMSI {URAL}" in by_name.output
    csv_path = tmp_path / "voyages.csv"
    csv_path.write_text("mmsi,ports,departed\n"
                        f"{URAL},Novorossiysk > Douala,2018-02-03T00:00:00Z\n"
                        "352001234,Banghazi > Tripoli? > Valletta,\n")
    for _ in range(2):  # importing twice replaces, never duplicates
        result = run_cli(["route", "import", csv_path], db)
        assert result.exit_code == 0 and "2 voyages declared" in result.output
    listed = json.loads(run_cli(["route", "list", "--format", "json"], db).output)
    assert len(listed) == 4
    by_decl = {(r["mmsi"], r["declared"], r["departed"]): r for r in listed}
    sfax = by_decl[(URAL, "Novorossiysk > Sfax? > Douala", "2018-02-03T00:00:00Z")]
    assert sfax["ports_resolved"] == "Novorossiysk (RUNVS) > Mersa Sfax (TNSFA)? > Douala (CMDLA)"
    assert sfax["vessel_name"] == "URAL" and sfax["ais_destinations"] == "DOUALA"
    assert 5500 < sfax["route_nm"] < 6500 and sfax["route_points"] > 500
    assert (URAL, "Novorossiysk > Douala", None) in by_decl
    assert (352001234, "Banghazi > Tripoli? > Valletta", None) in by_decl
    optional = query(db, "SELECT p.seq, p.port_id, p.optional FROM declared_voyage_ports p "
                         "JOIN declared_voyages v USING (voyage_id) WHERE v.ports LIKE '%Sfax?%' ORDER BY seq")
    assert optional == [(0, 44200, False), (1, 45390, True), (2, 46280, False)]


def test_declare_errors_name_the_problem(db: Path, tmp_path: Path) -> None:
    ingest_lines(db, ural_with_sfax_call())
    result = run_cli(["route", "declare", str(URAL), "Novorossiysk > Atlantis"], db)
    assert result.exit_code == 2 and "no port matches 'Atlantis'" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"mmsi,ports,departed\n{URAL},Novorossiysk > Douala,\n12345,Sfax > Douala,\n")
    result = run_cli(["route", "import", bad], db)
    assert result.exit_code == 1 and "bad.csv:3" in result.output and "12345" in result.output
    assert query(db, "SELECT count(*) FROM declared_voyages") == [(0,)]  # all or nothing


def test_sea_route_stays_at_sea() -> None:
    route = np.array(sea_route([resolve_port("Novorossiysk"), resolve_port("Douala")]))
    lat, lon = route[:, 0], route[:, 1]
    steps = [distance_nm(*a, *b) for a, b in zip(route[:-1], route[1:], strict=True)]
    assert max(steps) < 10.5 and tuple(route[0]) == NOVOROSSIYSK
    # searoute's network is a generalised line: in the Bosporus, Dardanelles and Gibraltar
    # it cuts corners by a km or two, and the WPI port positions lie just on the land side.
    land = is_land(lat, lon)
    assert land.mean() < 0.02
    shore = np.zeros(land.sum(), dtype=bool)  # each point on land has sea within about 3 km
    for dlat, dlon in [(0.03 * np.cos(a), 0.03 * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 16)]:
        shore |= ~is_land(lat[land] + dlat, lon[land] + dlon)
    assert shore.all()
    # round Cape Matapan, not through the Corinth Canal (closed to merchant ships)
    corinth = (lat > 37.9) & (lat < 38.4) & (lon > 21.9) & (lon < 23.1)
    assert not corinth.any() and ((lat < 36.6) & (lon > 21.5) & (lon < 23.5)).any()


def test_distance_to_route_matches_brute_force() -> None:
    route = np.array(sea_route([resolve_port("Novorossiysk"), resolve_port("Douala")]))
    rng = np.random.default_rng(3)
    k = rng.integers(0, len(route), 500)
    lat, lon = route[k, 0] + rng.normal(0, 1.5, 500), route[k, 1] + rng.normal(0, 1.5, 500)
    # two groups measured at once: group 1's route is group 0's shifted 20 degrees east
    group = np.r_[np.zeros(500, int), np.ones(500, int)]
    d = distance_to_route_nm(group, np.r_[lat, lat], np.r_[lon, lon + 20.0],
                             np.r_[np.zeros(len(route), int), np.ones(len(route), int)],
                             np.r_[route[:, 0], route[:, 0]], np.r_[route[:, 1], route[:, 1] + 20.0])
    brute = np.array([min(distance_nm(a, b, *r) for r in route) for a, b in zip(lat, lon, strict=True)])
    for part in (d[:500], d[500:]):
        assert np.all(part <= brute + 1e-6) and np.all(brute - part <= 5.0)  # segments <= 10 nm apart
        far = brute > 50
        assert np.allclose(part[far], brute[far], atol=1e-6)


# -- unplanned_port_call -------------------------------------------------------------------------

def test_a_call_at_sfax_not_declared_is_unplanned(db: Path) -> None:
    ingest_lines(db, ural_with_sfax_call())
    run_cli(["route", "declare", str(URAL), "Novorossiysk > Douala", "--departed", DEPARTED], db)
    detect(db, "port_call,unplanned_port_call")
    assert [e[1] for e in events(db, "port_call")] == ["Novorossiysk", "Mersa Sfax"]
    found = events(db, "unplanned_port_call")
    assert len(found) == 1
    mmsi, port, port_id, start, end, details = found[0]
    assert (mmsi, port, port_id) == (URAL, "Mersa Sfax", 45390)
    assert abs((start - parse_utc("2018-02-08T06:00:00Z")).total_seconds()) <= 600
    assert abs((end - parse_utc("2018-02-09T12:00:00Z")).total_seconds()) <= 600
    d = json.loads(details)
    assert d["declared_ports"] == "Novorossiysk > Douala" and d["departed_utc"] == DEPARTED
    assert d["departure_inferred"] is False and abs(d["duration_h"] - 30) < 0.2
    assert 120 < d["route_offset_nm"] < 200  # Sfax lies off the Sicily Channel route


def test_an_optional_port_is_declared(db: Path) -> None:
    ingest_lines(db, ural_with_sfax_call())
    run_cli(["route", "declare", str(URAL), "Novorossiysk > Sfax? > Douala", "--departed", DEPARTED], db)
    detect(db, "port_call,unplanned_port_call")
    assert len(events(db, "port_call")) == 2 and events(db, "unplanned_port_call") == []


def test_without_a_departure_time_the_departure_call_is_not_unplanned(db: Path) -> None:
    ingest_lines(db, ural_with_sfax_call())
    run_cli(["route", "declare", str(URAL), "Novorossiysk > Douala"], db)
    detect(db, "port_call,unplanned_port_call")
    (_, port, _, _, _, details), = events(db, "unplanned_port_call")
    d = json.loads(details)
    assert port == "Mersa Sfax" and d["departure_inferred"] is True
    assert d["departed_utc"] == "2018-02-03T00:00:00Z"  # the last position of the Novorossiysk call


def test_calls_after_the_final_port_are_not_unplanned(db: Path) -> None:
    lines = ural_with_sfax_call()
    run_in = stay("2018-02-20T00:00:00Z", (4.05, 9.68), hours=24)  # Douala
    lines += run_in + stay("2018-03-01T00:00:00Z", SFAX, hours=10)  # after arriving: not this voyage
    ingest_lines(db, lines)
    run_cli(["route", "declare", str(URAL), "Novorossiysk > Douala", "--departed", DEPARTED], db)
    detect(db, "port_call,unplanned_port_call")
    found = events(db, "unplanned_port_call")
    assert [(e[1], e[3].date().isoformat()) for e in found] == [("Mersa Sfax", "2018-02-08")]


# -- route_deviation -----------------------------------------------------------------------------

GENOA_OUT = [(44.3, 8.95), (43.8, 9.3), (43.0, 9.65)]  # out of Genoa, through the Corsica Channel
PIRAEUS_IN = [(36.35, 22.5), (36.41, 22.9), (36.42, 23.3), (36.8, 23.5), (37.2, 23.6), (37.5, 23.75),
              (37.7, 23.66), (37.85, 23.6)]  # north of Kythira, up the Myrtoan Sea to Piraeus
# Genoa > Piraeus: the shortest sea route goes down the Tyrrhenian and through the Strait of
# Messina; many ships go round the south of Sicily instead (north of Malta).
VIA_MESSINA = GENOA_OUT + [(42.0, 10.4), (40.5, 12.0), (39.0, 14.5), (38.35, 15.68), (38.27, 15.70),
                           (38.25, 15.655), (38.22, 15.61), (38.18, 15.60), (38.10, 15.58), (38.0, 15.58),
                           (37.9, 15.6), (37.5, 16.5), (37.0, 19.0)] + PIRAEUS_IN
SOUTH_OF_SICILY = GENOA_OUT + [(41.0, 9.95), (39.0, 10.3), (37.6, 11.6), (36.9, 12.6), (36.4, 14.0),
                               (36.35, 14.7), (36.4, 16.5), (36.5, 21.0)] + PIRAEUS_IN
# Gothenburg > Gdansk: through the Oresund (shortest), or the Great Belt (the deep-water route).
BALTIC = [(55.1, 13.8), (54.85, 14.6), (54.85, 15.3), (55.0, 16.5), (54.95, 18.5), (54.9, 19.0), (54.55, 19.0),
          (54.45, 18.75)]
VIA_ORESUND = [(57.6, 11.7), (56.9, 11.8), (56.3, 12.3), (56.15, 12.55), (56.04, 12.66), (55.95, 12.63),
               (55.8, 12.75), (55.65, 12.85), (55.5, 12.75), (55.38, 12.7), (55.25, 13.0)] + BALTIC
VIA_GREAT_BELT = [(57.6, 11.7), (56.9, 11.3), (56.3, 11.2), (55.98, 11.1), (55.74, 10.82), (55.62, 10.95),
                  (55.45, 11.0), (55.3, 11.0), (55.14, 11.0), (54.9, 10.95), (54.7, 11.0), (54.55, 11.5),
                  (54.45, 11.8), (54.45, 12.2), (54.75, 13.0), (55.0, 13.6)] + BALTIC
OFF_LIBYA = (33.6, 14.0)  # 130 nm off the Libyan coast, far from any route Genoa > Piraeus
MMSI = 247123400


def sail(start: str, waypoints: list[tuple[float, float]], knots: float = 12.0, every_h: float = 0.5,
         mmsi: int = MMSI) -> tuple[list[str], datetime]:
    """Pings every every_h hours along the waypoints at a steady speed; and the time after the last."""
    pts = np.asarray(waypoints, dtype=float)
    legs = np.array([distance_nm(*a, *b) for a, b in zip(pts[:-1], pts[1:], strict=True)])
    at = np.arange(0.0, legs.sum(), knots * every_h)
    i = np.minimum(np.searchsorted(np.cumsum(legs), at, side="right"), len(legs) - 1)
    f = ((at - (np.cumsum(legs) - legs)[i]) / legs[i])[:, None]
    track = pts[i] + (pts[i + 1] - pts[i]) * f
    assert not is_land(track[:, 0], track[:, 1]).any(), "a test track runs over land"
    t0 = parse_utc(start)
    lines = [ping(iso(t0 + timedelta(hours=k * every_h)), lat, lon, knots, 0.0, mmsi=mmsi)
             for k, (lat, lon) in enumerate(track)]
    return lines, t0 + timedelta(hours=len(track) * every_h)


def loiter(start: datetime, where: tuple[float, float], hours: float, mmsi: int = MMSI) -> list[str]:
    """Drifting at sea, a report every 20 minutes."""
    return [ping(iso(start + timedelta(minutes=20 * k)), where[0] + 0.001 * (k % 3), where[1], 0.4, 90.0,
                 mmsi=mmsi) for k in range(int(hours * 3) + 1)]


def declare(db: Path, ports: str, departed: str = "2024-03-01T00:00:00Z", mmsi: int = MMSI) -> None:
    result = run_cli(["route", "declare", str(mmsi), ports, "--departed", departed], db)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("ports", "waypoints"), [
    ("Genoa > Piraeus", VIA_MESSINA), ("Genoa > Piraeus", SOUTH_OF_SICILY),
    ("Gothenburg > Gdansk", VIA_ORESUND), ("Gothenburg > Gdansk", VIA_GREAT_BELT),
], ids=["messina", "south-of-sicily", "oresund", "great-belt"])
def test_either_passage_between_the_same_ports_is_reasonable(db: Path, ports: str,
                                                             waypoints: list[tuple[float, float]]) -> None:
    lines, _ = sail("2024-03-01T02:00:00Z", waypoints)
    ingest_lines(db, lines)
    declare(db, ports)
    detect(db, "port_call,route_deviation")
    assert events(db, "route_deviation") == []


def test_round_sicily_is_far_from_the_shortest_route_but_barely_out_of_the_way() -> None:
    """What a single-polyline corridor got wrong: round the south of Sicily a ship is well over
    100 nm from the shortest route (through Messina) for more than a day, yet the voyage is only
    about an eighth longer."""
    genoa, piraeus = resolve_port("Genoa"), resolve_port("Piraeus")
    route = np.array(sea_route([genoa, piraeus]))
    pts = np.array(SOUTH_OF_SICILY)
    offset = distance_to_route_nm(np.zeros(len(pts), int), pts[:, 0], pts[:, 1],
                                  np.zeros(len(route), int), route[:, 0], route[:, 1])
    assert offset.max() > 150
    v = Voyage([(genoa.lat, genoa.lon), (piraeus.lat, piraeus.lon)], [False, False], 1.5)
    detour, _, via = v.measure_legs(pts[:, 0], pts[:, 1])
    assert 90 < detour.max() < 140 and detour.max() / v.legs[0].length_nm < 0.15
    assert np.allclose(np.maximum(via[:, 0] - v.legs[0].length_nm, 0), detour[:, 0], atol=0.01)


def genoa_to_libya_and_on(hours: float) -> tuple[list[str], datetime]:
    """Genoa > round Sicily > 130 nm off Libya, drifting there `hours`, then on to Piraeus;
    and when the drift began."""
    out, t = sail("2024-03-01T02:00:00Z", GENOA_OUT + [(41.0, 9.95), (39.0, 10.3), (37.6, 11.6),
                                                      (36.9, 12.6), (35.0, 13.5), OFF_LIBYA])
    out += loiter(t, OFF_LIBYA, hours)
    back, _ = sail(iso(t + timedelta(hours=hours + 0.5)), [OFF_LIBYA, (35.0, 16.0), (36.4, 19.0),
                                                            (36.5, 21.0)] + PIRAEUS_IN)
    return out + back, t


def test_a_detour_far_off_every_route_is_one_event_with_its_evidence(db: Path) -> None:
    lines, drift = genoa_to_libya_and_on(hours=24)
    ingest_lines(db, lines)
    declare(db, "Genoa > Piraeus")
    detect(db, "port_call,route_deviation")
    (mmsi, _, _, start, end, details), = events(db, "route_deviation")
    d = json.loads(details)
    assert mmsi == MMSI and d["declared_ports"] == "Genoa > Piraeus" and d["leg"] == "Genoa > Piraeus"
    assert 980 < d["leg_nm"] < 1010 and d["route_nm"] == d["leg_nm"] and d["route_avoids"] == []
    # the farthest point is where it drifted: passing there makes the voyage ~30% longer
    assert distance_nm(d["max_detour_lat"], d["max_detour_lon"], *OFF_LIBYA) < 1
    assert 280 < d["max_detour_nm"] < 340
    assert d["max_detour_pct"] == pytest.approx(100 * d["max_detour_nm"] / d["route_nm"], abs=0.1)
    assert d["via_nm"] == pytest.approx(d["route_nm"] + d["max_detour_nm"], abs=0.2)
    way = d["via_waypoints"]
    assert distance_nm(*way[0], 44.4, 8.93) < 10 and distance_nm(*way[-1], 37.94, 23.63) < 10
    assert min(distance_nm(*w, *OFF_LIBYA) for w in way) < 1
    assert 2 < len(way) < 40 and not is_land(np.array(way)[1:-1, 0], np.array(way)[1:-1, 1]).any()
    assert d["max_detour_limit_nm"] == d["min_detour_nm"] == 150
    assert d["shortest_route_offset_nm"] > 150 and 0 < d["sea_room_nm"] < 500
    # the run starts and ends where the detour crosses the limit, before and after the drift
    assert d["start_detour_nm"] > 150 and d["end_detour_nm"] > 150
    assert start < drift and drift + timedelta(hours=24) < end
    assert d["duration_h"] > 24 and d["n_positions"] > 72
    line = run_cli(["vessel", str(MMSI), "--format", "md"], db).output
    assert f"went {d['max_detour_nm']:.0f} nm out of the way ({d['max_detour_pct']:.1f}% longer voyage) for" in line


def test_min_duration_h(db: Path) -> None:
    ingest_lines(db, genoa_to_libya_and_on(hours=2)[0])
    declare(db, "Genoa > Piraeus")
    detect(db, "port_call,route_deviation")
    (_, _, _, _, _, details), = events(db, "route_deviation")
    hours = json.loads(details)["duration_h"]
    result = run_cli(["detect", "--rules", "route_deviation", "--param", f"min_duration_h={hours + 0.1}"], db)
    assert result.exit_code == 0, result.output
    assert events(db, "route_deviation") == []


@pytest.mark.parametrize(("ports", "expected"), [("Genoa > Tripoli? > Piraeus", 0), ("Genoa > Piraeus", 1)])
def test_an_optional_call_is_on_the_way_an_undeclared_one_is_not(db: Path, ports: str, expected: int) -> None:
    tripoli = (32.93, 13.2)
    lines, t = sail("2024-03-01T02:00:00Z", GENOA_OUT + [(41.0, 9.95), (39.0, 10.3), (37.6, 11.6), (36.9, 12.6),
                                                        (34.5, 13.3), (33.1, 13.2), tripoli])
    lines += stay(iso(t), tripoli, hours=12, mmsi=MMSI)
    more, _ = sail(iso(t + timedelta(hours=12.5)), [tripoli, (33.5, 14.5), (35.0, 17.0), (36.4, 20.0),
                                                    (36.5, 21.0)] + PIRAEUS_IN)
    ingest_lines(db, lines + more)
    declare(db, ports)
    detect(db, "port_call,route_deviation")
    assert [e[1] for e in events(db, "port_call")] == ["Mina Tarabulus (Tripoli)"]
    found = events(db, "route_deviation")
    assert len(found) == expected
    if expected:
        assert json.loads(found[0][5])["max_detour_nm"] > 350


def test_after_a_declared_call_the_ship_is_on_the_next_leg(db: Path) -> None:
    """Novorossiysk > Sfax > Douala: off Cyrenaica is barely out of the way to Sfax, but once the
    ship has called at Sfax it is on the leg Sfax > Douala, and going back east is far out of it."""
    cyrenaica = (33.0, 18.5)
    lines = ural_with_sfax_call()
    lines += pings("2018-02-10T00:00:00Z", [(34.9, 11.8), (34.4, 13.8), (33.8, 15.8), (33.3, 17.5), cyrenaica,
                                            cyrenaica, cyrenaica, cyrenaica], every_h=8, mmsi=URAL)
    ingest_lines(db, lines)
    declare(db, "Novorossiysk > Sfax > Douala", DEPARTED, mmsi=URAL)
    detect(db, "port_call,route_deviation")
    (_, _, _, start, _, details), = events(db, "route_deviation")
    d = json.loads(details)
    assert d["leg"] == "Sfax > Douala" and start > parse_utc("2018-02-09T12:00:00Z")  # after the call
    assert distance_nm(d["max_detour_lat"], d["max_detour_lon"], *cyrenaica) < 1 and d["max_detour_nm"] > 600
    # on the first leg, before the call, the same place would be within the limit
    nov, sfax, douala = (resolve_port(p) for p in ("Novorossiysk", "Sfax", "Douala"))
    v = Voyage([(p.lat, p.lon) for p in (nov, sfax, douala)], [False, False, False], 1.5)
    assert [(leg.k, leg.j) for leg in v.legs] == [(0, 1), (1, 2)]
    assert v.measure_legs(np.array([cyrenaica[0]]), np.array([cyrenaica[1]]))[0][0, 0] < d["min_detour_nm"]


def test_shuffled_input_gives_identical_voyage_events(tmp_path: Path) -> None:
    lines = ural_with_sfax_call()
    shuffled = lines[:]
    random.Random(11).shuffle(shuffled)
    results = []
    for name, ls in (("a", lines), ("b", shuffled)):
        db = tmp_path / f"{name}.duckdb"
        ingest_lines(db, ls)
        run_cli(["route", "declare", str(URAL), "Novorossiysk > Douala", "--departed", DEPARTED], db)
        detect(db, "port_call,unplanned_port_call,route_deviation")
        results.append(query(db, "SELECT event_id, kind, start_utc, end_utc, port, lat, lon, details "
                                 "FROM events ORDER BY event_id"))
    assert results[0] == results[1]
    kinds = sorted(r[1] for r in results[0])
    assert kinds.count("unplanned_port_call") == 1 and kinds.count("route_deviation") == 1


# -- sea distances and reasonable routes (shiptrack.detour) ----------------------------------------

def test_sea_distance_goes_round_the_land() -> None:
    genoa = resolve_port("Genoa")
    venice = (45.2, 12.8)  # the Adriatic: 190 nm from Genoa as the crow flies, over the Alps
    src = Sources.of(genoa.lat, genoa.lon)
    joins = graph().attach(np.array([venice[0]]), np.array([venice[1]]))
    d = src.to(np.array([venice[0]]), np.array([venice[1]]), joins)[0]
    assert distance_nm(genoa.lat, genoa.lon, *venice) < 200 and 1050 < d < 1250  # round Italy
    way = np.array(src.waypoints_to(*venice))
    assert min(distance_nm(lat, lon, 38.2, 15.6) for lat, lon in way) < 20  # through Messina
    steps = [distance_nm(*a, *b) for a, b in zip(way[:-1], way[1:], strict=True)]
    assert sum(steps) == pytest.approx(d, rel=0.01)


def test_a_canal_or_a_cape_both_reasonable() -> None:
    """Rotterdam > Shanghai: through Suez and Malacca (shortest), or Sunda, or round the Cape of
    Good Hope; a ship off Cape Town is on a reasonable route, one off Lagos is not."""
    rot, sha = resolve_port("Rotterdam"), resolve_port("Shanghai")
    routes = alternatives((rot.lat, rot.lon), (sha.lat, sha.lon), 1.5)
    assert "suez" in routes[0].passages and 10_000 < routes[0].length_nm < 11_000
    assert all(r.length_nm <= 1.5 * routes[0].length_nm for r in routes)
    cape = [r for r in routes if "suez" not in r.passages and "panama" not in r.passages]
    assert cape and cape[0].length_nm < 1.4 * routes[0].length_nm
    v = Voyage([(rot.lat, rot.lon), (sha.lat, sha.lon)], [False, False], 1.5)
    pts = np.array([(-35.0, 18.0), (20.0, 38.5), (-6.0, 105.8), (5.0, 3.0)])  # Cape, Red Sea, Sunda, Lagos
    detour = v.measure_legs(pts[:, 0], pts[:, 1])[0][:, 0]
    assert (detour[:3] < 20).all() and detour[3] > 400
    only_shortest = Voyage([(rot.lat, rot.lon), (sha.lat, sha.lon)], [False, False], 1.0)
    assert only_shortest.measure_legs(pts[:1, 0], pts[:1, 1])[0][0, 0] > 3000


def test_sea_room_is_the_distance_from_land() -> None:
    lat = np.array([34.72, 32.1, 36.5, 40.0, 45.0])
    lon = np.array([10.8, 17.6, 18.0, -160.0, -30.0])
    room = sea_room_nm(lat, lon, 500.0)
    coast = np.minimum(coast_distance_km(lat, lon) / 1.852, 500.0)
    assert np.all(np.abs(room - coast) <= 25.0 + 0.25 * coast)  # outer circles can miss small islands
    assert room[0] < 20 and room[3] == 500
