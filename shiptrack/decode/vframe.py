"""Vectorized framing for the lines that make up almost all real traffic.

Two layouts are framed for a whole :class:`~shiptrack.read.chunks.LineChunk` at once,
with numpy over the chunk's bytes (fixed offsets from the tag block's closing
backslash and from the end of the line, one cumulative reduction per checksum):

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from shiptrack.read.chunks import LineChunk

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]



# A class of each byte, as bits, so that one OR over a range answers several questions:
_BAD = 1  # keeps a line off the fast path: control characters (line endings aside), DEL
#           and above (not ASCII), and '$' (proprietary sentences)
_NOT_ARMOUR = 2  # outside the AIS armour alphabet ('0'..'W', '`'..'w')
_NOT_DIGIT = 4
_IS_BANG = 8  # '!'
_IS_COMMA = 16
_CLASS = bytes(
    (_BAD if (b < 32 and b not in (10, 13)) or b >= 127 or b == ord("$") else 0)
    | (0 if 48 <= b < 88 or 96 <= b < 120 else _NOT_ARMOUR)
    | (0 if 48 <= b < 58 else _NOT_DIGIT)
    | (_IS_BANG if b == ord("!") else 0)
    | (_IS_COMMA if b == ord(",") else 0)
    for b in range(256)
)

_HEX = np.full(256, -1, dtype=np.int16)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[48:58] = True
_ALNUM = _DIGIT.copy()
_ALNUM[65:91] = True
_ALNUM[97:123] = True
_TALKER = np.zeros(256, dtype=bool)  # [A-Z-]
_TALKER[65:91] = True
_TALKER[ord("-")] = True

_COMMA, _COLON, _STAR, _BSLASH, _BANG = 44, 58, 42, 92, 33
_MAX_STATION = 48  # longer s: values (never seen) go the slow way
_MAX_GROUP_ID = 16
_POW10 = 10.0 ** np.arange(12, -1, -1)


@dataclass
class Framed:
    """What :func:`frame_chunk` found; indices are line indices within the chunk.

    ``single``: lines that are complete messages. ``pair``: first lines of two-line
    messages (the second is the next line). ``slow``: lines for NmeaFramer. The
    per-line arrays are meaningful on the fast lines only (offsets into ``chunk.data``).
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


def _first_at_or_after(positions: IntArray, at: IntArray) -> IntArray:
    """The first of the sorted ``positions`` that is >= each ``at`` (a huge value if none)."""
    if positions.size == 0:
        return np.full(at.size, np.iinfo(np.int64).max, dtype=np.int64)
    k = np.searchsorted(positions, at)
    out = positions[np.minimum(k, positions.size - 1)].astype(np.int64)
    out[k >= positions.size] = np.iinfo(np.int64).max
    return out


def _items(buf: npt.NDArray[np.uint8], colons: IntArray, starts: IntArray, tag_end: IntArray, ok: BoolArray,
           keys: bytes) -> list[tuple[IntArray, IntArray]]:
    """For each one-letter key, the count of tag-block items ``key:...`` on each line and
    the position of the colon of one (``colons``: the positions of every ':' in the chunk)."""
    n = starts.size
    before = buf[colons - 2]
    colons = colons[(before == _COMMA) | (before == _BSLASH)]
    line = np.searchsorted(starts, colons, side="right") - 1
    inside = (line >= 0) & (colons < tag_end[np.maximum(line, 0)]) & ok[np.maximum(line, 0)]
    colons, line = colons[inside], line[inside]
    key_of = buf[colons - 1]
    out = []
    for key in keys:
        mine = key_of == key
        count = np.bincount(line[mine], minlength=n)
        where = np.full(n, -1, dtype=np.int64)
        where[line[mine]] = colons[mine]
        out.append((count, where))
    return out


def _or_over(cls: npt.NDArray[np.uint8], begin: IntArray, end: IntArray) -> npt.NDArray[np.uint8]:
    """OR of the class bits of each range ``[begin, end)`` (every range non-empty)."""
    idx = np.empty(2 * begin.size, dtype=np.int64)
    idx[0::2], idx[1::2] = begin, end
    return np.bitwise_or.reduceat(cls, idx)[0::2]


_ASCII0 = np.uint64(0x3030303030303030)
_LOW_BYTES = np.uint64(0x000000FF000000FF)
_SWAR_A = np.uint64(100 + (1000000 << 32))
_SWAR_B = np.uint64(1 + (10000 << 32))


