"""Batch decoder for the common AIS message types, bit-identical to pyais.

pyais builds one Python object per message (about 75k messages/s). This module
decodes a whole batch in one compiled loop (:func:`decode_parts`, numba:
``cache=True``, so it is compiled once per machine, and ``nogil=True``, so it runs
while another thread writes to DuckDB): each payload is read straight from a byte
buffer, as one or two parts (the two sentences of a type 5 need not be joined
first), de-armoured and checked character by character, and every field is read
at its bit offset into preallocated columns that become Arrow arrays without a
copy (text as Arrow string views). pyais stays the reference decoder: every row that
:func:`decode_batch` cannot guarantee to decode *exactly* as pyais does is marked
``handled=False``, and the caller sends it through pyais.

Handled: types 1, 2, 3, 18, 19, 27 (positions), 5, 19, 24 part A/B (statics) and
4, 11 (base stations). A row is handled only when

* the payload is non-empty, pure ASCII and every character is in the AIS 6-bit
  armour alphabet ('0'..'W' and '`'..'w'); pyais silently maps anything else
  to some 6-bit value, which we do not imitate;
* its fill bits are 0-5 (what pyais accepts in a sentence);
* its bit length (``6 * len(payload) - fill_bits``) covers every field we output
  (see :data:`MIN_BITS`). Longer payloads are fine: pyais reads fields at fixed
  offsets and ignores extra bits, and so do we. Shorter ones fall back, because
  pyais then returns truncated values or ``None``;
* for type 24, the part number is 0 or 1 (pyais raises on 2 and 3), and a part B
  does not come from an auxiliary craft (MMSI 98xxxxxxx), which pyais decodes
  with a mothership MMSI instead of dimensions.

Values are exactly what pyais puts in the message attributes (enums as their
int values), with these conventions for fields pyais does not have for a type:
type 27 ``heading`` is 511 (no heading is transmitted), and every other field a
type lacks is NULL (``status`` and statics of types 18/19, ``second`` of type 27,
``imo``/``callsign``/``draught``/``destination``/ETA of types 19 and 24, ...).
Sentinels are kept as transmitted (lat 91, lon 181, speed 102.3, course 360,
heading 511; type 27 speed 63 and course 511 in whole knots/degrees).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from shiptrack.decode import fields
from shiptrack.decode.accel.kernels import compiled, jit, readonly
from shiptrack.decode.records import DTYPES

__all__ = [
    "BASE_STATION_SCHEMA",
    "FastResult",
    "MIN_BITS",
    "POSITION_SCHEMA",
    "STATIC_SCHEMA",
    "Decoded",
    "decode_batch",
    "decode_parts",
]

# ---------------------------------------------------------------- tables

# Armour character -> 6-bit value; 255 marks a byte outside the AIS alphabet.
_ARMOUR = np.full(256, 255, dtype=np.uint8)
_ARMOUR[48:88] = np.arange(40, dtype=np.uint8)  # '0'..'W'
_ARMOUR[96:120] = np.arange(40, 64, dtype=np.uint8)  # '`'..'w'
_INVALID = 255
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ARMOUR_BYTES = bytes(range(48, 88)) + bytes(range(96, 120))

# pyais passes these fields through enum converters whose `_missing_` hooks fold
# unknown codes: ShipType 26-28 -> 25 (and 46-48 -> 45, 57 -> 56, 66-68 -> 65, ...), codes
# that name no type -> 0; EpfdType 9-14 -> 0. The tables below are what pyais 3.x gives for
# every raw value (tests/decode/test_fast_decode.py asks pyais itself, so that a change in a
# new version is caught); written out here so that the fast path does not import pyais.
_SHIP_TYPE = np.zeros(256, dtype=np.int16)
_SHIP_TYPE[20:100] = np.arange(20, 100)
for _lo, _hi in ((25, 29), (45, 49), (56, 58), (65, 69), (75, 79), (85, 89), (95, 99)):
    _SHIP_TYPE[_lo:_hi] = _lo
_SHIP_TYPE[[38, 39]] = 0
_SHIP_TYPE[1:20] = 0
_EPFD = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 15], dtype=np.int8)
_NAV_STATUS = np.arange(16, dtype=np.int8)

# Field layouts: name -> (start bit, width, signed), from the field tables of
# shiptrack.decode.fields (tests check them against pyais's own decoder plans).
Layout = dict[str, tuple[int, int, bool]]
TextLayout = dict[str, tuple[int, int]]  # name -> (start bit, characters)


def _layout(table: tuple[fields.Field, ...]) -> Layout:
    return {f.name: (f.start, f.width, f.signed) for f in table if f.kind != "text"}


def _text_layout(table: tuple[fields.Field, ...]) -> TextLayout:
    return {f.name: (f.start, f.chars) for f in table if f.kind == "text"}


_CLASS_A = _layout(fields.CLASS_A)  # types 1, 2, 3
_CLASS_B = _layout(fields.CLASS_B)  # types 18 and 19 (same layout up to `second`)
_TYPE19_STATIC = _layout(fields.TYPE19_STATIC)
_TYPE19_TEXT = _text_layout(fields.TYPE19_STATIC)
_LONG_RANGE = _layout(fields.LONG_RANGE)  # type 27
_BASE_STATION = _layout(fields.BASE_STATION)  # types 4 and 11
_TYPE5 = _layout(fields.TYPE5)
_TYPE5_TEXT = _text_layout(fields.TYPE5)
_TYPE24A_TEXT = _text_layout(fields.TYPE24A)
_TYPE24B = _layout(fields.TYPE24 + fields.TYPE24B)
_TYPE24B_TEXT = _text_layout(fields.TYPE24B)

#: Fewest bits a payload of each type needs for the fast path to handle it: the
#: end of the last field we output. Type 24 is split by part (A: 160, B: 162).
MIN_BITS: dict[int | str, int] = {key: fields.end_of_all(key) for key in fields.MESSAGES}
# MIN_BITS by message id, the smaller part for type 24 (the part B check comes later);
# other types can never have enough bits.
_NEED = np.full(64, 1 << 30, dtype=np.int64)
for _t, _bits in MIN_BITS.items():
    if isinstance(_t, int):
        _NEED[_t] = _bits
_NEED[24] = MIN_BITS["24A"]

def _frame_schema(*tables: tuple[fields.Field, ...]) -> dict[str, pl.DataType]:
    """The columns of :func:`decode_batch`'s frames: the fields of the tables by pyais's
    names, as the records type them when a field is a column of its own (else the
    narrowest integer holding it)."""
    out: dict[str, pl.DataType] = {"index": pl.Int64(), "msg_type": pl.Int8()}
    for table in tables:
        alone = {f.name for f in fields.stored(table)}
        for f in table:
            if f.name in out:
                continue
            if f.name in alone:
                out[f.name] = DTYPES[f.dtype]
            elif f.kind == "text":
                out[f.name] = pl.String()
            else:
                out[f.name] = pl.Int8() if f.width < 8 else pl.Int16() if f.width < 16 else pl.Int32()
    return out


POSITION_SCHEMA = _frame_schema(*fields.POSITION_TABLES)
STATIC_SCHEMA = _frame_schema(fields.TYPE24, *fields.STATIC_TABLES)
BASE_STATION_SCHEMA = _frame_schema(*fields.BASE_STATION_TABLES)

IntArray = npt.NDArray[np.int64]
U8Array = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class FastResult:
    """What :func:`decode_batch` returns.

    ``msg_type``  int8 per input row: the AIS message id (first 6 bits), -1 when the
                  payload is empty or its first character is not armour.
    ``handled``   bool per input row: True where the row is in exactly one of the
                  frames below (type 19 in two) with every field equal to pyais's.
                  False: decode the row with pyais (other types, bad characters,
                  bad fill bits, too few bits, type 24 part 2/3 or auxiliary craft).
    ``n_bits``    int32 per input row: ``6 * len(payload) - fill_bits``, the bit
                  length pyais gives the message (for the caller's own checks).
    ``positions``, ``statics``, ``base_stations``: polars frames following
                  :data:`POSITION_SCHEMA`, :data:`STATIC_SCHEMA` and
                  :data:`BASE_STATION_SCHEMA`, rows in input order, ``index`` being
                  the row's position in the input.
    """

    msg_type: npt.NDArray[np.int8]
    handled: npt.NDArray[np.bool_]
    n_bits: npt.NDArray[np.int32]
    positions: pl.DataFrame
    statics: pl.DataFrame
    base_stations: pl.DataFrame


# ---------------------------------------------------------------- input


def _flatten(
    payloads: Sequence[str] | np.ndarray | pl.Series,
) -> tuple[U8Array, IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Payloads -> (their bytes back to back, start of each row, length of each row,
    rows that must fall back: a character outside the armour alphabet, or not a string)."""
    if isinstance(payloads, pl.Series):  # straight from the Arrow buffers, no Python strings
        # polars' oldest Arrow layout is large_string: offsets and bytes, no cast (pyarrow's
        # cast would import pyarrow.compute at every ingest's start)
        payloads = payloads.cast(pl.String).rechunk()
        arr = payloads.to_arrow(compat_level=pl.CompatLevel.oldest())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        n = len(arr)
        bufs = arr.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1] if n else np.zeros(1, np.int64)
        data = np.frombuffer(bufs[2], dtype=np.uint8) if n and bufs[2] is not None else np.zeros(0, np.uint8)
        raw = data[offsets[0] : offsets[-1]]
        starts = offsets[:-1] - offsets[0]
        lens = np.diff(offsets)
        forced = np.zeros(n, dtype=bool)
        if arr.null_count:
            forced |= payloads.is_null().to_numpy()
            lens = np.where(forced, 0, lens)
        if raw.tobytes().translate(None, _ARMOUR_BYTES):
            bad = np.flatnonzero(_ARMOUR[raw] == _INVALID)
            forced[np.searchsorted(starts, bad, side="right") - 1] = True
        return raw, starts, lens, forced
    if isinstance(payloads, np.ndarray) and payloads.dtype.kind in "SU":
        n = payloads.shape[0]
        flat = np.ascontiguousarray(payloads.reshape(n))
        if payloads.dtype.kind == "S":
            mat = flat.view(np.uint8).reshape(n, -1)
        else:  # UCS-4: code points above 255 become 255, which is not armour
            mat = np.minimum(flat.view(np.uint32).reshape(n, -1), 255).astype(np.uint8)
        width = mat.shape[1]
        nonzero = mat != 0
        lens = np.where(nonzero.any(axis=1), width - np.argmax(nonzero[:, ::-1], axis=1), 0).astype(np.int64)
        starts = np.arange(n, dtype=np.int64) * width
        bad = ((_ARMOUR[mat] == _INVALID) & (np.arange(width) < lens[:, None])).any(axis=1)
        return np.ascontiguousarray(mat).reshape(-1), starts, lens, bad

    items = payloads.tolist() if isinstance(payloads, np.ndarray) else payloads
    if not isinstance(items, list):
        items = list(items)
    n = len(items)
    forced = np.zeros(n, dtype=bool)
    try:
        text = "".join(items)
    except TypeError:  # something else than str in there: those rows fall back
        forced = np.fromiter((type(x) is not str for x in items), dtype=bool, count=n)
        items = [x if type(x) is str else "" for x in items]
        text = "".join(items)
    lens = np.fromiter(map(len, items), dtype=np.int64, count=n)
    if not text.isascii():  # one NUL (not armour) per other character: those rows fall back
        text = "".join(x if x.isascii() else _NON_ASCII.sub("\0", x) for x in items)
    text_bytes = text.encode("ascii")
    starts = np.zeros(n, dtype=np.int64)
    if n > 1:
        np.cumsum(lens[:-1], out=starts[1:])
    if text_bytes.translate(None, _ARMOUR_BYTES):  # something is left once armour is deleted
        bad = np.flatnonzero(_ARMOUR[np.frombuffer(text_bytes, dtype=np.uint8)] == _INVALID)
        forced[np.searchsorted(starts, bad, side="right") - 1] = True
    return np.frombuffer(text_bytes, dtype=np.uint8), starts, lens, forced


