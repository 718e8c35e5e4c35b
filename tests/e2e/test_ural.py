"""The Ural reconstruction (fixtures/ural), in one place.

First the fixture itself: deterministic, well formed, and true to its scenario. Those
tests read the committed files with their own small parser and pyais, not with shiptrack,
so that they describe the fixture. Then shiptrack end to end on it, through the real CLI:
ingest, declare the voyage, detect, investigate. Times are asserted against the scripted
truth in scenario.json, within the stated tolerances.

The end-to-end tests share the store ``make demo`` builds (``ural_store`` in
tests/conftest.py, built once per test process); the port tests copy it and declare the
ordinary traffic's shuttles too.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import re
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from global_land_mask import globe
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais import decode
from pyais.encode import encode_dict
from pyais.util import SixBitNibleEncoder

from shiptrack.times import parse_utc
from tests import audit
from tests.conftest import FIXTURES, ROOT, query, run_cli

URAL_DIR = FIXTURES / "ural"
PORTS_CSV = ROOT / "shiptrack" / "reference" / "data" / "ports.csv"
SCENARIO = json.loads((URAL_DIR / "scenario.json").read_text(encoding="utf-8"))
U = SCENARIO["ural"]
MMSI = U["mmsi"]
TOL = timedelta(minutes=10)

LINE_RE = re.compile(
    r"^\\s:(?P<station>r\w+),c:(?P<c>\d{10}|\d{13})\*(?P<tcs>[0-9A-F]{2})\\"
    r"!(?P<body>AIVDM,(?P<count>[12]),(?P<num>[12]),(?P<seq>\d?),[AB],[0-W`-w]+,[0-5])\*(?P<cs>[0-9A-F]{2})$"
)
BENGHAZI = (32.116667, 20.05)
SFAX = (34.733333, 10.766667)

# ================================================================== the fixture itself


def xor(text: str) -> int:
    cs = 0
    for ch in text.encode("latin-1"):
        cs ^= ch
    return cs


def haversine_nm(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 3440.065 * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360


def angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(int(t), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Rec:
    line_no: int
    station: str
    c: float  # receive time, unix seconds
    payload: str
    msg: dict[str, Any]


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ural_generate", URAL_DIR / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return json.loads((URAL_DIR / "scenario.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def raw_lines() -> list[bytes]:
    data = (URAL_DIR / "ural.nmea").read_bytes()
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


@pytest.fixture(scope="module")
def bad(scenario: dict[str, Any]) -> dict[int, str]:
    return {n: kind for kind, v in scenario["bad_lines"].items() for n in v["lines"]}


@pytest.fixture(scope="module")
def records(raw_lines: list[bytes], bad: dict[int, str]) -> list[Rec]:
    """Every good message: checksums verified, the two parts of a type 5 joined, pyais-decoded."""
    out: list[Rec] = []
    pending: tuple[int, re.Match[str]] | None = None
    for no, raw in enumerate(raw_lines, 1):
        if bad.get(no, "not_available_position") != "not_available_position":
            continue
        text = raw.decode("utf-8").lstrip("\ufeff")
        m = LINE_RE.match(text)
        assert m, f"line {no}: {text!r}"
        tag_body = text[1 : text.index("*")]
        assert xor(tag_body) == int(m["tcs"], 16), f"line {no}: tag-block checksum"
        assert xor(m["body"]) == int(m["cs"], 16), f"line {no}: sentence checksum"
        c = int(m["c"]) / (1000 if len(m["c"]) == 13 else 1)
        sentence = text[text.index("!"):]
        if m["count"] == "1":
            assert pending is None, f"line {no}: part 2 missing before it"
            out.append(Rec(no, m["station"], c, sentence.split(",")[5], decode(sentence).asdict()))
        elif m["num"] == "1":
            pending = (no, m)
        else:
            assert pending is not None and pending[0] == no - 1, f"line {no}: part 2 not after part 1"
            first = raw_lines[no - 2].decode("utf-8").lstrip("\ufeff")
            first_sentence = first[first.index("!"):]
            assert pending[1]["seq"] == m["seq"] and pending[1]["station"] == m["station"]
            assert m["seq"] in "012345678"
            payload = first_sentence.split(",")[5] + sentence.split(",")[5]
            out.append(Rec(pending[0], m["station"], c, payload, decode(first_sentence, sentence).asdict()))
            pending = None
    assert pending is None
    return out


def receptions_of_one_transmission(records: list[Rec]) -> list[list[Rec]]:
    """Group receptions of one transmission: the same payload within 3 s (a type 5 repeated
    hours later with the same content is a new transmission)."""
    groups: list[list[Rec]] = []
    last: dict[str, list[Rec]] = {}
    for r in sorted(records, key=lambda r: (r.c, r.line_no)):
        g = last.get(r.payload)
        if g is not None and r.c - g[0].c <= 3:
            g.append(r)
        else:
            last[r.payload] = [r]
            groups.append(last[r.payload])
    return groups


@pytest.fixture(scope="module")
def unique(records: list[Rec]) -> list[Rec]:
    """One record per transmission, its earliest reception, in receive-time order."""
    return [g[0] for g in receptions_of_one_transmission(records)]


@pytest.fixture(scope="module")
def positions(unique: list[Rec]) -> dict[int, list[Rec]]:
    out: dict[int, list[Rec]] = defaultdict(list)
    for r in unique:
        if r.msg["msg_type"] in (1, 2, 3, 18) and r.msg["lat"] != 91:
            out[r.msg["mmsi"]].append(r)
    return out


@pytest.fixture(scope="module")
def ports() -> np.ndarray:
    with PORTS_CSV.open(encoding="utf-8") as f:
        return np.array([(float(r["lat"]), float(r["lon"])) for r in csv.DictReader(f)])


def nearest_port_nm(ports: np.ndarray, lat: float, lon: float) -> float:
    p1, p2 = np.radians(lat), np.radians(ports[:, 0])
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(ports[:, 1] - lon) / 2) ** 2
    return float((2 * 3440.065 * np.arcsin(np.sqrt(h))).min())


# ------------------------------------------------------------------ the files


@pytest.mark.slow
def test_regenerating_gives_byte_identical_files(generator: ModuleType, tmp_path: Path) -> None:
    generator.generate(tmp_path)
    for name in ("ural.nmea", "scenario.json", "routes.csv"):
        assert (tmp_path / name).read_bytes() == (URAL_DIR / name).read_bytes(), name


def test_files_and_provenance(scenario: dict[str, Any], raw_lines: list[bytes]) -> None:
    readme = (URAL_DIR / "README.md").read_text(encoding="utf-8")
    assert "RECONSTRUCTION — NOT REAL DATA" in readme.splitlines()[0]
    assert raw_lines[0].startswith(b"\xef\xbb\xbf\\s:")
    assert len(raw_lines) == scenario["total_lines"]
    assert (URAL_DIR / "ural.nmea").stat().st_size < 8_000_000
    assert (URAL_DIR / "routes.csv").read_text() == (
        f"mmsi,ports,departed\n352180218,Novorossiysk > Douala,{scenario['ural']['novorossiysk_departure']}\n"
    )
    assert scenario["generator"]["seed"] == 2018


def test_bad_lines_are_what_the_scenario_says(raw_lines: list[bytes], scenario: dict[str, Any]) -> None:
    kinds = scenario["bad_lines"]
    assert 20 <= scenario["bad_line_total"] <= 40
    assert all(v["count"] >= 2 and v["count"] == len(v["lines"]) for v in kinds.values())
    for n in kinds["bad_checksum"]["lines"]:
        text = raw_lines[n - 1].decode()
        body, cs = text[text.index("!") + 1 :].split("*")
        assert xor(body) != int(cs, 16)
        assert LINE_RE.match(text[: text.rindex("*") + 1] + f"{xor(body):02X}")  # well formed otherwise
    for n in kinds["bad_tagblock"]["lines"]:
        text = raw_lines[n - 1].decode()
        tag, _, sentence = text[1:].partition("\\")
        assert xor(tag.split("*")[0]) != int(tag.split("*")[1], 16)
        assert xor(sentence[1:].split("*")[0]) == int(sentence.split("*")[1], 16)
    for n in kinds["truncated"]["lines"]:
        text = raw_lines[n - 1].decode()
        assert "*" not in text.partition("\\!")[2] and len(text.split("!")[1].split(",")) < 7
    for n in kinds["binary"]["lines"]:
        junk = raw_lines[n - 1]
        assert b"\x00" in junk and max(junk) >= 0x80 and b"\r" not in junk
    for n in kinds["empty"]["lines"]:
        assert raw_lines[n - 1] == b""
    for n in kinds["garbage"]["lines"]:
        assert raw_lines[n - 1].isascii() and raw_lines[n - 1][:1] not in b"\\!$"
    for n in kinds["orphan_fragment"]["lines"]:
        m = LINE_RE.match(raw_lines[n - 1].decode())
        assert m and (m["count"], m["num"], m["seq"]) == ("2", "2", "9")
    for n in kinds["no_tagblock"]["lines"]:
        text = raw_lines[n - 1].decode()
        assert text.startswith("!AIVDM,1,1,") and xor(text[1 : text.index("*")]) == int(text[-2:], 16)
    for n in kinds["not_available_position"]["lines"]:
        msg = decode(raw_lines[n - 1].decode().split("\\")[-1]).asdict()
        assert (msg["lat"], msg["lon"]) == (91.0, 181.0)
    for n in kinds["not_ais"]["lines"]:
        text = raw_lines[n - 1].decode()
        assert text.startswith("$GPGGA,") and xor(text[1 : text.index("*")]) == int(text[-2:], 16)


def test_every_good_message_decodes(records: list[Rec], scenario: dict[str, Any]) -> None:
    types = {r.msg["msg_type"] for r in records}
    assert types == {1, 3, 5, 18, 24}
    n_lines = sum(2 if r.msg["msg_type"] == 5 else 1 for r in records)
    invalid = sum(v["count"] for k, v in scenario["bad_lines"].items() if k != "not_available_position")
    assert n_lines + invalid == scenario["total_lines"]


def test_stations_clock_order_and_duplicates(records: list[Rec], scenario: dict[str, Any],
                                             raw_lines: list[bytes]) -> None:
    stations = {r.station for r in records}
    assert "rSAT01" in stations and len(stations) >= 10
    millis = {s["name"] for s in scenario["stations"] if s["c_unit"] == "ms"}
    assert millis == {"rMLT01"}
    for r in records[:20000]:
        digits = len(raw_lines[r.line_no - 1].decode("utf-8").split(",c:")[1].split("*")[0])
        assert digits == (13 if r.station in millis else 10)
    # in receive-time order, but ~1% up to 2 min late
    latest, late = 0.0, 0
    for r in sorted(records, key=lambda r: r.line_no):
        assert r.c >= latest - 120
        late += r.c < latest
        latest = max(latest, r.c)
    assert 0.003 * len(records) < late < 0.03 * len(records)
    # duplicates: the same payload from two stations, 0-2 s apart
    dups = [g for g in receptions_of_one_transmission(records) if len(g) > 1]
    assert len(dups) == scenario["duplicate_receptions"]
    for v in dups:
        assert len({r.station for r in v}) == len(v) and max(r.c for r in v) - min(r.c for r in v) <= 2.0


# ------------------------------------------------------------------ the Ural


def test_ural_identity(unique: list[Rec], scenario: dict[str, Any], generator: ModuleType) -> None:
    u = scenario["ural"]
    assert str(u["mmsi"]).startswith("352") and len(str(u["mmsi"])) == 9
    assert generator.imo_check_digit(u["imo"] // 10) == u["imo"] % 10
    statics = [r.msg for r in unique if r.msg["mmsi"] == u["mmsi"] and r.msg["msg_type"] == 5]
    assert {(m["shipname"], m["callsign"], m["imo"], m["ship_type"]) for m in statics} == {
        ("URAL", u["callsign"], u["imo"], 70)}
    assert {m["to_bow"] + m["to_stern"] for m in statics} == {100}
    times = sorted(r.c for r in unique if r.msg["mmsi"] == u["mmsi"] and r.msg["msg_type"] == 5)
    gaps_h = sorted((b - a) / 3600 for a, b in zip(times[:-1], times[1:], strict=True))
    assert gaps_h[-1] > 96 and gaps_h[-2] <= 3.0  # every 3 h at most, but for the dark period


def test_ural_scripted_voyage(positions: dict[int, list[Rec]], scenario: dict[str, Any]) -> None:
    u = scenario["ural"]
    track = positions[u["mmsi"]]
    at = {round(r.c): r.msg for r in track}

    moored = [r.msg for r in track if r.c <= ts(u["novorossiysk_last_moored"])]
    assert len(moored) > 100
    assert all(m["status"] == 5 and m["speed"] <= 0.1 for m in moored)
    assert all(haversine_nm(m["lat"], m["lon"], 44.716667, 37.783333) < 1.0 for m in moored)
    assert at[round(ts(u["novorossiysk_departure"]))]["speed"] > 1

    b0, b1 = ts(u["breakdown"]["start"]), ts(u["breakdown"]["end"])
    drift = [r.msg for r in track if b0 <= r.c < b1]
    assert (b1 - b0) / 3600 > 10 and len(drift) > 100
    assert all(m["status"] == 2 and 0.5 <= m["speed"] <= 2.0 for m in drift)
    assert at[round(b0)]["status"] == 2
    assert all(r.msg["status"] == 0 for r in track if b0 - 3600 <= r.c < b0)

    sfax = u["sfax"]
    anchored = [r.msg for r in track if ts(sfax["anchorage_arrival"]) <= r.c < ts(sfax["berth_arrival"])
                and r.msg["status"] == 1]
    assert len(anchored) > 12
    assert all(3.0 <= haversine_nm(m["lat"], m["lon"], *SFAX) <= 4.5 and m["speed"] < 0.5 for m in anchored)
    alongside = [r for r in track if ts(sfax["berth_arrival"]) <= r.c <= ts(sfax["last_moored"])]
    assert (alongside[-1].c - alongside[0].c) / 86400 > 3
    assert all(r.msg["status"] == 5 and r.msg["speed"] < 0.3 for r in alongside)
    assert all(haversine_nm(r.msg["lat"], r.msg["lon"], *SFAX) <= 2.0 for r in alongside)
    in_port = [r for r in track if haversine_nm(r.msg["lat"], r.msg["lon"], *SFAX) <= 5 and r.msg["speed"] < 1]
    assert (in_port[-1].c - in_port[0].c) / 3600 >= 4

    # Leaving Sfax it steers for Benghazi.
    leaving = [r.msg for r in track if ts(sfax["departure"]) + 6 * 3600 <= r.c <= ts(sfax["departure"]) + 30 * 3600]
    assert sum(angle_diff(m["course"], bearing_deg(m["lat"], m["lon"], *BENGHAZI)) < 60 for m in leaving) \
        > 0.8 * len(leaving)


def test_ural_goes_dark_off_benghazi(unique: list[Rec], positions: dict[int, list[Rec]],
                                     scenario: dict[str, Any]) -> None:
    u = scenario["ural"]
    dark = u["dark"]
    t0, t1 = ts(dark["last_before"]["time"]), ts(dark["first_after"]["time"])
    assert 96 <= (t1 - t0) / 3600 <= 120
    assert not [r for r in unique if r.msg["mmsi"] == u["mmsi"] and t0 < r.c < t1]
    before = next(r.msg for r in positions[u["mmsi"]] if r.line_no == dark["last_before"]["lines"][0])
    after = next(r.msg for r in positions[u["mmsi"]] if r.line_no == dark["first_after"]["lines"][0])
    assert (before["lat"], before["lon"]) == (dark["last_before"]["lat"], dark["last_before"]["lon"])
    assert (after["lat"], after["lon"]) == (dark["first_after"]["lat"], dark["first_after"]["lon"])
    d_before = haversine_nm(before["lat"], before["lon"], *BENGHAZI)
    d_after = haversine_nm(after["lat"], after["lon"], *BENGHAZI)
    assert 45 <= d_before <= 55 and 40 <= d_after <= 55
    assert angle_diff(before["course"], bearing_deg(before["lat"], before["lon"], *BENGHAZI)) < 45
    assert angle_diff(after["course"], bearing_deg(after["lat"], after["lon"], *BENGHAZI)) > 120
    assert 250 <= after["course"] <= 340 and after["speed"] > 8
    # The tanker is heard at Benghazi meanwhile: the silence is the ship's, not the receivers'.
    call = scenario["benghazi_tanker_call"]
    assert ts(call["arrival"]) < t0 < ts(call["departure"]) and ts(call["departure"]) - ts(call["arrival"]) >= 6 * 3600
    tanker = [r for r in positions[call["mmsi"]] if t0 < r.c < t1]
    assert sum(haversine_nm(r.msg["lat"], r.msg["lon"], *BENGHAZI) <= 5 for r in tanker) > 100


def test_ural_destination_and_draught_changes(unique: list[Rec], scenario: dict[str, Any]) -> None:
    u = scenario["ural"]
    reports = [r for r in unique if r.msg["mmsi"] == u["mmsi"] and r.msg["msg_type"] == 5]
    changes = [{"time": _iso(b.c), "old": a.msg["destination"], "new": b.msg["destination"], "line": b.line_no}
               for a, b in zip(reports[:-1], reports[1:], strict=True)
               if a.msg["destination"] != b.msg["destination"]]
    assert changes == [{"time": c["time"], "old": c["old"], "new": c["new"], "line": c["lines"][0]}
                       for c in u["destination_changes"]]
    departed = ts(u["novorossiysk_departure"])
    assert len([c for c in changes if ts(c["time"]) > departed]) >= 2
    assert changes[0]["new"] == "SFAX"
    dark_end = ts(u["dark"]["first_after"]["time"])
    assert {r.msg["draught"] for r in reports if r.c < dark_end} == {u["draught_change"]["old_m"]} == {6.5}
    assert {r.msg["draught"] for r in reports if r.c > dark_end} == {u["draught_change"]["new_m"]} == {5.2}
    assert ts(u["draught_change"]["time"]) - dark_end < 600


# ----------------------------------------------------------------- all traffic


def test_no_position_on_land(positions: dict[int, list[Rec]]) -> None:
    for mmsi, track in positions.items():
        lat = np.array([r.msg["lat"] for r in track])
        lon = np.array([r.msg["lon"] for r in track])
        assert not globe.is_land(lat, lon).any(), mmsi


def test_ordinary_traffic_gives_no_false_findings(positions: dict[int, list[Rec]], unique: list[Rec],
                                                  scenario: dict[str, Any], ports: np.ndarray) -> None:
    ordinary = {v["mmsi"] for v in scenario["ordinary_vessels"]}
    assert 10 <= len(ordinary) <= 15 and set(positions) == ordinary | {scenario["ural"]["mmsi"]}
    gap = scenario["open_sea_gap"]
    for mmsi in ordinary:
        track = positions[mmsi]
        for a, b in zip(track[:-1], track[1:], strict=True):
            dt_s = b.c - a.c
            d_nm = haversine_nm(a.msg["lat"], a.msg["lon"], b.msg["lat"], b.msg["lon"])
            assert d_nm <= max(1.0, 60 * (dt_s + 30) / 3600), (mmsi, a.line_no)
            if dt_s >= 6 * 3600:
                assert (mmsi, _iso(a.c), _iso(b.c)) == (gap["mmsi"], gap["start"], gap["end"])
        identities = {(r.msg.get("shipname"), r.msg.get("callsign"), r.msg.get("imo")) for r in unique
                      if r.msg["mmsi"] == mmsi and r.msg["msg_type"] == 5}
        assert len(identities) <= 1, mmsi
    assert 7.5 <= gap["gap_h"] <= 9
    assert nearest_port_nm(ports, gap["start_lat"], gap["start_lon"]) > 100
    assert nearest_port_nm(ports, gap["end_lat"], gap["end_lon"]) > 100
    for g in scenario["reception_gaps"]:
        if g["mmsi"] != gap["mmsi"]:
            assert 0.5 <= g["gap_h"] <= 3.0


def test_no_two_ships_meet_at_sea(positions: dict[int, list[Rec]], ports: np.ndarray) -> None:
    """No pair within 500 m in the same 10-minute bucket while more than 10 km from every port."""
    buckets: dict[int, dict[int, tuple[float, float]]] = defaultdict(dict)
    for mmsi, track in positions.items():
        for r in track:
            buckets[int(r.c // 600)][mmsi] = (r.msg["lat"], r.msg["lon"])
    near_pairs = []
    for b, where in buckets.items():
        items = sorted(where.items())
        for i, (m1, p1) in enumerate(items):
            for m2, p2 in items[i + 1 :]:
                if abs(p1[0] - p2[0]) < 0.01 and haversine_nm(*p1, *p2) < 0.27:
                    near_pairs.append((b, m1, m2, p1))
    at_sea = [c for c in near_pairs if nearest_port_nm(ports, *c[3]) > 5.4]
    assert not at_sea


# ------------------------------------------------------------------ encoding


def test_generator_encoding_matches_pyais(generator: ModuleType) -> None:
    samples = [
        {"msg_type": 1, "mmsi": 352180218, "status": 0, "speed": 10.4, "accuracy": 1, "lon": 19.103628,
         "lat": 32.362695, "course": 79.4, "heading": 80, "second": 4, "radio": 12345, "maneuver": 0},
        {"msg_type": 3, "mmsi": 636018424, "status": 5, "speed": 0.0, "accuracy": 1, "lon": 20.047,
         "lat": 32.116, "course": 211.3, "heading": 20, "second": 59, "radio": 524287, "maneuver": 0},
        {"msg_type": 5, "mmsi": 352180218, "ais_version": 0, "imo": 9180217, "callsign": "3EUR8",
         "shipname": "URAL", "ship_type": 70, "to_bow": 84, "to_stern": 16, "to_port": 8, "to_starboard": 8,
         "epfd": 1, "month": 2, "day": 27, "hour": 6, "minute": 0, "draught": 5.2, "destination": "GIBRALTAR",
         "dte": 0},
        {"msg_type": 18, "mmsi": 235114620, "speed": 6.1, "accuracy": 0, "lon": 23.43, "lat": 37.6,
         "course": 181.2, "heading": 511, "second": 33, "cs": 1, "display": 0, "dsc": 1, "band": 1, "msg22": 1,
         "radio": 99},
        {"msg_type": 24, "mmsi": 235114620, "partno": 0, "shipname": "MELTEMI"},
        {"msg_type": 24, "mmsi": 235114620, "partno": 1, "ship_type": 37, "vendorid": "SRT", "model": 1,
         "serial": 114620, "callsign": "2HQK7", "to_bow": 12, "to_stern": 3, "to_port": 2, "to_starboard": 2},
    ]
    for fields in samples:
        for channel, seq in (("A", 3), ("B", 0)):
            ours = generator.sentences(*generator.encode_payload(fields), channel, seq)
            theirs = encode_dict(fields, talker_id="AI", sentence_type="VDM", radio_channel=channel, seq_id=seq)
            assert ours == theirs, fields
            assert decode(*ours).asdict()["msg_type"] == fields["msg_type"]


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=60), st.integers(0, 7))
def test_armour_matches_pyais(generator: ModuleType, data: bytes, spare_bits: int) -> None:
    nbits = max(1, 8 * len(data) - spare_bits)
    assert generator.armour(data, nbits) == SixBitNibleEncoder().encode(data, nbits)


# ================================================================== shiptrack end to end


@pytest.fixture(scope="module")
def store(ural_store: Path) -> Path:
    return ural_store


# The ordinary traffic's shuttles, declared both ways (departure: the end of the first call there).
SHUTTLES = [(241318000, "Piraeus", "Alexandria"), (247421800, "Genoa", "Tunis"), (248913000, "Marsaxlokk", "Tripoli"),
            (271047700, "Ambarli", "Port Said"), (636018424, "Augusta", "Benghazi"),
            (229554000, "Marsaxlokk", "Port Said"), (538007412, "Novorossiysk", "Augusta")]


@pytest.fixture(scope="module")
def with_shuttles(ural_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store with every ordinary vessel's voyages declared too, and the port rules run again."""
    db = tmp_path_factory.mktemp("ural_shuttles") / "ural.duckdb"
    shutil.copy(ural_store, db)
    shuttles = db.parent / "shuttles.csv"
    shuttles.write_text("mmsi,ports,departed\n" + "".join(f"{m},{a} > {b},\n{m},{b} > {a},\n" for m, a, b in SHUTTLES))
    for args in (["route", "import", shuttles], ["detect", "--rules", "port_call,unplanned_port_call,route_deviation"]):
        result = run_cli(args, db)
        assert result.exit_code == 0, result.output
    return db


