"""Frame a chunk of NMEA lines in step with the framer: the common lines in bulk, the rest
line by line.

The common lines (single- and two-part sentences with their own tag-block time) are framed
in bulk (:mod:`shiptrack.decode.accel.vframe`) and decoded by the compiled decoder
(:mod:`shiptrack.decode.accel.batch`); every other line goes, in order, through
:class:`shiptrack.decode.nmea.NmeaFramer`, whose state is kept, through its public
methods, as if it had seen the bulk-framed lines too.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from shiptrack.decode.accel.batch import FramedMessages
from shiptrack.decode.accel.vframe import frame_chunk
from shiptrack.decode.nmea import NmeaFramer
from shiptrack.decode.records import BatchBuilder
from shiptrack.read.chunks import LineChunk

# A $ sentence that sets a clock the following lines use: such a chunk is framed line by line.
_CLOCK_RE = re.compile(rb"\$[^,*\\!$]*(?:RMC|ZDA|PGHP)")


def frame_in_step(framer: NmeaFramer, builder: BatchBuilder, chunk: LineChunk) -> FramedMessages | None:
    """Frame a chunk: its common lines in bulk, every other line through ``framer``, in
    order (the framer's state then is as if it had seen every line); returns the
    bulk-framed messages, left in the chunk's bytes for ``batch.decode_framed`` (None:
    every line went through the framer, whose clocks the bulk framer does not know)."""
    if (
        framer.order[0] != "tagblock"
        or framer.basestation_clock
        or framer.holds()
        or (b"$" in chunk.data and _CLOCK_RE.search(chunk.data))
    ):
        for i, line_no in enumerate(chunk.line_nos.tolist()):
            framer.feed(line_no, chunk.text(i))
        return None
    # (a second part without c: takes no receiver clock: it has a tag block)
    fr = frame_chunk(chunk)
    single, pairs = _feed_in_order(framer, chunk, fr)
    if len(chunk):
        framer.next_line = max(framer.next_line, int(chunk.line_nos[-1]) + 1)
    if pairs.size:  # the second line of a two-line message fares as its first
        builder.entries.links(chunk.line_nos[pairs + 1], chunk.line_nos[pairs])
    n_fast = single.size + 2 * pairs.size
    builder.lines += n_fast
    timed = single.size + pairs.size + int(fr.has_c[pairs + 1].sum())
    if timed:
        framer.time_sources["tagblock"] += timed
    return _fast_messages(chunk, fr, single, pairs)


def _feed_in_order(framer: NmeaFramer, chunk: LineChunk, fr: Any) -> tuple[np.ndarray, np.ndarray]:
    """Feed the slow lines to the framer in order, keeping its state as if it had seen the
    bulk-framed lines too; returns the single lines and the pairs that stay bulk-framed.

    What the framer would have done with the fast lines: a sweep of stale fragments
    once per block of MAX_FRAGMENT_SPAN_LINES lines (run here at the same lines), for each
    two-line message, remembering it as assembled (so that a part heard again
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
    first_fast = int(fast_lines[0]) if fast_lines.size else None

    def sweeps_before(limit: int) -> None:
        while True:
            k = int(np.searchsorted(fast_lines, framer.next_sweep_line()))
            if k >= fast_lines.size or fast_lines[k] >= limit:
                return
            framer.sweep(int(fast_lines[k]))

    def key_of(q: int) -> tuple[Any, ...]:
        i = int(fr.pair[q])
        d = chunk.data
        if fr.has_g[i]:
            return NmeaFramer.fragment_key(2, "", "", None, d[fr.grp_s[i] : fr.grp_e[i]].decode())
        seq = chr(fr.seq[i]) if fr.seq[i] else ""
        ch = chr(fr.channel[i]) if fr.channel[i] else ""
        station = d[fr.sta_s[i] : fr.sta_e[i]].decode() if fr.has_s[i] else None
        return NmeaFramer.fragment_key(2, seq, ch, station)

    def remember(q: int) -> None:
        i = int(fr.pair[q])
        d = chunk.data
        parts = {1: d[fr.pay_s[i] : fr.pay_e[i]].decode(), 2: d[fr.pay_s[i + 1] : fr.pay_e[i + 1]].decode()}
        framer.assembled(key_of(q), int(line_nos[i + 1]), parts)

    def pairs_before(lo: int, hi: int, limit: int) -> None:
        q = lo
        while q < hi and framer.waiting():
            a = int(pair_lines[q])
            sweeps_before(a + 1)
            if not framer.waiting():
                break
            key = key_of(q)
            i = int(fr.pair[q])
            if framer.waiting(key):
                accepted[q] = False
                framer.feed(a, chunk.text(i))
                framer.feed(a + 1, chunk.text(i + 1))
            else:
                sweeps_before(a + 2)
                remember(q)
            q += 1
        sweeps_before(limit)
        horizon = framer.forgotten_before()
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
            framer.tag_time_seen()  # every bulk-framed line has a tag-block time
        framer.feed(line_no, chunk.text(i))
        if framer.holds():
            accepted &= fr.pair < i
            for j in range(i + 1, len(chunk)):
                framer.feed(int(line_nos[j]), chunk.text(j))
            return fr.single[fr.single < i], fr.pair[accepted]
    pairs_before(lo, pair_lines.size, np.iinfo(np.int64).max)
    if first_fast is not None:
        framer.tag_time_seen()
    return fr.single, fr.pair[accepted]


def _fast_messages(chunk: LineChunk, fr: Any, single: np.ndarray, pairs: np.ndarray) -> FramedMessages:
    """The bulk-framed messages of a chunk (single lines, then the accepted pairs), left
    in the chunk's bytes for ``batch.decode_framed``."""
    single, pairs = np.asarray(single, dtype=np.int64), np.asarray(pairs, dtype=np.int64)
    return FramedMessages(chunk, fr, np.concatenate([single, pairs]),
                          np.concatenate([np.full(single.size, -1, dtype=np.int64), pairs + 1]))
