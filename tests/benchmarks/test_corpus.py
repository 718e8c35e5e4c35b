"""benchmarks/corpus.py: a fast NMEA corpus that pyais decodes exactly as generated."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais import decode
from pyais.encode import encode_dict

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "corpus.py"


@pytest.fixture(scope="module")
def corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_corpus", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def xor(text: str) -> int:
    cs = 0
    for ch in text.encode("ascii"):
        cs ^= ch
    return cs


def read_messages(path: Path) -> tuple[list[str], list[dict[str, Any]], list[int]]:
    """Lines, decoded messages and receive times, checking every checksum on the way."""
    lines = path.read_text(encoding="ascii").splitlines()
    messages, times = [], []
    i = 0
    while i < len(lines):
        group = [lines[i]] if ",2,1," not in lines[i] else lines[i : i + 2]
        sentences = []
        for line in group:
            tag, sep, sentence = line[1:].partition("\\")
            assert line.startswith("\\s:") and sep, line
            body, cs = tag.split("*")
            assert xor(body) == int(cs, 16), line
            times.append(int(body.split(",c:")[1]))
            assert xor(sentence[1 : sentence.index("*")]) == int(sentence[-2:], 16), line
            sentences.append(sentence)
        messages.append(decode(*sentences).asdict())
        i += len(group)
    return lines, messages, times


def test_tiny_corpus_decodes_with_the_stated_mix(corpus: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "corpus.nmea"
    counts = corpus.generate_corpus(path, 2000, seed=3)
    lines, messages, times = read_messages(path)
    assert len(lines) == 2000 == counts["sentences"] and len(messages) == counts["messages"]
    assert times == sorted(times)
    types = Counter(m["msg_type"] for m in messages)
    share = {k: v / len(messages) for k, v in types.items()}
    assert abs(sum(share.get(t, 0) for t in (1, 2, 3, 18)) - 0.80) < 0.05
    assert 0.05 < share[18] < 0.20 and share[1] > share[3] > share[2] > 0
    assert abs(share[5] - 0.10) < 0.03
    assert abs(share[24] - 0.05) < 0.025
    assert abs(share[4] - 0.03) < 0.02
    assert abs(share.get(8, 0) + share.get(21, 0) - 0.02) < 0.015
    assert {m["partno"] for m in messages if m["msg_type"] == 24} == {0, 1}
    assert all(-90 <= m["lat"] <= 90 and -180 <= m["lon"] <= 180 for m in messages if "lat" in m)
    assert all(m["shipname"].strip() and m["destination"].strip() for m in messages if m["msg_type"] == 5)


def test_vessels_move_plausibly(corpus: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "corpus.nmea"
    corpus.generate_corpus(path, 20_000, seed=5)
    _, messages, times = read_messages(path)
    tracks: dict[int, list[tuple[int, float, float]]] = {}
    t_iter = iter(times)
    for m in messages:
        t = next(t_iter)
        if m["msg_type"] == 5:
            next(t_iter)
        if m["msg_type"] in (1, 2, 3, 18):
            tracks.setdefault(m["mmsi"], []).append((t, m["lat"], m["lon"]))
    assert len(tracks) > 300
    for points in tracks.values():
        for (t1, la1, lo1), (t2, la2, lo2) in zip(points[:-1], points[1:], strict=False):
            d_nm = 60 * np.hypot(la2 - la1, (lo2 - lo1) * np.cos(np.radians(la1)))
            assert d_nm <= 0.1 + 25 * (t2 - t1) / 3600


def test_exact_sentence_counts_determinism_and_bare_sentences(corpus: ModuleType, tmp_path: Path) -> None:
    for n in (1, 2, 3, 999):
        corpus.generate_corpus(tmp_path / "n.nmea", n, seed=n)
        assert (tmp_path / "n.nmea").read_bytes().count(b"\n") == n
    corpus.generate_corpus(tmp_path / "a.nmea", 500, seed=9)
    corpus.generate_corpus(tmp_path / "b.nmea", 500, seed=9)
    assert (tmp_path / "a.nmea").read_bytes() == (tmp_path / "b.nmea").read_bytes()
    corpus.generate_corpus(tmp_path / "bare.nmea", 300, seed=9, tagblocks=False)
    bare = (tmp_path / "bare.nmea").read_text().splitlines()
    assert len(bare) == 300 and all(line.startswith("!AIVDM,") for line in bare)
    assert all(xor(line[1 : line.index("*")]) == int(line[-2:], 16) for line in bare)


def test_cli_writes_a_tiny_corpus(tmp_path: Path) -> None:
    out = tmp_path / "tiny.nmea"
    result = subprocess.run([sys.executable, str(SCRIPT), str(out), "1000"], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert "1,000 sentences" in result.stdout
    assert out.read_bytes().count(b"\n") == 1000


def _ours(corpus: ModuleType, pack: str, fields: dict[str, Any]) -> str:
    arrays = {k: (np.array([v]) if np.ndim(v) == 0 else v) for k, v in fields.items()}
    chars, fill = getattr(corpus, pack)(arrays)
    return chars[0].tobytes().decode("ascii"), fill


def _pyais(fields: dict[str, Any]) -> tuple[str, int]:
    sentences = encode_dict(fields, talker_id="AI", sentence_type="VDM")
    payload = "".join(s.split(",")[5] for s in sentences)
    return payload, int(sentences[-1].split(",")[6][0])


def test_packers_match_pyais(corpus: ModuleType) -> None:
    text = corpus.sixbit_text
    cases = [
        ("pack_static5", {"mmsi": 249383311, "imo": 9958767, "callsign": text(["KLIM2"], 7),
                          "shipname": text(["ORION VEGA"], 20), "ship_type": 70, "to_bow": 107, "to_stern": 5,
                          "to_port": 8, "to_starboard": 6, "epfd": 1, "month": 3, "day": 4, "hour": 21,
                          "minute": 42, "draught": 118, "destination": text(["NEW YORK"], 20)},
         {"msg_type": 5, "mmsi": 249383311, "imo": 9958767, "callsign": "KLIM2", "shipname": "ORION VEGA",
          "ship_type": 70, "to_bow": 107, "to_stern": 5, "to_port": 8, "to_starboard": 6, "epfd": 1,
          "month": 3, "day": 4, "hour": 21, "minute": 42, "draught": 11.8, "destination": "NEW YORK"}),
        ("pack_b24", {"mmsi": 271903871, "partno": 0, "shipname": text(["HORIZON NORDIC"], 20),
                      "ship_type": 37, "vendorid": text(["SRT"], 3), "model": 1, "serial": 903871,
                      "callsign": text(["TKBQ0"], 7), "to_bow": 7, "to_stern": 8, "to_port": 1, "to_starboard": 4},
         {"msg_type": 24, "mmsi": 271903871, "partno": 0, "shipname": "HORIZON NORDIC"}),
        ("pack_b24", {"mmsi": 271903871, "partno": 1, "shipname": text(["HORIZON NORDIC"], 20),
                      "ship_type": 37, "vendorid": text(["SRT"], 3), "model": 1, "serial": 903871,
                      "callsign": text(["TKBQ0"], 7), "to_bow": 7, "to_stern": 8, "to_port": 1, "to_starboard": 4},
         {"msg_type": 24, "mmsi": 271903871, "partno": 1, "ship_type": 37, "vendorid": "SRT", "model": 1,
          "serial": 903871, "callsign": "TKBQ0", "to_bow": 7, "to_stern": 8, "to_port": 1, "to_starboard": 4}),
        ("pack_base4", {"msg_type": 4, "mmsi": 2190001, "year": 2018, "month": 3, "day": 1, "hour": 13,
                        "minute": 5, "second": 59, "accuracy": 1, "lon": round(-5.35 * 600000),
                        "lat": round(36.13 * 600000), "epfd": 7, "radio": 4242},
         {"msg_type": 4, "mmsi": 2190001, "year": 2018, "month": 3, "day": 1, "hour": 13, "minute": 5,
          "second": 59, "accuracy": 1, "lon": -5.35, "lat": 36.13, "epfd": 7, "radio": 4242}),
    ]
    for pack, ours, theirs in cases:
        assert _ours(corpus, pack, ours) == _pyais(theirs), pack
    # Type 21: pyais pads an empty name extension with 88 zero bits; compare what it decodes.
    payload, fill = _ours(corpus, "pack_aton21", {
        "mmsi": 992191234, "aid_type": 18, "name": text(["BUOY 17"], 20), "lon": round(3.4761 * 600000),
        "lat": round(57.1263 * 600000), "epfd": 1, "second": 3})
    msg = decode(f"!AIVDM,1,1,,A,{payload},{fill}*00", error_if_checksum_invalid=False).asdict()
    assert (msg["msg_type"], msg["mmsi"], msg["aid_type"], msg["full_name"], msg["lat"], msg["lon"], msg["second"]) \
        == (21, 992191234, 18, "BUOY 17", 57.1263, 3.4761, 3)
    data = np.array([[1, 0] * 56], dtype=np.uint8)
    payload, fill = _ours(corpus, "pack_msg8", {"mmsi": 244000111, "data": data})
    msg = decode(f"!AIVDM,1,1,,A,{payload},{fill}*00", error_if_checksum_invalid=False).asdict()
    assert (msg["msg_type"], msg["mmsi"], msg["dac"], msg["fid"]) == (8, 244000111, 235, 10)


@settings(max_examples=150, deadline=None)
@given(mmsi=st.integers(100_000_000, 799_999_999), lat=st.integers(-90 * 600000, 90 * 600000),
       lon=st.integers(-180 * 600000, 180 * 600000), speed=st.integers(0, 1022), course=st.integers(0, 3599),
       heading=st.integers(0, 359) | st.just(511), second=st.integers(0, 59), status=st.integers(0, 15),
       msg_type=st.sampled_from([1, 2, 3, 18]), radio=st.integers(0, (1 << 19) - 1))
def test_position_packers_match_pyais(corpus: ModuleType, mmsi: int, lat: int, lon: int, speed: int,
                                      course: int, heading: int, second: int, status: int, msg_type: int,
                                      radio: int) -> None:
    ours = {"msg_type": msg_type, "mmsi": mmsi, "speed": speed, "lon": lon, "lat": lat, "course": course,
            "heading": heading, "second": second, "radio": radio}
    theirs = {"msg_type": msg_type, "mmsi": mmsi, "speed": speed / 10, "lon": lon / 600000, "lat": lat / 600000,
              "course": course / 10, "heading": heading, "second": second, "radio": radio}
    if msg_type == 18:
        ours |= {"cs": 1, "dsc": 1, "band": 1, "msg22": 1}
        theirs |= {"cs": 1, "dsc": 1, "band": 1, "msg22": 1}
        assert _ours(corpus, "pack_position_b", ours) == _pyais(theirs)
    else:
        ours |= {"status": status, "turn": -128}
        theirs |= {"status": status, "maneuver": 0}  # pyais's default is 3, a reserved value
        assert _ours(corpus, "pack_position_a", ours) == _pyais(theirs)
