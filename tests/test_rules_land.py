"""position_on_land: positions more than 5 km inland, grouped into runs; ships in port are not."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from shiptrack.reference.land import inland_distance_km
from shiptrack.rules.position_on_land import deep_inland_km
from tests.conftest import ingest_lines, ping, query, run_cli

SEA = (32.2, 19.9)  # off Banghazi
INLAND_20KM = [(32.0, 20.2), (32.0, 20.21)]  # 19.7 and 20.5 km inland, east of Banghazi
WPI = {"Banghazi": (32.116667, 20.05), "Mersa Sfax": (34.733333, 10.766667),
       "Novorossiysk": (44.716667, 37.783333), "Hamburg": (53.55, 9.933333)}


def t(hh_mm: str) -> str:
    return f"2018-02-10T{hh_mm}:00Z"


def detect(db: Path, *params: str) -> list[tuple]:
    args = ["detect", "--rules", "position_on_land"]
    for p in params:
        args += ["--param", p]
    result = run_cli(args, db)
    assert result.exit_code == 0, result.output
    return query(db, "SELECT mmsi, strftime(start_utc, '%H:%M'), strftime(end_utc, '%H:%M'), lat, lon, port, "
                     "details, evidence FROM events WHERE kind = 'position_on_land' ORDER BY mmsi, start_utc")


def test_position_20_km_inland_in_libya_gives_one_event(db: Path) -> None:
    ingest_lines(db, [ping(t("00:00"), *SEA), ping(t("01:00"), *INLAND_20KM[0], 0.0),
                      ping(t("01:10"), *INLAND_20KM[1], 0.0), ping(t("02:00"), *SEA)])
    events = detect(db)
    assert len(events) == 1
    mmsi, start, end, lat, lon, port, details, evidence = events[0]
    assert (mmsi, start, end, (lat, lon), port) == (352001234, "01:00", "01:10", INLAND_20KM[0], "Banghazi")
    d = json.loads(details)
    assert d["positions"] == 2
    # measured to the bundled Natural Earth coastline; tolerance for a rebuilt coastline
    assert d["max_inland_km"] == pytest.approx(20.5, abs=1.0)
    assert d["first_position"]["inland_km"] == pytest.approx(19.7, abs=1.0)
    assert d["deepest_position"]["utc"] == "2018-02-10T01:10:00Z"
    assert d["previous_position"] == {"utc": "2018-02-10T00:00:00Z", "lat": SEA[0], "lon": SEA[1]}
    assert d["jump_km"] == pytest.approx(36.0, abs=0.5) and d["jump_implied_speed_kn"] == pytest.approx(19.4, abs=0.3)
    assert d["reference_port"] == "Banghazi" and d["reference_port_inland_km"] == 0.0
    assert [(e["source_id"], e["line_no"]) for e in evidence] == [(1, 2), (1, 3)]


def test_ships_berthed_at_wpi_points_on_land_are_not_flagged(db: Path) -> None:
    """Mersa Sfax's and Novorossiysk's WPI points lie 0.9 and 0.3 km inside the coastline."""
    lines = []
    for i, name in enumerate(["Banghazi", "Mersa Sfax", "Novorossiysk"]):
        lines += [ping(t(f"0{h}:00"), *WPI[name], 0.0, mmsi=273000100 + i) for h in range(6)]
    ingest_lines(db, lines)
    assert detect(db) == []


@pytest.mark.parametrize(("lon", "found"), [(20.08, 0), (20.10, 1)])  # 4.6 and 6.2 km inland
def test_threshold_5_km(db: Path, lon: float, found: int) -> None:
    ingest_lines(db, [ping(t("00:00"), *SEA), ping(t("01:00"), 32.1, lon, 0.0)])
    assert len(detect(db)) == found


def test_consecutive_inland_positions_make_one_event_per_run(db: Path) -> None:
    coastal = (32.1, 20.07)  # on land but 3.7 km from the coast: not deep, ends a run
    lines = [ping(t("00:00"), *SEA), ping(t("01:00"), *INLAND_20KM[0]), ping(t("01:10"), *INLAND_20KM[1]),
             ping(t("01:20"), *coastal), ping(t("01:30"), *INLAND_20KM[0]), ping(t("01:40"), *INLAND_20KM[1]),
             ping(t("01:50"), *INLAND_20KM[0]), ping(t("03:00"), *SEA), ping(t("04:00"), *INLAND_20KM[1])]
    ingest_lines(db, lines)
    events = detect(db)
    assert [(e[1], e[2], json.loads(e[6])["positions"]) for e in events] == [
        ("01:00", "01:10", 2), ("01:30", "01:50", 3), ("04:00", "04:00", 1)]
    assert [len(e[7]) for e in events] == [2, 3, 1]  # first (+ deepest) (+ last)


def test_river_ports_set_the_threshold_around_them(db: Path) -> None:
    """Hamburg's WPI point is 6.7 km inland (the coastline ignores the Elbe): a ship berthed
    there is not flagged, one 31 km inland nearby is."""
    ingest_lines(db, [ping(t(f"0{h}:00"), *WPI["Hamburg"], 0.0, mmsi=211000001) for h in range(3)]
                 + [ping(t("05:00"), 53.6, 10.3, 0.0, mmsi=211000002)])
    events = detect(db)
    assert [(e[0], e[1]) for e in events] == [(211000002, "05:00")]
    d = json.loads(events[0][6])
    assert d["max_inland_km"] == pytest.approx(31.5, abs=1.0) and d["reference_port_inland_km"] > 5
    assert [(e[0], e[1]) for e in detect(db, "inland_port_radius_km=0")] == [
        (211000001, "00:00"), (211000002, "05:00")]


def test_shuffled_input_gives_identical_events(db: Path, tmp_path: Path) -> None:
    lines = [ping(t("00:00"), *SEA), ping(t("01:00"), *INLAND_20KM[0]), ping(t("01:10"), *INLAND_20KM[1]),
             ping(t("02:00"), *SEA), ping(t("03:00"), *INLAND_20KM[1])]
    lines += [ping(t(f"0{h}:30"), *WPI["Mersa Sfax"], 0.0, mmsi=672000001) for h in range(4)]
    ingest_lines(db, lines)
    expected = detect(db)
    assert len(expected) == 2
    random.Random(5).shuffle(lines)
    other = tmp_path / "shuffled" / "s.duckdb"
    other.parent.mkdir()
    ingest_lines(other, lines[5:], name="b.nmea")
    ingest_lines(other, lines[:5], name="a.nmea")
    got = detect(other)
    assert [e[:7] for e in got] == [e[:7] for e in expected]
    ids = "SELECT event_id FROM events ORDER BY event_id"
    assert query(other, ids) == query(db, ids)


def test_cell_bound_never_changes_the_answer() -> None:
    """deep_inland_km skips points by a Lipschitz bound per cell and measures each 0.0005-degree
    spot once: it must agree with measuring every point, to 40 m."""
    rng = np.random.default_rng(11)
    centres = np.array([[32.1, 20.07], [32.1, 20.1], [32.05, 20.15], [34.74, 10.76], [53.55, 9.93]])
    clustered = centres[rng.integers(0, len(centres), 1500)] + rng.normal(0, 0.01, (1500, 2))
    scattered = np.column_stack([rng.uniform(31.5, 33.0, 500), rng.uniform(19.5, 21.5, 500)])
    pts = np.vstack([clustered, scattered])
    exact = inland_distance_km(pts[:, 0], pts[:, 1])
    fast = deep_inland_km(pts[:, 0], pts[:, 1], 5.0)
    clear = np.abs(exact - 5.0) > 0.04  # points within 40 m of the threshold may fall either way
    assert np.array_equal((fast > 5.0)[clear], (exact > 5.0)[clear])
    assert np.abs(fast[fast > 5.0] - exact[fast > 5.0]).max() <= 0.04
    assert 100 < int((exact > 5.0).sum()) < 1900  # both sides of the threshold are exercised


def test_a_sudden_jump_inland_is_one_event_whatever_the_segments(db: Path) -> None:
    """36 km in 5 minutes: the track segmenter sets the inland fixes aside as bad fixes (own
    segments), but they are still one run of this MMSI's reports."""
    lines = [ping(t("00:50"), *SEA), ping(t("00:55"), *SEA), ping(t("01:00"), *INLAND_20KM[0]),
             ping(t("01:01"), *INLAND_20KM[1]), ping(t("01:05"), *SEA), ping(t("01:10"), *SEA)]
    ingest_lines(db, lines)
    events = detect(db)
    assert [(e[1], e[2], json.loads(e[6])["positions"]) for e in events] == [("01:00", "01:01", 2)]
    assert json.loads(events[0][6])["jump_implied_speed_kn"] > 200
