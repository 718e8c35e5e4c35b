"""The numba bulk framer (shiptrack.decode.accel.vframe): which lines it takes, and, on random
tag-blocked traffic and mutations of it, end-to-end results identical to NmeaFramer's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from shiptrack.decode.accel import vframe
from shiptrack.decode.accel.kernels import dispatcher
from shiptrack.decode.accel.vframe import frame_chunk
from shiptrack.read.chunks import PAD, chunk_from_texts, split_lines
from tests.conftest import encode, nmea_checksum, position
from tests.decode.test_decode_paths import _decoded_lines

POS = [position(mmsi=211000000 + k, lat=30 + k / 7, lon=10 + k / 9) for k in range(4)]
STATIC = [encode({"type": 5, "mmsi": 211000000 + k, "shipname": f"SHIP {k}", "destination": "PORT",
                  "callsign": f"CS{k}", "imo": 9000000 + k}, channel="AB"[k % 2], seq_id=k) for k in range(3)]
P1, P2 = STATIC[0]


def tag(body: str, checksum: str | None = None) -> str:
    """A tag block, with a correct checksum unless one is given."""
    return f"\\{body}*{f'{nmea_checksum(body):02X}' if checksum is None else checksum}\\"


def xor(text: str) -> int:
    x = 0
    for b in text.encode("utf-8"):
        x ^= b
    return x


def fix_checksums(line: str) -> str:
    """Recompute both checksums of a mutated line, where its layout still has them."""
    b = line.find("\\", 1)
    if line.startswith("\\") and b > 3 and line[b - 3] == "*":
        line = line[: b - 2] + f"{xor(line[1 : b - 3]):02X}" + line[b:]
    if b > 0 and len(line) >= 3 and line[-3] == "*" and len(line) - 3 > b + 2:
        line = line[:-2] + f"{xor(line[b + 2 : -3]):02X}"
    return line


def framed(lines: list[str]) -> vframe.Framed:
    return frame_chunk(chunk_from_texts(list(range(1, len(lines) + 1)), lines))


# ---------------------------------------------------------------- which lines are fast

@pytest.mark.parametrize("body", [
    "s:r0,c:1518400000", "c:1518400000,s:r0", "c:1518400000", "c:1518400000123", "s:,c:1518400000",
    "c:1518400000,n:12", "n:12,c:15", "c:1518400000,s:" + "x" * 48, "g:1-2-77,c:1518400000",
])
def test_single_lines_taken(body: str) -> None:
    fr = framed([tag(body) + POS[0]])
    assert fr.single.tolist() == [0] and not fr.slow[0]


@pytest.mark.parametrize("line", [
    tag("s:r0") + POS[0],  # no time
    tag("c:1518400000,c:1518400001") + POS[0],  # an item twice
    tag("c:15184000001234") + POS[0],  # 14 characters
    tag("c:151840000x") + POS[0],  # not digits
    tag("c:1518400000,s:" + "x" * 49) + POS[0],  # station too long
    tag("1G2:77,c:1518400000") + POS[0],  # old-style group
    tag("g:1-3-77,c:1518400000") + POS[0],  # a group of another form
    tag("c:1518400000", "11") + POS[0],  # bad tag checksum
    tag("c:1518400000") + POS[0][:-1] + ("0" if POS[0][-1] != "0" else "1"),  # bad sentence checksum
    tag("c:1518400000!") + POS[0],  # '!' in the tag block
    tag("c:1518400000") + "$" + POS[0][1:],
    tag("c:1518400000") + P1,  # part 1 alone (last line)
    tag("g:1-2-abcdefghijklmnopq,c:1518400000") + POS[0],  # a group id of 17 characters
    tag("c:1518400000") + fix_checksums("\\x\\" + POS[0][:-4] + "6*00")[3:],  # fill bits 6
    tag("c:1518400000") + fix_checksums("\\x\\" + POS[0].replace(",139", ",1X9"))[3:],  # not armour
    tag("s:r\x01,c:1518400000") + POS[0],  # a control character
])
def test_lines_left_to_the_framer(line: str) -> None:
    fr = framed([line])
    assert fr.single.size == 0 and fr.pair.size == 0 and fr.slow.all()


def test_tag_checksum_00_accepted_and_times() -> None:
    lines = [tag("c:1518400000", "00") + POS[0], tag("s:r1,c:1518400000123") + POS[1],
             tag("c:100000000000") + POS[2], tag("c:100000000001") + POS[3], tag("n:1,c:7") + POS[0]]
    chunk = chunk_from_texts(list(range(1, 6)), lines)
    fr = frame_chunk(chunk)
    assert fr.single.tolist() == [0, 1, 2, 3, 4]
    # more than 100_000_000_000: milliseconds
    assert fr.ts_us.tolist() == [1518400000_000_000, 1518400000_123_000, 100_000_000_000_000_000,
                                 100_000_000_001_000, 7_000_000]
    assert fr.has_s.tolist() == [False, True, False, False, False]
    assert chunk.data[fr.sta_s[1] : fr.sta_e[1]] == b"r1"


@pytest.mark.parametrize(("first", "second", "untimed", "paired"), [
    ("s:r0,c:1518400000", "s:r0", True, True),
    ("s:r0,c:1518400000", "s:r0", False, False),  # the second part would take a clock's time
    ("s:r0,c:1518400000", "s:r0,c:1518400001", False, True),
    ("s:r0,c:1518400000", "s:r1", True, False),  # another station
    ("g:1-2-5,c:1518400000", "g:2-2-5", True, True),
    ("g:1-2-5,c:1518400000", "g:2-2-6", True, False),
    ("g:1-2-5,c:1518400000", "s:r0", True, False),  # one grouped, one not
])
def test_pairs(first: str, second: str, untimed: bool, paired: bool) -> None:
    lines = [tag(first) + P1, tag(second) + P2]
    fr = frame_chunk(chunk_from_texts([1, 2], lines), untimed_second_part=untimed)
    assert fr.pair.tolist() == ([0] if paired else [])
    assert fr.slow.tolist() == [not paired, not paired]


def test_byte_chunks_crlf_and_empty() -> None:
    data = "\r\n".join([tag("c:1518400000") + POS[0], "", tag("c:1518400001") + POS[1]]).encode()
    fr = frame_chunk(split_lines(data + PAD, len(data), 1, True))
    assert fr.single.tolist() == [0, 2]
    assert frame_chunk(chunk_from_texts([], [])).slow.size == 0


def test_kernel_releases_the_gil_and_is_cached() -> None:
    """The JIT build (without shiptrack.decode.accel._kernels, tests/decode/test_kernels.py has the AOT one)."""
    jitted = dispatcher(vframe._frame_lines.py_func)
    assert jitted.targetoptions.get("nogil")
    assert type(jitted._cache).__name__ != "NullCache"  # compiled once per machine


# ---------------------------------------------------------------- random traffic, end to end

# (Not c: milliseconds from 2^33 s on, the year 2242: there the reference framer's float
# seconds are 1 us off about half the time, the bulk framer's integer microseconds are not.)
_FAR_MS = 8_589_934_592_000
times = st.one_of(
    st.integers(1_000_000_000, 1_999_999_999).map(str),
    st.integers(1_000_000_000_000, 1_999_999_999_999).map(str),
    st.text("0123456789", max_size=14).filter(lambda v: not (v.isdigit() and _FAR_MS <= int(v) < 10**13)),
    st.text("0123456789x-:", min_size=1, max_size=13).filter(lambda v: not (v.isdigit() and int(v) >= _FAR_MS)),
)
stations = st.one_of(st.sampled_from(["r0", "r1", "2573238", ""]), st.text("ab09-_.:!c,", max_size=50))
groups = st.one_of(
    st.builds(lambda n, i: f"{n}-2-{i}", st.sampled_from("12"), st.integers(1, 3)),
    st.text("0123-ab_:", max_size=20),
)
items = st.lists(st.one_of(
    times.map(lambda v: "c:" + v), stations.map(lambda v: "s:" + v), groups.map(lambda v: "g:" + v),
    st.sampled_from(["n:12", "t:text", "1G2:77", "x:", ""]),
), max_size=4)
common = st.one_of(
    st.tuples(stations, times).map(lambda t: [f"s:{t[0]}", f"c:{t[1]}"]),
    st.tuples(times, stations).map(lambda t: [f"c:{t[0]}", f"s:{t[1]}"]),
    times.map(lambda v: [f"c:{v}"]),
)
checksums = st.sampled_from([None] * 8 + ["00", "0", "ZZ"])


# how the second part's tag block differs from the first's (besides having no c:)
PERTURB = {
    "time": lambda its, v: [*its, "c:" + v],
    "group 2": lambda its, v: [i.replace("g:1", "g:2") for i in its],
    "group id": lambda its, v: [i + "9" if i.startswith("g:") else i for i in its],
    "group of 3": lambda its, v: [i.replace("-2-", "-3-") for i in its],
    "other station": lambda its, v: [i + "x" if i.startswith("s:") else i for i in its],
    "no station": lambda its, v: [i for i in its if not i.startswith("s:")],
    "empty station": lambda its, v: [*its, "s:"],
    "old group": lambda its, v: [*its, "2G2:" + v[:2]],
}


@st.composite
def messages(draw: st.DrawFn) -> list[str]:
    """A single-sentence message, or the two lines of a type 5."""
    first = draw(st.one_of(common, items))
    if draw(st.booleans()):
        return [tag(",".join(first), draw(checksums)) + draw(st.sampled_from(POS))]
    if draw(st.integers(0, 3)) == 0:
        first.append(draw(st.sampled_from(["g:1-2-5", "1G2:5", "g:1-3-5", "g:1-2-5_"])))
    p1, p2 = draw(st.sampled_from(STATIC))
    second = [i for i in first if not i.startswith("c:")]
    if draw(st.integers(0, 4)) == 0:
        second = draw(items)
    for how in draw(st.lists(st.sampled_from(sorted(PERTURB)), max_size=2)):
        second = PERTURB[how](second, draw(times))
    return [tag(",".join(first), draw(checksums)) + p1, tag(",".join(second), draw(checksums)) + p2]


@st.composite
def mutated(draw: st.DrawFn, line: str) -> str:
    for _ in range(draw(st.integers(1, 3))):
        p = draw(st.integers(0, len(line)))
        c = draw(st.sampled_from(",:\\*!csgG0129-$ \x00\r"))
        op = draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        line = {"set": line[:p] + c + line[p + 1 :], "insert": line[:p] + c + line[p:],
                "delete": line[:p] + line[p + 1 :], "cut": line[:p]}[op]
    return fix_checksums(line) if draw(st.booleans()) else line


RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"  # a receiver clock


@st.composite
def traffic(draw: st.DrawFn) -> list[str]:
    lines: list[str] = [RMC] if draw(st.integers(0, 4)) == 0 else []
    for msg in draw(st.lists(messages(), min_size=1, max_size=6)):
        for line in msg:
            lines.append(draw(mutated(line)) if draw(st.integers(0, 3)) == 0 else line)
    return lines


def _pair(first: str, second: str) -> list[str]:
    return [tag(first) + P1, tag(second) + P2]


@pytest.mark.parametrize("lines", [
    [RMC, tag("c:1518400000") + POS[0], *_pair("s:r0,c:1518400000", "s:r0")],  # part 2 takes the clock's time
    _pair("g:1-2-5_,s:r0,c:1518400000", "g:2-2-5_,s:r1"),  # not a group (not alphanumeric)
    _pair("g:1-3-5,s:r0,c:1518400000", "g:2-3-5,s:r1"),  # not a group of this message (3 parts)
    _pair("1G2:5,s:r0,c:1518400000", "2G2:6,s:r0"),  # old-style groups
    _pair("s:,c:1518400000", "c:1518400001"),  # an empty station is not no station
    _pair("g:1-2-5,c:1518400000", "s:r0"),
], ids=["clock", "group-alnum", "group-of-3", "old-group", "empty-station", "group-and-not"])
def test_pairing_scenarios_agree_with_the_reference_framer(lines: list[str]) -> None:
    ref = _decoded_lines(lines, False, 50_000)
    for batch in (2, 50_000):
        fast = _decoded_lines(lines, True, batch)
        for name in ref:
            assert fast[name].equals(ref[name], null_equal=True), (batch, name, fast[name], ref[name])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic())
@example(lines=[  # the station on the second part only (found by Hypothesis)
    "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
    ",c:1000000000*58\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A",
    ",s:r0,c:1000000000*7F\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A",
    ",s:r0,c:1000000000*7F\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A",
    "\\c:1000000000,g:1-2-5*1F\\!AIVDM,2,1,0,A,539>Jh029E40=?00001<PU230000000000000000000000000043lU000000,0*79",
    "\\g:1-2-5,s:x*76\\!AIVDM,2,2,0,A,00000000000,2*24",
    "\\s:r0,c:1000000000*7F\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A"])
@example(lines=[  # an empty s: on the part that names the group (found by Hypothesis)
    "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
    ",s:r0,c:1000000000,g:1-2-5*38\\!AIVDM,2,1,0,A,539>Jh029E40=?00001<PU230000000000000000000000000043lU000000,0*79",
    ",*00\\!AIVDM,2,2,0,A,00000000000,2*24",
    ",s:r0,c:1000000000*7F\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A",
    "\\c:1000000000,g:1-2-5*1F\\!AIVDM,2,1,0,A,539>Jh029E40=?00001<PU230000000000000000000000000043lU000000,0*79",
    "\\g:1-2-5,s:*0E\\!AIVDM,2,2,0,A,00000000000,2*24",
    "\\c:1000000000*58\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A"])
@example(lines=[  # a c: in milliseconds far ahead: the reference framer's float fell 1 us short (Hypothesis)
    "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A",
    "\\s:r0,c:1000000000*7F\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A",
    "\\c:8600000000001*66\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A"])
def test_bulk_framer_agrees_with_the_reference_framer(lines: list[str]) -> None:
    ref = _decoded_lines(lines, False, 50_000)
    for batch in (2, 50_000):  # (chunks of 2 lines: a clock seen in an earlier chunk)
        fast = _decoded_lines(lines, True, batch)
        for name in ref:
            assert fast[name].equals(ref[name], null_equal=True), (batch, name, lines, fast[name], ref[name])


@settings(max_examples=200, deadline=None)
@given(traffic())
@example(lines=[  # a last empty line (the earlier version joined lines and lost it)
    "\\s:r0,c:1000000000,g:1-2-5*38\\!AIVDM,2,1,0,A,539>Jh029E40=?00001<PU230000000000000000000000000043lU000000,0*79",
    "*00\\!AIVDM,2,2,0,A,00000000000,2*24",
    "\\c:1000000000*58\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A", ""])
def test_bytes_and_text_chunks_frame_alike(lines: list[str]) -> None:
    """A chunk read from bytes (lines ending in CRLF) frames as the same lines given as text."""
    assume(not any("\r" in ln or "\n" in ln for ln in lines))  # a \r inside a line cuts it in two
    data = "".join(ln + "\r\n" for ln in lines).encode()
    a = frame_chunk(split_lines(data + PAD, len(data), 1, True))
    b = framed(lines)
    assert len(a.slow) == len(b.slow) == len(lines)
    assert np.array_equal(a.single, b.single) and np.array_equal(a.pair, b.pair)
    assert np.array_equal(a.ts_us[a.single], b.ts_us[b.single])
