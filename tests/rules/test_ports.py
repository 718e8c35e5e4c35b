"""port_call: one event per stay, with hysteresis; user areas replace a port's circle."""

from __future__ import annotations

import json
import math
import random
from datetime import datetime, timedelta
from pathlib import Path

from shiptrack.times import parse_utc
from tests.conftest import ingest_lines, ping, query, run_cli, voyage

SFAX = (34.733333, 10.766667)  # WPI Mersa Sfax; no other WPI port within 30 nm
T0 = parse_utc("2018-02-10T00:00:00Z")
TEN_MIN = timedelta(minutes=10)


def at(d_nm: float, brg_deg: float, base: tuple[float, float] = SFAX) -> tuple[float, float]:
    """The point d_nm from base on bearing brg_deg (flat approximation, fine over a few tens of nm)."""
    lat, lon = base
    return (lat + d_nm * math.cos(math.radians(brg_deg)) / 60,
            lon + d_nm * math.sin(math.radians(brg_deg)) / 60 / math.cos(math.radians(lat)))


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class Track:
    """A vessel's pings every 10 minutes, appended leg by leg."""

    def __init__(self, start: datetime = T0, mmsi: int = 352001234) -> None:
        self.t, self.mmsi, self.lines = start, mmsi, []

    def add(self, where: tuple[float, float], sog: float, cog: float = 0.0, status: int = 0) -> datetime:
        sent = self.t
        self.lines.append(ping(iso(self.t), *where, sog, cog, mmsi=self.mmsi, status=status))
        self.t += TEN_MIN
        return sent

    def sail(self, d_from: float, d_to: float, brg: float, sog: float = 12.0) -> None:
        """Along the bearing line from the port, from d_from to d_to nm out, at sog."""
        step = sog / 6 * (1 if d_to > d_from else -1)
        n = max(1, int(abs(d_to - d_from) / abs(step)))
        for i in range(n + 1):
            self.add(at(d_from + i * step, brg), sog, brg if d_to > d_from else (brg + 180) % 360)

    def stay(self, where: tuple[float, float], hours: float, sog: float = 0.0, status: int = 5) -> tuple:
        """Pings at one place for `hours` (first ping to last); returns (first, last) ping times."""
        first = self.t
        for _ in range(round(hours * 6) + 1):
            last = self.add(where, sog, 0.0, status)
        return first, last


def port_calls(db: Path) -> list[tuple]:
    run = run_cli(["detect", "--rules", "port_call"], db)
    assert run.exit_code == 0, run.output
    return query(db, "SELECT mmsi, port, port_id, start_utc, end_utc, details FROM events "
                     "WHERE kind = 'port_call' ORDER BY mmsi, start_utc")


def close(a: datetime, b: datetime, minutes: float = 10) -> bool:
    return abs((a - b).total_seconds()) <= minutes * 60


def test_passing_a_port_at_speed_is_no_call(db: Path) -> None:
    tr = Track()
    tr.sail(30, 1, 90)  # straight at the port at 12 kn, to 1 nm off
    tr.sail(1, 30, 180)
    ingest_lines(db, tr.lines)
    assert port_calls(db) == []


def test_slow_steaming_far_from_ports_is_no_call(db: Path) -> None:
    tr = Track()
    tr.stay((35.5, 16.0), hours=48, sog=0.6, status=0)  # Ionian Sea, 100+ nm from any port
    ingest_lines(db, tr.lines)
    assert port_calls(db) == []


def anchor_then_berth(mmsi: int = 352001234) -> tuple[Track, datetime, datetime]:
    tr = Track(mmsi=mmsi)
    tr.sail(30, 4.5, 120)
    arrival, _ = tr.stay(at(4, 120), hours=5, sog=0.1, status=1)  # at anchor 4 nm out
    tr.sail(3.5, 0.5, 120, sog=6.0)  # shifting to the berth at 6 kn
    _, departure = tr.stay(at(0.3, 120), hours=48, sog=0.0, status=5)
    tr.sail(1, 30, 120)
    return tr, arrival, departure


