"""position_on_land: inland water is water; only what the track makes implausible is reported.

Tracks are built with ``ping()`` on real coordinates: Natural Earth's centre-line of the
Neva, its Loch Ness polygon and Mississippi line, and, for the Kiel Canal (on no map we
bundle), the positions two ships reported in the canal in DMA's stream sample
(fixtures: dma-aislib/stream_example.txt) and the WPI point of Rendsburg.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from shiptrack.reference.land import inland_distance_km
from shiptrack.reference.ports import ports_frame
from shiptrack.reference.water import inland_water_km
from shiptrack.rules.position_on_land import MEASURE_SLACK_KM, Maps, classify, deep_inland_km
from tests.conftest import ingest_lines, ping, query, run_cli

SEA = (32.2, 19.9)  # off Banghazi
INLAND_20KM = [(32.0, 20.2), (32.0, 20.21)]  # 19.7 and 20.5 km inland, east of Banghazi
INLAND_30KM = (31.93, 20.27)  # 29 km inland, 47 km from SEA
WPI = {"Banghazi": (32.116667, 20.05), "Mersa Sfax": (34.733333, 10.766667),
       "Novorossiysk": (44.716667, 37.783333), "Hamburg": (53.55, 9.933333)}
T0 = datetime(2018, 2, 10, tzinfo=UTC)

# Natural Earth 1:10m centre-line of the Neva, Shlisselburg to St Petersburg
NEVA = [(59.951, 31.0427), (59.9416, 31.0089), (59.923, 30.995), (59.8889, 30.9897), (59.8593, 30.9612),
        (59.8474, 30.9356), (59.7977, 30.7705), (59.7993, 30.7), (59.8085, 30.6608), (59.8958, 30.4835),
        (59.9265, 30.4429), (59.9576, 30.3901), (59.9545, 30.3379)]
# along Loch Ness (inside Natural Earth's polygon), Fort Augustus to Dores
LOCH_NESS = [(57.155, -4.665), (57.22, -4.56), (57.28, -4.47), (57.33, -4.41), (57.385, -4.345)]
# the Mississippi below Vicksburg, on Natural Earth's centre-line
MISSISSIPPI = [(32.3471, -90.9392), (32.3067, -90.9212), (32.1475, -91.0323), (32.121, -91.0997), (32.014, -91.0915),
               (31.9689, -91.1761), (31.8816, -91.2576), (31.8406, -91.3515), (31.7208, -91.4084)]
# the Kiel Canal: two ships heard in the canal by the DMA (2010-06-11), then Rendsburg (WPI)
KIEL_CANAL = [(54.165062, 9.41812), (54.238317, 9.609815), (54.3, 9.683333)]


def t(hh_mm: str) -> str:
    return f"2018-02-10T{hh_mm}:00Z"


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = np.radians(a[0]), np.radians(b[0])
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(b[1] - a[1]) / 2) ** 2
    return float(2 * 6371.0088 * np.arcsin(np.sqrt(h)))


def along(waypoints: list[tuple[float, float]], step_km: float) -> list[tuple[float, float]]:
    """Points every ``step_km`` along the polyline through ``waypoints``."""
    out = [waypoints[0]]
    for a, b in zip(waypoints[:-1], waypoints[1:], strict=True):
        n = max(1, int(np.ceil(_km(a, b) / step_km)))
        out += [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(1, n + 1)]
    return out


def sail(points: list[tuple[float, float]], speed_kn: float = 8.0, start_min: float = 0.0,
         mmsi: int = 352001234) -> list[tuple[float, tuple[float, float], str]]:
    """(minute, position, NMEA line) of a ship moving through ``points`` at ``speed_kn``."""
    out, minute = [], start_min
    for i, p in enumerate(points):
        if i:
            minute += _km(points[i - 1], p) / 1.852 / speed_kn * 60.0
        out.append((minute, p, ping(at(minute), *p, speed_kn, mmsi=mmsi)))
    return out


def detect(db: Path, *params: str) -> list[tuple]:
    args = ["detect", "--rules", "position_on_land"]
    for p in params:
        args += ["--param", p]
    result = run_cli(args, db)
    assert result.exit_code == 0, result.output
    return query(db, "SELECT mmsi, strftime(start_utc, '%H:%M'), strftime(end_utc, '%H:%M'), lat, lon, port, "
                     "details, evidence FROM events WHERE kind = 'position_on_land' ORDER BY mmsi, start_utc")


def drift(p: tuple[float, float], m: int) -> tuple[float, float]:
    """``p`` moved north by 11 m a minute (identical reports a minute apart could be merged
    as one message heard twice)."""
    return (round(p[0] + m * 0.0001, 6), p[1])


def spike(before_after: tuple[float, float], inland: tuple[float, float], mmsi: int = 352001234) -> list[str]:
    """A ship drifting at ``before_after``, reporting every minute, one fix (minute 5) at ``inland``."""
    return [ping(at(m), *(inland if m == 5 else drift(before_after, m)), 0.5, mmsi=mmsi) for m in range(11)]


# ---------------------------------------------------------------- what is reported


def test_an_isolated_fix_30_km_inland_and_back_is_flagged_with_its_evidence(db: Path) -> None:
    ingest_lines(db, spike(SEA, INLAND_30KM))
    events = detect(db)
    assert len(events) == 1
    mmsi, start, end, lat, lon, port, details, evidence = events[0]
    assert (mmsi, start, end, (lat, lon), port) == (352001234, "00:05", "00:05", INLAND_30KM, "Banghazi")
    d = json.loads(details)
    assert d["reason"] == "isolated_fix_inland" and d["positions"] == 1
    # measured to the bundled Natural Earth coastline; tolerance for a rebuilt coastline
    assert d["max_inland_km"] == pytest.approx(29.1, abs=1.0)
    assert d["water_distance_km"] == d["max_inland_km"] and d["nearest_water"]["kind"] == "coast"
    assert d["previous_position"] == {"utc": "2018-02-10T00:04:00Z", "lat": 32.2004, "lon": SEA[1], "sog_kn": 0.5}
    assert d["next_position"]["utc"] == "2018-02-10T00:06:00Z"
    jump = _km(SEA, INLAND_30KM)
    assert d["jump_in_km"] == pytest.approx(jump, abs=0.1) and d["jump_out_km"] == pytest.approx(jump, abs=0.1)
    assert d["jump_in_speed_kn"] == pytest.approx(jump / 1.852 * 60, rel=0.01) and d["jump_out_speed_kn"] > 1000
    assert d["before_to_after_km"] == pytest.approx(0.02, abs=0.005)  # the ship drifted 22 m
    # the position before, the fix, the position after
    assert [(e["source_id"], e["line_no"]) for e in evidence] == [(1, 5), (1, 6), (1, 7)]
    dossier = run_cli(["vessel", "352001234", "--format", "json"], db)
    assert dossier.exit_code == 0, dossier.output
    [summary] = [e["summary"] for e in json.loads(dossier.output)["timeline"] if e["kind"] == "position_on_land"]
    assert summary == ("a fix jumped onto land and back: 29 km inland, 29 km from any mapped water "
                       f"(implied {d['jump_in_speed_kn']:.0f} kn)")


def test_a_track_far_from_any_water_is_flagged(db: Path) -> None:
    """A ship moving steadily through the Libyan desert, 380 km from the sea and 1,000 km from
    any mapped river or lake: consistent, and impossible."""
    desert = along([(27.0, 20.0), (27.0, 20.3)], 2.0)
    lines = [line for _, _, line in sail(desert, 10.0)]
    lines.append(ping(at(600), 27.2, 19.5, 0.0, mmsi=273000001))  # a lone fix, nothing around it
    ingest_lines(db, lines)
    events = detect(db)
    assert [(e[0], json.loads(e[6])["reason"], json.loads(e[6])["positions"]) for e in events] == [
        (273000001, "track_far_from_water", 1), (352001234, "track_far_from_water", len(desert))]
    d = json.loads(events[1][6])
    assert d["water_distance_km"] > 300 and d["nearest_water"]["kind"] == "coast"
    assert d["first_position"]["water_km"] >= d["water_distance_km"]
    evidence = [(e["source_id"], e["line_no"]) for e in events[1][7]]
    assert evidence[0] == (1, 1) and evidence[-1] == (1, len(desert))  # first (deepest) last
    assert detect(db, "far_from_water_km=400") == []


@pytest.mark.parametrize(("lon", "found"), [(20.08, 0), (20.10, 1)])  # 4.6 and 6.2 km inland
def test_coast_threshold_5_km(db: Path, lon: float, found: int) -> None:
    ingest_lines(db, spike(SEA, (32.1, lon)))
    assert len(detect(db)) == found


def test_consecutive_isolated_fixes_make_one_event_each(db: Path) -> None:
    """Two fixes inland in a row, back at sea, then a single one: two events."""
    lines = [ping(at(m), *drift(SEA, m), 0.5) for m in range(4)]
    lines += [ping(at(4), *INLAND_20KM[0]), ping(at(5), *INLAND_20KM[1])]
    lines += [ping(at(m), *drift(SEA, m), 0.5) for m in range(6, 10)]
    lines += [ping(at(10), *INLAND_30KM)] + [ping(at(m), *drift(SEA, m), 0.5) for m in range(11, 14)]
    ingest_lines(db, lines)
    events = detect(db)
    assert [(e[1], e[2], json.loads(e[6])["positions"]) for e in events] == [("00:04", "00:05", 2),
                                                                              ("00:10", "00:10", 1)]
    assert [len(e[7]) for e in events] == [4, 3]  # before, first, last, after / before, fix, after
    assert {json.loads(e[6])["reason"] for e in events} == {"isolated_fix_inland"}


def test_a_jump_of_more_than_max_isolated_fixes_is_not_isolated(db: Path) -> None:
    lines = [ping(at(m), *drift(SEA, m), 0.5) for m in range(4)]
    lines += [ping(at(m), *INLAND_20KM[m % 2]) for m in range(4, 8)]  # four fixes inland
    lines += [ping(at(m), *drift(SEA, m), 0.5) for m in range(8, 11)]
    ingest_lines(db, lines)
    assert detect(db) == []
    assert [json.loads(e[6])["positions"] for e in detect(db, "max_isolated_fixes=4")] == [4]


def test_a_sudden_jump_inland_is_one_event_whatever_the_segments(db: Path) -> None:
    """36 km in 5 minutes: the track segmenter sets the inland fixes aside as bad fixes (own
    segments), but they are still one run of this MMSI's reports."""
    lines = [ping(t("00:50"), *SEA), ping(t("00:55"), *SEA), ping(t("01:00"), *INLAND_20KM[0]),
             ping(t("01:01"), *INLAND_20KM[1]), ping(t("01:05"), *SEA), ping(t("01:10"), *SEA)]
    ingest_lines(db, lines)
    events = detect(db)
    assert [(e[1], e[2], json.loads(e[6])["positions"]) for e in events] == [("01:00", "01:01", 2)]
    assert json.loads(events[0][6])["jump_in_speed_kn"] > 200