# ---------------------------------------------------------------- the kernel
#
# The layouts above, as constants the compiled code folds in: (start bit, width, signed)
# and, for text, (start bit, characters).


def _spec(layout: Layout, name: str) -> tuple[int, int, int]:
    start, width, signed = layout[name]
    return (start, width, int(signed))



def _scale(table: tuple[fields.Field, ...], name: str) -> float:
    """The divisor of a field's raw integer (a float: the loop divides as pyais does)."""
    return float(next(f.scale for f in table if f.name == name))


def _degrees(table: tuple[fields.Field, ...], name: str) -> int:
    """For :func:`_latlon`: 10**6 / the raw units of a degree of a latitude or longitude field
    (1/10,000 minute: 10; 1/10 minute: 10,000)."""
    scale = next(f.scale for f in table if f.name == name)
    assert 6_000_000 % scale == 0, name
    return 6_000_000 // scale


_A_MMSI, _A_STATUS, _A_SPEED, _A_ACC, _A_LON, _A_LAT, _A_COURSE, _A_HEADING, _A_SECOND = (
    _spec(_CLASS_A, k)
    for k in ("mmsi", "status", "speed", "accuracy", "lon", "lat", "course", "heading", "second"))
_B_MMSI, _B_SPEED, _B_ACC, _B_LON, _B_LAT, _B_COURSE, _B_HEADING, _B_SECOND = (
    _spec(_CLASS_B, k) for k in ("mmsi", "speed", "accuracy", "lon", "lat", "course", "heading", "second"))
