"""The decoder's contract (shiptrack.decode.stream.decode): its state is a value.

Decoding a real file in one go gives the same records, rejects and counts as decoding it
in two halves with the state pickled in between and the second half decoded by another
process; the halves are cut in the middle, and between the two parts of a multi-part
message (the first part then waits in the pickled state). Decoding a file chunk by chunk
with a pickle round trip of the state after every chunk gives the same too.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl
import pytest

from shiptrack.decode.records import Batch
from shiptrack.decode.stream import DecodeState, decode
from shiptrack.read.chunks import chunks_from_lines
from shiptrack.read.sources import expand_inputs
from tests.conftest import FIXTURES

DATA = Path("/work/shared/data")

# real files with multi-part messages: tag blocks (and NMEA 4.10 groups), $PGHP times,
# receiver clocks, sentences with no time of their own
FILES = [
    FIXTURES / "ural" / "ural.nmea",
    FIXTURES / "nmea" / "small_cb_example.txt",
    FIXTURES / "nmea" / "ee-multiline.nmea",
    FIXTURES / "nmea" / "mixed.txt",
    FIXTURES / "nmea" / "ais-nmea.log",
    DATA / "amsa-risky" / "exact-earth-with-tag-block.txt",
    DATA / "dma-aislib" / "stream_example.txt",
    DATA / "gfw-ais-tools" / "multi-part.nmea",
    DATA / "gpsd" / "ais-nmea-type6-fid55.log",
]
FILES = [p for p in FILES if p.exists()]

CHUNK_LINES = 5_000


def read_lines(path: Path) -> list[tuple[int, str]]:
    with path.open(encoding="utf-8-sig", errors="replace") as f:  # as a Source reads: no BOM
        return [(i, t.rstrip("\r\n")) for i, t in enumerate(f, 1)]


def decode_lines(lines: list[tuple[int, str]], state: DecodeState, end: bool) -> tuple[list[Batch], DecodeState]:
    batches = []
    for chunk in chunks_from_lines(lines, CHUNK_LINES):
        batch, state = decode([chunk], state)
        batches.append(batch)
    if end:
        batch, state = decode([], state, end=True)
        batches.append(batch)
    return batches, state


def second_half(path: str, cut: int, state_bytes: bytes) -> bytes:
    """Run in another process: the lines after ``cut`` from the pickled state."""
    state = pickle.loads(state_bytes)  # noqa: S301 - our own pickle, from the test's process
    batches, _ = decode_lines(read_lines(Path(path))[cut:], state, end=True)
    return pickle.dumps(batches)


def summary(batches: list[Batch]) -> dict[str, object]:
    """What a store makes of the batches: every row (in a canonical order) and every count."""
    out: dict[str, object] = {}
    for name in ("positions", "statics", "base_stations", "rejects"):
        frame = pl.concat([getattr(b, name) for b in batches])
        out[name] = frame.sort(frame.columns, nulls_last=True)
    for name in ("type_counts", "time_sources", "clock_stats"):
        total: Counter = Counter()
        for b in batches:
            total.update(getattr(b, name))
        out[name] = +total
    out["lines"] = sum(b.lines for b in batches)
    out["duplicates"] = sum(b.duplicates for b in batches)
    out["time_notes"] = {k: v for b in batches for k, v in b.time_notes.items()}
    return out


def assert_same(got: dict[str, object], want: dict[str, object]) -> None:
    for name, value in want.items():
        if isinstance(value, pl.DataFrame):
            assert isinstance(got[name], pl.DataFrame)
            assert got[name].equals(value, null_equal=True), name  # type: ignore[union-attr]
        else:
            assert got[name] == value, name


def cuts(lines: list[tuple[int, str]]) -> Iterator[tuple[str, int]]:
    """The middle; and just after the first part of the two-part message nearest the middle."""
    mid = len(lines) // 2
    yield "middle", mid
    firsts = [i for i, (_, t) in enumerate(lines) if ",2,1," in t and "!AIVD" in t and i + 1 < len(lines)
              and ",2,2," in lines[i + 1][1]]
    if firsts:
        yield "between-parts", min(firsts, key=lambda i: abs(i - mid)) + 1


@pytest.fixture(scope="module")
def other_process() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_two_halves_in_two_processes_equal_one_go(path: Path, other_process: ProcessPoolExecutor) -> None:
    lines = read_lines(path)
    whole, _ = decode_lines(lines, DecodeState(), end=True)
    want = summary(whole)
    assert want["positions"].height + want["statics"].height > 0  # type: ignore[attr-defined]
    for name, cut in cuts(lines):
        first, state = decode_lines(lines[:cut], DecodeState(), end=False)
        assert state.framer is not None
        if name == "between-parts":
            # the first part waits for the second, in the state handed over (unless the
            # framer rejected or repeated it)
            waiting = [k for k, p in state.framer.pending.items() if k[1] == 2]
            assert waiting or any(b.rejects.height or b.duplicates for b in first), path
        rest = pickle.loads(other_process.submit(second_half, str(path), cut, pickle.dumps(state)).result())  # noqa: S301
        assert_same(summary(first + rest), want)


def test_a_multi_part_message_is_completed_across_the_boundary() -> None:
    """In the Ural file, cut between the two parts of a type 5: the first half yields no row
    for it, the state holds its first part, and the second half yields the message."""
    lines = read_lines(FIXTURES / "ural" / "ural.nmea")
    cut = dict(cuts(lines))["between-parts"]
    first_line = lines[cut - 1][0]
    first, state = decode_lines(lines[:cut], DecodeState(), end=False)
    assert first_line not in pl.concat([b.statics for b in first])["line_no"].to_list()
    assert state.framer is not None
    assert any(first_line in (f.line_no for f in p.parts.values()) for p in state.framer.pending.values())
    rest, _ = decode_lines(lines[cut:], pickle.loads(pickle.dumps(state)), end=True)  # noqa: S301
    assert first_line in pl.concat([b.statics for b in rest])["line_no"].to_list()


@pytest.mark.parametrize("name", ["ural/ural.nmea", "nmea/small_cb_example.txt", "nmea/mixed.txt"])
def test_a_pickle_round_trip_after_every_chunk_changes_nothing(name: str) -> None:
    """Read as an ingest reads (Source.chunks), by small chunks, the state pickled after each."""
    (src,) = expand_inputs([str(FIXTURES / name)])
    want, state = [], DecodeState()
    for chunk in src.chunks(4096):
        batch, state = decode([chunk], state)
        want.append(batch)
    want.append(decode([], state, end=True)[0])
    got, state = [], DecodeState()
    for chunk in src.chunks(4096):
        batch, state = decode([chunk], pickle.loads(pickle.dumps(state)))  # noqa: S301
        got.append(batch)
    got.append(decode([], pickle.loads(pickle.dumps(state)), end=True)[0])  # noqa: S301
    assert_same(summary(got), summary(want))
    whole, _ = decode_lines(read_lines(FIXTURES / name), DecodeState(), end=True)
    assert_same(summary(got), summary(whole))


def test_an_ended_state_is_refused() -> None:
    _, state = decode([], DecodeState(), end=True)
    with pytest.raises(ValueError, match="ended"):
        decode([], state)


def test_a_state_goes_on_with_its_own_time_source() -> None:
    """--time-from is part of the state: a file timed by $PGHP only, cut anywhere, gives the
    rows of one go."""
    lines = read_lines(FIXTURES / "nmea" / "small_cb_example.txt")
    whole, _ = decode_lines(lines, DecodeState("pghp"), end=True)
    for cut in range(1, len(lines)):
        first, state = decode_lines(lines[:cut], DecodeState("pghp"), end=False)
        rest, _ = decode_lines(lines[cut:], pickle.loads(pickle.dumps(state)), end=True)  # noqa: S301
        assert_same(summary(first + rest), summary(whole))


def test_a_state_used_up_is_refused() -> None:
    """decode() takes the state's parts over: going on from the same state twice would
    decode from a state changed half-way, so it is refused."""
    (src,) = expand_inputs([str(FIXTURES / "nmea" / "ee-multiline.nmea")])
    state = DecodeState()
    chunks = list(src.chunks())
    _, after = decode(chunks, state)
    with pytest.raises(ValueError, match="used up"):
        decode(chunks, state)
    batch, _ = decode([], after, end=True)
    assert batch.lines == 0


# real archives: DMA, NOAA, a generic CSV and GFW's JSON lines
ARCHIVES = [("dma", FIXTURES / "archives" / "test_aisdk_20180208_sample.csv"),
            ("dma", FIXTURES / "archives" / "dma_bad_rows.csv"),
            ("noaa", FIXTURES / "archives" / "noaa_sample.csv"),
            ("generic", FIXTURES / "archives" / "ais_points_DERIVED.csv"),
            ("generic", FIXTURES / "archives" / "416000000.json")]


def archive_half(path: str, fmt: str, cut: int, state_bytes: bytes) -> bytes:
    """Run in another process: an archive's lines after ``cut``, from the pickled state."""
    state = pickle.loads(state_bytes)  # noqa: S301 - our own pickle, from the test's process
    assert state.archive is not None and state.archive.fmt == fmt
    batches, _ = decode_lines(read_lines(Path(path))[cut:], state, end=True)
    return pickle.dumps(batches)


@pytest.mark.parametrize(("fmt", "path"), ARCHIVES, ids=[p.name for _, p in ARCHIVES])
def test_an_archive_in_two_halves_in_two_processes_equals_one_go(
        fmt: str, path: Path, other_process: ProcessPoolExecutor) -> None:
    """An archive's state (its header's layout, the static state per MMSI) goes on in another
    process as the framer's does; cut just after the header too."""
    lines = read_lines(path)
    whole, _ = decode_lines(lines, DecodeState.of_archive(fmt), end=True)  # type: ignore[arg-type]
    want = summary(whole)
    assert want["positions"].height > 0 and want["lines"] == len(lines)  # type: ignore[attr-defined]
    for cut in (1, len(lines) // 2, len(lines) - 1):
        first, state = decode_lines(lines[:cut], DecodeState.of_archive(fmt), end=False)  # type: ignore[arg-type]
        rest = pickle.loads(other_process.submit(archive_half, str(path), fmt, cut, pickle.dumps(state)).result())  # noqa: S301
        assert_same(summary(first + rest), want)
