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

def _frame_schema(frame: str) -> dict[str, pl.DataType]:
    """The columns of :func:`decode_batch`'s frames: the fields of the frame's tables by
    pyais's names (``fields.frame_columns``)."""
    return {"index": pl.Int64(), "msg_type": pl.Int8()} | {
        name: DTYPES[dtype] for name, dtype in fields.frame_columns(frame).items()}


POSITION_SCHEMA = _frame_schema("positions")
STATIC_SCHEMA = _frame_schema("statics")
BASE_STATION_SCHEMA = _frame_schema("base_stations")

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
# Each field's place in the message, from its line in shiptrack.decode.fields, as the constants
# the generated loop below folds in.


def _field(key: int | str, name: str) -> fields.Field:
    return next(f for f in fields.MESSAGES[key] if f.name == name)


def _spec(key: int | str, name: str) -> tuple[int, int, int]:
    """(start bit, width, signed) of a field of message ``key``."""
    f = _field(key, name)
    return (f.start, f.width, int(f.signed))


def _text_spec(key: int | str, name: str) -> tuple[int, int]:
    """(start bit, characters) of a text field of message ``key``."""
    f = _field(key, name)
    return (f.start, f.chars)


def _scale(key: int | str, name: str) -> float:
    """The divisor of a field's raw integer (a float: the loop divides as pyais does)."""
    return float(_field(key, name).scale)


def _degrees(key: int | str, name: str) -> int:
    """For :func:`_latlon`: 10**6 / the raw units of a degree of a latitude or longitude field
    (1/10,000 minute: 10; 1/10 minute: 10,000)."""
    scale = _field(key, name).scale
    assert 6_000_000 % scale == 0, name
    return 6_000_000 // scale


_MIN_24B = MIN_BITS["24B"]
_AUX_LO, _AUX_HI = 980_000_000, 989_999_999  # auxiliary craft: pyais decodes a part B otherwise