def events(db: Path, kind: str, mmsi: int | None = None) -> list[dict]:
    rows = query(db, "SELECT mmsi, start_utc, end_utc, port, port_distance_nm, details, other_mmsi "
                     "FROM events WHERE kind = ? AND (? IS NULL OR mmsi = ?) ORDER BY mmsi, start_utc",
                 [kind, mmsi, mmsi])
    return [dict(zip(("mmsi", "start", "end", "port", "dist", "details", "other"), r, strict=True))
            | {"details": json.loads(r[5])} for r in rows]


def close(a: datetime, b_iso: str, tol: timedelta = TOL) -> bool:
    return abs(a - parse_utc(b_iso)) <= tol


# ------------------------------------------------------------------ ingest


@pytest.mark.slow
def test_ingest_counts_every_scripted_bad_line(store: Path) -> None:
    reasons = dict(query(store, "SELECT reason, count(*) FROM rejects GROUP BY 1"))
    bad = SCENARIO["bad_lines"]
    assert reasons["bad_checksum"] == bad["bad_checksum"]["count"]
    assert reasons["bad_tagblock"] == bad["bad_tagblock"]["count"]
    assert reasons["truncated"] == bad["truncated"]["count"]
    assert reasons["orphan_fragment"] == bad["orphan_fragment"]["count"]
    assert reasons["no_timestamp"] == bad["no_tagblock"]["count"]
    assert reasons["empty_line"] == bad["empty"]["count"]
    assert reasons["garbage"] == bad["binary"]["count"]
    assert query(store, "SELECT count(*) FROM positions WHERE mmsi = ?", [MMSI])[0][0] == U["positions_written"]
    assert query(store, "SELECT count(DISTINCT mmsi) >= 10, count(*) > 10000 FROM positions") == [(True, True)]