_L_MMSI, _L_ACC, _L_STATUS, _L_LON, _L_LAT, _L_SPEED, _L_COURSE = (
    _spec(_LONG_RANGE, k) for k in ("mmsi", "accuracy", "status", "lon", "lat", "speed", "course"))
_S_MMSI, _S_YEAR, _S_MONTH, _S_DAY, _S_HOUR, _S_MINUTE, _S_SECOND, _S_ACC, _S_LON, _S_LAT, _S_EPFD = (
    _spec(_BASE_STATION, k)
    for k in ("mmsi", "year", "month", "day", "hour", "minute", "second", "accuracy", "lon", "lat", "epfd"))
_5_MMSI, _5_VERSION, _5_IMO, _5_SHIP, _5_BOW, _5_STERN, _5_PORT, _5_STAR, _5_EPFD = (
    _spec(_TYPE5, k)
    for k in ("mmsi", "ais_version", "imo", "ship_type", "to_bow", "to_stern", "to_port", "to_starboard", "epfd"))
_5_MONTH, _5_DAY, _5_HOUR, _5_MINUTE, _5_DRAUGHT = (
    _spec(_TYPE5, k) for k in ("month", "day", "hour", "minute", "draught"))
_5_CALLSIGN, _5_NAME, _5_DEST = _TYPE5_TEXT["callsign"], _TYPE5_TEXT["shipname"], _TYPE5_TEXT["destination"]
_19_SHIP, _19_BOW, _19_STERN, _19_PORT, _19_STAR, _19_EPFD = (
    _spec(_TYPE19_STATIC, k) for k in ("ship_type", "to_bow", "to_stern", "to_port", "to_starboard", "epfd"))
_19_NAME = _TYPE19_TEXT["shipname"]
_24A_NAME = _TYPE24A_TEXT["shipname"]
_24B_MMSI, _24B_PARTNO, _24B_SHIP, _24B_BOW, _24B_STERN, _24B_PORT, _24B_STAR = (
    _spec(_TYPE24B, k)
    for k in ("mmsi", "partno", "ship_type", "to_bow", "to_stern", "to_port", "to_starboard"))
