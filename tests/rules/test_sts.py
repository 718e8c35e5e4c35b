"""sts_encounter: two slow vessels close together, away from ports, for hours."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from shiptrack.reference.ports import ports_frame
from tests.conftest import ingest_lines, ping, query, run_cli

A, B, C = 352001234, 613004321, 273000555
T0 = datetime(2018, 2, 10, 0, 3, tzinfo=UTC)  # pings every 10 min, one per 10-minute bucket
M_PER_DEG = 111_195.0
# 49.9 km west of Banghazi's WPI point (32.116667 N, 20.05 E), open sea
SEA = (32.1167, 19.52)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def track(mmsi: int, minutes: int, lat: float, lon: float, sog: float = 0.5, *, offset_s: int = 0,
          skip: range = range(0), step_min: int = 10) -> list[str]:
    """A vessel holding (lat, lon) at `sog`, a ping every step_min from T0 to T0 + minutes."""
    return [ping(iso(T0 + timedelta(minutes=m, seconds=offset_s)), lat, lon, sog, mmsi=mmsi)
            for m in range(0, minutes + 1, step_min) if m not in skip]


def pair(minutes: int = 130, sep_m: float = 300, sog: float = 0.5, other_sog: float = 0.5,
         at: tuple[float, float] = SEA, east: bool = False, skip: range = range(0)) -> list[str]:
    lat, lon = at
    if east:
        olat, olon = lat, lon + sep_m / (M_PER_DEG * math.cos(math.radians(lat)))
    else:
        olat, olon = lat + sep_m / M_PER_DEG, lon
    return track(A, minutes, lat, lon, sog) + track(B, minutes, olat, olon, other_sog, offset_s=20, skip=skip)


def detect(db: Path, *params: str) -> list[tuple]:
    args = ["detect", "--rules", "sts_encounter"]
    for p in params:
        args += ["--param", p]
    result = run_cli(args, db)
    assert result.exit_code == 0, result.output
    return query(db, "SELECT mmsi, other_mmsi, start_utc, end_utc, duration_h, port, port_distance_nm, details, "
                     "evidence FROM events WHERE kind = 'sts_encounter' ORDER BY start_utc, mmsi, other_mmsi")


def test_two_slow_vessels_300_m_apart_for_2h10_meet_once(db: Path) -> None:
    ingest_lines(db, pair(minutes=130))
    events = detect(db)
    assert len(events) == 1
    mmsi, other, start, end, duration_h, port, port_nm, details, evidence = events[0]
    assert (mmsi, other) == (A, B)
    # start and end are the later of the two bucket positions: exact here (one ping per bucket)
    assert start == T0 + timedelta(seconds=20) and end == T0 + timedelta(minutes=130, seconds=20)
    assert duration_h == pytest.approx(130 / 60, abs=0.01)
    assert port == "Banghazi" and port_nm == pytest.approx(49.9 / 1.852, abs=0.5)
    d = json.loads(details)
    assert d["other_mmsi"] == B and d["min_separation_m"] == pytest.approx(300, abs=2)
    assert d["mean_separation_m"] == pytest.approx(300, abs=2)
    assert d["nearest_port"] == "Banghazi" and d["nearest_port_distance_km"] == pytest.approx(49.9, abs=0.5)
    assert d["start_position"] == {"utc": iso(T0), "lat": SEA[0], "lon": SEA[1], "sog_kn": 0.5, "nav_status": 0}
    assert d["end_other_position"]["utc"] == iso(T0 + timedelta(minutes=130, seconds=20))
    assert d["buckets"] == 14 and d["filled_buckets"] == 0
    # evidence: both vessels' first and last pings (A's on odd lines 1.., B's after A's 14)
    assert [(e["source_id"], e["line_no"]) for e in evidence] == [(1, 1), (1, 15), (1, 14), (1, 28)]


def test_1h50_together_is_too_short(db: Path) -> None:
    ingest_lines(db, pair(minutes=110))
    assert detect(db) == []
    assert len(detect(db, "min_duration_h=1.5")) == 1


@pytest.mark.parametrize(("west_km", "found"), [(5.0, 0), (9.0, 0), (11.0, 1)])
def test_near_a_port_is_not_an_encounter(db: Path, west_km: float, found: int) -> None:
    """Banghazi's WPI point is 32.116667 N 20.05 E; the pair waits `west_km` west of it."""
    lon = 20.05 - west_km / (M_PER_DEG / 1000 * 0.8470)  # cos(32.1167 deg)
    ingest_lines(db, pair(at=(32.116667, lon)))
    events = detect(db)
    assert len(events) == found
    if found:
        assert events[0][5] == "Banghazi" and json.loads(events[0][7])["nearest_port_distance_km"] == \
            pytest.approx(west_km, abs=0.2)