# ------------------------------------------------------------------ what detect finds


@pytest.mark.slow
def test_sfax_is_an_unplanned_call(store: Path) -> None:
    [ev] = events(store, "unplanned_port_call", MMSI)
    assert ev["port"] == "Mersa Sfax"
    assert close(ev["start"], U["sfax"]["anchorage_arrival"], timedelta(minutes=30))
    assert close(ev["end"], U["sfax"]["departure"], timedelta(minutes=30))
    assert events(store, "unplanned_port_call") == [ev]  # nobody else: no other voyage is declared


@pytest.mark.slow
def test_benghazi_dark_period_with_its_evidence(store: Path) -> None:
    [ev] = events(store, "dark_period", MMSI)
    dark = U["dark"]
    assert ev["port"] == "Banghazi"
    assert close(ev["start"], dark["last_before"]["time"]) and close(ev["end"], dark["first_after"]["time"])
    d = ev["details"]
    assert d["heading_to_port"] is True
    assert d["coverage"]["other_vessels"] >= 1  # the tanker calling at Benghazi was heard all along
    assert d["coverage"]["status"] == "live" and all(d["call_conditions"].values())
    assert d["probable_unreported_call"] is True and d["probable_call_port"] == "Banghazi"
    assert (d["draught_before_m"], d["draught_after_m"]) == (6.5, 5.2)
    assert abs(d["nearest_port_start"]["distance_nm"] - dark["last_before"]["distance_to_benghazi_nm"]) < 1
    assert events(store, "dark_period") == [ev]  # nothing false on the ordinary traffic


