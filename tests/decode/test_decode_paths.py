"""The vectorized path and the pyais reference path give identical records on every real file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from shiptrack.decode.normalize import clean_base_stations, clean_positions, clean_statics
from shiptrack.decode.stream import decode_nmea
from tests.conftest import FIXTURES

FILES = sorted(p for p in (FIXTURES / "nmea").iterdir() if p.suffix != ".md") + sorted(
    p for p in (FIXTURES / "peer").rglob("*") if p.is_file() and not p.name.endswith((".chk", ".json", ".md"))
)


def decoded(path: Path, fast: bool) -> dict[str, pl.DataFrame]:
    lines = ((i, t.rstrip("\r\n")) for i, t in enumerate(path.open(encoding="utf-8", errors="replace"), 1))
    batches = list(decode_nmea(lines, fast=fast, batch_messages=500))
    out = {}
    for name, clean in (("positions", clean_positions), ("statics", clean_statics),
                        ("base_stations", clean_base_stations)):
        frame = pl.concat([getattr(b, name) for b in batches])
        good, rej = clean(frame)
        out[name] = good.sort("line_no", "raw")
        out[name + "_rejects"] = rej.sort("line_no", "reason")
    out["rejects"] = pl.concat([b.rejects for b in batches]).sort("line_no", "reason", "raw")
    counts: dict[int, int] = {}
    for b in batches:
        for k, v in b.type_counts.items():
            counts[k] = counts.get(k, 0) + v
    out["type_counts"] = pl.DataFrame({"t": list(counts), "n": list(counts.values())}).sort("t")
    return out


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fast_and_reference_paths_agree(path: Path) -> None:
    fast, ref = decoded(path, True), decoded(path, False)
    for name in ref:
        assert fast[name].equals(ref[name], null_equal=True), (name, fast[name], ref[name])
    assert sum(v.height for k, v in ref.items() if k != "type_counts") > 0


# ---------------------------------------------------------------- adversarial mixes

def _mixed_lines(seed: int, n: int) -> list[str]:
    """Tag-blocked traffic with everything that can go wrong around the bulk framer:
    two-part messages (with and without g: groups, part 2 with or without c:), parts
    heard twice, interleaved, alone or far apart, bad checksums, bare sentences after a
    tag-only line, blank and binary lines, $ sentences."""
    import random

    from tests.conftest import encode, nmea_checksum, position

    rng = random.Random(seed)
    t0 = 1518400000
    pos_pool = [position(mmsi=211000000 + k, lat=30 + k / 7, lon=10 + k / 9) for k in range(40)]
    static_pool = [encode({"type": 5, "mmsi": 211000000 + k, "shipname": f"SHIP {k}", "destination": "PORT",
                           "callsign": f"CS{k}", "imo": 9000000 + k}, channel=rng.choice("AB"), seq_id=k % 10)
                   for k in range(20)]

    def tag(items: list[str]) -> str:
        body = ",".join(items)
        return f"\\{body}*{nmea_checksum(body):02X}\\"

    out: list[str] = []
    recent_parts: list[str] = []
    for i in range(n):
        t = t0 + i
        station = rng.choice(["r0", "r1", "2573238", ""])
        r = rng.random()
        if r < 0.55:
            items = [f"s:{station}", f"c:{t}"] if station else [f"c:{t}"]
            if rng.random() < 0.3:
                items.reverse()
            if rng.random() < 0.05:
                items.append("n:12")
            if rng.random() < 0.03:
                items = [f"c:{t}123"]  # milliseconds
            out.append(tag(items) + rng.choice(pos_pool))
        elif r < 0.75:
            p1, p2 = rng.choice(static_pool)
            group = rng.random() < 0.5
            gid = str(rng.randint(1, 3))
            i1 = ([f"g:1-2-{gid}"] if group else []) + ([f"s:{station}"] if station else []) + [f"c:{t}"]
            i2 = [f"g:2-2-{gid}"] if group else ([f"s:{station}"] if station else [])
            if rng.random() < 0.3:
                i2.append(f"c:{t}")
            l1, l2 = tag(i1) + p1, (tag(i2) if i2 else "") + p2
            recent_parts += [l1, l2]
            k = rng.random()
            if k < 0.75:
                out += [l1, l2]
            elif k < 0.85:
                out += [l1, l1, l2]  # first part heard twice
            elif k < 0.92:
                out += [l1, rng.choice(pos_pool) and tag([f"c:{t}"]) + rng.choice(pos_pool), l2]
            else:
                out += [l1]  # second part comes much later, or never
        elif r < 0.82 and recent_parts:
            out.append(rng.choice(recent_parts[-30:]))  # a part heard again, alone
        elif r < 0.85:
            line = tag([f"s:{station}", f"c:{t}"]) + rng.choice(pos_pool)
            out.append(line[:-1] + ("0" if line[-1] != "0" else "1"))  # bad checksum
        elif r < 0.87:
            out.append(tag([f"c:{t}"]))  # tag block alone, for the next (bare) sentence
            out.append(rng.choice(pos_pool))
        elif r < 0.88:
            out.append("")
        elif r < 0.89:
            out.append("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47")
        elif r < 0.90:
            out.append(tag([f"c:{t}"]) + rng.choice(pos_pool)[:-6] + "\u00e9,0*00")
        elif r < 0.92:
            out.append(tag([f"s:{station}", f"c:{t}", f"c:{t + 1}"]) + rng.choice(pos_pool))
        elif r < 0.93:
            out.append(tag(["1G2:77", f"c:{t}"]) + static_pool[0][0])
        else:
            out.append(tag([f"c:{t}"]) + rng.choice(pos_pool))
    if rng.random() < 0.5:
        out.insert(rng.randrange(len(out)), "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A")
    return out


def _decoded_lines(lines: list[str], fast: bool, batch: int) -> dict[str, pl.DataFrame]:
    batches = list(decode_nmea(enumerate(lines, 1), fast=fast, batch_messages=batch))
    out = {}
    for name in ("positions", "statics", "base_stations", "rejects"):
        out[name] = pl.concat([getattr(b, name) for b in batches]).sort(pl.all())
    counts: dict[str, int] = {}
    for b in batches:
        for k, v in [*b.type_counts.items(), *(("t_" + s, v) for s, v in b.time_sources.items())]:
            counts[str(k)] = counts.get(str(k), 0) + v
    out["counts"] = pl.DataFrame({"k": list(counts), "n": list(counts.values())}).sort("k")
    out["lines_dups"] = pl.DataFrame({"lines": [sum(b.lines for b in batches)],
                                      "dups": [sum(b.duplicates for b in batches)]})
    return out


@pytest.mark.parametrize("seed", range(8))
def test_bulk_framer_matches_reference_on_adversarial_mixes(seed: int) -> None:
    lines = _mixed_lines(seed, 1500)
    ref = _decoded_lines(lines, False, 50_000)
    for batch in (37, 701, 50_000):
        fast = _decoded_lines(lines, True, batch)
        for name in ref:
            assert fast[name].equals(ref[name], null_equal=True), (seed, batch, name, fast[name], ref[name])


def test_byte_chunks_split_lines_as_source_lines(tmp_path: Path) -> None:
    from shiptrack.read.chunks import read_chunks
    from shiptrack.read.sources import expand_inputs

    body = (b"\xef\xbb\xbfline one\r\nline two\n\nbad \xff\xfe bytes\nlone\rcr\r\n\xc3\xa9t\xc3\xa9\n"
            + b"x" * 300 + b"\nlast without newline")
    path = tmp_path / "odd.txt"
    path.write_bytes(body)
    src = expand_inputs([str(path)])[0]
    expected = list(src.lines())
    for block in (7, 64, 1 << 20):
        with path.open("rb") as f:
            got = [(int(c.line_nos[i]), c.text(i)) for c in read_chunks(f, block) for i in range(len(c))]
        assert got == expected, block
    assert [t for _, t in expected][:3] == ["line one", "line two", ""]
    # a chunk larger than the newline scan's step (read.chunks._SCAN), \r\n and \n endings
    big = b"".join(b"%d %s%s" % (i, b"y" * (i % 97), b"\r\n" if i % 3 else b"\n") for i in range(20_000))
    path.write_bytes(big)
    expected = list(expand_inputs([str(path)])[0].lines())
    with path.open("rb") as f:
        got = [(int(c.line_nos[i]), c.text(i)) for c in read_chunks(f, 1 << 20) for i in range(len(c))]
    assert len(big) > 2 * (1 << 18) and got == expected and len(got) == 20_000


def test_base_station_times_and_etas_agree_at_their_edges() -> None:
    """The reported UTC of a base station is what Python's datetime() accepts (years 1-9999,
    real days, no leap second), the ETA of a type 5 what nmea._eta writes: on both paths."""
    from tests.conftest import encode, tagged

    lines = []
    stamps = [(2024, 2, 29, 23, 59, 59), (2023, 2, 29, 0, 0, 0), (0, 1, 1, 0, 0, 0), (1, 1, 1, 0, 0, 0),
              (9999, 12, 31, 23, 59, 59), (10000, 1, 1, 0, 0, 0), (2020, 5, 6, 23, 59, 60), (2020, 4, 31, 1, 2, 3),
              (2020, 13, 1, 0, 0, 0), (2020, 0, 1, 0, 0, 0), (2020, 1, 0, 0, 0, 0), (2020, 1, 1, 24, 0, 0),
              (2020, 1, 1, 0, 60, 0), (1900, 2, 29, 0, 0, 0), (2000, 2, 29, 12, 0, 0), (16383, 15, 31, 31, 63, 63)]
    for k, (y, mo, d, h, mi, s) in enumerate(stamps):
        sentence = encode({"type": 4, "mmsi": 2570000 + k, "year": y, "month": mo, "day": d, "hour": h,
                           "minute": mi, "second": s, "lat": 54.0, "lon": 10.0})[0]
        lines.append(tagged(sentence, 1700000000 + k, station="r1"))
    for k, (mo, d, h, mi) in enumerate([(1, 1, 0, 0), (12, 31, 23, 59), (0, 5, 1, 1), (13, 5, 1, 1), (5, 0, 1, 1),
                                        (5, 5, 24, 0), (5, 5, 23, 60), (15, 31, 31, 63), (2, 30, 12, 30)]):
        parts = encode({"type": 5, "mmsi": 211000000 + k, "shipname": "X", "month": mo, "day": d, "hour": h,
                        "minute": mi}, seq_id=k % 10)
        lines += [tagged(p, 1700000100 + k, station="r1") for p in parts]
    fast, ref = _decoded_lines(lines, True, 50_000), _decoded_lines(lines, False, 50_000)
    for name in ref:
        assert fast[name].equals(ref[name], null_equal=True), (name, fast[name], ref[name])
    times = fast["base_stations"].sort("mmsi")["station_time"].to_list()
    assert [t is not None for t in times] == [True, False, False, True, True, False, False, False, False, False,
                                              False, False, False, False, True, False]
    etas = fast["statics"].sort("mmsi")["eta"].to_list()
    assert etas == ["01-01T00:00", "12-31T23:59", None, None, None, "05-05", "05-05", None, "02-30T12:30"]