_24B_CALLSIGN = _TYPE24B_TEXT["callsign"]
_MIN_24B = MIN_BITS["24B"]
_A_SPEED_S, _A_COURSE_S = _scale(fields.CLASS_A, "speed"), _scale(fields.CLASS_A, "course")
_A_DEG = _degrees(fields.CLASS_A, "lat")
_B_SPEED_S, _B_COURSE_S = _scale(fields.CLASS_B, "speed"), _scale(fields.CLASS_B, "course")
_B_DEG = _degrees(fields.CLASS_B, "lat")
_L_SPEED_S, _L_COURSE_S = _scale(fields.LONG_RANGE, "speed"), _scale(fields.LONG_RANGE, "course")
_L_DEG = _degrees(fields.LONG_RANGE, "lat")
_S_DEG = _degrees(fields.BASE_STATION, "lat")
_5_DRAUGHT_S = _scale(fields.TYPE5, "draught")
assert _degrees(fields.CLASS_A, "lon") == _A_DEG and _degrees(fields.CLASS_B, "lon") == _B_DEG
assert _degrees(fields.LONG_RANGE, "lon") == _L_DEG and _degrees(fields.BASE_STATION, "lon") == _S_DEG
_AUX_LO, _AUX_HI = 980_000_000, 989_999_999  # auxiliary craft: pyais decodes a part B otherwise

# De-armoured characters kept per message: the last field we read (type 5's destination)
# ends in character 71; the rest of a longer payload is only checked.
_KEEP = 72
_NAME_W, _CALLSIGN_W, _DEST_W = _TYPE5_TEXT["shipname"][1], _TYPE5_TEXT["callsign"][1], _TYPE5_TEXT["destination"][1]


@jit
def _get(six: IntArray, start: int, width: int, signed: int) -> int:
    """Bits ``start .. start+width-1`` (width <= 30) of the message whose 6-bit characters
    are ``six``, two's complement when ``signed``.

    Called as ``_get(six, *spec)``: with the constants spelled out (or a literal tuple),
    numba would compile a version of it for each of the 60 fields (seconds of compiling).
    """
    c = start // 6
    v = ((six[c] << 30) | (six[c + 1] << 24) | (six[c + 2] << 18) | (six[c + 3] << 12) | (six[c + 4] << 6)
         | six[c + 5])
    v = (v >> (36 - (start - 6 * c) - width)) & ((1 << width) - 1)
    if signed != 0 and (v >> (width - 1)) != 0:
        v -= 1 << width
    return v


@jit
def _text(six: IntArray, out: U8Array, row: int, start: int, n: int) -> int:
    """A 6-bit text field as ASCII into ``out[row]``, stripped as pyais's get_str does
    (``"".join(chars).rstrip("@").strip()``: the only whitespace among the 64 text
    characters is the space); returns its length."""
    c, off = start // 6, start % 6
    for k in range(n):  # character k: the last 6 - off bits of six[c + k], the first off of the next
        v = ((six[c + k] << off) | (six[c + k + 1] >> (6 - off))) & 63
        out[row, k] = v + 64 if v < 32 else v  # 0-31 -> '@'..'_', 32-63 -> ' '..'?'
    end = n
    while end > 0 and out[row, end - 1] == 64:
        end -= 1
    while end > 0 and out[row, end - 1] == 32:
        end -= 1
    begin = 0
    while begin < end and out[row, begin] == 32:
        begin += 1
    if begin:
        for k in range(end - begin):
            out[row, k] = out[row, k + begin]
    return end - begin


@jit
def _unarmour(buf: U8Array, lo: int, hi: int, armour: U8Array, six: IntArray, k: int) -> int:
    """The 6-bit values of ``buf[lo:hi]`` into ``six`` from index ``k`` on (those past
    _KEEP are only checked); returns the next index, or -1 at a character outside the armour."""
    for j in range(lo, hi):
        v = armour[buf[j]]
        if v == 255:
            return -1
        if k < _KEEP:
            six[k] = v
        k += 1
    return k