def test_a_vessel_passing_at_8_kn_is_not_an_encounter(db: Path) -> None:
    lat, lon = SEA
    lines = track(A, 130, lat, lon)
    # B steams east at 8 kn past A, 300 m to the north: within 500 m for a few minutes only
    for m in range(0, 131, 2):
        x = (m - 65) / 60 * 8 * 1852 / (M_PER_DEG * 0.847)
        lines.append(ping(iso(T0 + timedelta(minutes=m, seconds=20)), lat + 300 / M_PER_DEG, lon + x, 8.0, mmsi=B))
    ingest_lines(db, lines)
    assert detect(db) == []


@pytest.mark.parametrize(("other_sog", "found"), [(1.9, 1), (2.1, 0), (8.0, 0)])
def test_both_must_be_slow(db: Path, other_sog: float, found: int) -> None:
    ingest_lines(db, pair(other_sog=other_sog))
    assert len(detect(db)) == found


@pytest.mark.parametrize(("sep_m", "found"), [(450, 1), (550, 0), (700, 0)])
def test_separation_threshold(db: Path, sep_m: float, found: int) -> None:
    ingest_lines(db, pair(sep_m=sep_m))
    assert len(detect(db)) == found


def test_neighbouring_grid_cells_at_high_latitude(db: Path) -> None:
    """At 72 N, 0.01 degree of longitude is 344 m: a pair 450 m apart east-west is two cells apart."""
    ingest_lines(db, pair(sep_m=450, at=(72.0, 40.0), east=True))
    events = detect(db)
    assert len(events) == 1 and json.loads(events[0][7])["min_separation_m"] == pytest.approx(450, abs=3)
    # the nearest port is over 100 km away, outside the 1-degree block search: the fallback
    # measures every port, and agrees with brute force
    ports = ports_frame()
    la, lo = np.radians(ports["lat"].to_numpy()), np.radians(ports["lon"].to_numpy())
    lat, lon = np.radians(72.0), np.radians(40.0 + 225 / (M_PER_DEG * math.cos(math.radians(72.0))))
    h = np.sin((la - lat) / 2) ** 2 + np.cos(la) * np.cos(lat) * np.sin((lo - lon) / 2) ** 2
    km = 2 * 6371.0088 * np.arcsin(np.sqrt(h))
    assert km.min() > 100
    assert events[0][5] == ports["name"][int(km.argmin())]
    assert json.loads(events[0][7])["nearest_port_distance_km"] == pytest.approx(km.min(), abs=1.0)


def test_a_few_lost_reports_do_not_split_a_meeting(db: Path) -> None:
    ingest_lines(db, pair(skip=range(60, 80)))  # B silent for 30 min: its last position stands in
    events = detect(db)
    assert len(events) == 1
    d = json.loads(events[0][7])
    assert d["buckets"] == 14 and d["filled_buckets"] == 2


def test_a_long_silence_splits_a_meeting(db: Path) -> None:
    ingest_lines(db, pair(skip=range(60, 110)))  # B silent for 60 min: two meetings of about 1 h
    assert detect(db) == []
    assert len(detect(db, "max_fill_min=60")) == 1


def test_one_vessel_meeting_two_gives_one_event_per_pair(db: Path) -> None:
    lat, lon = SEA
    lines = pair() + track(C, 130, lat - 300 / M_PER_DEG, lon, offset_s=40)
    ingest_lines(db, lines)
    # the lower MMSI carries the event; B and C are 600 m apart: no encounter between them
    assert [(e[0], e[1]) for e in detect(db)] == [(A, B), (C, A)]


def test_shuffled_input_gives_identical_events(db: Path, tmp_path: Path) -> None:
    lines = pair() + track(C, 130, SEA[0] - 300 / M_PER_DEG, SEA[1], offset_s=40)
    ingest_lines(db, lines)
    expected = [e[:8] for e in detect(db)]
    assert len(expected) == 2
    random.Random(3).shuffle(lines)
    other = tmp_path / "shuffled" / "s.duckdb"
    other.parent.mkdir()
    ingest_lines(other, lines[40:], name="b.nmea")
    ingest_lines(other, lines[:40], name="a.nmea")
    assert [e[:8] for e in detect(other)] == expected
    ids = "SELECT event_id FROM events ORDER BY event_id"
    assert query(other, ids) == query(db, ids)