@pytest.mark.slow
def test_destination_changes_are_the_scripted_ones(store: Path) -> None:
    got = [(e["details"]["from"], e["details"]["to"], e["start"]) for e in events(store, "destination_change", MMSI)]
    want = U["destination_changes"]
    assert [(g[0], g[1]) for g in got] == [(w["old"], w["new"]) for w in want]
    assert all(close(g[2], w["time"]) for g, w in zip(got, want, strict=True))


@pytest.mark.slow
def test_open_sea_gap_is_an_ais_gap_not_a_dark_period(store: Path) -> None:
    gap = SCENARIO["open_sea_gap"]
    [ev] = events(store, "ais_gap")
    assert ev["mmsi"] == gap["mmsi"] and close(ev["start"], gap["start"]) and close(ev["end"], gap["end"])
    assert events(store, "implausible_gap", MMSI) == []


# The scenario scripts no identity change, no ship-to-ship meeting and no position on land
# (the Ural keeps its name and flag; the Benghazi tanker calls alone; every route is checked
# to stay at sea), while the ordinary traffic includes ships at anchor, a broken-down Ural
# drifting at 0-2 kn for 16 h, and moored ships at WPI ports whose points lie on land (Mersa
# Sfax, Novorossiysk). So the exact expectation is: none of these kinds, unless scenario.json
# later scripts some (keys ``identity_changes``, ``sts_encounters``, ``positions_on_land``:
# lists of {"mmsi": ...}).
SCRIPTED = {"identity_change": "identity_changes", "sts_encounter": "sts_encounters",
            "position_on_land": "positions_on_land"}