def test_anchoring_off_then_berthing_is_one_call(db: Path) -> None:
    tr, arrival, departure = anchor_then_berth()
    lines = tr.lines[:1] + voyage(iso(T0), draught=6.5, destination="SFAX") + tr.lines[1:]
    lines += voyage(iso(departure - timedelta(hours=1)), draught=9.8, destination="DOUALA", seq_id=2)
    ingest_lines(db, lines)
    calls = port_calls(db)
    assert len(calls) == 1
    mmsi, port, port_id, start, end, details = calls[0]
    assert (mmsi, port, port_id) == (352001234, "Mersa Sfax", 45390)
    assert close(start, arrival) and close(end, departure)
    d = json.loads(details)
    assert d["anchored"] and d["moored"] and d["anchored_first"]
    assert d["draught_arrival_m"] == 6.5 and d["draught_departure_m"] == 9.8
    assert d["destination_at_arrival"] == "SFAX" and d["still_in_port"] is False
    assert 0.2 <= d["min_distance_nm"] <= 0.4
    evidence = query(db, "SELECT evidence FROM events WHERE kind = 'port_call'")[0][0]
    assert len(evidence) == 5  # arrival, departure, draught at arrival and departure, destination


def test_still_in_port_at_the_end_of_the_data(db: Path) -> None:
    tr = Track()
    tr.sail(20, 1, 300)
    arrival, last = tr.stay(at(0.3, 300), hours=6)
    ingest_lines(db, tr.lines)
    (_, _, _, start, end, details), = port_calls(db)
    assert close(start, arrival, 0) and close(end, last, 0) and json.loads(details)["still_in_port"] is True


def stay_of(hours: float) -> list[str]:
    tr = Track()
    tr.sail(20, 0.5, 60)
    tr.stay(at(0.3, 60), hours=hours)
    tr.sail(1, 20, 60)
    return tr.lines


def test_min_duration_edges(tmp_path: Path) -> None:
    short, long_ = tmp_path / "short.duckdb", tmp_path / "long.duckdb"
    ingest_lines(short, stay_of(3 + 50 / 60))
    ingest_lines(long_, stay_of(4 + 10 / 60))
    assert port_calls(short) == []
    calls = port_calls(long_)
    assert len(calls) == 1 and abs(json.loads(calls[0][5])["duration_h"] - (4 + 10 / 60)) < 0.01


def test_drifting_at_anchor_inside_the_leave_radius_does_not_split(db: Path) -> None:
    tr = Track()
    tr.sail(25, 4.5, 200)
    arrival, _ = tr.stay(at(4, 200), hours=3, sog=0.2, status=1)
    for i in range(1, 13):  # 2 h drifting out to 6 nm at 1 nm/h, then 2 h back
        tr.add(at(4 + i / 6, 200), 1.0, 200, status=1)
    for i in range(1, 13):
        tr.add(at(6 - i / 6, 200), 1.0, 20, status=1)
    _, departure = tr.stay(at(4, 200), hours=3, sog=0.2, status=1)
    tr.sail(5, 25, 200)
    ingest_lines(db, tr.lines)
    calls = port_calls(db)
    assert len(calls) == 1 and close(calls[0][3], arrival, 0) and close(calls[0][4], departure, 0)


def test_leaving_beyond_the_leave_radius_splits(db: Path) -> None:
    tr = Track()
    tr.sail(25, 4.5, 200)
    tr.stay(at(4, 200), hours=5, sog=0.2, status=1)
    tr.sail(4, 12, 200, sog=2.0)  # slow, but beyond 8 nm: it has left
    tr.sail(12, 4, 200, sog=2.0)
    tr.stay(at(4, 200), hours=5, sog=0.2, status=1)
    ingest_lines(db, tr.lines)
    assert len(port_calls(db)) == 2


def test_a_radius_area_replaces_the_ports_circle(db: Path) -> None:
    tr = Track()
    tr.sail(30, 10.5, 120)
    arrival, departure = tr.stay(at(10, 120), hours=6, sog=0.1, status=1)  # anchorage 10 nm out
    tr.sail(11, 30, 120)
    ingest_lines(db, tr.lines)
    assert port_calls(db) == []  # outside the default 5 nm
    out = run_cli(["areas", "add", "Sfax anchorage", "--port", "Sfax", "--radius-nm", "12"], db)
    assert out.exit_code == 0 and "12 nm circle" in out.output and "Mersa Sfax" in out.output
    calls = port_calls(db)
    assert len(calls) == 1 and calls[0][1] == "Mersa Sfax" and calls[0][2] == 45390
    assert close(calls[0][3], arrival, 0) and json.loads(calls[0][5])["area"] == "Sfax anchorage"
    listed = json.loads(run_cli(["areas", "list", "--format", "json"], db).output)
    assert listed[0]["name"] == "Sfax anchorage" and listed[0]["radius_nm"] == 12.0