# De-armoured characters kept per message: up to the one holding the last bit of the last
# field, and one more (a text field reads the next character's first bits with its last);
# the rest of a longer payload is only checked.
_KEEP = -(-max(fields.end_of_all(k) for k in fields.MESSAGES) // 6) + 1


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


# ---- generated by `python -m shiptrack.decode.accel.generate` from shiptrack.decode.fields: do not edit ----

# (start bit, width, signed) of each field, or (start bit, characters) of a text; _S: the
# divisor of a float field; _DEG: the units of a degree of a coordinate, for _latlon
_1_MMSI = _spec(1, "mmsi")
_1_LAT = _spec(1, "lat")
_1_LAT_DEG = _degrees(1, "lat")
_1_LON = _spec(1, "lon")
_1_LON_DEG = _degrees(1, "lon")
_1_SPEED = _spec(1, "speed")
_1_SPEED_S = _scale(1, "speed")
_1_COURSE = _spec(1, "course")
_1_COURSE_S = _scale(1, "course")
_1_HEADING = _spec(1, "heading")
_1_STATUS = _spec(1, "status")
_1_ACCURACY = _spec(1, "accuracy")
_1_SECOND = _spec(1, "second")
_18_MMSI = _spec(18, "mmsi")
_18_LAT = _spec(18, "lat")
_18_LAT_DEG = _degrees(18, "lat")
_18_LON = _spec(18, "lon")
_18_LON_DEG = _degrees(18, "lon")
_18_SPEED = _spec(18, "speed")
_18_SPEED_S = _scale(18, "speed")
_18_COURSE = _spec(18, "course")
_18_COURSE_S = _scale(18, "course")
_18_HEADING = _spec(18, "heading")
_18_ACCURACY = _spec(18, "accuracy")
_18_SECOND = _spec(18, "second")
_19_MMSI = _spec(19, "mmsi")
_19_LAT = _spec(19, "lat")
_19_LAT_DEG = _degrees(19, "lat")
_19_LON = _spec(19, "lon")
_19_LON_DEG = _degrees(19, "lon")
_19_SPEED = _spec(19, "speed")
_19_SPEED_S = _scale(19, "speed")
_19_COURSE = _spec(19, "course")
_19_COURSE_S = _scale(19, "course")
_19_HEADING = _spec(19, "heading")
_19_ACCURACY = _spec(19, "accuracy")
_19_SECOND = _spec(19, "second")
_19_SHIPNAME = _text_spec(19, "shipname")
_19_SHIP_TYPE = _spec(19, "ship_type")
_19_TO_BOW = _spec(19, "to_bow")
_19_TO_STERN = _spec(19, "to_stern")
_19_TO_PORT = _spec(19, "to_port")
_19_TO_STARBOARD = _spec(19, "to_starboard")
_19_EPFD = _spec(19, "epfd")
_27_MMSI = _spec(27, "mmsi")
_27_LAT = _spec(27, "lat")
_27_LAT_DEG = _degrees(27, "lat")
_27_LON = _spec(27, "lon")
_27_LON_DEG = _degrees(27, "lon")
_27_SPEED = _spec(27, "speed")
_27_SPEED_S = _scale(27, "speed")
_27_COURSE = _spec(27, "course")
_27_COURSE_S = _scale(27, "course")
_27_STATUS = _spec(27, "status")
_27_ACCURACY = _spec(27, "accuracy")
_4_MMSI = _spec(4, "mmsi")
_4_YEAR = _spec(4, "year")
_4_MONTH = _spec(4, "month")
_4_DAY = _spec(4, "day")
_4_HOUR = _spec(4, "hour")
_4_MINUTE = _spec(4, "minute")
_4_SECOND = _spec(4, "second")
_4_LAT = _spec(4, "lat")
_4_LAT_DEG = _degrees(4, "lat")
_4_LON = _spec(4, "lon")
_4_LON_DEG = _degrees(4, "lon")
_4_ACCURACY = _spec(4, "accuracy")
_4_EPFD = _spec(4, "epfd")
_5_MMSI = _spec(5, "mmsi")
_5_IMO = _spec(5, "imo")
_5_SHIPNAME = _text_spec(5, "shipname")
_5_CALLSIGN = _text_spec(5, "callsign")
_5_SHIP_TYPE = _spec(5, "ship_type")
_5_TO_BOW = _spec(5, "to_bow")
_5_TO_STERN = _spec(5, "to_stern")
_5_TO_PORT = _spec(5, "to_port")
_5_TO_STARBOARD = _spec(5, "to_starboard")
_5_DRAUGHT = _spec(5, "draught")
_5_DRAUGHT_S = _scale(5, "draught")
_5_DESTINATION = _text_spec(5, "destination")
_5_MONTH = _spec(5, "month")
_5_DAY = _spec(5, "day")
_5_HOUR = _spec(5, "hour")
_5_MINUTE = _spec(5, "minute")
_5_AIS_VERSION = _spec(5, "ais_version")
_5_EPFD = _spec(5, "epfd")
_24A_MMSI = _spec('24A', "mmsi")
_24A_PARTNO = _spec('24A', "partno")
_24A_SHIPNAME = _text_spec('24A', "shipname")
_24B_MMSI = _spec('24B', "mmsi")
_24B_PARTNO = _spec('24B', "partno")
_24B_CALLSIGN = _text_spec('24B', "callsign")
_24B_SHIP_TYPE = _spec('24B', "ship_type")
_24B_TO_BOW = _spec('24B', "to_bow")
_24B_TO_STERN = _spec('24B', "to_stern")
_24B_TO_PORT = _spec('24B', "to_port")
_24B_TO_STARBOARD = _spec('24B', "to_starboard")

_POSITIONS_COLUMNS = ('row', 'msg_type', 'mmsi', 'lat', 'lon', 'speed', 'course', 'heading', 'status',
        'accuracy', 'second')
_STATICS_COLUMNS = ('row', 'msg_type', 'mmsi', 'partno', 'imo', 'shipname', 'shipname_len', 'callsign',
        'callsign_len', 'ship_type', 'to_bow', 'to_stern', 'to_port', 'to_starboard', 'draught',
        'destination', 'destination_len', 'month', 'day', 'hour', 'minute', 'ais_version', 'epfd')
_BASE_STATIONS_COLUMNS = ('row', 'msg_type', 'mmsi', 'year', 'month', 'day', 'hour', 'minute', 'second',
        'lat', 'lon', 'accuracy', 'epfd')


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
    p_msg_type = np.empty(n, np.int8)
    p_mmsi = np.empty(n, np.int32)
    p_lat = np.empty(n, np.float64)
    p_lon = np.empty(n, np.float64)
    p_speed = np.empty(n, np.float64)
    p_course = np.empty(n, np.float64)
    p_heading = np.empty(n, np.int16)
    p_status = np.empty(n, np.int8)
    p_accuracy = np.empty(n, np.bool_)
    p_second = np.empty(n, np.int8)

    s_row = np.empty(n, np.int64)
    s_msg_type = np.empty(n, np.int8)
    s_mmsi = np.empty(n, np.int32)
    s_partno = np.empty(n, np.int8)
    s_imo = np.empty(n, np.int32)
    s_shipname = np.zeros((n, 20), np.uint8)
    s_shipname_n = np.zeros(n, np.int64)
    s_callsign = np.zeros((n, 7), np.uint8)
    s_callsign_n = np.zeros(n, np.int64)
    s_ship_type = np.empty(n, np.int16)
    s_to_bow = np.empty(n, np.int16)
    s_to_stern = np.empty(n, np.int16)
    s_to_port = np.empty(n, np.int16)
    s_to_starboard = np.empty(n, np.int16)
    s_draught = np.empty(n, np.float64)
    s_destination = np.zeros((n, 20), np.uint8)
    s_destination_n = np.zeros(n, np.int64)
    s_month = np.empty(n, np.int8)
    s_day = np.empty(n, np.int8)
    s_hour = np.empty(n, np.int8)
    s_minute = np.empty(n, np.int8)
    s_ais_version = np.empty(n, np.int8)
    s_epfd = np.empty(n, np.int8)

    b_row = np.empty(n, np.int64)
    b_msg_type = np.empty(n, np.int8)
    b_mmsi = np.empty(n, np.int32)
    b_year = np.empty(n, np.int16)
    b_month = np.empty(n, np.int8)
    b_day = np.empty(n, np.int8)
    b_hour = np.empty(n, np.int8)
    b_minute = np.empty(n, np.int8)
    b_second = np.empty(n, np.int8)
    b_lat = np.empty(n, np.float64)
    b_lon = np.empty(n, np.float64)
    b_accuracy = np.empty(n, np.bool_)
    b_epfd = np.empty(n, np.int8)

    six = np.zeros(_KEEP + 5, np.int64)  # + 5: _get reads the 6 characters from a field's first
    n_p = 0
    n_s = 0
    n_b = 0
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
            partno = _get(six, *_24A_PARTNO)
            mmsi = _get(six, *_24A_MMSI)
            if not (partno == 0 or (partno == 1 and bits >= _MIN_24B and not _AUX_LO <= mmsi <= _AUX_HI)):
                continue
            if partno == 0:
                r = n_s
                n_s += 1
                s_row[r] = i
                s_msg_type[r] = t
                s_mmsi[r] = _get(six, *_24A_MMSI)
                s_partno[r] = _get(six, *_24A_PARTNO)
                s_imo[r] = 0
                s_shipname_n[r] = _text(six, s_shipname, r, *_24A_SHIPNAME)
                s_ship_type[r] = 0
                s_to_bow[r] = 0
                s_to_stern[r] = 0
                s_to_port[r] = 0
                s_to_starboard[r] = 0
                s_draught[r] = 0.0
                s_month[r] = 0
                s_day[r] = 0
                s_hour[r] = 0
                s_minute[r] = 0
                s_ais_version[r] = 0
                s_epfd[r] = 0
            else:
                r = n_s
                n_s += 1
                s_row[r] = i
                s_msg_type[r] = t
                s_mmsi[r] = _get(six, *_24B_MMSI)
                s_partno[r] = _get(six, *_24B_PARTNO)
                s_imo[r] = 0
                s_callsign_n[r] = _text(six, s_callsign, r, *_24B_CALLSIGN)
                s_ship_type[r] = _get(six, *_24B_SHIP_TYPE)
                s_to_bow[r] = _get(six, *_24B_TO_BOW)
                s_to_stern[r] = _get(six, *_24B_TO_STERN)
                s_to_port[r] = _get(six, *_24B_TO_PORT)
                s_to_starboard[r] = _get(six, *_24B_TO_STARBOARD)
                s_draught[r] = 0.0
                s_month[r] = 0
                s_day[r] = 0
                s_hour[r] = 0
                s_minute[r] = 0
                s_ais_version[r] = 0
                s_epfd[r] = 0
            handled[i] = True
            continue
        if t == 1 or t == 2 or t == 3:
            r = n_p
            n_p += 1
            p_row[r] = i
            p_msg_type[r] = t
            p_mmsi[r] = _get(six, *_1_MMSI)
            p_lat[r] = _latlon(_get(six, *_1_LAT), _1_LAT_DEG)
            p_lon[r] = _latlon(_get(six, *_1_LON), _1_LON_DEG)
            p_speed[r] = _get(six, *_1_SPEED) / _1_SPEED_S
            p_course[r] = _get(six, *_1_COURSE) / _1_COURSE_S
            p_heading[r] = _get(six, *_1_HEADING)
            v = _get(six, *_1_STATUS)
            p_status[r] = v if raw_codes else nav_tab[v]
            p_accuracy[r] = _get(six, *_1_ACCURACY) != 0
            p_second[r] = _get(six, *_1_SECOND)
            handled[i] = True
        elif t == 18:
            r = n_p
            n_p += 1
            p_row[r] = i
            p_msg_type[r] = t
            p_mmsi[r] = _get(six, *_18_MMSI)
            p_lat[r] = _latlon(_get(six, *_18_LAT), _18_LAT_DEG)
            p_lon[r] = _latlon(_get(six, *_18_LON), _18_LON_DEG)
            p_speed[r] = _get(six, *_18_SPEED) / _18_SPEED_S
            p_course[r] = _get(six, *_18_COURSE) / _18_COURSE_S
            p_heading[r] = _get(six, *_18_HEADING)
            p_status[r] = 0
            p_accuracy[r] = _get(six, *_18_ACCURACY) != 0
            p_second[r] = _get(six, *_18_SECOND)
            handled[i] = True
        elif t == 19:
            r = n_p
            n_p += 1
            p_row[r] = i
            p_msg_type[r] = t
            p_mmsi[r] = _get(six, *_19_MMSI)
            p_lat[r] = _latlon(_get(six, *_19_LAT), _19_LAT_DEG)
            p_lon[r] = _latlon(_get(six, *_19_LON), _19_LON_DEG)
            p_speed[r] = _get(six, *_19_SPEED) / _19_SPEED_S
            p_course[r] = _get(six, *_19_COURSE) / _19_COURSE_S
            p_heading[r] = _get(six, *_19_HEADING)
            p_status[r] = 0
            p_accuracy[r] = _get(six, *_19_ACCURACY) != 0
            p_second[r] = _get(six, *_19_SECOND)
            r = n_s
            n_s += 1
            s_row[r] = i
            s_msg_type[r] = t
            s_mmsi[r] = _get(six, *_19_MMSI)
            s_partno[r] = 0
            s_imo[r] = 0
            s_shipname_n[r] = _text(six, s_shipname, r, *_19_SHIPNAME)
            v = _get(six, *_19_SHIP_TYPE)
            s_ship_type[r] = v if raw_codes else ship_tab[v]
            s_to_bow[r] = _get(six, *_19_TO_BOW)
            s_to_stern[r] = _get(six, *_19_TO_STERN)
            s_to_port[r] = _get(six, *_19_TO_PORT)
            s_to_starboard[r] = _get(six, *_19_TO_STARBOARD)
            s_draught[r] = 0.0
            s_month[r] = 0
            s_day[r] = 0
            s_hour[r] = 0
            s_minute[r] = 0
            s_ais_version[r] = 0
            v = _get(six, *_19_EPFD)
            s_epfd[r] = v if raw_codes else epfd_tab[v]
            handled[i] = True
        elif t == 27:
            r = n_p
            n_p += 1
            p_row[r] = i
            p_msg_type[r] = t
            p_mmsi[r] = _get(six, *_27_MMSI)
            p_lat[r] = _latlon(_get(six, *_27_LAT), _27_LAT_DEG)
            p_lon[r] = _latlon(_get(six, *_27_LON), _27_LON_DEG)
            p_speed[r] = _get(six, *_27_SPEED) / _27_SPEED_S
            p_course[r] = _get(six, *_27_COURSE) / _27_COURSE_S
            p_heading[r] = 511
            v = _get(six, *_27_STATUS)
            p_status[r] = v if raw_codes else nav_tab[v]
            p_accuracy[r] = _get(six, *_27_ACCURACY) != 0
            p_second[r] = 0
            handled[i] = True
        elif t == 4 or t == 11:
            r = n_b
            n_b += 1
            b_row[r] = i
            b_msg_type[r] = t
            b_mmsi[r] = _get(six, *_4_MMSI)
            b_year[r] = _get(six, *_4_YEAR)
            b_month[r] = _get(six, *_4_MONTH)
            b_day[r] = _get(six, *_4_DAY)
            b_hour[r] = _get(six, *_4_HOUR)
            b_minute[r] = _get(six, *_4_MINUTE)
            b_second[r] = _get(six, *_4_SECOND)
            b_lat[r] = _latlon(_get(six, *_4_LAT), _4_LAT_DEG)
            b_lon[r] = _latlon(_get(six, *_4_LON), _4_LON_DEG)
            b_accuracy[r] = _get(six, *_4_ACCURACY) != 0
            v = _get(six, *_4_EPFD)
            b_epfd[r] = v if raw_codes else epfd_tab[v]
            handled[i] = True
        elif t == 5:
            r = n_s
            n_s += 1
            s_row[r] = i
            s_msg_type[r] = t
            s_mmsi[r] = _get(six, *_5_MMSI)
            s_partno[r] = 0
            s_imo[r] = _get(six, *_5_IMO)
            s_shipname_n[r] = _text(six, s_shipname, r, *_5_SHIPNAME)
            s_callsign_n[r] = _text(six, s_callsign, r, *_5_CALLSIGN)
            v = _get(six, *_5_SHIP_TYPE)
            s_ship_type[r] = v if raw_codes else ship_tab[v]
            s_to_bow[r] = _get(six, *_5_TO_BOW)
            s_to_stern[r] = _get(six, *_5_TO_STERN)
            s_to_port[r] = _get(six, *_5_TO_PORT)
            s_to_starboard[r] = _get(six, *_5_TO_STARBOARD)
            s_draught[r] = _get(six, *_5_DRAUGHT) / _5_DRAUGHT_S
            s_destination_n[r] = _text(six, s_destination, r, *_5_DESTINATION)
            s_month[r] = _get(six, *_5_MONTH)
            s_day[r] = _get(six, *_5_DAY)
            s_hour[r] = _get(six, *_5_HOUR)
            s_minute[r] = _get(six, *_5_MINUTE)
            s_ais_version[r] = _get(six, *_5_AIS_VERSION)
            v = _get(six, *_5_EPFD)
            s_epfd[r] = v if raw_codes else epfd_tab[v]
            handled[i] = True

    positions = (p_row[:n_p], p_msg_type[:n_p], p_mmsi[:n_p], p_lat[:n_p], p_lon[:n_p], p_speed[:n_p],
        p_course[:n_p], p_heading[:n_p], p_status[:n_p], p_accuracy[:n_p], p_second[:n_p])
    statics = (s_row[:n_s], s_msg_type[:n_s], s_mmsi[:n_s], s_partno[:n_s], s_imo[:n_s], s_shipname[:n_s],
        s_shipname_n[:n_s], s_callsign[:n_s], s_callsign_n[:n_s], s_ship_type[:n_s], s_to_bow[:n_s],
        s_to_stern[:n_s], s_to_port[:n_s], s_to_starboard[:n_s], s_draught[:n_s], s_destination[:n_s],
        s_destination_n[:n_s], s_month[:n_s], s_day[:n_s], s_hour[:n_s], s_minute[:n_s], s_ais_version[:n_s],
        s_epfd[:n_s])
    base_stations = (b_row[:n_b], b_msg_type[:n_b], b_mmsi[:n_b], b_year[:n_b], b_month[:n_b], b_day[:n_b],
        b_hour[:n_b], b_minute[:n_b], b_second[:n_b], b_lat[:n_b], b_lon[:n_b], b_accuracy[:n_b], b_epfd[:n_b])
    return msg_type, n_bits, handled, positions, statics, base_stations

# ---- end of the generated code ----


_decode = compiled("decode", _decode)


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
    return Decoded(msg_type, n_bits, handled, dict(zip(_POSITIONS_COLUMNS, pos, strict=True)),
                   dict(zip(_STATICS_COLUMNS, sta, strict=True)),
                   dict(zip(_BASE_STATIONS_COLUMNS, bas, strict=True)))


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
        base_stations=_columns_frame(BASE_STATION_SCHEMA, dec.base_stations,
                                     frame_validity("base_stations", dec.base_stations["msg_type"])),
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


def message_rows(key: int | str, msg_type: npt.NDArray[np.int8],
                 partno: npt.NDArray[np.int8] | None = None) -> npt.NDArray[np.bool_]:
    """The rows of message ``key`` of ``fields.MESSAGES`` ("24A", "24B": by ``partno``)."""
    if isinstance(key, str):
        assert partno is not None, "the parts of a type 24 need partno"
        return (msg_type == int(key[:-1])) & (partno == "AB".index(key[-1]))
    return msg_type == key


def frame_validity(frame: str, msg_type: npt.NDArray[np.int8],
                   partno: npt.NDArray[np.int8] | None = None) -> dict[str, npt.NDArray[np.bool_]]:
    """Which fields of each row of a frame its message has (those of its field table, and
    those ``fields.NOT_SENT`` gives a value); the others are NULL. ``partno`` tells the
    parts of a type 24 apart."""
    tables, keys = fields.FRAMES[frame]
    out = {name: np.zeros(msg_type.size, dtype=np.bool_) for name in fields.frame_columns(frame)}
    columns = {f.name: f.column for table in tables for f in table}
    for key in keys:
        rows = message_rows(key, msg_type, partno)
        for f in fields.MESSAGES[key]:
            if f.name in out:
                out[f.name] |= rows
    for name in out:
        if columns[name] in fields.NOT_SENT:
            out[name][:] = True
    return out


def _positions_frame(cols: dict[str, np.ndarray]) -> pl.DataFrame:
    return _columns_frame(POSITION_SCHEMA, cols, frame_validity("positions", cols["msg_type"]))


def _statics_frame(cols: dict[str, np.ndarray]) -> pl.DataFrame:
    return _columns_frame(STATIC_SCHEMA, cols, frame_validity("statics", cols["msg_type"], cols["partno"]))