@jit
def _latlon(raw: int, per: int) -> float:
    """pyais's to_lat_lon (and to_lat_lon_600): round(raw / units per degree, 6), computed
    as the nearest integer to raw * per / 6 (never a tie), over 1e6: bit-identical, see
    pyais. ``per``: 10**6 / the units of a degree, times 6 (:func:`_degrees`)."""
    return ((per * raw + 3) // 6) / 1e6


@jit
def _decode(buf: U8Array, starts: IntArray, ends: IntArray, first: IntArray, second: IntArray, fill: IntArray,
            forced: npt.NDArray[np.bool_], armour: U8Array, need: IntArray, ship_tab: npt.NDArray[np.int16],
            epfd_tab: npt.NDArray[np.int8], nav_tab: npt.NDArray[np.int8], raw_codes: bool) -> tuple:
    """Decode every message (see :func:`decode_parts`)."""
    n = first.size
    msg_type = np.full(n, -1, np.int8)
    n_bits = np.zeros(n, np.int32)
    handled = np.zeros(n, np.bool_)

    p_row = np.empty(n, np.int64)
    p_type = np.empty(n, np.int8)
    p_mmsi = np.empty(n, np.int32)
    p_lat = np.empty(n, np.float64)
    p_lon = np.empty(n, np.float64)
    p_speed = np.empty(n, np.float64)
    p_course = np.empty(n, np.float64)
    p_heading = np.empty(n, np.int16)
    p_status = np.empty(n, np.int8)
    p_acc = np.empty(n, np.bool_)
    p_second = np.empty(n, np.int8)

    s_row = np.empty(n, np.int64)
    s_type = np.empty(n, np.int8)
    s_mmsi = np.empty(n, np.int32)
    s_partno = np.empty(n, np.int8)
    s_imo = np.empty(n, np.int32)
    s_ship = np.empty(n, np.int16)
    s_bow = np.empty(n, np.int16)
    s_stern = np.empty(n, np.int16)
    s_port = np.empty(n, np.int16)
    s_star = np.empty(n, np.int16)
    s_draught = np.empty(n, np.float64)
    s_month = np.empty(n, np.int8)
    s_day = np.empty(n, np.int8)
    s_hour = np.empty(n, np.int8)
    s_minute = np.empty(n, np.int8)
    s_version = np.empty(n, np.int8)
    s_epfd = np.empty(n, np.int8)
    s_name = np.zeros((n, _NAME_W), np.uint8)
    s_name_n = np.zeros(n, np.int64)
    s_call = np.zeros((n, _CALLSIGN_W), np.uint8)
    s_call_n = np.zeros(n, np.int64)
    s_dest = np.zeros((n, _DEST_W), np.uint8)
    s_dest_n = np.zeros(n, np.int64)

    b_row = np.empty(n, np.int64)
    b_type = np.empty(n, np.int8)
    b_mmsi = np.empty(n, np.int32)
    b_year = np.empty(n, np.int16)
    b_month = np.empty(n, np.int8)
    b_day = np.empty(n, np.int8)
    b_hour = np.empty(n, np.int8)
    b_minute = np.empty(n, np.int8)
    b_second = np.empty(n, np.int8)
    b_lat = np.empty(n, np.float64)
    b_lon = np.empty(n, np.float64)
    b_acc = np.empty(n, np.bool_)
    b_epfd = np.empty(n, np.int8)

    six = np.zeros(_KEEP + 5, np.int64)  # + 5: _get reads the 6 characters from a field's first
    npos = 0
    nsta = 0
    nbase = 0
    for i in range(n):
        p, q = first[i], second[i]
        a, b = starts[p], ends[p]
        c, d = (starts[q], ends[q]) if q >= 0 else (0, 0)
        n_chars = (b - a) + (d - c)
        f = fill[q] if q >= 0 else fill[p]
        bits = 6 * n_chars - f
        n_bits[i] = bits
        if n_chars == 0:
            continue
        t = armour[buf[a]] if b > a else armour[buf[c]]
        if t == 255:
            continue
        msg_type[i] = t
        if forced[i] or f < 0 or f > 5 or bits < need[t]:
            continue
        # every character must be armour; the first _KEEP are kept
        k = _unarmour(buf, a, b, armour, six, 0)
        if k < 0 or _unarmour(buf, c, d, armour, six, k) < 0:
            continue

        if t == 24:  # dispatch on the part number as pyais does; drop what it decodes otherwise
            partno = _get(six, *_24B_PARTNO)
            mmsi = _get(six, *_24B_MMSI)
            if not (partno == 0 or (partno == 1 and bits >= _MIN_24B and not _AUX_LO <= mmsi <= _AUX_HI)):
                continue
            r = nsta
            nsta += 1
            s_row[r] = i
            s_type[r] = t
            s_mmsi[r] = mmsi
            s_partno[r] = partno
            s_imo[r] = 0
            s_draught[r] = 0.0
            s_month[r] = 0
            s_day[r] = 0
            s_hour[r] = 0
            s_minute[r] = 0
            s_version[r] = 0
            s_epfd[r] = 0
            if partno == 0:
                s_name_n[r] = _text(six, s_name, r, *_24A_NAME)
                s_ship[r] = 0
                s_bow[r] = 0
                s_stern[r] = 0
                s_port[r] = 0
                s_star[r] = 0
            else:
                s_call_n[r] = _text(six, s_call, r, *_24B_CALLSIGN)
                s_ship[r] = _get(six, *_24B_SHIP)  # part B ship_type: the raw int in pyais
                s_bow[r] = _get(six, *_24B_BOW)
                s_stern[r] = _get(six, *_24B_STERN)
                s_port[r] = _get(six, *_24B_PORT)
                s_star[r] = _get(six, *_24B_STAR)
            handled[i] = True
            continue

        if t == 1 or t == 2 or t == 3:
            r = npos
            npos += 1
            p_row[r] = i
            p_type[r] = t
            p_mmsi[r] = _get(six, *_A_MMSI)
            p_status[r] = nav_tab[_get(six, *_A_STATUS)]
            p_speed[r] = _get(six, *_A_SPEED) / _A_SPEED_S
            p_acc[r] = _get(six, *_A_ACC) != 0
            p_lon[r] = _latlon(_get(six, *_A_LON), _A_DEG)
            p_lat[r] = _latlon(_get(six, *_A_LAT), _A_DEG)
            p_course[r] = _get(six, *_A_COURSE) / _A_COURSE_S
            p_heading[r] = _get(six, *_A_HEADING)
            p_second[r] = _get(six, *_A_SECOND)
            handled[i] = True
        elif t == 18 or t == 19:
            r = npos
            npos += 1
            p_row[r] = i
            p_type[r] = t
            p_mmsi[r] = _get(six, *_B_MMSI)
            p_status[r] = 0
            p_speed[r] = _get(six, *_B_SPEED) / _B_SPEED_S
            p_acc[r] = _get(six, *_B_ACC) != 0
            p_lon[r] = _latlon(_get(six, *_B_LON), _B_DEG)
            p_lat[r] = _latlon(_get(six, *_B_LAT), _B_DEG)
            p_course[r] = _get(six, *_B_COURSE) / _B_COURSE_S
            p_heading[r] = _get(six, *_B_HEADING)
            p_second[r] = _get(six, *_B_SECOND)
            handled[i] = True
            if t == 19:
                r = nsta
                nsta += 1
                s_row[r] = i
                s_type[r] = t
                s_mmsi[r] = p_mmsi[npos - 1]
                s_partno[r] = 0
                s_imo[r] = 0
                ship = _get(six, *_19_SHIP)
                epfd = _get(six, *_19_EPFD)
                s_ship[r] = ship if raw_codes else ship_tab[ship]
                s_epfd[r] = epfd if raw_codes else epfd_tab[epfd]
                s_bow[r] = _get(six, *_19_BOW)
                s_stern[r] = _get(six, *_19_STERN)
                s_port[r] = _get(six, *_19_PORT)
                s_star[r] = _get(six, *_19_STAR)
                s_draught[r] = 0.0
                s_month[r] = 0
                s_day[r] = 0
                s_hour[r] = 0
                s_minute[r] = 0
                s_version[r] = 0
                s_name_n[r] = _text(six, s_name, r, *_19_NAME)
        elif t == 27:
            r = npos
            npos += 1
            p_row[r] = i
            p_type[r] = t
            p_mmsi[r] = _get(six, *_L_MMSI)
            p_acc[r] = _get(six, *_L_ACC) != 0
            p_status[r] = nav_tab[_get(six, *_L_STATUS)]
            p_lon[r] = _latlon(_get(six, *_L_LON), _L_DEG)
            p_lat[r] = _latlon(_get(six, *_L_LAT), _L_DEG)
            p_speed[r] = _get(six, *_L_SPEED) / _L_SPEED_S
            p_course[r] = _get(six, *_L_COURSE) / _L_COURSE_S
            p_heading[r] = 511  # documented convention: no heading in type 27
            p_second[r] = 0
            handled[i] = True
        elif t == 4 or t == 11:
            r = nbase
            nbase += 1
            b_row[r] = i
            b_type[r] = t
            b_mmsi[r] = _get(six, *_S_MMSI)
            b_year[r] = _get(six, *_S_YEAR)
            b_month[r] = _get(six, *_S_MONTH)
            b_day[r] = _get(six, *_S_DAY)
            b_hour[r] = _get(six, *_S_HOUR)
            b_minute[r] = _get(six, *_S_MINUTE)
            b_second[r] = _get(six, *_S_SECOND)
            b_acc[r] = _get(six, *_S_ACC) != 0
            b_lon[r] = _latlon(_get(six, *_S_LON), _S_DEG)
            b_lat[r] = _latlon(_get(six, *_S_LAT), _S_DEG)
            epfd = _get(six, *_S_EPFD)
            b_epfd[r] = epfd if raw_codes else epfd_tab[epfd]
            handled[i] = True
        elif t == 5:
            r = nsta
            nsta += 1
            s_row[r] = i
            s_type[r] = t
            s_mmsi[r] = _get(six, *_5_MMSI)
            s_partno[r] = 0
            s_version[r] = _get(six, *_5_VERSION)
            s_imo[r] = _get(six, *_5_IMO)
            ship = _get(six, *_5_SHIP)
            epfd = _get(six, *_5_EPFD)
            s_ship[r] = ship if raw_codes else ship_tab[ship]
            s_epfd[r] = epfd if raw_codes else epfd_tab[epfd]
            s_bow[r] = _get(six, *_5_BOW)
            s_stern[r] = _get(six, *_5_STERN)
            s_port[r] = _get(six, *_5_PORT)
            s_star[r] = _get(six, *_5_STAR)
            s_month[r] = _get(six, *_5_MONTH)
            s_day[r] = _get(six, *_5_DAY)
            s_hour[r] = _get(six, *_5_HOUR)
            s_minute[r] = _get(six, *_5_MINUTE)
            s_draught[r] = _get(six, *_5_DRAUGHT) / _5_DRAUGHT_S
            s_call_n[r] = _text(six, s_call, r, *_5_CALLSIGN)
            s_name_n[r] = _text(six, s_name, r, *_5_NAME)
            s_dest_n[r] = _text(six, s_dest, r, *_5_DEST)
            handled[i] = True

    positions = (p_row[:npos], p_type[:npos], p_mmsi[:npos], p_lat[:npos], p_lon[:npos], p_speed[:npos],
                 p_course[:npos], p_heading[:npos], p_status[:npos], p_acc[:npos], p_second[:npos])
    statics = (s_row[:nsta], s_type[:nsta], s_mmsi[:nsta], s_partno[:nsta], s_imo[:nsta], s_ship[:nsta],
               s_bow[:nsta], s_stern[:nsta], s_port[:nsta], s_star[:nsta], s_draught[:nsta], s_month[:nsta],
               s_day[:nsta], s_hour[:nsta], s_minute[:nsta], s_version[:nsta], s_epfd[:nsta],
               s_name[:nsta], s_name_n[:nsta], s_call[:nsta], s_call_n[:nsta], s_dest[:nsta], s_dest_n[:nsta])
    bases = (b_row[:nbase], b_type[:nbase], b_mmsi[:nbase], b_year[:nbase], b_month[:nbase], b_day[:nbase],
             b_hour[:nbase], b_minute[:nbase], b_second[:nbase], b_lat[:nbase], b_lon[:nbase], b_acc[:nbase],
             b_epfd[:nbase])
    return msg_type, n_bits, handled, positions, statics, bases


_decode = compiled("decode", _decode)


_POSITION_COLUMNS = ("row", "msg_type", "mmsi", "lat", "lon", "speed", "course", "heading", "status", "accuracy",
                     "second")
_STATIC_COLUMNS = ("row", "msg_type", "mmsi", "partno", "imo", "ship_type", "to_bow", "to_stern", "to_port",
                   "to_starboard", "draught", "month", "day", "hour", "minute", "ais_version", "epfd",
                   "shipname", "shipname_len", "callsign", "callsign_len", "destination", "destination_len")
_BASE_COLUMNS = ("row", "msg_type", "mmsi", "year", "month", "day", "hour", "minute", "second", "lat", "lon",
                 "accuracy", "epfd")


@dataclass(frozen=True)
class Decoded:
    """What :func:`decode_parts` returns: per input row ``msg_type``, ``n_bits`` and
    ``handled`` (as in :class:`FastResult`), and per frame a dict of numpy columns, rows
    in input order, ``row`` being the input row. Values a type does not have are 0 (the
    caller decides which are NULL, by ``msg_type`` and ``partno``); text fields are
    ``(rows, width)`` ASCII matrices, already stripped, left-aligned, with their
    ``*_len`` (the bytes after it are leftovers)."""

    msg_type: npt.NDArray[np.int8]
    n_bits: npt.NDArray[np.int32]
    handled: npt.NDArray[np.bool_]
    positions: dict[str, np.ndarray]
    statics: dict[str, np.ndarray]
    base_stations: dict[str, np.ndarray]


def _i64(a: np.ndarray) -> IntArray:
    """A read-only contiguous int64 array of the values (a copy only if needed)."""
    return readonly(np.ascontiguousarray(a, dtype=np.int64))


def decode_parts(buf: U8Array, starts: IntArray, ends: IntArray, first: IntArray, second: IntArray | None,
                 fill: IntArray, forced: npt.NDArray[np.bool_] | None = None, *, raw_codes: bool = False) -> Decoded:
    """Decode messages whose payloads are parts of a byte buffer: part ``j`` is the armoured
    text ``buf[starts[j]:ends[j]]`` (a sentence's payload), with ``fill[j]`` fill bits;
    message ``i`` is part ``first[i]`` followed by part ``second[i]`` when that is not
    -1 (the two sentences of a type 5), and has the fill bits of its last part. Rows
    with ``forced[i]`` are never handled. ``raw_codes``: ship type and EPFD as
    transmitted instead of through pyais's enums. The GIL is released while decoding."""
    n = len(first)
    second_arr = np.full(n, -1, dtype=np.int64) if second is None else second
    forced_arr = np.zeros(n, dtype=np.bool_) if forced is None else np.ascontiguousarray(forced, dtype=np.bool_)
    msg_type, n_bits, handled, pos, sta, bas = _decode(
        readonly(np.ascontiguousarray(buf, dtype=np.uint8)), _i64(starts), _i64(ends), _i64(first),
        _i64(second_arr), _i64(fill), readonly(forced_arr), _ARMOUR, _NEED, _SHIP_TYPE, _EPFD, _NAV_STATUS,
        bool(raw_codes))
    return Decoded(msg_type, n_bits, handled, dict(zip(_POSITION_COLUMNS, pos, strict=True)),
                   dict(zip(_STATIC_COLUMNS, sta, strict=True)), dict(zip(_BASE_COLUMNS, bas, strict=True)))


# ---------------------------------------------------------------- Arrow columns


@jit
def _matrix_views(mat: U8Array, lens: IntArray) -> tuple[U8Array, U8Array]:
    """Arrow string views of row ``k`` of ``mat`` cut to ``lens[k]`` (data buffer: ``mat``)."""
    m, width = mat.shape
    v32 = np.zeros((m, 4), np.int32)
    views = v32.view(np.uint8)
    for k in range(m):
        length = lens[k]
        v32[k, 0] = length
        if length <= 12:
            for j in range(length):
                views[k, 4 + j] = mat[k, j]
        else:
            for j in range(4):
                views[k, 4 + j] = mat[k, j]
            v32[k, 3] = k * width
    return views, mat


_matrix_views = compiled("matrix_views", _matrix_views)


def bitmap(valid: npt.NDArray[np.bool_] | None) -> tuple[pa.Buffer | None, int]:
    """An Arrow validity bitmap (None when every row is valid) and the null count."""
    if valid is None:
        return None, 0
    nulls = valid.size - int(np.count_nonzero(valid))
    if nulls == 0:
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), nulls


