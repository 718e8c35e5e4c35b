"""Gaps, dark periods and impossible jumps: rules gaps.sql, spoofing_jump.sql and the segmenter.

Tiny hand-built tracks probe each threshold (just under / just over), then two
real GFW test tracks check the segmenter (fixtures/segments, see its README).
Geometry used below (WPI ports, haversine): NEAR is 43.9 nm from Banghazi at
bearing 131 deg, NEAR2 32.4 nm; SEA is 153 nm and SEA2 119 nm from the nearest
port (Banghazi), 64.7 nm apart.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from shiptrack.rules import segments
from shiptrack.times import iso_utc, parse_utc
from tests.conftest import FIXTURES, ingest_lines, ping, query, run_cli, voyage

T0 = parse_utc("2018-02-20T00:00:00Z")
NEAR, NEAR2 = (32.6, 19.4), (32.5, 19.6)
SEA, SEA2 = (34.0, 18.0), (34.0, 19.3)
SHIP, OTHER = 352001234, 352009000
BANGHAZI = 45280


def at(minutes: float) -> str:
    return iso_utc(T0 + timedelta(minutes=minutes)) or ""


def pings(start_min: float, count: int, step_min: float, where: tuple[float, float], **kw) -> list[str]:
    """``count`` reports at the same place, every ``step_min`` minutes from T0 + start_min."""
    return [ping(at(start_min + i * step_min), where[0], where[1], **kw) for i in range(count)]


def gap_track(gap_min: float, start=NEAR, end=NEAR2, **kw) -> list[str]:
    """Six reports 10 min apart (the last at 00:50), silence for gap_min, six more."""
    return pings(0, 6, 10, start, **kw) + pings(50 + gap_min, 6, 10, end, **kw)


def listener(start_min: float = -12 * 60, end_min: float = 36 * 60, where: tuple[float, float] = (32.12, 20.06),
             mmsi: int = OTHER + 500, step_min: float = 30) -> list[str]:
    """Another vessel heard every ``step_min`` minutes at ``where`` (by default moored at
    Banghazi, 43.9 nm from NEAR and 32.4 nm from NEAR2): the receivers there are working."""
    n = int((end_min - start_min) // step_min) + 1
    return pings(start_min, n, step_min, where, sog=0.0, status=5, mmsi=mmsi)


def detect(db: Path, *extra: str) -> list[dict]:
    result = run_cli(["detect", "--rules", "gaps,spoofing_jump", *extra], db)
    assert result.exit_code == 0, result.output
    rows = query(db, "SELECT kind, mmsi, start_utc, end_utc, duration_h, port, port_id, port_distance_nm, "
                     "lat, lon, details, event_id FROM events ORDER BY start_utc, kind, mmsi")
    keys = ("kind", "mmsi", "start", "end", "duration_h", "port", "port_id", "port_distance_nm", "lat", "lon")
    return [dict(zip(keys, r[:10], strict=True)) | {"details": json.loads(r[10]), "event_id": r[11]}
            for r in rows]


# ------------------------------------------------------------------ thresholds


def test_gap_near_port_counts_from_six_hours(db: Path) -> None:
    near_sfax = (34.5, 11.2)  # 25.6 nm from Mersa Sfax
    ingest_lines(db, gap_track(361, cog=131.0)  # 6 h 01 min
                 + gap_track(359, start=near_sfax, end=near_sfax, mmsi=SHIP + 1)  # 5 h 59 min
                 + listener())
    (e,) = [e for e in detect(db) if e["mmsi"] != OTHER + 500]  # one event, not for the 5 h 59 min gap
    assert e["kind"] == "dark_period" and e["mmsi"] == SHIP
    assert (e["port"], e["port_id"]) == ("Banghazi", BANGHAZI)
    assert e["start"] == T0 + timedelta(minutes=50) and e["end"] == T0 + timedelta(minutes=50 + 361)
    assert e["duration_h"] == pytest.approx(6.02, abs=0.01)
    assert e["port_distance_nm"] == pytest.approx(32.42, abs=0.05)  # the nearer end (NEAR2)
    assert (e["lat"], e["lon"]) == pytest.approx(NEAR, abs=1e-4)  # last position before the gap
    d = e["details"]
    assert d["gap_h"] == pytest.approx(6.02, abs=0.01) and d["threshold_h"] == 6.0
    assert d["before"]["time"] == "2018-02-20T00:50:00Z" and d["after"]["time"] == "2018-02-20T06:51:00Z"
    assert d["before"]["sog_kn"] == 10.0 and d["before"]["cog_deg"] == 131.0 and d["before"]["nav_status"] == 0
    assert d["nearest_port_start"] == {"port": "Banghazi", "port_id": BANGHAZI, "country": "Libya",
                                       "distance_nm": pytest.approx(43.92, abs=0.05)}
    assert d["nearest_port_end"]["distance_nm"] == pytest.approx(32.42, abs=0.05)
    assert d["displacement_nm"] == pytest.approx(11.77, abs=0.05)
    assert d["implied_speed_kn"] == pytest.approx(11.77 / 6.0167, abs=0.02)
    cov = d["coverage"]
    assert cov["status"] == "live" and cov["other_vessels"] == 1
    assert cov["start"]["status"] == cov["end"]["status"] == "live" and cov["start"]["other_positions"] == 12
    # (43.9 + 32.4) / 15 kn + 6 h = 11.1 h > 6 h: no time to berth at Banghazi
    assert d["probable_unreported_call"] is False and d["reachable_ports"] == []
    assert d["possible_call_port"] is None and d["call_conditions"] is None


def test_open_sea_gap_is_ais_gap_not_dark_period(db: Path) -> None:
    ingest_lines(db, gap_track(8 * 60, start=SEA, end=SEA2))
    (e,) = detect(db)
    assert e["kind"] == "ais_gap" and e["port"] is None and e["port_id"] is None
    d = e["details"]
    assert d["nearest_port_start"]["port"] == "Banghazi"
    assert d["nearest_port_start"]["distance_nm"] == pytest.approx(153.1, abs=0.1)
    assert d["nearest_port_end"]["distance_nm"] == pytest.approx(119.2, abs=0.1)
    assert d["implied_speed_kn"] == pytest.approx(64.71 / 8, abs=0.01)
    assert d["probable_unreported_call"] is False


def test_short_gap_in_a_busy_area_is_nothing(db: Path) -> None:
    lines = gap_track(120)  # 2 h
    for k in range(5):
        lines += pings(0, 40, 10, (NEAR[0] + 0.05 * k, NEAR[1]), mmsi=OTHER + k)
    ingest_lines(db, lines)
    assert detect(db) == []


SLOW_CASES = [  # (gap hours, fields before, fields after, threshold that applies or None = no event)
    (8, {"msg_type": 18}, {"msg_type": 18}, None),  # class B: 8 h is normal
    (13, {"msg_type": 18}, {"msg_type": 18}, 12.0),  # ... 13 h is not
    (8, {"status": 1}, {"status": 1}, None),  # at anchor before and after
    (8, {"status": 5}, {"status": 5}, None),  # moored before and after
    (13, {"status": 5}, {"status": 5}, 12.0),
    (8, {"status": 1}, {"status": 0}, 6.0),  # anchored, then under way: it moved unseen
    (8, {"status": 0}, {"status": 0}, 6.0),  # class A under way: the normal threshold
]


def test_slow_reporters_have_a_longer_threshold(db: Path) -> None:
    lines = listener()
    for k, (gap_h, before, after, _) in enumerate(SLOW_CASES):
        lines += pings(0, 6, 10, NEAR, sog=0.0, mmsi=SHIP + k, **before)
        lines += pings(50 + gap_h * 60, 6, 10, NEAR, sog=0.0, mmsi=SHIP + k, **after)
    ingest_lines(db, lines)
    events = {e["mmsi"] - SHIP: e for e in detect(db) if e["mmsi"] != OTHER + 500}
    assert sorted(events) == [k for k, case in enumerate(SLOW_CASES) if case[3] is not None]
    for k, e in events.items():
        # stopped, and back where it was: an in-port gap, never a dark approach
        assert e["kind"] == "ais_gap" and e["details"]["in_port"] is True and e["port"] == "Banghazi"
        assert e["details"]["threshold_h"] == SLOW_CASES[k][3]
        assert e["details"]["slow_reporter"] is (SLOW_CASES[k][3] == 12.0)


# ------------------------------------------------------------------ evidence


def test_coverage_counts_other_vessels_heard_near_the_gap_start_during_the_gap(db: Path) -> None:
    lines = gap_track(7 * 60)  # silent 00:50 -> 07:50
    for k in range(3):  # 18 nm north, heard every hour during the gap: 7 reports each
        lines += pings(60, 7, 60, (NEAR[0] + 0.3, NEAR[1] + 0.01 * k), mmsi=OTHER + k)
    lines += pings(60, 7, 60, (NEAR[0] + 1.3, NEAR[1]), mmsi=OTHER + 10)  # 78 nm away: too far
    lines += pings(0, 5, 10, (NEAR[0] + 0.3, NEAR[1]), mmsi=OTHER + 11)  # near, but only before the gap
    ingest_lines(db, lines)
    (e,) = detect(db)
    assert e["mmsi"] == SHIP and e["kind"] == "dark_period"
    cov = e["details"]["coverage"]
    assert cov["radius_nm"] == 50.0 and cov["status"] == "live" and cov["other_vessels"] == 3
    # near the start: the three 18 nm north (7 reports each); OTHER + 11 was heard only before
    assert (cov["start"]["other_vessels"], cov["start"]["other_positions"]) == (3, 21)
    assert cov["start"]["hours_heard"] == cov["start"]["hours_archive_live"] == 6


def test_heading_to_port_when_it_went_silent(db: Path) -> None:
    cases = [(131.0, 10.0, True), (311.0, 10.0, False), (170.0, 10.0, True), (180.0, 10.0, False),
             (131.0, 0.0, None)]  # (cog, sog, heading to Banghazi: within 45 deg of 131.2; None if stopped)
    ingest_lines(db, [line for k, (cog, sog, _) in enumerate(cases)
                      for line in gap_track(7 * 60, cog=cog, sog=sog, mmsi=SHIP + k)] + listener())
    events = [e for e in detect(db) if e["mmsi"] != OTHER + 500]
    assert [e["mmsi"] - SHIP for e in events] == list(range(len(cases)))
    for e, (_, _, toward) in zip(events, cases, strict=True):
        d = e["details"]
        assert d["heading_port"] == "Banghazi" and d["bearing_to_port_deg"] == pytest.approx(131.2, abs=0.1)
        assert d["heading_to_port"] is toward


def test_draught_before_and_after_the_gap(db: Path) -> None:
    lines = gap_track(7 * 60) + listener()
    lines += voyage(at(-600), draught=5.0, seq_id=1)
    lines += voyage(at(5), draught=6.5, seq_id=2)
    lines += voyage(at(50 + 7 * 60 + 5), draught=9.8, seq_id=3)
    ingest_lines(db, lines)
    (e,) = detect(db)
    d = e["details"]
    assert d["draught_before_m"] == 6.5 and d["draught_before_utc"] == "2018-02-20T00:05:00Z"
    assert d["draught_after_m"] == 9.8 and d["draught_after_utc"] == "2018-02-20T07:55:00Z"
    assert d["draught_change_m"] == pytest.approx(3.3)


def test_reachability_and_probable_unreported_call(db: Path) -> None:
    # both silent within 50 nm of Banghazi at both ends; a call there needs
    # (43.9 + 32.4) / 15 kn + 6 h alongside = 11.1 h
    def approach_and_leave(gap_min: float, mmsi: int) -> list[str]:
        # silent heading for Banghazi (bearing 131), back heading away from it (bearing 311 from the port)
        return pings(0, 6, 10, NEAR, cog=131.0, mmsi=mmsi) + pings(50 + gap_min, 6, 10, NEAR2, cog=311.0, mmsi=mmsi)

    ingest_lines(db, approach_and_leave(20 * 60, SHIP) + approach_and_leave(10 * 60, SHIP + 1) + listener())
    e, short = [e for e in detect(db) if e["mmsi"] != OTHER + 500]
    assert e["mmsi"] == SHIP and e["kind"] == "dark_period"
    assert (e["port"], e["port_id"]) == ("Banghazi", BANGHAZI)
    d = e["details"]
    assert d["probable_unreported_call"] is True
    assert (d["probable_call_port"], d["probable_call_port_id"]) == ("Banghazi", BANGHAZI)
    first = d["reachable_ports"][0]
    assert first["port"] == "Banghazi" and first["min_time_h"] == pytest.approx(11.09, abs=0.02)
    assert first["detour_nm"] == pytest.approx(43.92 + 32.42 - 11.77, abs=0.2)
    assert 1 <= len(d["reachable_ports"]) <= 5 and d["reachable_ports_total"] >= len(d["reachable_ports"])
    detours = [p["detour_nm"] for p in d["reachable_ports"]]
    assert detours == sorted(detours)
    assert d["call_conditions"] == {
        "reception_live_near_port": True, "reception_live_at_both_ends": True,
        "went_silent_heading_for_port": True, "reappeared_heading_away": True, "moved": True,
        "not_in_port": True, "round_trip_fits": True}
    assert d["coverage"]["port"]["status"] == "live"
    # 10 h: too short to berth there: still a dark period at Banghazi, but no probable call
    assert short["mmsi"] == SHIP + 1 and short["kind"] == "dark_period" and short["port"] == "Banghazi"
    assert short["details"]["probable_unreported_call"] is False
    assert "Banghazi" not in [p["port"] for p in short["details"]["reachable_ports"]]


# ------------------------------------------------------------------ jumps and shared MMSIs


def two_transmitters() -> list[str]:
    """One MMSI from two ships 900 nm apart for 12 h: A every 10 min, B every 30 min."""
    return pings(0, 72, 10, SEA) + pings(5, 24, 30, (40.0, 5.0), cog=200.0)


def test_two_transmitters_on_one_mmsi_are_one_episode_and_no_gap_storm(db: Path) -> None:
    ingest_lines(db, two_transmitters())
    (e,) = detect(db)
    assert e["kind"] == "spoofing_jump" and e["mmsi"] == SHIP
    assert e["start"] == T0 and e["end"] == T0 + timedelta(minutes=11 * 60 + 40)  # B last heard 11:35
    d = e["details"]
    assert d["identity_clash"] is True and d["jumps"] == 48  # in and out of B 24 times
    assert d["segments_total"] == 2 and d["segments_in_episode"] == 2
    assert "split into 2 segments" in d["summary"]
    assert [s["positions"] for s in d["segments"]] == [72, 24]
    assert d["max_jump_nm"] == pytest.approx(718.87, abs=0.05)


def test_a_single_stray_fix_is_not_a_jump_unless_asked(db: Path) -> None:
    lines = pings(0, 30, 10, SEA) + [ping(at(95), 40.0, 5.0)]
    ingest_lines(db, lines)
    assert detect(db) == []
    (e,) = detect(db, "--param", "min_jump_positions=1")
    assert e["kind"] == "spoofing_jump" and e["details"]["jumps"] == 2 and e["details"]["identity_clash"] is False
    assert e["start"] == T0 + timedelta(minutes=90) and e["end"] == T0 + timedelta(minutes=100)


def moving(start_min: float, count: int, step_s: float, station: str = "rTEST") -> list[str]:
    """A ship at 12 kn due east from SEA, one report every step_s seconds."""
    lines = []
    for i in range(count):
        t_s = start_min * 60 + i * step_s
        lon = SEA[1] + 12 * t_s / 3600 / (60 * 0.8290376)  # cos(34 deg)
        lines.append(ping(at(t_s / 60), SEA[0], round(lon, 5), 12.0, 90.0, station=station))
    return lines


def test_jitter_gps_noise_and_late_duplicates_are_not_jumps(db: Path) -> None:
    lines = moving(0, 180, 10)  # 30 min
    # the same transmissions re-received 10 min late by another station: 2 nm behind the ship
    lines += [ping(at(10 + i * 10 / 60), SEA[0], round(SEA[1] + 12 * i * 10 / 3600 / (60 * 0.8290376), 5),
                   12.0, 90.0, station="rSAT") for i in range(0, 60, 6)]
    # a fix 0.5 nm off at the same second (GPS noise / two receivers' clocks)
    lines.append(ping(at(15), SEA[0] + 0.5 / 60, 18.06031, 12.0, 90.0, station="rOTHER"))
    ingest_lines(db, lines)
    assert detect(db) == []
    con = duckdb.connect(str(db))
    try:
        segments.prepare(con, None, None)
        assert con.execute("SELECT count(DISTINCT seg), count(*) FROM pos").fetchall() == [(1, 181)]
    finally:
        con.close()


# ------------------------------------------------------------------ order independence


def scenario_groups() -> list[list[str]]:
    """Messages (multi-sentence ones kept together) of every case above, for shuffling."""
    groups = [[line] for line in gap_track(20 * 60)]
    groups += [[line] for line in pings(0, 6, 10, SEA, mmsi=OTHER) + pings(530, 3, 10, SEA2, mmsi=OTHER)]
    groups += [[line] for line in pings(60, 7, 60, (NEAR[0] + 0.3, NEAR[1]), mmsi=OTHER + 1)]
    groups += [[line] for line in pings(0, 72, 10, SEA, mmsi=OTHER + 2)
               + pings(5, 24, 30, (40.0, 5.0), mmsi=OTHER + 2)]
    groups += [voyage(at(5), draught=6.5, seq_id=1), voyage(at(1255), draught=9.8, seq_id=2)]
    groups += [[line] for line in listener(end_min=24 * 60)]
    return groups


def test_shuffled_input_gives_identical_events(tmp_path: Path) -> None:
    groups = scenario_groups()
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    ingest_lines(a, [line for g in groups for line in g], name="a.nmea")
    random.Random(5).shuffle(groups)
    ingest_lines(b, [line for g in groups for line in g], name="b.nmea")
    ev_a, ev_b = detect(a), detect(b)
    assert {e["kind"] for e in ev_a} == {"dark_period", "ais_gap", "spoofing_jump"}
    strip = [(e["event_id"], e["kind"], e["start"], e["details"]) for e in ev_a]
    assert strip == [(e["event_id"], e["kind"], e["start"], e["details"]) for e in ev_b]


# ------------------------------------------------------------------ the segmenter on GFW's test tracks

GFW_COLUMNS = ["--columns", "mmsi=ssvid,ts=timestamp,lat=lat,lon=lon,sog=speed,cog=course"]


def ingest_gfw(db: Path, name: str) -> None:
    result = run_cli(["ingest", FIXTURES / "segments" / name, *GFW_COLUMNS], db)
    assert result.exit_code == 0, result.output


def test_shared_mmsi_416000000_is_one_identity_clash(db: Path) -> None:
    ingest_gfw(db, "416000000.json")
    jumps = [e for e in detect(db) if e["kind"] == "spoofing_jump"]
    (e,) = jumps
    d = e["details"]
    assert e["mmsi"] == 416000000 and d["identity_clash"] is True and d["segments_total"] == 3
    assert e["start"] == parse_utc("2014-01-01T03:43:06Z") and e["end"] == parse_utc("2014-01-31T11:45:45Z")
    # two transmitters around Taiwan (Kaohsiung, Keelung) and one in the Indian Ocean
    assert [(s["positions"], round(s["lat"]), round(s["lon"])) for s in d["segments"]] == [
        (1048, 24, 121), (482, 25, 122), (30, -9, 60)]
    # the finding a reporter reads says what the back and forth shows, not one ship's voyage
    out = run_cli(["events", "--kind", "spoofing_jump", "--format", "csv"], db).output
    assert f"back and forth {d['jumps']} times: two transmitters on one MMSI, or spoofing" in out
    placeholder = ("MMSI 416000000 is its country's MID followed by six zeros: a placeholder that many "
                   "transponders share, so not shown to be one ship")
    assert placeholder in out
    # a silence on it is one transmitter's, and says so
    gaps = json.loads(run_cli(["events", "--kind", "ais_gap", "--format", "json"], db).output)
    assert gaps and all(g["details"]["track_segments"] == 3 for g in gaps)
    for g in gaps:
        assert (f"the MMSI's positions show 3 transmitters: this is the silence of one of them (track segment "
                f"{g['details']['segment']})") in g["finding"] and g["finding"].endswith(placeholder)


def test_pos_neighbours_are_those_of_each_segment(db: Path) -> None:
    """pos carries each row's order in its segment and the segment's next position, as a
    window over (mmsi, seg) gives them: for the MMSI split in 4 segments (its rows
    replaced), the one with 12 fixes set aside as bad (one- or two-position segments), the
    two transmitters on one MMSI, and a ship that is one segment."""
    ingest_gfw(db, "416000000.json")
    ingest_gfw(db, "338013000.json")
    ingest_lines(db, two_transmitters() + pings(0, 5, 10, SEA2, mmsi=OTHER))
    con = duckdb.connect(str(db))
    try:
        segments.prepare(con, None, None)
        cols = [r[0] for r in con.execute("DESCRIBE pos").fetchall()]
        per_seg = dict(con.execute("SELECT mmsi, count(DISTINCT seg) FROM pos GROUP BY mmsi").fetchall())
        wrong = con.execute(
            """
            SELECT count(*) FROM (
                SELECT rn, n_ts, row_number() OVER w AS want_rn, lead(ts) OVER w AS want_ts
                FROM pos WINDOW w AS (PARTITION BY mmsi, seg ORDER BY ts, dup_key))
            WHERE rn <> want_rn OR n_ts IS DISTINCT FROM want_ts
            """).fetchall()[0][0]
        lasts = con.execute("SELECT count(*) FILTER (WHERE n_ts IS NULL), count(DISTINCT (mmsi, seg)) FROM pos"
                            ).fetchall()[0]
    finally:
        con.close()
    assert cols[-3:] == ["seg", "rn", "n_ts"]
    assert per_seg == {416000000: 4, 338013000: 12, SHIP: 2, OTHER: 1}
    assert wrong == 0
    assert lasts[0] == lasts[1]  # one last position per segment


def test_segments_agree_with_gfw_expected_on_338013000(db: Path) -> None:
    ingest_gfw(db, "338013000.json")
    con = duckdb.connect(str(db))
    try:
        segments.prepare(con, None, None)
        rows = con.execute(
            """
            WITH j AS (SELECT DISTINCT "timestamp" AS ts, lat, lon, expected
                       FROM read_json_auto($path) WHERE lat IS NOT NULL),
            m AS (SELECT p.seg, j.expected, strftime(p.ts, '%H:%M:%S') AS t FROM pos p
                  JOIN j ON p.ts = j.ts AND abs(p.lat - j.lat) < 1e-9 AND abs(p.lon - j.lon) < 1e-9)
            SELECT seg = 0 AS ours, expected = '338013000-2017-07-18T00:07:20.000000Z' AS gfw, count(*)
            FROM m GROUP BY ALL ORDER BY ALL
            """,
            {"path": str(FIXTURES / "segments" / "338013000.json")},
        ).fetchall()
        stray = con.execute("SELECT count(*) FROM pos WHERE seg < 0").fetchall()[0][0]
        other = con.execute("SELECT count(*) FROM pos WHERE seg > 0").fetchall()[0][0]
    finally:
        con.close()
    agree = {(o, g): n for o, g, n in rows}
    total = sum(agree.values())
    assert total == 1023
    # Both keep the ship as one track and set the same 7 stray fixes aside; GFW also cuts
    # off 16 positions after a 54 kn fix (we keep them), we set 5 more fixes aside.
    assert agree == {(False, False): 7, (False, True): 5, (True, False): 16, (True, True): 995}
    assert (agree[(True, True)] + agree[(False, False)]) / total > 0.97
    assert stray == 12 and other == 0  # every fix set aside is a bad fix, not a second ship
    assert detect(db) == []  # a normal ship: no jumps, no gaps over 6 h


def test_a_finding_on_a_default_mmsi_says_it_is_not_one_ships(db: Path) -> None:
    """exactEarth's real file: 1193046 (0x123456, a transponder default) jumps between
    New Zealand and elsewhere. Every finding on it, in the events table and the dossier,
    says the number is not a ship's; a ship's MMSI in the same store gets no such words."""
    result = run_cli(["ingest", FIXTURES / "nmea" / "exact-earth-augmented-3.txt"], db)
    assert result.exit_code == 0, result.output
    events = detect(db)
    assert [(e["kind"], e["mmsi"]) for e in events] == [("spoofing_jump", 1193046)]
    caveat = ("MMSI 1193046 is not a ship's number (9 digits from a country's MID): often a transponder "
              "default that many devices share, so not shown to be one ship")
    csv_out = run_cli(["events", "--format", "csv"], db).output
    assert f"two transmitters on one MMSI, or spoofing; {caveat}" in csv_out
    dossier = run_cli(["vessel", "1193046", "--format", "json"], db).output
    assert json.loads(dossier)["timeline"][0]["summary"].endswith(caveat)
    assert caveat in " ".join(run_cli(["vessel", "1193046"], db).output.split())
    ship = query(db, "SELECT min(mmsi) FROM positions WHERE mmsi BETWEEN 200000000 AND 799999999")[0][0]
    assert "not a ship's" not in run_cli(["vessel", str(ship)], db).output


def test_ground_arrival_times_make_no_impossible_jumps(tmp_path: Path) -> None:
    """exactEarth's real file read with --time-from trailer: its trailing times are ground-arrival
    times (17 to 113 min after the $PGHP times), so ships seem to jump. The source's times may be
    up to 2 h later than sent (sources.time_spread_s), and the segmenter allows that: only the
    MMSI two transmitters share jumps. Without the allowance, 20 and more ships would."""
    path = FIXTURES / "nmea" / "exact-earth-augmented-3.txt"
    auto, trailer = tmp_path / "auto.duckdb", tmp_path / "trailer.duckdb"
    assert run_cli(["ingest", path], auto).exit_code == 0
    assert run_cli(["ingest", "--time-from", "trailer", path], trailer).exit_code == 0
    assert query(auto, "SELECT time_spread_s FROM sources") == [(None,)]
    assert query(trailer, "SELECT time_spread_s FROM sources") == [(7200.0,)]
    jumps = [e["mmsi"] for e in detect(trailer) if e["kind"] == "spoofing_jump"]
    assert jumps == [1193046]
    con = duckdb.connect(str(trailer))
    con.execute("UPDATE sources SET time_spread_s = NULL")  # as a store made before the column
    con.close()
    assert len([e for e in detect(trailer) if e["kind"] == "spoofing_jump"]) >= 20


def test_a_gap_between_ground_arrival_times_says_how_well_its_length_is_known(db: Path) -> None:
    """Two real exactEarth reports of PASSAT SPRING, the second with its trailing time moved 8 h
    on: read with --time-from trailer, the silence's length is known only to within the
    source's 2 h time spread, and the finding says so; read as receive times it would not."""
    lines = ["!AIVDM,1,1,,B,39NWs6002g<4Wf7eT3gDTScT00Uh,0*04,1328182325183",
             "!AIVDM,1,1,,B,19NWs6002h<4`R5eT14lR3`d0<01,0*14,1328211125404"]
    path = db.parent / "passat.nmea"
    path.write_text("\n".join(lines) + "\n")
    assert run_cli(["ingest", "--time-from", "trailer", path], db).exit_code == 0
    (gap,) = [e for e in detect(db) if e["kind"] == "ais_gap"]
    assert gap["details"]["time_spread_h"] == 2.0 and round(gap["details"]["gap_h"]) == 8
    out = run_cli(["events", "--kind", "ais_gap", "--format", "csv"], db).output
    assert "its times may be up to 2 h after sending" in out and "known only to within 2 h" in out
    auto = db.parent / "auto.duckdb"  # auto: nothing shows these trailing times to be another clock
    assert run_cli(["ingest", path], auto).exit_code == 0
    (gap,) = [e for e in detect(auto) if e["kind"] == "ais_gap"]
    assert gap["details"]["time_spread_h"] is None
    assert "after sending" not in run_cli(["events", "--kind", "ais_gap", "--format", "csv"], auto).output
