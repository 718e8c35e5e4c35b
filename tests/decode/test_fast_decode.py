"""The vectorized decoder (shiptrack.decode.accel.fast) against pyais, the reference.

Every row ``decode_batch`` marks handled must carry exactly the values pyais gives
(same floats bit for bit, same text); every row it does not handle must be one
pyais decodes differently, fails on, or that we cannot vouch for.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyais
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais.bit_vector import bit_vector
from pyais.encode import encode_dict
from pyais.messages import (
    MSG_CLASS,
)
from pyais.util import SIX_BIT_ENCODING

from shiptrack.decode.accel import fast
from shiptrack.decode.accel.fast import FastResult, decode_batch

PEER = Path(__file__).resolve().parents[2] / "fixtures" / "peer"
POSITION_TYPES = {1, 2, 3, 18, 19, 27}
STATIC_TYPES = {5, 19, 24}
BASE_TYPES = {4, 11}
OUR_TYPES = POSITION_TYPES | STATIC_TYPES | BASE_TYPES


# ---------------------------------------------------------------- the comparison


def reference(payload: str, fill: int) -> Any:
    """pyais's decode of one assembled payload (what ``pyais.decode`` does after framing)."""
    bv = bit_vector(payload.encode("ascii"), fill)
    return MSG_CLASS[bv.get(0, 6)].from_vector(bv)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def expected(msg: Any) -> dict[str, dict[str, Any]]:
    """The rows pyais's message should produce in each frame, keyed by frame name."""
    t = msg.msg_type
    out: dict[str, dict[str, Any]] = {}

    def row(schema: dict[str, Any]) -> dict[str, Any]:
        return {name: _plain(getattr(msg, name, None)) for name in schema if name != "index"}

    if t in POSITION_TYPES:
        out["positions"] = row(fast.POSITION_SCHEMA)
        if t == 27:
            out["positions"]["heading"] = 511  # documented convention: no heading in type 27
    if t in STATIC_TYPES:
        out["statics"] = row(fast.STATIC_SCHEMA)
    if t in BASE_TYPES:
        out["base_stations"] = row(fast.BASE_STATION_SCHEMA)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same kind (a float must be the very same float, text the same str)."""
    if isinstance(b, float) or isinstance(a, float):
        return type(a) is float and type(b) is float and (a == b or (a != a and b != b))
    if isinstance(b, bool) or isinstance(a, bool):
        return type(a) is bool and type(b) is bool and a == b
    return a == b


def compare(result: FastResult, refs: list[Any]) -> list[str]:
    """Mismatches between the fast frames and pyais, for the rows marked handled.

    ``refs[i]`` is pyais's message for input row i, or the exception pyais raised.
    """
    problems = []
    frames = {"positions": result.positions, "statics": result.statics, "base_stations": result.base_stations}
    got: dict[int, dict[str, dict[str, Any]]] = {}
    for name, df in frames.items():
        assert df.schema == getattr(fast, {"positions": "POSITION_SCHEMA", "statics": "STATIC_SCHEMA",
                                           "base_stations": "BASE_STATION_SCHEMA"}[name])
        assert df["index"].is_sorted(), name
        for r in df.iter_rows(named=True):
            got.setdefault(r.pop("index"), {})[name] = r
    for i, ref in enumerate(refs):
        if not result.handled[i]:
            if i in got:
                problems.append(f"row {i}: not handled but present in {sorted(got[i])}")
            continue
        if isinstance(ref, Exception):
            problems.append(f"row {i}: handled, but pyais raised {ref!r}")
            continue
        if result.msg_type[i] != ref.msg_type:
            problems.append(f"row {i}: msg_type {result.msg_type[i]} != {ref.msg_type}")
        want = expected(ref)
        if set(want) != set(got.get(i, {})):
            problems.append(f"row {i}: frames {sorted(got.get(i, {}))} != {sorted(want)}")
            continue
        for frame, fields in want.items():
            for name, value in fields.items():
                mine = got[i][frame][name]
                if not _same(mine, value):
                    problems.append(f"row {i} type {ref.msg_type} {frame}.{name}: {mine!r} != pyais {value!r}")
    return problems


def run_both(payloads: list[str], fills: list[int]) -> tuple[FastResult, list[Any]]:
    result = decode_batch(payloads, fills)
    refs: list[Any] = []
    for p, f in zip(payloads, fills, strict=True):
        try:
            refs.append(reference(p, f))
        except Exception as err:  # pyais raises many kinds; all mean "not ours"
            refs.append(err)
    return result, refs


# (the layouts are the field tables': tests/decode/test_fields.py checks them against pyais)


# ---------------------------------------------------------------- property test: encoder -> both decoders

ALPHABET = "".join(SIX_BIT_ENCODING)  # the 64 text characters, '@' and space included


def _raw(bits: int, signed: bool = False) -> st.SearchStrategy[int]:
    if signed:
        return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return st.integers(0, (1 << bits) - 1)


mmsis = st.one_of(st.sampled_from([0, 1, 999, 999_999_999, (1 << 30) - 1, 980_000_000, 989_999_999]), _raw(30))
texts = st.one_of(
    st.text(ALPHABET, max_size=20),
    st.sampled_from(["", "@", "@@@", " ", "  A", "A  ", "A@B", "A @", "A@ ", " @ ", "@A", "AB @ @"]),
)
# lat/lon as raw 1/10000 minutes: the whole field, extremes and 91/181 (not available)
lats = st.one_of(st.sampled_from([0, 54_000_000, -54_000_000, 54_600_000, 1, -1]), _raw(27, True))
lons = st.one_of(st.sampled_from([0, 108_000_000, -108_000_000, 108_600_000, 1, -1]), _raw(28, True))


speeds = st.one_of(st.sampled_from([0, 1022, 1023]), _raw(10))  # 102.3 kn = not available
courses = st.one_of(st.sampled_from([0, 3599, 3600, 4095]), _raw(12))  # 360.0 = not available
headings = st.one_of(st.sampled_from([0, 359, 511]), _raw(9))  # 511 = not available


@st.composite
def ais_messages(draw: st.DrawFn) -> dict[str, Any]:
    t = draw(st.sampled_from([1, 2, 3, 4, 5, 11, 18, 19, 24, 24, 27]))
    d: dict[str, Any] = {"type": t, "msg_type": t, "mmsi": draw(mmsis), "repeat": draw(_raw(2))}
    if t in (1, 2, 3, 18, 19):
        d |= {
            "lat": draw(lats) / 600000, "lon": draw(lons) / 600000, "speed": draw(speeds) / 10,
            "course": draw(courses) / 10, "heading": draw(headings), "second": draw(_raw(6)),
            "accuracy": draw(st.booleans()), "raim": draw(st.booleans()), "radio": draw(_raw(19)),
        }
    if t in (1, 2, 3):
        d |= {"status": draw(_raw(4)), "turn": draw(st.sampled_from([0, 5, -5, 127, -127, -128]))}
    if t == 19:
        d |= {"shipname": draw(texts), "ship_type": draw(_raw(8)), "to_bow": draw(_raw(9)),
              "to_stern": draw(_raw(9)), "to_port": draw(_raw(6)), "to_starboard": draw(_raw(6)),
              "epfd": draw(_raw(4))}
    if t == 27:
        d |= {"lat": draw(_raw(17, True)) / 600, "lon": draw(_raw(18, True)) / 600, "speed": draw(_raw(6)),
              "course": draw(_raw(9)), "status": draw(_raw(4)), "accuracy": draw(st.booleans())}
    if t in (4, 11):
        d |= {"year": draw(_raw(14)), "month": draw(_raw(4)), "day": draw(_raw(5)), "hour": draw(_raw(5)),
              "minute": draw(_raw(6)), "second": draw(_raw(6)), "accuracy": draw(st.booleans()),
              "lat": draw(lats) / 600000, "lon": draw(lons) / 600000, "epfd": draw(_raw(4))}
    if t == 5:
        d |= {"ais_version": draw(_raw(2)), "imo": draw(_raw(30)), "callsign": draw(texts)[:7],
              "shipname": draw(texts), "ship_type": draw(_raw(8)), "to_bow": draw(_raw(9)),
              "to_stern": draw(_raw(9)), "to_port": draw(_raw(6)), "to_starboard": draw(_raw(6)),
              "epfd": draw(_raw(4)), "month": draw(_raw(4)), "day": draw(_raw(5)), "hour": draw(_raw(5)),
              "minute": draw(_raw(6)), "draught": draw(_raw(8)) / 10, "destination": draw(texts),
              "dte": draw(st.booleans())}
    if t == 24:
        d |= {"partno": draw(st.integers(0, 1)), "shipname": draw(texts), "ship_type": draw(_raw(8)),
              "vendorid": draw(texts)[:3], "callsign": draw(texts)[:7], "to_bow": draw(_raw(9)),
              "to_stern": draw(_raw(9)), "to_port": draw(_raw(6)), "to_starboard": draw(_raw(6)),
              "mothership_mmsi": draw(_raw(30))}  # the encoder wants it for auxiliary craft
    return d


def _payload(sentences: list[str]) -> tuple[str, int]:
    fields = [s.split(",") for s in sentences]
    return "".join(f[5] for f in fields), int(fields[-1][6].split("*")[0])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ais_messages(), min_size=1, max_size=25))
def test_encoded_messages_decode_exactly_as_pyais(messages: list[dict[str, Any]]) -> None:
    sentences = [encode_dict(m, sentence_type="VDM") for m in messages]
    payloads, fills = zip(*(_payload(s) for s in sentences), strict=True)
    result = decode_batch(list(payloads), list(fills))
    refs = [pyais.decode(*s) for s in sentences]  # the public entry point, on the NMEA sentences
    assert compare(result, refs) == []
    for m, ref, handled in zip(messages, refs, result.handled, strict=True):
        assert ref.msg_type == m["type"]  # the encoder trap (type 3 encoded as 1) is avoided
        # everything the encoder makes is handled, except what pyais decodes otherwise
        aux_part_b = m["type"] == 24 and m["partno"] == 1 and 980_000_000 <= m["mmsi"] <= 989_999_999
        assert handled == (not aux_part_b), m


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(ais_messages(), st.integers(-12, 12), st.integers(0, 5), st.sampled_from(["", "0", "w", "X"])),
        min_size=1, max_size=20,
    )
)
def test_cut_or_extended_payloads_are_handled_only_when_identical(
    cases: list[tuple[dict[str, Any], int, int, str]],
) -> None:
    """Payloads of every length around the standard one, any fill bits, stray characters."""
    payloads, fills = [], []
    for m, delta, fill, extra in cases:
        payload, _ = _payload(encode_dict(m))
        payload = payload[: max(0, len(payload) + delta)] if delta < 0 else payload + extra * delta
        payloads.append(payload)
        fills.append(fill)
    result, refs = run_both(payloads, fills)
    assert compare(result, refs) == []
    for p, handled in zip(payloads, result.handled, strict=True):
        if handled:
            assert "X" not in p and p


# ---------------------------------------------------------------- real files

_SENTENCE = re.compile(r"!([A-Z]{2}VD[MO]),(\d),(\d),(\d*),([^,*]*),([^,*]*),(\d)\*([0-9A-Fa-f]{2})")


def messages_in(path: Path) -> list[tuple[list[str], str, int]]:
    """(sentences, concatenated payload, fill bits of the last part) for each complete message."""
    out = []
    pending: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        for m in _SENTENCE.finditer(line):
            count, num, seq, chan = int(m[2]), int(m[3]), m[4], m[5]
            if count == 1:
                out.append(([m[0]], m[6], int(m[7])))
                continue
            key = (m[2], seq, chan)
            if num == 1:
                pending[key] = []
            parts = pending.get(key)
            if parts is None or len(parts) != num - 1:
                pending.pop(key, None)  # out of order or orphan: not a message
                continue
            parts.append((num, m[0]))
            if num == count:
                del pending[key]
                sentences = [s for _, s in parts]
                fields = [s.split(",") for s in sentences]
                out.append((sentences, "".join(f[5] for f in fields), int(fields[-1][6].split("*")[0])))
    return out


# file -> (messages, of our types handled, of our types left to pyais and why)
REAL_FILES: dict[str, tuple[int, int, dict[tuple[int, str], int]]] = {
    "gpsd/sample.aivdm": (111, 28, {}),
    "gpsd/ais-18-27.log": (276, 207, {(24, "pyais raises UnknownPartNoException"): 69}),
    "libais/test.aivdm": (261, 56, {(27, "too few bits"): 7}),
    "dma-aislib/stream_example.txt": (4033, 3615, {}),
    "amsa-risky/nmea-timestamped.txt": (100, 100, {}),
    "kystverket-sample/norwegian.raw": (190, 187, {}),
}


def _why_not(payload: str, fill: int, ref: Any) -> str:
    if isinstance(ref, Exception):
        return f"pyais raises {type(ref).__name__}"
    if not set(payload) <= set(fast._ARMOUR_BYTES.decode()):
        return "invalid character"
    t = ref.msg_type
    need = fast.MIN_BITS.get(t if t != 24 else ("24A" if ref.partno == 0 else "24B"), 0)
    if 6 * len(payload) - fill < need:
        return "too few bits"
    if t == 24 and ref.partno == 1 and 980_000_000 <= ref.mmsi <= 989_999_999:
        return "auxiliary craft"
    return f"{6 * len(payload) - fill} bits"


@pytest.mark.parametrize("name", REAL_FILES)
def test_real_files_decode_exactly_as_pyais(name: str) -> None:
    """Every message of these files through both decoders; the share each one takes.

    What falls back is only what pyais fails on or decodes into truncated fields:
    every message of our types with its full length and clean armour is handled.
    """
    msgs = messages_in(PEER / name)
    sentences, payloads, fills = (list(x) for x in zip(*msgs, strict=True))
    result = decode_batch(payloads, fills)
    refs: list[Any] = []
    for s in sentences:
        try:
            refs.append(pyais.decode(*s))
        except Exception as err:  # noqa: PERF203 - pyais raises many kinds
            refs.append(err)
    assert compare(result, refs) == []

    ours = np.isin(result.msg_type, list(OUR_TYPES))
    fallbacks = Counter(
        (int(result.msg_type[i]), _why_not(payloads[i], fills[i], refs[i]))
        for i in np.flatnonzero(ours & ~result.handled)
    )
    assert (len(msgs), int((result.handled & ours).sum()), dict(fallbacks)) == REAL_FILES[name]


def test_real_files_in_one_batch() -> None:
    """All files at once: batch composition must not change any row."""
    msgs = [m for name in REAL_FILES for m in messages_in(PEER / name)]
    payloads, fills = [m[1] for m in msgs], [m[2] for m in msgs]
    result, refs = run_both(payloads, fills)
    assert compare(result, refs) == []
    positions = np.isin(result.msg_type, list(POSITION_TYPES))
    assert (int(positions.sum()), int((positions & ~result.handled).sum())) == (3420, 7)  # 0.2% to pyais
    alone = [decode_batch([p], [f]) for p, f in zip(payloads[:300], fills[:300], strict=True)]
    assert [bool(a.handled[0]) for a in alone] == result.handled[:300].tolist()


# ---------------------------------------------------------------- edge cases


def test_not_available_values_come_through_as_pyais_gives_them() -> None:
    """pyais keeps the sentinels (lat 91, lon 181, speed 102.3, course 360, heading 511)."""
    na = {"lat": 91, "lon": 181, "speed": 102.3, "course": 360, "heading": 511, "mmsi": 999_999_999}
    sentences = [
        encode_dict({"type": 1, "msg_type": 1, **na}),
        encode_dict({"type": 18, "msg_type": 18, **na, "lat": -90, "lon": -180, "mmsi": 1}),
        encode_dict({"type": 27, "msg_type": 27, "lat": 91, "lon": 181, "speed": 63, "course": 511, "mmsi": 2}),
    ]
    payloads, fills = zip(*(_payload(x) for x in sentences), strict=True)
    rows = decode_batch(list(payloads), list(fills)).positions.drop("index").rows(named=True)
    assert rows == [
        {"msg_type": 1, "mmsi": 999_999_999, "lat": 91.0, "lon": 181.0, "speed": 102.3, "course": 360.0,
         "heading": 511, "status": 15, "accuracy": False, "second": 0},
        {"msg_type": 18, "mmsi": 1, "lat": -90.0, "lon": -180.0, "speed": 102.3, "course": 360.0,
         "heading": 511, "status": None, "accuracy": False, "second": 0},
        {"msg_type": 27, "mmsi": 2, "lat": 91.0, "lon": 181.0, "speed": 63.0, "course": 511.0,
         "heading": 511, "status": 15, "accuracy": False, "second": None},
    ]


def test_text_is_stripped_as_pyais_strips_it() -> None:
    """pyais: "".join(chars).rstrip("@").strip(): inner and leading '@' stay, spaces go at both ends."""
    names = {"@A B@ ": "@A B@", "  X  ": "X", "A@@B": "A@@B", "": "", "@": "", " @": "", "@ ": "@", "A @": "A"}
    sentences = [encode_dict({"type": 24, "msg_type": 24, "mmsi": 5, "partno": 0, "shipname": n}) for n in names]
    payloads, fills = zip(*(_payload(x) for x in sentences), strict=True)
    got = decode_batch(list(payloads), list(fills)).statics["shipname"].to_list()
    assert got == [pyais.decode(*x).shipname for x in sentences] == list(names.values())


def test_wrong_bit_counts_from_gfw() -> None:
    msgs = messages_in(PEER / "gfw-ais-tools/type1-bad-bitcount.nmea")
    payloads, fills = [m[1] for m in msgs], [m[2] for m in msgs]
    result, refs = run_both(payloads, fills)
    assert compare(result, refs) == []
    assert len(msgs) == 12
    # too long for a 168-bit report: pyais ignores the extra bits, so do we
    assert all(6 * len(p) - f > 168 for p, f in zip(payloads, fills, strict=True))
    assert result.handled.all()


def test_short_payloads_fall_back() -> None:
    good, _ = _payload(encode_dict({"type": 1, "msg_type": 1, "mmsi": 211_000_000, "lat": 54.1, "lon": 9.9}))
    cut = [good[:n] for n in range(len(good) + 1)]
    result, refs = run_both(cut, [0] * len(cut))
    assert compare(result, refs) == []
    assert result.handled.tolist() == [len(p) * 6 >= 143 for p in cut]
    assert result.msg_type[0] == -1 and result.n_bits[0] == 0


def test_empty_invalid_and_odd_inputs() -> None:
    good, fill = _payload(encode_dict({"type": 18, "msg_type": 18, "mmsi": 211_000_000, "lat": 1, "lon": 2}))
    rows = {
        "empty": ("", 0),
        "good": (good, fill),
        "X inside": (good[:10] + "X" + good[11:], fill),
        "underscore": (good[:-1] + "_", fill),
        "space": (good[:5] + " " + good[6:], fill),
        "non-ascii": (good[:5] + "é" + good[6:], fill),
        "fill 6": (good, 6),
        "fill -1": (good, -1),
        "lower-case end": (good + "x", fill),
        "non-ascii first": ("é" + good[1:], fill),
        "good again": (good, fill),
    }
    payloads, fills = [v[0] for v in rows.values()], [v[1] for v in rows.values()]
    result = decode_batch(payloads, fills)
    assert dict(zip(rows, result.handled.tolist(), strict=True)) == {
        "empty": False, "good": True, "X inside": False, "underscore": False, "space": False,
        "non-ascii": False, "fill 6": False, "fill -1": False, "lower-case end": False, "non-ascii first": False,
        "good again": True,
    }
    assert result.positions["index"].to_list() == [1, 10]
    assert result.msg_type.tolist()[:3] == [-1, 18, 18]
    assert result.msg_type[9] == -1


def test_unknown_types_and_type24_parts_fall_back() -> None:
    payloads, fills = [], []
    for d in (
        {"type": 8, "mmsi": 1, "dac": 1, "fid": 31, "data": b"\x01\x02"},
        {"type": 21, "mmsi": 1, "name": "BUOY"},
        {"type": 24, "msg_type": 24, "mmsi": 985_000_001, "partno": 1, "callsign": "AUX", "mothership_mmsi": 2},
        {"type": 24, "msg_type": 24, "mmsi": 211_000_000, "partno": 1, "callsign": "ABC"},
    ):
        p, f = _payload(encode_dict(d))
        payloads.append(p)
        fills.append(f)
    # part number 2 made from the part B: bits 38-39 are bits 2-3 of character 6, 01 -> 10
    v = int(fast._ARMOUR[ord(payloads[3][6])]) ^ 0b001100
    payloads.append(payloads[3][:6] + chr(v + 48 if v < 40 else v + 56) + payloads[3][7:])
    fills.append(fills[3])
    result, refs = run_both(payloads, fills)
    assert compare(result, refs) == []
    assert result.handled.tolist() == [False, False, False, True, False]
    assert isinstance(refs[4], pyais.exceptions.UnknownPartNoException)


def test_numpy_inputs_match_list_input() -> None:
    msgs = messages_in(PEER / "kystverket-sample/norwegian.raw")
    payloads, fills = [m[1] for m in msgs] + ["", "15M6"], [m[2] for m in msgs] + [0, 0]
    base = decode_batch(payloads, fills)
    for arr in (np.array(payloads), np.array(payloads, dtype=object), np.array(payloads, dtype="S")):
        other = decode_batch(arr, np.array(fills, dtype=np.int8))
        assert other.handled.tolist() == base.handled.tolist()
        assert other.msg_type.tolist() == base.msg_type.tolist()
        for frame in ("positions", "statics", "base_stations"):
            assert getattr(other, frame).equals(getattr(base, frame))


def test_empty_batch_and_length_mismatch() -> None:
    result = decode_batch([], [])
    assert result.handled.shape == (0,) and result.positions.height == 0
    assert result.positions.schema == fast.POSITION_SCHEMA
    with pytest.raises(ValueError, match="fill-bit"):
        decode_batch(["15M6"], [0, 0])


def test_two_parts_decode_as_the_joined_payload() -> None:
    """A payload given as two parts of a buffer (the sentences of a two-part message, as
    the ingest passes them) decodes exactly as the joined payload, wherever it is cut."""
    msgs = [m for name in REAL_FILES for m in messages_in(PEER / name)]
    payloads, fills = [m[1] for m in msgs], [m[2] for m in msgs]
    rng = np.random.default_rng(5)
    text, starts, ends, part_fill = "", [], [], []
    for p, f in zip(payloads, fills, strict=True):
        cut = int(rng.integers(0, len(p) + 1))
        for piece, fill in ((p[:cut], 9), (p[cut:], f)):  # only the last part's fill bits count
            text += "X!"  # something between the parts that must not be read
            starts.append(len(text))
            text += piece
            ends.append(len(text))
            part_fill.append(fill)
    buf = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
    n = len(payloads)
    split = fast.decode_parts(buf, np.array(starts), np.array(ends), np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2),
                              np.array(part_fill), raw_codes=True)
    joined = fast.decode_parts(np.frombuffer("".join(payloads).encode("latin-1"), dtype=np.uint8),
                               np.cumsum([0, *map(len, payloads[:-1])]), np.cumsum(list(map(len, payloads))),
                               np.arange(n), None, np.array(fills), raw_codes=True)
    assert split.handled.sum() > 3000
    for name in ("msg_type", "n_bits", "handled"):
        assert np.array_equal(getattr(split, name), getattr(joined, name)), name
    for frame in ("positions", "statics", "base_stations"):
        a, b = getattr(split, frame), getattr(joined, frame)
        for col in a:
            if a[col].ndim == 2:  # text: the characters within each length
                for x, y, k in zip(a[col], b[col], a[col + "_len"], strict=True):
                    assert np.array_equal(x[:k], y[:k]), (frame, col)
            else:
                assert np.array_equal(a[col], b[col]), (frame, col)


def test_code_tables_are_what_pyais_gives_for_every_raw_value() -> None:
    """The fast path's ship type, EPFD and navigational status tables (written out so that
    it need not import pyais) against pyais's enum converters, for every possible code."""
    from pyais.constants import EpfdType, NavigationStatus, ShipType

    assert fast._SHIP_TYPE.tolist() == [int(ShipType(v)) for v in range(256)]
    assert fast._EPFD.tolist() == [int(EpfdType(v)) for v in range(16)]
    assert fast._NAV_STATUS.tolist() == [int(NavigationStatus(v)) for v in range(16)]


def test_the_fast_path_does_not_import_pyais() -> None:
    """pyais (about 0.1 s to import) is loaded only when a message needs it."""
    import subprocess
    import sys

    code = ("import sys; import shiptrack.cli; from shiptrack.ingest import warm_up; warm_up(); "
            "print('pyais' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