# ---------------------------------------------------------------- inland water is water


@pytest.mark.parametrize("waterway", ["Neva", "Loch Ness", "Kiel Canal", "Mississippi"])
def test_ships_on_rivers_lakes_and_canals_are_not_flagged(db: Path, waterway: str) -> None:
    waypoints = {"Neva": NEVA, "Loch Ness": LOCH_NESS, "Kiel Canal": KIEL_CANAL, "Mississippi": MISSISSIPPI}
    points = along(waypoints[waterway], 1.0)
    lat, lon = np.array(points).T
    assert (inland_distance_km(lat, lon) > 5).mean() > 0.5  # the coastline calls them inland
    if waterway == "Kiel Canal":  # on no bundled map: the track alone says it is water
        assert (inland_water_km(lat, lon).km > 3.5).mean() > 0.8
    else:
        assert inland_water_km(lat, lon).km.max() < 3.0
    ingest_lines(db, [line for _, _, line in sail(points, 8.0)])
    assert detect(db) == []


def test_inland_water_is_water_even_after_a_jump(db: Path) -> None:
    """A fix on the Neva, 40 km from a ship in the Gulf of Finland a minute before and after,
    is a bad fix, but not a position on land."""
    ingest_lines(db, spike((60.05, 29.5), (59.8085, 30.6608)))
    assert detect(db) == []


