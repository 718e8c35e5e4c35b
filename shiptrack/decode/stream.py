"""The decoder's contract: chunks of NMEA lines and a state in, records and rejects and the
next state out.

    state = DecodeState()                      # or DecodeState("pghp"): --time-from
    for chunk in source.chunks(CHUNK_BYTES):
        batch, state = decode([chunk], state)  # batch: positions, statics, base stations, rejects
    batch, state = decode([], state, end=True) # the parts still waiting become rejects

:class:`DecodeState` is everything the next lines depend on (the fragments waiting for
their other parts, the clock and station of each receiver, messages waiting for their
$PGHP, ...), as a value: pickled, it can be saved, resumed, or handed to another process,
and decoding a file in pieces that way gives the records of decoding it in one go
(tests/decode/test_decode_contract.py). How the lines are framed and decoded
(``shiptrack.decode.accel``: the common lines framed in bulk and decoded by compiled
loops, every other line by :class:`shiptrack.decode.nmea.NmeaFramer` and pyais) is not
part of the contract: the records are the same either way (tests/decode/test_decode_paths.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import polars as pl

from shiptrack.decode.accel.batch import decode_framed, decode_messages, messages_frame
from shiptrack.decode.accel.step import frame_in_step
from shiptrack.decode.archives import ArchiveFormat, ArchiveState
from shiptrack.decode.nmea import FramerState, NmeaFramer
from shiptrack.decode.records import Batch, BatchBuilder
from shiptrack.decode.reference import decode_message
from shiptrack.decode.timesource import TimeSource
from shiptrack.read.chunks import LineChunk, chunk_from_texts, chunks_from_lines

# How far apart in receive time the same NMEA payload counts as one transmission
# (shiptrack.decode.records: dedup_window_s).
DEDUP_WINDOW_S = 60.0


@dataclass
class DecodeState:
    """Where decoding an NMEA input stands after the lines decoded so far (the framer's
    state, see :class:`shiptrack.decode.nmea.FramerState`). A new one starts an input;
    ``time_from`` is ``--time-from``. It pickles."""

    time_from: TimeSource = "auto"
    framer: FramerState | None = None  # None when made: a new one (no line read yet); after: used up
    ended: bool = False  # decode(..., end=True) was called: the input is over
    reference: bool = False  # every line through NmeaFramer and pyais (the reference path, for tests)
    archive: ArchiveState | None = None  # a CSV or JSON-lines archive's state, instead of the framer's

    def __post_init__(self) -> None:
        if self.framer is None and self.archive is None:
            self.framer = FramerState(self.time_from)

    @classmethod
    def of_archive(cls, fmt: ArchiveFormat, columns: dict[str, str] | None = None) -> DecodeState:
        """The state a CSV or JSON-lines archive starts with (``fmt``: dma, noaa or generic;
        ``columns``: --columns)."""
        return cls(archive=ArchiveState(fmt, columns))


def decode(chunks: Iterable[LineChunk], state: DecodeState, *, end: bool = False) -> tuple[Batch, DecodeState]:
    """Decode the chunks' lines (the lines after those ``state`` has seen, in order) into one
    batch of records and rejects; returns it with the state after them. ``end``: the input
    ends with these lines (the fragments still waiting become rejects, the messages waiting
    for their time get it or none).

    The state given is used up (its parts move into the state returned, without a copy):
    keep a copy of it with ``pickle`` or ``copy.deepcopy`` when it is needed again."""
    if state.ended:
        raise ValueError("this input was ended (end=True): start another with a new DecodeState")
    if state.framer is None and state.archive is None:
        raise ValueError("this state was used up by an earlier decode(): go on from the state it returned")
    if state.archive is not None:
        archive, state.archive = state.archive, None  # its parts move on, as the framer's
        batch = archive.decode([line for chunk in chunks for line in chunk.lines()], end)
        return batch, DecodeState(state.time_from, None, end, archive=archive)
    assert state.framer is not None
    builder = BatchBuilder(dedup_window_s=DEDUP_WINDOW_S)
    framer = NmeaFramer.resume(builder, state.framer, keep=False)
    state.framer = None  # its parts are the framer's now
    decoded: list[Frames] = []
    assembled = _decode_reference if state.reference else _decode_assembled
    for chunk in chunks:
        if state.reference:
            for i, line_no in enumerate(chunk.line_nos.tolist()):
                framer.feed(line_no, chunk.text(i))
        else:
            fast = frame_in_step(framer, builder, chunk)
            # in this order: the rows pyais decodes reach the builder as they did when both
            # sets were one frame (the bulk-framed messages first)
            if fast is not None and len(fast):
                decoded.append(decode_framed(fast, builder))
        decoded += assembled(framer, builder)
    if end:
        framer.finish()
        decoded += assembled(framer, builder)
    after = DecodeState(state.time_from, framer.snapshot(keep=False), end, state.reference)
    return _batch(framer, builder, decoded), after


def decode_nmea(
    lines: Iterable[tuple[int, str]],
    time_from: TimeSource = "auto",
    batch_messages: int = 50_000,
    fast: bool = True,
) -> Iterator[Batch]:
    """Stream NMEA lines into batches of typed records (bounded memory): :func:`decode` over
    chunks of ``batch_messages`` lines.

    ``fast=False`` frames and decodes every line in Python with pyais (the reference
    path); the results are identical (tests/decode/test_decode_paths.py holds them to it on
    every real file).
    """
    yield from decode_nmea_chunks(chunks_from_lines(lines, batch_messages), time_from, reference=not fast)


def decode_nmea_chunks(chunks: Iterable[LineChunk], time_from: TimeSource = "auto",
                       reference: bool = False) -> Iterator[Batch]:
    """:func:`decode_chunks` of NMEA lines."""
    return decode_chunks(chunks, DecodeState(time_from, reference=reference))


def decode_chunks(chunks: Iterable[LineChunk], state: DecodeState) -> Iterator[Batch]:
    """:func:`decode` over chunks of lines (``Source.chunks()``) from ``state``: one batch per
    chunk, and a last one for what is still waiting at the end."""
    for chunk in chunks:
        batch, state = decode([chunk], state)
        yield batch
    batch, state = decode([], state, end=True)
    yield batch


Frames = tuple[pl.DataFrame, ...]  # positions, statics, base stations


def _decode_assembled(framer: NmeaFramer, builder: BatchBuilder) -> list[Frames]:
    """The messages the framer assembled, decoded (the vectorized decoder, pyais where it
    cannot vouch for a row)."""
    if not framer.messages:
        return []
    frames = decode_messages(messages_frame(framer.messages), builder)
    framer.messages.clear()
    return [frames]


def _decode_reference(framer: NmeaFramer, builder: BatchBuilder) -> list[Frames]:
    """The reference path: the messages the framer assembled, decoded by pyais into the builder."""
    for msg in framer.messages:
        decode_message(msg, builder)
    framer.messages.clear()
    return []


def _batch(framer: NmeaFramer, builder: BatchBuilder, decoded: list[Frames]) -> Batch:
    """The batch of the builder's rows and the ``decoded`` frames, with the framer's counts
    since the last batch."""
    batch = builder.emit()
    batch.final_below = framer.open_from()
    batch.last_line = framer.next_line - 1
    if decoded:
        batch.positions = _stack([batch.positions, *(e[0] for e in decoded)])
        batch.statics = _stack([batch.statics, *(e[1] for e in decoded)])
        batch.base_stations = _stack([batch.base_stations, *(e[2] for e in decoded)])
    batch.duplicates = framer.duplicates
    batch.time_sources = framer.time_sources
    batch.time_notes = framer.time_notes
    batch.clock_stats = framer.clock_stats
    framer.time_sources = Counter()
    framer.time_notes = {}
    framer.clock_stats = Counter()
    framer.duplicates = 0
    return batch


def _stack(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The frames (of one schema) one after the other; empty ones are skipped."""
    rows = [f for f in frames if f.height]
    if not rows:
        return frames[0]
    return rows[0] if len(rows) == 1 else pl.concat(rows)


