"""Declared voyages (route declare/import/list), unplanned_port_call and route_deviation."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from shiptrack.errors import InputError
from shiptrack.reference.land import is_land
from shiptrack.reference.ports import resolve_port
from shiptrack.routes import distance_to_route_nm, parse_declared_ports, sea_route
from shiptrack.units import haversine_nm, parse_utc
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
    steps = [haversine_nm(*a, *b) for a, b in zip(route[:-1], route[1:], strict=True)]
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
    brute = np.array([min(haversine_nm(a, b, *r) for r in route) for a, b in zip(lat, lon, strict=True)])
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

# Novorossiysk > Douala runs west along about 36.3 N between Cape Matapan and Sicily.
ON_ROUTE = [(36.33, 21.0 - 0.25 * i) for i in range(6)]


def excursion(off_hours: int) -> list[str]:
    """On the route, then off_hours of hourly positions 150 nm south of it, then back."""
    lines = pings("2018-02-06T00:00:00Z", ON_ROUTE, every_h=1)
    off = [(33.83, 19.75 - 0.2 * i) for i in range(off_hours + 1)]
    lines += pings("2018-02-06T18:00:00Z", off, every_h=1)
    lines += pings("2018-02-07T18:00:00Z", [(36.34, 18.0 - 0.25 * i) for i in range(4)], every_h=1)
    return lines


@pytest.mark.parametrize(("off_hours", "expected"), [(8, 1), (5, 0)])
def test_far_off_the_route_for_long_enough(db: Path, off_hours: int, expected: int) -> None:
    ingest_lines(db, excursion(off_hours))
    run_cli(["route", "declare", str(URAL), "Novorossiysk > Douala", "--departed", DEPARTED], db)
    detect(db, "port_call,route_deviation")
    found = events(db, "route_deviation")
    assert len(found) == expected
    if expected:
        mmsi, _, _, start, end, details = found[0]
        d = json.loads(details)
        assert mmsi == URAL and start == parse_utc("2018-02-06T18:00:00Z")
        assert end == parse_utc("2018-02-07T02:00:00Z") and d["duration_h"] == 8
        assert 145 < d["max_offset_nm"] < 160 and d["n_positions"] == 9
        assert d["start_offset_nm"] > 100 and d["end_offset_nm"] > 100


def test_shuffled_input_gives_identical_voyage_events(tmp_path: Path) -> None:
    lines = ural_with_sfax_call() + excursion(8)
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
    assert kinds.count("unplanned_port_call") == 1 and kinds.count("route_deviation") >= 1
