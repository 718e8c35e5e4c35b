"""Bulk framing for the lines that make up almost all real traffic.

Two layouts are framed for a whole :class:`~shiptrack.read.chunks.LineChunk` at once,
by a numba-compiled loop over the chunk's lines (:func:`_frame_lines`: fixed offsets
from the tag block's closing backslash and from the end of the line, one short scan
per checksum and per tag-block item):

* a single-sentence message with its own tag block carrying the receive time::

    \\s:r0,c:1518400000*77\\!AIVDM,1,1,,A,139>Jh0P1T0eid0A:`P3Q2l1P000,0*4A

* a two-sentence message (type 5) on two consecutive lines, each with a tag block
  (the first one with ``c:``), the parts belonging together as NmeaFramer would
  pair them: the same NMEA 4.10 group ``g:n-2-id``, or, without groups, the same
  sequence id, channel and station.

Every other line (longer messages, parts apart, other time layouts, anything
malformed, including a bad checksum) goes, in order, through
:class:`shiptrack.decode.nmea.NmeaFramer`, which gives it exactly the treatment
(and reject reason) it would have had; ``shiptrack.decode.nmea`` keeps the framer's
fragment state as if it had seen the bulk-framed lines too.

The kernel is compiled once per machine (``cache=True``: a few seconds, then loaded
from ``__pycache__`` in well under a second) and releases the GIL (``nogil=True``), so
that a chunk is framed while another thread writes to DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from shiptrack.decode.accel.kernels import compiled, jit
from shiptrack.read.chunks import LineChunk

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
U8Array = npt.NDArray[np.uint8]


_HEX = np.full(256, -1, dtype=np.int16)  # value of a hex digit, -1 for other bytes
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i
_DIGIT = np.zeros(256, dtype=np.bool_)
_DIGIT[48:58] = True
_ALNUM = _DIGIT.copy()
_ALNUM[65:91] = True
_ALNUM[97:123] = True
_TALKER = np.zeros(256, dtype=np.bool_)  # [A-Z-]
_TALKER[65:91] = True
_TALKER[ord("-")] = True

_COMMA, _COLON, _STAR, _BSLASH, _BANG = 44, 58, 42, 92, 33
_MAX_STATION = 48  # longer s: values (never seen) go the slow way
_MAX_GROUP_ID = 16
_MAX_SECONDS = 100_000_000_000  # a larger c: value is in milliseconds (13 digits)


@dataclass
class Framed:
    """What :func:`frame_chunk` found; indices are line indices within the chunk.

    ``single``: lines that are complete messages. ``pair``: first lines of two-line
    messages (the second is the next line). ``slow``: lines for NmeaFramer. The
    per-line arrays are meaningful on the fast lines only (offsets into ``chunk.data``);
    elsewhere they hold what the checks got to before the line was left to the framer,
    or zero.
    """

    single: IntArray
    pair: IntArray
    slow: BoolArray
    ts_us: IntArray  # receive time from c:, microseconds since the epoch
    has_c: BoolArray
    pay_s: IntArray
    pay_e: IntArray
    fill: IntArray
    sta_s: IntArray  # station (s:) value; has_s False = no s: item
    sta_e: IntArray
    has_s: BoolArray
    seq: npt.NDArray[np.uint8]  # sequence id character, 0 = empty
    channel: npt.NDArray[np.uint8]  # channel character, 0 = empty
    grp_s: IntArray  # group id of g:n-2-id; has_g False = no g: item
    grp_e: IntArray
    has_g: BoolArray


def _empty(n: int) -> Framed:
    z = np.zeros(n, dtype=np.int64)
    f = np.zeros(n, dtype=bool)
    u = np.zeros(n, dtype=np.uint8)
    return Framed(np.zeros(0, np.int64), np.zeros(0, np.int64), np.ones(n, dtype=bool),
                  z, f, z, z, z, z, z, f, u, u, z, z, f)


def frame_chunk(chunk: LineChunk, untimed_second_part: bool = True) -> Framed:
    """Find the fast lines of a chunk (see the module docstring).

    ``untimed_second_part`` False: a pair whose second line has no ``c:`` goes the slow
    way (the framer would give that part the time of a receiver clock seen earlier).
    """
    n = len(chunk)
    if n == 0:
        return _empty(0)
    buf = np.frombuffer(chunk.data, dtype=np.uint8)  # padded: see LineChunk
    starts = np.ascontiguousarray(chunk.starts, dtype=np.int64)
    ends = np.ascontiguousarray(chunk.ends, dtype=np.int64)
    return Framed(*_frame_lines(buf, starts, ends, bool(untimed_second_part)))


# ------------------------------------------------------------------ the kernel
#
# Reading a few bytes past a line's end is safe: the chunk's data ends with 64 zero bytes.
# Every position read at an offset from the closing backslash B is inside the line (B is
# at least 21 bytes before the end), and those before B are read only once B - 3 > start + 1.
# The scans over byte ranges index with unsigned integers: numba then drops its
# negative-index handling and LLVM vectorizes them.


@jit
def _any_bad(buf: U8Array, a: int, b: int) -> bool:
    """Whether ``buf[a:b]`` holds a byte that keeps a line off the fast path: a control
    character (a CR inside a line too: only those before its \\n are its ending), DEL and
    above (not ASCII), or '$' (proprietary sentences)."""
    bad = False
    for p in range(np.uint64(a), np.uint64(b)):
        c = buf[p]
        bad |= c < 32 or c >= 127 or c == ord("$")
    return bad


@jit
def _all_armour(buf: U8Array, a: int, b: int) -> bool:
    """Whether ``buf[a:b]`` is all AIS armour characters ('0'..'W', '`'..'w')."""
    other = False
    for p in range(np.uint64(a), np.uint64(b)):
        c = buf[p]
        other |= not (48 <= c < 88 or 96 <= c < 120)
    return not other


@jit
def _holds(buf: U8Array, a: int, b: int, byte: int) -> bool:
    """Whether ``buf[a:b]`` holds ``byte``."""
    found = False
    for p in range(np.uint64(a), np.uint64(b)):
        found |= buf[p] == byte
    return found


@jit
def _xor(buf: U8Array, a: int, b: int) -> int:
    """XOR of the bytes ``buf[a:b]`` (an NMEA checksum)."""
    acc = np.uint8(0)
    for p in range(np.uint64(a), np.uint64(b)):
        acc ^= buf[p]
    return int(acc)


@jit
def _find(buf: U8Array, a: int, b: int, byte: int) -> int:
    """Position of the first ``byte`` in ``buf[a:b]``, or ``b`` if none."""
    for p in range(a, b):
        if buf[p] == byte:
            return p
    return b


@jit
def _same_text(buf: U8Array, a: int, a_end: int, b: int, b_end: int) -> bool:
    """Whether ``buf[a:a_end]`` and ``buf[b:b_end]`` hold the same text."""
    if a_end - a != b_end - b:
        return False
    for k in range(a_end - a):
        if buf[a + k] != buf[b + k]:
            return False
    return True


@jit
def _common_layout(buf: U8Array, b: int, t: int) -> tuple[bool, int, int, bool, int, int]:
    """The tag body ``buf[b:t]`` as ``s:<station>,c:<time>``, ``c:<time>,s:<station>`` or
    ``c:<time>``, a time of 10 or 13 characters (its digits are checked later), the station
    at most _MAX_STATION characters without a comma (else the items are searched for).
    Returns (found, time start, time end, has station, station start, station end)."""
    s_first = buf[b] == ord("s") and buf[b + 1] == _COLON
    c_first = buf[b] == ord("c") and buf[b + 1] == _COLON
    if not (s_first or c_first):
        return False, 0, 0, False, 0, 0
    for n_digits in (10, 13):  # the first that fits is taken, even if its station is then refused
        if s_first:
            # s:<station>,c:<time>
            c_at = t - n_digits - 1  # the ':' of c:
            if c_at - 2 >= b + 2 and buf[c_at] == _COLON and buf[c_at - 1] == ord("c") and buf[c_at - 2] == _COMMA:
                return _station_ok(buf, b + 2, c_at - 2), c_at + 1, t, True, b + 2, c_at - 2
        else:
            after = b + 2 + n_digits
            # c:<time>,s:<station>
            if t >= after + 3 and buf[after] == _COMMA and buf[after + 1] == ord("s") and buf[after + 2] == _COLON:
                return _station_ok(buf, after + 3, t), b + 2, after, True, after + 3, t
            # c:<time> alone
            if t == after:
                return True, b + 2, t, False, 0, 0
    return False, 0, 0, False, 0, 0


@jit
def _station_ok(buf: U8Array, s: int, e: int) -> bool:
    return e - s <= _MAX_STATION and not _holds(buf, s, e, _COMMA)


@jit
def _searched_items(buf: U8Array, i: int, start: int, t: int, sta_s: IntArray, sta_e: IntArray,
                    grp_s: IntArray, grp_e: IntArray) -> tuple[bool, bool, int, int, bool, bool]:
    """The items c:, s: and g: of a tag block of another layout (body ``buf[start+1:t]``),
    found by search. An item is ``<key>:`` right after the opening backslash or a comma.
    Stores the ranges of the station and group id of line ``i`` as soon as they are
    found (so also on a line then refused). Returns (line still
    fast, has c:, time start, time end, has s:, has g:). Refused: a key twice, an
    old-style group ``<d>G<d>:`` anywhere, a time not 1..13 characters, a station longer
    than _MAX_STATION, a g: item not of the form ``<digit>-2-<1..16 letters/digits>``."""
    n_c = n_s = n_g = 0
    c_at = s_at = g_at = -1
    old_group = False
    for p in range(max(start + 1, 2), t):
        if buf[p] != _COLON:
            continue
        before = buf[p - 2]
        if before == _COMMA or before == _BSLASH:
            key = buf[p - 1]
            if key == ord("c"):
                n_c += 1
                c_at = p
            elif key == ord("s"):
                n_s += 1
                s_at = p
            elif key == ord("g"):
                n_g += 1
                g_at = p
        if (p >= 4 and buf[p - 2] == ord("G") and _DIGIT[buf[p - 1]] and _DIGIT[buf[p - 3]]
                and (buf[p - 4] == _COMMA or buf[p - 4] == _BSLASH)):
            old_group = True
    if n_c > 1 or n_s > 1 or n_g > 1 or old_group:
        return False, False, 0, 0, False, False
    c_s = c_e = 0
    if n_c:  # the time: up to the next comma (or the tag's end), 1..13 characters
        c_s = c_at + 1
        c_e = _find(buf, c_s, t, _COMMA)
        if not 1 <= c_e - c_s <= 13:
            return False, False, 0, 0, False, False
    if n_s:
        sta_s[i] = s_at + 1
        sta_e[i] = _find(buf, s_at + 1, t, _COMMA)
        if sta_e[i] - sta_s[i] > _MAX_STATION:
            return False, False, 0, 0, False, False
    if n_g:  # g:<digit>-2-<id>
        g = g_at
        grp_s[i] = g + 5
        end = _find(buf, g + 5, t, _COMMA)  # t when g + 5 > t: refused below
        grp_e[i] = end
        if not (_DIGIT[buf[g + 1]] and buf[g + 2] == ord("-") and buf[g + 3] == ord("2") and buf[g + 4] == ord("-")
                and g + 5 < end <= g + 5 + _MAX_GROUP_ID):
            return False, False, 0, 0, False, False
        for p in range(g + 5, end):
            if not _ALNUM[buf[p]]:
                return False, False, 0, 0, False, False
    return True, n_c == 1, c_s, c_e, n_s == 1, n_g == 1


@jit
def _frame_lines(buf: U8Array, starts: IntArray, ends: IntArray, untimed_second_part: bool) -> tuple[np.ndarray, ...]:
    """The fields of :class:`Framed`, in order."""
    n = starts.size
    line_ok = np.zeros(n, dtype=np.bool_)
    count = np.zeros(n, dtype=np.int64)
    number = np.zeros(n, dtype=np.int64)
    ts_us = np.zeros(n, dtype=np.int64)
    has_c = np.zeros(n, dtype=np.bool_)
    pay_s = np.zeros(n, dtype=np.int64)
    pay_e = np.zeros(n, dtype=np.int64)
    fill = np.zeros(n, dtype=np.int64)
    sta_s = np.zeros(n, dtype=np.int64)
    sta_e = np.zeros(n, dtype=np.int64)
    has_s = np.zeros(n, dtype=np.bool_)
    seq = np.zeros(n, dtype=np.uint8)
    channel = np.zeros(n, dtype=np.uint8)
    grp_s = np.zeros(n, dtype=np.int64)
    grp_e = np.zeros(n, dtype=np.int64)
    has_g = np.zeros(n, dtype=np.bool_)

    for i in range(n):
        S, E = starts[i], ends[i]
        # a tag block first; room for it and a sentence; no control, non-ASCII or '$' byte
        if E - S < 24 or buf[S] != _BSLASH or _any_bad(buf, S, E):
            continue
        # the tag block's closing backslash: the first one after the opening one, and at
        # least 21 bytes before the end (the sentence after it holds none: its characters
        # are checked below)
        B = _find(buf, S + 1, E - 20, _BSLASH)
        if B == E - 20:
            continue

        # the sentence !<talker>VDM|VDO,<count>,<number>,<seq>,<channel>,<payload>,<fill>*hh
        # at fixed offsets from B (its fields are kept even when a check below fails)
        count[i] = np.int64(buf[B + 8]) - 48
        number[i] = np.int64(buf[B + 10]) - 48
        seq_digit = _DIGIT[buf[B + 12]] and buf[B + 13] == _COMMA
        ch_at = B + 13 + seq_digit
        ch_one = _ALNUM[buf[ch_at]] and buf[ch_at + 1] == _COMMA
        pay_s[i] = ch_at + 1 + ch_one
        pay_e[i] = E - 5
        fill[i] = np.int64(buf[E - 4]) - 48
        seq[i] = buf[B + 12] if seq_digit else 0
        channel[i] = buf[ch_at] if ch_one else 0
        c, m = count[i], number[i]
        if not (buf[B + 1] == _BANG and _TALKER[buf[B + 2]] and _TALKER[buf[B + 3]] and buf[B + 4] == ord("V")
                and buf[B + 5] == ord("D") and (buf[B + 6] == ord("M") or buf[B + 6] == ord("O"))
                and buf[B + 7] == _COMMA and buf[B + 9] == _COMMA and buf[B + 11] == _COMMA
                and ((c == 1 and m == 1) or (c == 2 and (m == 1 or m == 2)))
                and (buf[B + 12] == _COMMA or seq_digit)
                and (buf[ch_at] == _COMMA or ch_one)
                and pay_e[i] > pay_s[i] and buf[E - 5] == _COMMA and 48 <= buf[E - 4] <= 53
                and buf[E - 3] == _STAR and _HEX[buf[E - 2]] >= 0 and _HEX[buf[E - 1]] >= 0):
            continue
        # the tag block: \<body>*hh\ with a body of at least one byte
        if not (B - 3 > S + 1 and buf[B - 3] == _STAR and _HEX[buf[B - 2]] >= 0 and _HEX[buf[B - 1]] >= 0):
            continue
        # checksums: the tag body's (a tag checksum "00" is accepted), the sentence's
        tag_ok = _xor(buf, S + 1, B - 3) == _HEX[buf[B - 2]] * 16 + _HEX[buf[B - 1]]
        if not (tag_ok or (buf[B - 2] == 48 and buf[B - 1] == 48)):
            continue
        if _xor(buf, B + 2, E - 3) != _HEX[buf[E - 2]] * 16 + _HEX[buf[E - 1]]:
            continue
        # payload characters all armour; no '!' in the tag body
        if not _all_armour(buf, pay_s[i], pay_e[i]) or _holds(buf, S + 1, B - 3, _BANG):
            continue

        # tag-block items: c: (time), s: (station), g: (group), found at fixed offsets for the
        # common layouts, by search on the other lines
        t = B - 3  # the tag's '*'
        found, c_s, c_e, with_s, s_s, s_e = _common_layout(buf, S + 1, t)
        if found:
            with_c, with_g = True, False
            sta_s[i], sta_e[i] = s_s, s_e
        else:
            fast, with_c, c_s, c_e, with_s, with_g = _searched_items(buf, i, S, t, sta_s, sta_e, grp_s, grp_e)
            if not fast:
                continue
        # an empty s: names no receiver, as for the reference framer
        has_s[i], has_g[i] = with_s and sta_e[i] > sta_s[i], with_g
        line_ok[i] = True
        if with_c:  # the time: all digits, seconds or (13 digits) milliseconds
            value = 0
            for p in range(c_s, c_e):
                if not _DIGIT[buf[p]]:
                    line_ok[i] = False  # (has_s, has_g stay as found)
                    break
                value = value * 10 + (np.int64(buf[p]) - 48)  # type: ignore[assignment]
            if line_ok[i]:
                has_c[i] = True
                ts_us[i] = value * 1_000 if value > _MAX_SECONDS else value * 1_000_000

    # the fast lines: complete messages, and pairs of consecutive lines that the framer
    # would join: part 1 (with a time) then part 2, with the framer's key: the same group
    # (when both have one), else neither with a group and the same sequence id, channel
    # and station
    single = np.empty(n, dtype=np.int64)
    pair = np.empty(n, dtype=np.int64)
    n_single = n_pair = 0
    slow = np.ones(n, dtype=np.bool_)
    for i in range(n):
        if not (line_ok[i] and has_c[i]):
            continue
        if count[i] == 1:
            single[n_single] = i
            n_single += 1
            slow[i] = False
            continue
        j = i + 1
        if not (count[i] == 2 and number[i] == 1 and j < n and line_ok[j] and count[j] == 2 and number[j] == 2):
            continue
        if not (untimed_second_part or has_c[j]):
            continue
        if has_g[i] and has_g[j]:
            same = _same_text(buf, grp_s[i], grp_e[i], grp_s[j], grp_e[j])
        elif not has_g[i] and not has_g[j]:
            same = (seq[i] == seq[j] and channel[i] == channel[j] and has_s[i] == has_s[j]
                    and _same_text(buf, sta_s[i], sta_e[i], sta_s[j], sta_e[j]))
        else:
            same = False
        if same:
            pair[n_pair] = i
            n_pair += 1
            slow[i] = False
            slow[j] = False
    return (single[:n_single].copy(), pair[:n_pair].copy(), slow, ts_us, has_c, pay_s, pay_e, fill,
            sta_s, sta_e, has_s, seq, channel, grp_s, grp_e, has_g)


_frame_lines = compiled("frame_lines", _frame_lines)


def _xor_of(strings: pl.Series) -> np.ndarray:
    """XOR of the bytes of each string (the NMEA checksum), for a whole column at once."""
    lengths = strings.str.len_bytes().to_numpy().astype(np.int64)
    buf = np.frombuffer("".join(strings.to_list()).encode("latin-1", "replace"), dtype=np.uint8)
    if buf.size == 0:
        return np.zeros(len(strings), dtype=np.uint8)
    acc = np.bitwise_xor.accumulate(buf)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    out = np.where(lengths > 0, acc[np.maximum(ends - 1, 0)], 0).astype(np.uint8)
    before = np.where(starts > 0, acc[np.maximum(starts - 1, 0)], 0).astype(np.uint8)
    return out ^ before