@pytest.mark.slow
def test_exactly_the_scripted_identity_sts_and_land_events(store: Path) -> None:
    for kind, key in SCRIPTED.items():
        found = sorted(e["mmsi"] for e in events(store, kind))
        expected = sorted(e["mmsi"] for e in SCENARIO.get(key, []))
        assert found == expected, f"{kind}: {found} != scripted {expected}"
    # the Ural itself: same name, call sign, IMO and MMSI all month
    assert query(store, "SELECT count(*) FROM events WHERE mmsi = ? AND kind IN ('identity_change', "
                        "'position_on_land', 'sts_encounter')", [MMSI]) == [(0,)]


@pytest.mark.slow
def test_nothing_false_on_the_ordinary_traffic(store: Path) -> None:
    assert events(store, "spoofing_jump") == []
    assert {e["mmsi"] for e in events(store, "route_deviation")} <= {MMSI}
    tanker = SCENARIO["benghazi_tanker_call"]
    calls = [e for e in events(store, "port_call", tanker["mmsi"]) if e["port"] == "Banghazi"]
    # the tanker shuttles Augusta <> Benghazi: its call during the Ural's silence is one of them
    assert sum(close(c["start"], tanker["arrival"], timedelta(minutes=30)) for c in calls) == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", list(audit.CHECKS))