# A few lines of every kind the fast path decodes (a position, a two-part type 5, a type 24, a
# type 4), from benchmarks/corpus.py: decoding them loads every compiled kernel.
_WARM_UP_LINES = [
    r"\s:rSTA10,c:1519862400*0D\!AIVDM,1,1,,A,17lw`ChP2?K8VvJE6F<4Rk`00opw,0*38",
    r"\s:rSTA06,c:1519862400*0A\!AIVDM,2,1,9,B,58I=Lh@2Bj5L8Tt?D0084i@T>0hT8E9AT000001AJ@A<54l70?@C1i@jDPDh,0*3B",
    r"\s:rSTA06,c:1519862400*0A\!AIVDM,2,2,9,B,00000000000,2*2E",
    r"\s:rSTA03,c:1519862400*0F\!AIVDM,1,1,,B,H3uTs:DUCBD7JKaD:=<n009pM9?0,0*16",
    r"\s:rSTA10,c:1519862400*0D\!AIVDM,1,1,,B,402@2j1v8hP00`n5?n?<mvo00QHd,0*2C",
]


def warm_up() -> list[Batch]:
    """Load the compiled kernels of the fast path (the AOT module, or numba's JIT from its
    cache, compiled on a machine's first run), so that an ingest can do it while it opens
    the store; returns the batches decoded (for the loader's own warm-up)."""
    lines = _WARM_UP_LINES
    return list(decode_nmea_chunks([chunk_from_texts(list(range(1, len(lines) + 1)), lines)]))