def test_water_margin(db: Path) -> None:
    """A fix 5.3 km from the Neva's centre-line (32 km inland) jumps off a ship on the river."""
    lines = [line for m, _, line in sail(along(NEVA[6:10], 0.5), 8.0) if m < 60]
    last_minute = (len(lines) - 1) * 0.5 / 1.852 / 8.0 * 60
    glitch = ping(at(last_minute / 2 + 0.01), 59.75, 30.70, 8.0)
    ingest_lines(db, [*lines, glitch])
    events = detect(db)
    assert [json.loads(e[6])["reason"] for e in events] == ["isolated_fix_inland"]
    d = json.loads(events[0][6])
    assert d["water_distance_km"] == pytest.approx(5.3, abs=0.3)
    assert d["nearest_water"] == {"kind": "river", "name": "Neva"}
    assert detect(db, "water_margin_km=6") == []


def test_a_consistent_track_is_navigating_where_no_map_shows_water(db: Path) -> None:
    """Maps miss canals: a ship that moves from the sea 40 km inland at 10 kn and back is not
    flagged (here in Libya, where there is no canal; what the rule cannot know)."""
    points = along([SEA, (31.75, 20.45)], 1.0)
    ingest_lines(db, [line for _, _, line in sail(points + points[::-1][1:], 10.0)])
    assert inland_distance_km(31.75, 20.45) > 40
    assert detect(db) == []