def test_no_finding_on_the_ural_reconstruction_is_proved_false(store: Path, name: str) -> None:
    assert audit.proved_false(store, name) == []


# ------------------------------------------------------------------ ports and voyages


@pytest.mark.slow
def test_ural_calls_at_novorossiysk_then_sfax(with_shuttles: Path) -> None:
    calls = events(with_shuttles, "port_call", MMSI)
    assert [c["port"] for c in calls] == ["Novorossiysk", "Mersa Sfax"]
    assert close(calls[0]["end"], U["novorossiysk_last_moored"])
    sfax = U["sfax"]
    assert close(calls[1]["start"], sfax["anchorage_arrival"]) and close(calls[1]["end"], sfax["last_moored"])
    d = calls[1]["details"]
    assert d["anchored_first"] and d["moored"] and d["destination_at_arrival"] == "SFAX"


@pytest.mark.slow
def test_the_sfax_call_is_the_only_unplanned_one(with_shuttles: Path) -> None:
    found = events(with_shuttles, "unplanned_port_call")
    assert len(found) == 1
    ev = found[0]
    sfax = U["sfax"]
    assert (ev["mmsi"], ev["port"]) == (MMSI, "Mersa Sfax")
    assert close(ev["start"], sfax["anchorage_arrival"]) and close(ev["end"], sfax["last_moored"])
    d = ev["details"]
    assert d["declared_ports"] == U["declared_route"] and d["route_offset_nm"] > 100