def test_a_polygon_area_without_a_port_is_a_place_of_its_own(db: Path, tmp_path: Path) -> None:
    centre = (33.0, 15.0)  # open sea, far from WPI ports
    tr = Track()
    tr.add((33.5, 15.0), 12.0)
    arrival, departure = tr.stay(centre, hours=6, sog=0.2, status=1)
    tr.add((33.5, 15.0), 12.0)
    ingest_lines(db, tr.lines)
    ring = [[14.9, 32.9], [15.1, 32.9], [15.1, 33.1], [14.9, 33.1], [14.9, 32.9]]
    path = tmp_path / "zone.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {},
                                "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    assert run_cli(["areas", "add", "STS zone", "--geojson", path], db).exit_code == 0
    calls = port_calls(db)
    assert len(calls) == 1 and calls[0][1] == "STS zone" and calls[0][2] is None
    assert close(calls[0][3], arrival, 0) and close(calls[0][4], departure, 0)
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "Point", "coordinates": [15, 33]}')
    result = run_cli(["areas", "add", "bad", "--geojson", bad], db)
    assert result.exit_code == 1 and "no Polygon" in result.output


def test_shuffled_input_gives_identical_calls(tmp_path: Path) -> None:
    tr, _, _ = anchor_then_berth()
    other, _, _ = anchor_then_berth(mmsi=352009999)
    lines = tr.lines + other.lines
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    ingest_lines(a, lines)
    ingest_lines(b, shuffled)
    sql = "SELECT event_id, mmsi, start_utc, end_utc, port, lat, lon, details FROM events ORDER BY event_id"
    assert port_calls(a) == port_calls(b)
    assert query(a, sql) == query(b, sql) and len(query(a, sql)) == 2


def test_ports_command_finds_by_name_and_locode() -> None:
    out = json.loads(run_cli(["ports", "Sfax", "--format", "json", "--limit", "3"]).output)
    assert out[0]["name"] == "Mersa Sfax" and out[0]["locode"] == "TNSFA" and out[0]["country"] == "Tunisia"
    out = json.loads(run_cli(["ports", "LY BEN", "--format", "json"]).output)
    assert out[0]["name"] == "Banghazi" and abs(out[0]["lat"] - 32.116667) < 1e-6
    csv_out = run_cli(["ports", "Douala", "--format", "csv"]).output
    assert csv_out.splitlines()[0].startswith("port_id,name,country,locode,lat,lon")


def test_a_call_across_years_of_silence_gives_no_length(db: Path) -> None:
    """AMSA's two real snapshots, 2012-01-27 and 2014-12-31: BOODARIE, a tug, is at Port
    Hedland in both, unheard for the 25,657 h between. The call's finding does not say it
    stayed that long: it may have left and come back. A call heard throughout (the Ural's)
    keeps its length."""
    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "nmea"
    result = run_cli(["ingest", fixtures / "ais.head12000.txt", fixtures / "nmea-timestamped.txt"], db)
    assert result.exit_code == 0, result.output
    assert run_cli(["detect", "--rules", "port_call"], db).exit_code == 0
    calls = json.loads(run_cli(["events", "--kind", "port_call", "--format", "json"], db).output)
    (tug,) = [e for e in calls if e["mmsi"] == 503513000]
    assert tug["details"]["longest_gap_h"] > 25_000
    assert tug["finding"] == ("at Port Hedland when heard, 25,657.2 h apart, but not heard at all for 25,657.2 h of "
                              "that: how long it stayed, and whether it left and came back, is unknown")
    assert all(e["finding"].startswith(f"at {e['port']} when heard") for e in calls)  # all 8 span the years
    ural = db.parent / "ural.duckdb"  # the Ural's calls, heard throughout
    assert run_cli(["ingest", fixtures.parent / "ural" / "ural.nmea"], ural).exit_code == 0
    assert run_cli(["detect", "--rules", "port_call"], ural).exit_code == 0
    heard = json.loads(run_cli(["events", "--kind", "port_call", "--format", "json"], ural).output)
    assert heard and all(e["details"]["longest_gap_h"] < 6 for e in heard)
    assert all(e["finding"] == f"called at {e['port']} for {e['duration_h']:.1f} h" for e in heard)
