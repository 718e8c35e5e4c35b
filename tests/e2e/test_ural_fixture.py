"""The Ural reconstruction fixture: deterministic, well formed, and true to its scenario.

These tests read the committed files (fixtures/ural/) with their own small parser and
pyais, not with shiptrack, so that they describe the fixture itself; the end-to-end
tests check what shiptrack finds in it.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
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

ROOT = Path(__file__).resolve().parents[2]
URAL_DIR = ROOT / "fixtures" / "ural"
PORTS_CSV = ROOT / "shiptrack" / "reference" / "data" / "ports.csv"
LINE_RE = re.compile(
    r"^\\s:(?P<station>r\w+),c:(?P<c>\d{10}|\d{13})\*(?P<tcs>[0-9A-F]{2})\\"
    r"!(?P<body>AIVDM,(?P<count>[12]),(?P<num>[12]),(?P<seq>\d?),[AB],[0-W`-w]+,[0-5])\*(?P<cs>[0-9A-F]{2})$"
)
BENGHAZI = (32.116667, 20.05)
SFAX = (34.733333, 10.766667)


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
    close = []
    for b, where in buckets.items():
        items = sorted(where.items())
        for i, (m1, p1) in enumerate(items):
            for m2, p2 in items[i + 1 :]:
                if abs(p1[0] - p2[0]) < 0.01 and haversine_nm(*p1, *p2) < 0.27:
                    close.append((b, m1, m2, p1))
    at_sea = [c for c in close if nearest_port_nm(ports, *c[3]) > 5.4]
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