@pytest.mark.slow
def test_one_route_deviation_covers_sfax_and_the_libyan_coast(with_shuttles: Path) -> None:
    found = events(with_shuttles, "route_deviation")
    assert len(found) == 1
    ev = found[0]
    d = ev["details"]
    assert ev["mmsi"] == MMSI
    assert ev["start"] < parse_utc(U["sfax"]["anchorage_arrival"])
    assert ev["end"] > parse_utc(U["dark"]["first_after"]["time"])
    assert ev["end"] < parse_utc(U["gibraltar_passed"])
    # passing where it was makes the voyage some 300 nm (5%) longer; the run starts and ends
    # where the detour crosses the 150 nm limit
    assert d["leg"] == d["declared_ports"] and 5700 < d["leg_nm"] < 6000 and d["route_avoids"] == []
    assert 250 < d["max_detour_nm"] < 350 and 4 < d["max_detour_pct"] < 6
    assert d["start_detour_nm"] > 150 and d["end_detour_nm"] > 150 and d["max_detour_limit_nm"] == 150
    assert d["max_detour_lon"] > 15 and d["max_detour_lat"] < 33  # off the Libyan coast, not at Sfax
    out = run_cli(["vessel", str(MMSI), "--format", "md"], with_shuttles).output
    assert f"went {d['max_detour_nm']:.0f} nm out of the way ({d['max_detour_pct']:.1f}% longer voyage) for" in out