def arrow_array(values: np.ndarray, pa_type: pa.DataType, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """A numpy column as an Arrow array of ``pa_type`` (no copy but for booleans),
    NULL where ``valid`` is False."""
    if values.dtype == np.bool_:
        data = pa.py_buffer(np.packbits(values, bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values))
    bits, nulls = bitmap(valid)
    return pa.Array.from_buffers(pa_type, values.shape[0], [bits, data], null_count=nulls)


def string_array(views: U8Array, data: Sequence[object], valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """Arrow string views (``(rows, 16)`` bytes) over the ``data`` buffers (anything
    with the buffer protocol) as an Arrow string_view array. The text must be UTF-8."""
    bits, nulls = bitmap(valid)
    buffers = [bits, pa.py_buffer(views), *(d if isinstance(d, pa.Buffer) else pa.py_buffer(d) for d in data)]
    return pa.Array.from_buffers(pa.string_view(), views.shape[0], buffers, null_count=nulls)


def text_array(mat: U8Array, lens: IntArray, valid: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """Text of a :class:`Decoded` frame (a matrix and lengths) as an Arrow string array."""
    views, data = _matrix_views(mat, lens)
    return string_array(views, [data], valid)


def to_frame(arrays: dict[str, pa.Array]) -> pl.DataFrame:
    df = pl.from_arrow(pa.Table.from_arrays(list(arrays.values()), names=list(arrays)))
    assert isinstance(df, pl.DataFrame)
    return df


_PA = {pl.Int64(): pa.int64(), pl.Int32(): pa.int32(), pl.Int16(): pa.int16(), pl.Int8(): pa.int8(),
       pl.Float64(): pa.float64(), pl.Boolean(): pa.bool_()}


# ---------------------------------------------------------------- the decoder


def decode_batch(
    payloads: Sequence[str] | np.ndarray | pl.Series, fill_bits: Sequence[int] | np.ndarray, *, raw_codes: bool = False
) -> FastResult:
    """Decode a batch of armoured AIS payloads, exactly as pyais would, where it can.

    ``payloads``: one armoured payload per message (the fragments of a multi-sentence
    message already concatenated in order), as a sequence of ``str`` or a numpy
    ``str``/``bytes`` array. ``fill_bits``: the fill bits of each message's last
    fragment. Returns a :class:`FastResult`; rows with ``handled=False`` must be
    decoded by pyais. No Python loop runs per message except to measure lengths.
    """
    raw, starts, lens, forced = _flatten(payloads)
    n = lens.size
    fill = np.asarray(fill_bits, dtype=np.int64).reshape(-1)
    if fill.size != n:
        raise ValueError(f"{n} payloads but {fill.size} fill-bit values")
    dec = decode_parts(raw, starts, starts + lens, np.arange(n), None, fill, forced, raw_codes=raw_codes)
    return FastResult(
        msg_type=dec.msg_type,
        handled=dec.handled,
        n_bits=dec.n_bits,
        positions=_positions_frame(dec.positions),
        statics=_statics_frame(dec.statics),
        base_stations=_columns_frame(BASE_STATION_SCHEMA, dec.base_stations, {}),
    )


def _columns_frame(schema: dict[str, pl.DataType], cols: dict[str, np.ndarray],
                   valid: dict[str, npt.NDArray[np.bool_]]) -> pl.DataFrame:
    arrays = {}
    for name, dtype in schema.items():
        if dtype == pl.String():
            arrays[name] = text_array(cols[name], cols[name + "_len"], valid.get(name))
        else:
            arrays[name] = arrow_array(cols["row" if name == "index" else name], _PA[dtype], valid.get(name))
    return to_frame(arrays)


def _positions_frame(cols: dict[str, np.ndarray]) -> pl.DataFrame:
    t = cols["msg_type"]
    return _columns_frame(POSITION_SCHEMA, cols, {"status": (t != 18) & (t != 19), "second": t != 27})


# the static tables (shiptrack.decode.fields) by the rows they describe
_STATIC_TABLES = {"5": fields.TYPE5, "19": fields.TYPE19_STATIC, "24A": fields.TYPE24 + fields.TYPE24A,
                  "24B": fields.TYPE24 + fields.TYPE24B}


def static_validity(msg_type: npt.NDArray[np.int8], partno: npt.NDArray[np.int8]) -> dict[str, npt.NDArray[np.bool_]]:
    """Which fields of a static row its message has (those of its field table): type 5 all
    but ``partno``, 19 the name, ship type, dimensions and EPFD, 24 part A the name, part B
    the call sign, ship type and dimensions."""
    is24 = msg_type == 24
    rows = {"5": msg_type == 5, "19": msg_type == 19, "24A": is24 & (partno == 0), "24B": is24 & (partno == 1)}
    out: dict[str, npt.NDArray[np.bool_]] = {}
    for key, table in _STATIC_TABLES.items():
        for f in table:
            if f.name != "mmsi":
                out[f.name] = out[f.name] | rows[key] if f.name in out else rows[key]
    return out


def _statics_frame(cols: dict[str, np.ndarray]) -> pl.DataFrame:
    return _columns_frame(STATIC_SCHEMA, cols, static_validity(cols["msg_type"], cols["partno"]))
