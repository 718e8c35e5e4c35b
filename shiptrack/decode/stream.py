"""NMEA files to records, chunk by chunk: the framer and the bulk framer in step, then the decoders.

The common lines (single- and two-part sentences with their own tag-block time) are framed
in bulk (``shiptrack.decode.accel.vframe``) and decoded by the compiled decoder
(``shiptrack.decode.accel.batch``); every other line goes, in order, through
:class:`shiptrack.decode.nmea.NmeaFramer`, whose state is kept as if it had seen the
bulk-framed lines too. ``fast=False`` frames every line with NmeaFramer and decodes every
message with pyais (``shiptrack.decode.reference``): the results are identical.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import polars as pl

from shiptrack.decode.accel.batch import FramedMessages, decode_framed, decode_messages, messages_frame
from shiptrack.decode.accel.vframe import frame_chunk
from shiptrack.decode.nmea import NmeaFramer
from shiptrack.decode.records import Batch, BatchBuilder
from shiptrack.decode.reference import decode_message
from shiptrack.decode.timesource import TimeSource
from shiptrack.read.chunks import LineChunk, chunk_from_texts, chunks_from_lines


def decode_nmea(
    lines: Iterable[tuple[int, str]],
    time_from: TimeSource = "auto",
    batch_messages: int = 50_000,
    fast: bool = True,
) -> Iterator[Batch]:
    """Stream NMEA lines into batches of typed records (bounded memory).

    ``fast=False`` frames and decodes every line in Python with pyais (the reference
    path). The default frames the common tag-blocked lines in bulk
    (``shiptrack.decode.accel.vframe``) and decodes the common types with the vectorized
    decoder (``shiptrack.decode.accel.fast``); the results are identical
    (tests/test_decode_paths.py holds them to it on every real file).
    """
    if fast:
        yield from decode_nmea_chunks(chunks_from_lines(lines, batch_messages), time_from)
        return
    builder = BatchBuilder(dedup_window_s=60.0)
    framer = NmeaFramer(builder, time_from)
    for line_no, text in lines:
        framer.feed(line_no, text)
        if len(framer.messages) >= batch_messages:
            yield _flush(framer, builder, vectorized=False)
    framer.finish()
    yield _flush(framer, builder, vectorized=False)


def decode_nmea_chunks(chunks: Iterable[LineChunk], time_from: TimeSource = "auto") -> Iterator[Batch]:
    """The fast path of :func:`decode_nmea` over chunks of lines (``Source.chunks()``):
    one batch per chunk."""
    builder = BatchBuilder(dedup_window_s=60.0)
    framer = NmeaFramer(builder, time_from)
    for chunk in chunks:
        yield decode_chunk(framer, builder, chunk)
    yield finish_batch(framer, builder)


# A $ sentence that sets a clock the following lines use: such a chunk is framed line by line.
_CLOCK_RE = re.compile(rb"\$[^,*\\!$]*(?:RMC|ZDA|PGHP)")


def finish_batch(framer: NmeaFramer, builder: BatchBuilder) -> Batch:
    """The last batch of an input: the parts still waiting for their other parts."""
    framer.finish()
    return _flush(framer, builder)


def decode_chunk(framer: NmeaFramer, builder: BatchBuilder, chunk: LineChunk, decode: bool = True) -> Batch:
    if (
        framer.order[0] != "tagblock"
        or framer.basestation_clock
        or framer.holds()
        or (b"$" in chunk.data and _CLOCK_RE.search(chunk.data))
    ):
        for i, line_no in enumerate(chunk.line_nos.tolist()):
            framer.feed(line_no, chunk.text(i))
        return _flush(framer, builder) if decode else Batch()
    # (a second part without c: takes no receiver clock: it has a tag block)
    fr = frame_chunk(chunk)
    single, pairs = _feed_in_order(framer, chunk, fr)
    if len(chunk):
        framer.next_line = max(framer.next_line, int(chunk.line_nos[-1]) + 1)
    if not decode:
        return Batch()
    if pairs.size:  # the second line of a two-line message fares as its first
        builder.entries.links(chunk.line_nos[pairs + 1], chunk.line_nos[pairs])
    n_fast = single.size + 2 * pairs.size
    builder.lines += n_fast
    timed = single.size + pairs.size + int(fr.has_c[pairs + 1].sum())
    if timed:
        framer.time_sources["tagblock"] += timed
    return _flush(framer, builder, _fast_messages(chunk, fr, single, pairs))


def _feed_in_order(framer: NmeaFramer, chunk: LineChunk, fr: Any) -> tuple[np.ndarray, np.ndarray]:
    """Feed the slow lines to the framer in order, keeping its state as if it had seen the
    bulk-framed lines too; returns the single lines and the pairs that stay bulk-framed.

    What the framer would have done with the fast lines: a sweep of stale fragments
    once per block of MAX_FRAGMENT_SPAN_LINES lines (run here at the same lines), for each
    two-line message, remembering it in ``_recent`` (so that a part heard again
    later counts as a duplicate), and noting that a tag-block time was seen. A pair whose
    key has a message pending in the framer (an earlier part heard alone) is fed to the
    framer instead. Once the framer holds messages waiting for their time (or $PGHPs
    waiting for their message), the rest of the chunk is fed to it line by line.
    """
    line_nos = chunk.line_nos
    fast_idx = np.sort(np.concatenate([fr.single, fr.pair, fr.pair + 1]))
    fast_lines = line_nos[fast_idx]
    pair_lines = line_nos[fr.pair]
    accepted = np.ones(fr.pair.size, dtype=bool)
    span = framer.MAX_FRAGMENT_SPAN_LINES
    first_fast = int(fast_lines[0]) if fast_lines.size else None

    def sweeps_before(limit: int) -> None:
        while True:
            k = int(np.searchsorted(fast_lines, (framer._last_sweep // span + 1) * span))
            if k >= fast_lines.size or fast_lines[k] >= limit:
                return
            framer._sweep(int(fast_lines[k]))

    def key_of(q: int) -> tuple[Any, ...]:
        i = int(fr.pair[q])
        d = chunk.data
        if fr.has_g[i]:
            return ("g", 2, d[fr.grp_s[i] : fr.grp_e[i]].decode())
        seq = chr(fr.seq[i]) if fr.seq[i] else ""
        ch = chr(fr.channel[i]) if fr.channel[i] else ""
        station = d[fr.sta_s[i] : fr.sta_e[i]].decode() if fr.has_s[i] else None
        return ("s", 2, seq, ch, station)

    def remember(q: int) -> None:
        i = int(fr.pair[q])
        d = chunk.data
        parts = {1: d[fr.pay_s[i] : fr.pay_e[i]].decode(), 2: d[fr.pay_s[i + 1] : fr.pay_e[i + 1]].decode()}
        framer._recent[key_of(q)] = (int(line_nos[i + 1]), parts)

    def pairs_before(lo: int, hi: int, limit: int) -> None:
        q = lo
        while q < hi and framer._pending:
            a = int(pair_lines[q])
            sweeps_before(a + 1)
            if not framer._pending:
                break
            key = key_of(q)
            i = int(fr.pair[q])
            if key in framer._pending:
                accepted[q] = False
                framer.feed(a, chunk.text(i))
                framer.feed(a + 1, chunk.text(i + 1))
            else:
                sweeps_before(a + 2)
                remember(q)
            q += 1
        sweeps_before(limit)
        horizon = framer._last_sweep - span
        for rest in range(q, hi):
            if pair_lines[rest] + 1 >= horizon:
                remember(rest)

    slow = np.flatnonzero(fr.slow)
    lo = 0
    for i in slow.tolist():
        line_no = int(line_nos[i])
        hi = int(np.searchsorted(pair_lines, line_no))
        pairs_before(lo, hi, line_no)
        lo = hi
        if first_fast is not None and first_fast < line_no:
            framer._tag_time_seen = True  # every bulk-framed line has a tag-block time
        framer.feed(line_no, chunk.text(i))
        if framer.holds():
            accepted &= fr.pair < i
            for j in range(i + 1, len(chunk)):
                framer.feed(int(line_nos[j]), chunk.text(j))
            return fr.single[fr.single < i], fr.pair[accepted]
    pairs_before(lo, pair_lines.size, np.iinfo(np.int64).max)
    if first_fast is not None:
        framer._tag_time_seen = True
    return fr.single, fr.pair[accepted]


def _fast_messages(chunk: LineChunk, fr: Any, single: np.ndarray, pairs: np.ndarray) -> FramedMessages:
    """The bulk-framed messages of a chunk (single lines, then the accepted pairs), left
    in the chunk's bytes for ``batch.decode_framed``."""
    single, pairs = np.asarray(single, dtype=np.int64), np.asarray(pairs, dtype=np.int64)
    return FramedMessages(chunk, fr, np.concatenate([single, pairs]),
                          np.concatenate([np.full(single.size, -1, dtype=np.int64), pairs + 1]))


def _flush(framer: NmeaFramer, builder: BatchBuilder, fast_msgs: FramedMessages | None = None,
           vectorized: bool = True) -> Batch:
    """Decode what the framers assembled: ``fast_msgs`` (the bulk framer's messages), then
    NmeaFramer's, with the vectorized decoder; ``vectorized`` False: all with pyais."""
    extra: list[tuple[pl.DataFrame, ...]] = []
    if not vectorized:
        for msg in framer.messages:
            decode_message(msg, builder)
    else:
        # in this order: the rows pyais decodes reach the builder as they did when both
        # sets were one frame (the bulk-framed messages first)
        if fast_msgs is not None and len(fast_msgs):
            extra.append(decode_framed(fast_msgs, builder))
        if framer.messages:
            extra.append(decode_messages(messages_frame(framer.messages), builder))
    framer.messages.clear()
    batch = builder.emit()
    batch.final_below = framer.open_from()
    batch.last_line = framer.next_line - 1
    if extra:
        batch.positions = _stack([batch.positions, *(e[0] for e in extra)])
        batch.statics = _stack([batch.statics, *(e[1] for e in extra)])
        batch.base_stations = _stack([batch.base_stations, *(e[2] for e in extra)])
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