def test_a_glitch_off_a_track_on_an_unmapped_canal_is_flagged(db: Path) -> None:
    """The Kiel Canal is on no map we bundle, but a fix 30 km off a ship's steady track there,
    straight back, is a jump onto land."""
    track = sail(along(KIEL_CANAL, 0.5), 8.0)
    minute, (la, lo), _ = track[len(track) // 2]
    farm = (la - 0.27, lo + 0.05)  # 30 km south, in Holstein farmland
    assert inland_water_km(*farm).km > 10
    ingest_lines(db, [line for _, _, line in track] + [ping(at(minute + 0.5), *farm, 8.0)])
    events = detect(db)
    assert [(json.loads(e[6])["reason"], json.loads(e[6])["positions"]) for e in events] == [
        ("isolated_fix_inland", 1)]


def test_a_report_with_a_wrong_time_on_an_unmapped_canal_is_not_flagged(db: Path) -> None:
    """A report of the canal's ship stamped 40 minutes late looks like a 9 km jump and back,
    but the ship was seen there: it is on the canal."""
    track = sail(along(KIEL_CANAL, 0.5), 8.0)
    minute = track[len(track) // 2][0]
    earlier = min(track, key=lambda r: abs(r[0] - (minute - 40)))[1]
    ingest_lines(db, [line for _, _, line in track] + [ping(at(minute + 0.5), *earlier, 8.0)])
    assert detect(db) == []


def test_what_the_track_cannot_tell_is_not_flagged(db: Path) -> None:
    """A jump onto land that stays there, a lone fix, and an MMSI jumping all over (shared)."""
    stays = [ping(at(m), *drift(SEA, m), 0.5, mmsi=211000001) for m in range(3)]
    stays += [ping(at(m), *INLAND_30KM, 0.0, mmsi=211000001) for m in range(3, 6)]
    lone = [ping(at(0), *INLAND_20KM[0], 0.0, mmsi=211000002)]
    shared = [ping(at(m), *[SEA, INLAND_30KM, (33.5, 15.0)][m % 3], 0.0, mmsi=211000003) for m in range(9)]
    ingest_lines(db, stays + lone + shared)
    assert detect(db) == []


def test_ships_berthed_at_wpi_points_on_land_are_not_flagged(db: Path) -> None:
    """Mersa Sfax's and Novorossiysk's WPI points lie 0.9 and 0.3 km inside the coastline,
    Hamburg's 6.7 km (the coastline ignores the Elbe)."""
    lines = []
    for i, name in enumerate(["Banghazi", "Mersa Sfax", "Novorossiysk", "Hamburg"]):
        lines += [ping(t(f"0{h}:00"), *WPI[name], 0.0, mmsi=273000100 + i) for h in range(6)]
    ingest_lines(db, lines)
    assert detect(db) == []


def test_shuffled_input_gives_identical_events(db: Path, tmp_path: Path) -> None:
    lines = spike(SEA, INLAND_30KM) + spike(SEA, INLAND_20KM[1], mmsi=352009999)
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


# ---------------------------------------------------------------- the shortcuts change nothing


def test_cell_bound_never_changes_the_inland_distance() -> None:
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


def test_cell_bounds_never_change_the_water_tests() -> None:
    """classify settles cells near or far from water by their centre: a point it calls off
    water (or far from it) is, and one it calls on water (or not far) is not, to 40 m."""
    rng = np.random.default_rng(7)
    centres = np.array([[59.8, 30.75], [59.9, 30.45], [57.3, -4.45], [32.0, -91.1], [54.2, 9.6],
                        [27.0, 20.0], [28.4, 20.0]])  # the last two: 380 km and about 150 km from the sea
    clustered = centres[rng.integers(0, len(centres), 3000)] + rng.normal(0, 0.03, (3000, 2))
    scattered = np.column_stack([rng.uniform(59.6, 60.1, 500), rng.uniform(30.2, 31.2, 500)])
    pts = np.vstack([clustered, scattered])
    ports = ports_frame()
    maps = Maps({k: ports[k].to_numpy() for k in ("port_id", "name", "lat", "lon")})
    margin, far_km = 3.0 + MEASURE_SLACK_KM, 150.0
    off, far = classify(pts[:, 0], pts[:, 1], maps, margin, far_km)
    coast, water, _, port, _ = maps.measure(pts[:, 0], pts[:, 1])
    wet_km = np.minimum(water, port)
    any_km = np.minimum(coast, wet_km)
    clear = (np.abs(wet_km - margin) > 0.04) & (np.abs(any_km - far_km) > 0.04)
    assert np.array_equal(off[clear], (wet_km > margin)[clear])
    assert np.array_equal(far[clear], ((wet_km > margin) & (any_km > far_km))[clear])
    assert 300 < int(off.sum()) < 3000 and 100 < int(far.sum()) < 1000  # every side is exercised