@pytest.mark.slow
def test_ordinary_traffic_calls_as_planned(with_shuttles: Path) -> None:
    tanker = SCENARIO["benghazi_tanker_call"]
    at_benghazi = [c for c in events(with_shuttles, "port_call", tanker["mmsi"]) if c["port"] == "Banghazi"]
    assert any(close(c["start"], tanker["arrival"]) and close(c["end"], tanker["departure"]) for c in at_benghazi)
    ferry = next(v["mmsi"] for v in SCENARIO["ordinary_vessels"] if "ferry" in v["role"])
    assert events(with_shuttles, "port_call", ferry) == []  # never 4 h alongside
    for c in events(with_shuttles, "port_call"):  # the trawler fishing slowly at sea makes none out there
        assert c["dist"] <= 5.0, c
    # the shuttles are declared too: their calls are planned, and their passages reasonable
    assert len(query(with_shuttles, "SELECT * FROM declared_voyages")) == 1 + 2 * len(SHUTTLES)
    found = events(with_shuttles, "unplanned_port_call") + events(with_shuttles, "route_deviation")
    assert {e["mmsi"] for e in found} == {MMSI}


# ------------------------------------------------------------------ investigating


@pytest.mark.slow
def test_dossier_lists_sfax_unplanned_and_the_benghazi_dark_period(store: Path) -> None:
    out = run_cli(["vessel", "URAL", "--format", "md"], store).output
    assert "called at Mersa Sfax" in out and "**unplanned**" in out
    assert "AIS silent" in out and "Banghazi" in out and "probable unreported call" in out
    data = json.loads(run_cli(["vessel", str(MMSI), "--format", "json"], store).output)
    assert data["vessel"]["flag"] == "Panama" and data["time_dark_h"] == pytest.approx(U["dark"]["duration_h"], abs=0.2)
    kinds = [t["kind"] for t in data["timeline"]]
    assert "unplanned_port_call" in kinds and "dark_period" in kinds
    [voyage] = data["voyages"]
    assert [c["port"] for c in voyage["observed_calls"] if c["unplanned"]] == ["Mersa Sfax"]


@pytest.mark.slow
@pytest.mark.parametrize(("report", "params", "expect"), [
    ("dark_near_ports", ["since=2018-02-01", "until=2018-03-05"], {MMSI}),
    ("port_calls", ["port=Benghazi", "since=2018-02-01", "until=2018-03-05"], {SCENARIO["benghazi_tanker_call"]["mmsi"]}),
    ("called_both", ["ports_a=Sfax", "ports_b=Benghazi", "since=2018-02-01", "until=2018-03-05"], {MMSI}),
    ("identity_changes", ["since=2018-02-01", "until=2018-03-05"], set()),
])
def test_every_shipped_report_runs(store: Path, report: str, params: list[str], expect: set[int]) -> None:
    args = ["report", "run", report, "--format", "csv"]
    for p in params:
        args += ["--param", p]
    result = run_cli(args, store)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert {int(r["mmsi"]) for r in rows} == expect


@pytest.mark.slow
def test_weekly_voyages_and_destination_report(store: Path) -> None:
    out = run_cli(["report", "run", "voyages_between", "--param", "ports_a=Genoa", "--param", "ports_b=La Goulette",
                   "--param", "since=2018-01-01", "--param", "until=2018-04-01", "--format", "csv"], store).output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["direction"] for r in rows} <= {"A to B", "B to A"}
    # the Genoa <> La Goulette (Tunis) ro-ro: 9 calls at Genoa and 10 at La Goulette, alternating
    assert sum(int(r["voyages"]) for r in rows) >= 15
    out = run_cli(["report", "run", "destination_never_matched", "--param", "since=2018-02-01",
                   "--param", "until=2018-03-05", "--format", "csv"], store).output
    assert "mmsi" in out.splitlines()[0]


@pytest.mark.slow
def test_track_exports_parse_and_hold_every_point(store: Path, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    n = U["positions_written"]
    kml = tmp_path / "ural.kml"
    assert run_cli(["track", "URAL", "--format", "kml", "-o", kml], store).exit_code == 0
    root = ET.parse(kml).getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Folder/k:Placemark", ns)) == n
    geo = json.loads(run_cli(["track", "URAL", "--format", "geojson"], store).output)
    points = [f for f in geo["features"] if f["geometry"]["type"] == "Point"]
    assert len(points) == n
    rows = list(csv.DictReader(io.StringIO(run_cli(["track", "URAL", "--format", "csv"], store).output)))
    assert len(rows) == n and rows[0]["source"].endswith("ural.nmea") and int(rows[0]["line_no"]) > 0