def _eight_digits(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The value of 8 ASCII digits held little-endian in each word (SWAR)."""
    v = words - _ASCII0
    v = v * np.uint64(10) + (v >> np.uint64(8))
    return ((v & _LOW_BYTES) * _SWAR_A + ((v >> np.uint64(16)) & _LOW_BYTES) * _SWAR_B) >> np.uint64(32)


_LEAD_MASK = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _all_digits(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.bool_]:
    """Whether all 8 bytes of each word are ASCII digits (SWAR, exact)."""
    high = np.uint64(0xF0F0F0F0F0F0F0F0)
    return ((words & high) | (((words + np.uint64(0x0606060606060606)) & high) >> np.uint64(4))) == np.uint64(
        0x3333333333333333)


def _digits_value(buf: npt.NDArray[np.uint8], end: IntArray, length: IntArray) -> tuple[IntArray, BoolArray]:
    """The integer written by the ``length`` (1..16) bytes before each ``end``, and whether
    they are all digits."""
    out = np.zeros(end.size, dtype=np.int64)
    ok = np.zeros(end.size, dtype=bool)
    near = end < 16  # too close to the buffer's start for the two 8-byte loads
    for i in np.flatnonzero(near).tolist():
        text = buf[end[i] - length[i] : end[i]].tobytes()
        ok[i] = text.isdigit() and text.isascii()
        out[i] = int(text) if ok[i] else 0
    far = ~near
    e, n = end[far], length[far]
    words = np.ndarray((buf.size - 7,), dtype="<u8", buffer=buf, strides=(1,))  # unaligned loads
    hi, lo = words[e - 8], words[e - 16]
    # the bytes before the digits become '0' (little-endian: the first bytes are the low ones)
    m_hi = _LEAD_MASK[np.clip(8 - n, 0, 8)]
    m_lo = _LEAD_MASK[np.clip(16 - n, 0, 8)]
    hi = (hi & ~m_hi) | (_ASCII0 & m_hi)
    lo = (lo & ~m_lo) | (_ASCII0 & m_lo)
    ok[far] = _all_digits(hi) & _all_digits(lo)
    out[far] = (_eight_digits(lo) * np.uint64(100_000_000) + _eight_digits(hi)).astype(np.int64)
    return out, ok


def _value_end(commas: IntArray, begin: IntArray, tag_end: IntArray) -> IntArray:
    """End of the tag-block values starting at ``begin``: the next comma, or the tag's '*'."""
    return np.minimum(_first_at_or_after(commas, begin), tag_end)


class _Tags:
    """The tag-block items of each line: ranges of the c:, s: and g: (group id) values."""

    def __init__(self, n: int) -> None:
        self.has_c = np.zeros(n, dtype=bool)
        self.has_s = np.zeros(n, dtype=bool)
        self.has_g = np.zeros(n, dtype=bool)
        self.c_s, self.c_e, self.sta_s, self.sta_e, self.grp_s, self.grp_e = (
            np.zeros(n, dtype=np.int64) for _ in range(6))


def _common_layouts(buf: npt.NDArray[np.uint8], cls: npt.NDArray[np.uint8], st: IntArray, tag_end: IntArray,
                    k: IntArray, tags: _Tags) -> IntArray:
    """Tag blocks ``s:<station>,c:<time>``, ``c:<time>,s:<station>`` and ``c:<time>`` (a time
    of 10 or 13 digits, a station without a comma) on lines ``k``: fills ``tags``, returns
    the lines of other layouts."""
    b, t = st[k] + 1, tag_end[k]  # the tag body is buf[b:t]
    found = np.zeros(k.size, dtype=bool)
    c_s = np.zeros(k.size, dtype=np.int64)
    c_e = np.zeros(k.size, dtype=np.int64)
    s_s = np.zeros(k.size, dtype=np.int64)
    s_e = np.zeros(k.size, dtype=np.int64)
    has_s = np.zeros(k.size, dtype=bool)
    s_first = (buf[b] == ord("s")) & (buf[b + 1] == _COLON)
    c_first = (buf[b] == ord("c")) & (buf[b + 1] == _COLON)
    for n_digits in (10, 13):
        a = s_first & (t - n_digits - 3 >= b + 2) & (buf[t - n_digits - 1] == _COLON)
        a &= (buf[t - n_digits - 2] == ord("c")) & (buf[t - n_digits - 3] == _COMMA) & ~found
        c_s[a], c_e[a], s_s[a], s_e[a], has_s[a] = t[a] - n_digits, t[a], b[a] + 2, t[a] - n_digits - 3, True
        after = np.minimum(b + 2 + n_digits, buf.size - 3)
        bb = c_first & (t >= b + n_digits + 5) & (buf[after] == _COMMA) & (buf[after + 1] == ord("s"))
        bb &= (buf[after + 2] == _COLON) & ~found & ~a
        c_s[bb], c_e[bb], s_s[bb], s_e[bb] = b[bb] + 2, b[bb] + 2 + n_digits, b[bb] + n_digits + 5, t[bb]
        has_s[bb] = True
        c = c_first & (t == b + 2 + n_digits) & ~found & ~a & ~bb
        c_s[c], c_e[c] = b[c] + 2, t[c]
        found |= a | bb | c
    # a station without a comma (the time's digits are checked with its value)
    j = np.flatnonzero(found & (s_e > s_s))
    found[j[(_or_over(cls, s_s[j], s_e[j]) & _IS_COMMA) != 0]] = False
    found &= s_e - s_s <= _MAX_STATION
    lines = k[found]
    tags.has_c[lines] = True
    tags.c_s[lines], tags.c_e[lines] = c_s[found], c_e[found]
    tags.has_s[lines] = has_s[found]
    tags.sta_s[lines], tags.sta_e[lines] = s_s[found], s_e[found]
    return k[~found]


def _other_layouts(buf: npt.NDArray[np.uint8], cls: npt.NDArray[np.uint8], st: IntArray, tag_end: IntArray,
                   line_ok: BoolArray, tags: _Tags) -> None:
    """Tag-block items by search, on the lines ``line_ok`` (cleared for a line left to the framer:
    an item twice, a time that is not 1 to 13 digits, an old-style 1G2:id group, a g: item
    of another form than n-2-id...)."""
    colons = np.flatnonzero(buf[2:] == _COLON) + 2
    commas = np.flatnonzero(buf == _COMMA)
    (n_c, c_at), (n_s, s_at), (n_g, g_at) = _items(buf, colons, st, tag_end, line_ok, b"csg")
    line_ok &= (n_c <= 1) & (n_s <= 1) & (n_g <= 1)
    colons = colons[colons >= 4]
    old = colons[(buf[colons - 2] == ord("G")) & _DIGIT[buf[colons - 1]] & _DIGIT[buf[colons - 3]]
                 & ((buf[colons - 4] == _COMMA) | (buf[colons - 4] == _BSLASH))]
    if old.size:
        line = np.searchsorted(st, old, side="right") - 1
        line_ok[line[old < tag_end[line]]] = False

    k = np.flatnonzero(line_ok & (n_c == 1))
    begin = c_at[k] + 1
    end = _value_end(commas, begin, tag_end[k])
    length = end - begin
    valid = (length >= 1) & (length <= 13)  # the digits are checked with the value
    line_ok[k[~valid]] = False
    k = k[valid]
    tags.has_c[k], tags.c_s[k], tags.c_e[k] = True, begin[valid], end[valid]

    k = np.flatnonzero(line_ok & (n_s == 1))
    end = _value_end(commas, s_at[k] + 1, tag_end[k])
    line_ok[k[end - s_at[k] - 1 > _MAX_STATION]] = False
    tags.has_s[k], tags.sta_s[k], tags.sta_e[k] = True, s_at[k] + 1, end

    k = np.flatnonzero(line_ok & (n_g == 1))
    if k.size:
        g = g_at[k]
        end = _value_end(commas, g + 5, tag_end[k])
        form = _DIGIT[buf[g + 1]] & (buf[g + 2] == ord("-")) & (buf[g + 3] == ord("2")) & (buf[g + 4] == ord("-"))
        form &= (end > g + 5) & (end - g - 5 <= _MAX_GROUP_ID)
        ids = buf[(g + 5)[:, None] + np.arange(_MAX_GROUP_ID)]
        form &= (_ALNUM[ids] | (np.arange(_MAX_GROUP_ID) >= (end - g - 5)[:, None])).all(axis=1)
        # a g: item of another form is left to the framer, whatever the line
        line_ok[k[~form]] = False
        tags.has_g[k], tags.grp_s[k], tags.grp_e[k] = True, g + 5, end


def frame_chunk(chunk: LineChunk, untimed_second_part: bool = True) -> Framed:
    """Find the fast lines of a chunk (see the module docstring).

    ``untimed_second_part`` False: a pair whose second line has no ``c:`` goes the slow
    way (the framer would give that part the time of a receiver clock seen earlier).
    """
    n = len(chunk)
    if n == 0:
        return _empty(0)
    data = chunk.data
    buf = np.frombuffer(data, dtype=np.uint8)  # padded: see LineChunk
    st, en = chunk.starts, chunk.ends
    cls = np.frombuffer(data.translate(_CLASS), dtype=np.uint8)
    ok = (en - st >= 24) & (buf[st] == _BSLASH)
    k = np.flatnonzero(ok)
    ok[k] = (_or_over(cls, st[k], en[k]) & _BAD) == 0
    # the tag block's closing backslash: the first one after the opening one, before the '!'
    # (the sentence after it holds none: its characters are checked one class at a time)
    bsl = np.flatnonzero(buf == _BSLASH)
    sec = _first_at_or_after(bsl, st + 1)
    ok &= sec < en - 20
    sec = np.where(ok, sec, st)

    r = np.flatnonzero(ok)
    S, E, B = st[r], en[r], sec[r]

    def at(off: int | IntArray) -> npt.NDArray[np.uint8]:
        return buf[B + off]

    good = (at(1) == _BANG) & _TALKER[at(2)] & _TALKER[at(3)] & (at(4) == ord("V")) & (at(5) == ord("D"))
    good &= ((at(6) == ord("M")) | (at(6) == ord("O"))) & (at(7) == _COMMA) & (at(9) == _COMMA)
    good &= at(11) == _COMMA
    count = at(8).astype(np.int64) - 48
    number = at(10).astype(np.int64) - 48
    good &= ((count == 1) & (number == 1)) | ((count == 2) & ((number == 1) | (number == 2)))
    seq_digit = _DIGIT[at(12)] & (at(13) == _COMMA)
    good &= (at(12) == _COMMA) | seq_digit
    ch_at = B + 13 + seq_digit
    ch_one = _ALNUM[buf[ch_at]] & (buf[ch_at + 1] == _COMMA)
    good &= (buf[ch_at] == _COMMA) | ch_one
    pay_s = ch_at + 1 + ch_one
    pay_e = E - 5
    good &= (pay_e > pay_s) & (buf[pay_e] == _COMMA) & (buf[E - 4] >= 48) & (buf[E - 4] <= 53)
    good &= buf[E - 3] == _STAR
    cs = _HEX[buf[E - 2]] * 16 + _HEX[buf[E - 1]]
    good &= (_HEX[buf[E - 2]] >= 0) & (_HEX[buf[E - 1]] >= 0)
    tcs = _HEX[buf[B - 2]] * 16 + _HEX[buf[B - 1]]
    good &= (B - 3 > S + 1) & (buf[B - 3] == _STAR) & (_HEX[buf[B - 2]] >= 0) & (_HEX[buf[B - 1]] >= 0)

    # checksums: XOR of the tag body and of the sentence body, in one pass
    k = np.flatnonzero(good)
    idx = np.empty(4 * k.size, dtype=np.int64)
    idx[0::4], idx[1::4], idx[2::4], idx[3::4] = S[k] + 1, B[k] - 3, B[k] + 2, E[k] - 3
    if k.size:
        x = np.bitwise_xor.reduceat(buf, idx)
        tag_ok = (x[0::4] == tcs[k]) | ((buf[B[k] - 2] == 48) & (buf[B[k] - 1] == 48))
        good[k] = tag_ok & (x[2::4] == cs[k])
    # payload characters all armour; no '!' in the tag block
    k = np.flatnonzero(good)
    if k.size:
        both = _or_over(cls, np.stack([pay_s[k], S[k] + 1], axis=1).ravel(),
                        np.stack([pay_e[k], B[k] - 3], axis=1).ravel())
        good[k] = ((both[0::2] & _NOT_ARMOUR) == 0) & ((both[1::2] & _IS_BANG) == 0)

    line_ok = np.zeros(n, dtype=bool)
    line_ok[r[good]] = True
    tag_end = np.zeros(n, dtype=np.int64)  # position of the tag block's '*'
    tag_end[r] = B - 3
    full = {name: np.zeros(n, dtype=np.int64) for name in ("count", "number", "pay_s", "pay_e", "fill")}
    full["count"][r], full["number"][r], full["pay_s"][r], full["pay_e"][r] = count, number, pay_s, pay_e
    full["fill"][r] = buf[E - 4].astype(np.int64) - 48
    seq = np.zeros(n, dtype=np.uint8)
    seq[r] = np.where(seq_digit, at(12), 0)
    channel = np.zeros(n, dtype=np.uint8)
    channel[r] = np.where(ch_one, buf[ch_at], 0)

    # tag-block items: c: (time), s: (station), g: (group), found at fixed offsets for the
    # common layouts, by searching for the other lines
    tags = _Tags(n)
    k = np.flatnonzero(line_ok)
    rest = _common_layouts(buf, cls, st, tag_end, k, tags)
    if rest.size:
        todo = np.zeros(n, dtype=bool)
        todo[rest] = True
        _other_layouts(buf, cls, st, tag_end, todo, tags)
        line_ok[rest] = todo[rest]
    has_c, has_s, has_g = tags.has_c & line_ok, tags.has_s & line_ok, tags.has_g & line_ok
    sta_s, sta_e, grp_s, grp_e = tags.sta_s, tags.sta_e, tags.grp_s, tags.grp_e
    ts_us = np.zeros(n, dtype=np.int64)
    k = np.flatnonzero(has_c)
    value, digits = _digits_value(buf, tags.c_e[k], tags.c_e[k] - tags.c_s[k])
    ts_us[k] = np.where(value > 100_000_000_000, value * 1_000, value * 1_000_000)  # 13 digits: ms
    line_ok[k[~digits]] = False
    has_c[k[~digits]] = False

    cnt, num = full["count"], full["number"]
    single = np.flatnonzero(line_ok & has_c & (cnt == 1))
    first = np.flatnonzero(line_ok & (cnt == 2) & (num == 1) & has_c)
    first = first[first + 1 < n]
    second = first + 1
    keep = line_ok[second] & (cnt[second] == 2) & (num[second] == 2)
    if not untimed_second_part:
        keep &= has_c[second]
    # the framer's key: the group (when both have one), else sequence id, channel and station
    grouped = has_g[first] & has_g[second]
    plain = ~has_g[first] & ~has_g[second]
    same = np.where(grouped, _same_text(buf, grp_s, grp_e, first, second, _MAX_GROUP_ID),
                    (seq[first] == seq[second]) & (channel[first] == channel[second])
                    & (has_s[first] == has_s[second])
                    & _same_text(buf, sta_s, sta_e, first, second, _MAX_STATION))
    keep &= (grouped | plain) & same
    pair = first[keep]

    slow = np.ones(n, dtype=bool)
    slow[single] = False
    slow[pair] = False
    slow[pair + 1] = False
    return Framed(single, pair, slow, ts_us, has_c, full["pay_s"], full["pay_e"], full["fill"],
                  sta_s, sta_e, has_s, seq, channel, grp_s, grp_e, has_g)


def _same_text(buf: npt.NDArray[np.uint8], s: IntArray, e: IntArray, a: IntArray, b: IntArray,
               width: int) -> BoolArray:
    """Whether the byte ranges of lines ``a`` and ``b`` hold the same text (both <= width)."""
    la, lb = e[a] - s[a], e[b] - s[b]
    same = la == lb
    words = np.ndarray((buf.size - 7,), dtype="<u8", buffer=buf, strides=(1,))  # unaligned loads
    for off in range(0, width, 8):
        left = la - off
        j = np.flatnonzero(same & (left > 0))
        if j.size == 0:
            break
        mask = _LEAD_MASK[np.minimum(left[j], 8)]
        same[j] = (words[s[a][j] + off] & mask) == (words[s[b][j] + off] & mask)
    return same


def text_column(name: str, data: bytes, s: IntArray, e: IntArray) -> pl.Series:
    """The texts ``data[s[i]:e[i]]`` as a String series; the ranges must be in ascending
    order and not overlap (rows of one chunk, in line order)."""
    n = s.size
    if n == 0:
        return pl.Series(name, [], dtype=pl.String)
    offsets = np.empty(2 * n, dtype=np.int64)
    offsets[0::2], offsets[1::2] = s, e
    spans = pa.LargeStringArray.from_buffers(2 * n - 1, pa.py_buffer(offsets), pa.py_buffer(data))
    out = pl.from_arrow(spans.take(pa.array(np.arange(0, 2 * n - 1, 2))))
    assert isinstance(out, pl.Series)
    return out.alias(name)


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
