"""Vectorized batch decoder for the common AIS message types, bit-identical to pyais.

pyais builds one Python object per message (about 75k messages/s). This module
takes a whole batch of payloads at once: one ``bytes.translate`` puts the armour
on the base64 alphabet, ``base64.b64decode`` repacks the 6-bit characters into
bytes in C (pyais's own trick, applied to a padded character matrix), and every
field is a shift and a mask over big-endian 64-bit words, one numpy operation per
field for the whole batch (about 1M messages/s on one core). pyais stays the reference decoder: every row that
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

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
from pyais.constants import EpfdType, NavigationStatus, ShipType

__all__ = [
    "BASE_STATION_SCHEMA",
    "FastResult",
    "MIN_BITS",
    "POSITION_SCHEMA",
    "STATIC_SCHEMA",
    "decode_batch",
]

# ---------------------------------------------------------------- tables

# Armour character -> 6-bit value; 255 marks a byte outside the AIS alphabet.
_ARMOUR = np.full(256, 255, dtype=np.uint8)
_ARMOUR[48:88] = np.arange(40, dtype=np.uint8)  # '0'..'W'
_ARMOUR[96:120] = np.arange(40, 64, dtype=np.uint8)  # '`'..'w'
_INVALID = 255
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ARMOUR_BYTES = bytes(range(48, 88)) + bytes(range(96, 120))
# Armour character -> the base64 character of the same 6-bit value (anything else -> 'A' = 0).
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_TO_B64 = bytes(_B64_ALPHABET[v] if v != 255 else 65 for v in _ARMOUR.tolist())

# 6-bit value -> ASCII text character, as pyais's get_str: 0-31 -> '@'..'_', 32-63 -> ' '..'?'
_SIXBIT_ASCII = np.array([v + 64 if v < 32 else v for v in range(64)], dtype=np.uint8)

# pyais passes these fields through enum converters whose `_missing_` hooks fold
# unknown codes (EpfdType 9-14 -> 0, ShipType 25-29 -> 25, ...). Asking pyais itself
# for every possible raw value keeps us identical to it, whatever its version does.
# (`from_value` is `cls(v)` for every int.)
_SHIP_TYPE = np.array([int(ShipType(v)) for v in range(256)], dtype=np.int16)
_EPFD = np.array([int(EpfdType(v)) for v in range(16)], dtype=np.int8)
_NAV_STATUS = np.array([int(NavigationStatus(v)) for v in range(16)], dtype=np.int8)

# Field layouts: name -> (start bit, width, signed), read from pyais's messages.py
# (tests check them against pyais's own decoder plans).
Layout = dict[str, tuple[int, int, bool]]
TextLayout = dict[str, tuple[int, int]]  # name -> (start bit, characters)

_CLASS_A: Layout = {  # types 1, 2, 3
    "mmsi": (8, 30, False), "status": (38, 4, False), "speed": (50, 10, False),
    "accuracy": (60, 1, False), "lon": (61, 28, True), "lat": (89, 27, True),
    "course": (116, 12, False), "heading": (128, 9, False), "second": (137, 6, False),
}
_CLASS_B: Layout = {  # types 18 and 19 (same layout up to `second`)
    "mmsi": (8, 30, False), "speed": (46, 10, False), "accuracy": (56, 1, False),
    "lon": (57, 28, True), "lat": (85, 27, True), "course": (112, 12, False),
    "heading": (124, 9, False), "second": (133, 6, False),
}
_TYPE19_STATIC: Layout = {
    "ship_type": (263, 8, False), "to_bow": (271, 9, False), "to_stern": (280, 9, False),
    "to_port": (289, 6, False), "to_starboard": (295, 6, False), "epfd": (301, 4, False),
}
_TYPE19_TEXT: TextLayout = {"shipname": (143, 20)}
_LONG_RANGE: Layout = {  # type 27
    "mmsi": (8, 30, False), "accuracy": (38, 1, False), "status": (40, 4, False),
    "lon": (44, 18, True), "lat": (62, 17, True), "speed": (79, 6, False), "course": (85, 9, False),
}
_BASE_STATION: Layout = {  # types 4 and 11
    "mmsi": (8, 30, False), "year": (38, 14, False), "month": (52, 4, False), "day": (56, 5, False),
    "hour": (61, 5, False), "minute": (66, 6, False), "second": (72, 6, False),
    "accuracy": (78, 1, False), "lon": (79, 28, True), "lat": (107, 27, True), "epfd": (134, 4, False),
}
_TYPE5: Layout = {
    "mmsi": (8, 30, False), "ais_version": (38, 2, False), "imo": (40, 30, False),
    "ship_type": (232, 8, False), "to_bow": (240, 9, False), "to_stern": (249, 9, False),
    "to_port": (258, 6, False), "to_starboard": (264, 6, False), "epfd": (270, 4, False),
    "month": (274, 4, False), "day": (278, 5, False), "hour": (283, 5, False),
    "minute": (288, 6, False), "draught": (294, 8, False),
}
_TYPE5_TEXT: TextLayout = {"callsign": (70, 7), "shipname": (112, 20), "destination": (302, 20)}
_TYPE24A_TEXT: TextLayout = {"shipname": (40, 20)}
_TYPE24B: Layout = {
    "mmsi": (8, 30, False), "partno": (38, 2, False), "ship_type": (40, 8, False),
    "to_bow": (132, 9, False), "to_stern": (141, 9, False), "to_port": (150, 6, False),
    "to_starboard": (156, 6, False),
}
_TYPE24B_TEXT: TextLayout = {"callsign": (90, 7)}

#: Fewest bits a payload of each type needs for the fast path to handle it: the
#: end of the last field we output. Type 24 is split by part (A: 160, B: 162).
MIN_BITS: dict[int | str, int] = {
    1: 143, 2: 143, 3: 143, 18: 139, 19: 305, 27: 94, 4: 138, 11: 138, 5: 422, "24A": 160, "24B": 162,
}
# MIN_BITS by message id, the smaller part for type 24 (the part B check comes later);
# other types can never have enough bits.
_NEED = np.full(64, 1 << 30, dtype=np.int64)
for _t, _bits in MIN_BITS.items():
    if isinstance(_t, int):
        _NEED[_t] = _bits
_NEED[24] = MIN_BITS["24A"]
_TEXT_WIDTH = {"shipname": 20, "callsign": 7, "destination": 20}
_CHUNK_ROWS = 1 << 16

POSITION_SCHEMA: dict[str, pl.DataType] = {
    "index": pl.Int64(), "msg_type": pl.Int8(), "mmsi": pl.Int32(), "lat": pl.Float64(),
    "lon": pl.Float64(), "speed": pl.Float64(), "course": pl.Float64(), "heading": pl.Int16(),
    "status": pl.Int8(), "accuracy": pl.Boolean(), "second": pl.Int8(),
}
STATIC_SCHEMA: dict[str, pl.DataType] = {
    "index": pl.Int64(), "msg_type": pl.Int8(), "mmsi": pl.Int32(), "partno": pl.Int8(),
    "imo": pl.Int32(), "callsign": pl.String(), "shipname": pl.String(), "ship_type": pl.Int16(),
    "to_bow": pl.Int16(), "to_stern": pl.Int16(), "to_port": pl.Int16(), "to_starboard": pl.Int16(),
    "draught": pl.Float64(), "destination": pl.String(), "month": pl.Int8(), "day": pl.Int8(),
    "hour": pl.Int8(), "minute": pl.Int8(), "ais_version": pl.Int8(), "epfd": pl.Int8(),
}
BASE_STATION_SCHEMA: dict[str, pl.DataType] = {
    "index": pl.Int64(), "msg_type": pl.Int8(), "mmsi": pl.Int32(), "year": pl.Int16(),
    "month": pl.Int8(), "day": pl.Int8(), "hour": pl.Int8(), "minute": pl.Int8(), "second": pl.Int8(),
    "lat": pl.Float64(), "lon": pl.Float64(), "accuracy": pl.Boolean(), "epfd": pl.Int8(),
}
_NP_DTYPE = {
    pl.Int64(): np.int64, pl.Int32(): np.int32, pl.Int16(): np.int16, pl.Int8(): np.int8,
    pl.Float64(): np.float64, pl.Boolean(): np.bool_,
}

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
        arr = payloads.cast(pl.String).rechunk().to_arrow()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        arr = arr.cast(pa.large_string())
        n = len(arr)
        bufs = arr.buffers()
        offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset : arr.offset + n + 1] if n else np.zeros(1, np.int64)
        data = np.frombuffer(bufs[2], dtype=np.uint8) if n and bufs[2] is not None else np.zeros(0, np.uint8)
        raw = data[offsets[0] : offsets[-1]]
        starts = offsets[:-1] - offsets[0]
        lens = np.diff(offsets)
        forced = np.zeros(n, dtype=bool)
        if arr.null_count:
            forced |= np.asarray(arr.is_null())
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
    raw = text.encode("ascii")
    starts = np.zeros(n, dtype=np.int64)
    if n > 1:
        np.cumsum(lens[:-1], out=starts[1:])
    if raw.translate(None, _ARMOUR_BYTES):  # something is left once armour is deleted
        bad = np.flatnonzero(_ARMOUR[np.frombuffer(raw, dtype=np.uint8)] == _INVALID)
        forced[np.searchsorted(starts, bad, side="right") - 1] = True
    return np.frombuffer(raw, dtype=np.uint8), starts, lens, forced


# ---------------------------------------------------------------- bit fields


def _words(b64: U8Array, starts: IntArray, rows: IntArray, n_chars: int) -> npt.NDArray[np.uint64]:
    """The first ``n_chars`` characters of each of ``rows`` as big-endian 64-bit words.

    ``b64`` is the payload text re-armoured onto the base64 alphabet (pyais's own
    trick), so :func:`base64.b64decode` does the 6-to-8 bit repacking in C. Characters
    past a row's end are the next row's (or padding): callers only read bits inside
    each row's own length.
    """
    n_chars = -(-n_chars // 32) * 32  # 32 characters = 24 bytes = 3 words
    out = np.empty((rows.size, n_chars // 32 * 3), dtype=np.uint64)
    # the text as 8-character loads at any offset (unaligned), 8 at a time per row
    loads = np.ndarray((b64.size - 7,), dtype="<u8", buffer=b64, strides=(1,))
    for lo in range(0, rows.size, _CHUNK_ROWS):  # bounded temporaries for huge batches
        hi = min(lo + _CHUNK_ROWS, rows.size)
        at = starts[rows[lo:hi]]
        text = np.empty((hi - lo, n_chars // 8), dtype="<u8")
        for j in range(n_chars // 8):
            text[:, j] = loads[at + 8 * j]
        out[lo:hi] = np.frombuffer(base64.b64decode(text.tobytes()), dtype=">u8").reshape(hi - lo, -1)
    return out


def _field(words: npt.NDArray[np.uint64], start: int, width: int, signed: bool) -> IntArray:
    """Bits ``start .. start+width-1`` of every row (width <= 63), as int64."""
    k, off = divmod(start, 64)
    end = off + width
    if end <= 64:
        v = (words[:, k] >> np.uint64(64 - end)) & np.uint64((1 << width) - 1)
    else:
        head = words[:, k] & np.uint64((1 << (64 - off)) - 1)
        v = (head << np.uint64(end - 64)) | (words[:, k + 1] >> np.uint64(128 - end))
    out = v.astype(np.int64)
    if signed:
        out -= (out >> (width - 1)) << width
    return out


def _fields(words: npt.NDArray[np.uint64], layout: Layout) -> dict[str, IntArray]:
    return {name: _field(words, s, w, sg) for name, (s, w, sg) in layout.items()}


def _text(words: npt.NDArray[np.uint64], start: int, n: int) -> U8Array:
    """A 6-bit text field as an (m, n) matrix of ASCII codes, not yet stripped."""
    six = np.empty((words.shape[0], n), dtype=np.uint8)
    for i in range(n):
        six[:, i] = _field(words, start + 6 * i, 6, False)
    return _SIXBIT_ASCII[six]


def _latlon(raw: IntArray, tenths_of_minutes: bool = False) -> npt.NDArray[np.float64]:
    """pyais's to_lat_lon / to_lat_lon_600 for integers: round(raw / 600000, 6) computed as
    the nearest integer to raw*5/3 (never a tie), over 1e6: bit-identical, see pyais."""
    if tenths_of_minutes:
        return ((10000 * raw + 3) // 6) / 1e6
    return ((10 * raw + 3) // 6) / 1e6


# ---------------------------------------------------------------- output frames


class _FrameBuilder:
    """Columns of one output frame, filled group by group at known row positions."""

    def __init__(self, schema: dict[str, pl.DataType], rows: IntArray) -> None:
        self.schema = schema
        self.rows = rows  # input indices of this frame's rows, ascending
        self.cols: dict[str, np.ndarray] = {}
        self.valid: dict[str, npt.NDArray[np.bool_]] = {}

    def at(self, group_rows: IntArray) -> IntArray:
        """Positions in this frame of the (ascending) input rows ``group_rows``."""
        return np.searchsorted(self.rows, group_rows)

    def put(self, name: str, pos: IntArray, values: np.ndarray) -> None:
        n = self.rows.size
        if name not in self.cols:
            dtype = self.schema[name]
            if dtype == pl.String():
                self.cols[name] = np.zeros((n, _TEXT_WIDTH[name]), dtype=np.uint8)
            else:
                self.cols[name] = np.zeros(n, dtype=_NP_DTYPE[dtype])
            self.valid[name] = np.zeros(n, dtype=bool)
        self.cols[name][pos] = values
        self.valid[name][pos] = True

    def build(self) -> pl.DataFrame:
        n = self.rows.size
        arrays: dict[str, pa.Array] = {}
        texts = []
        for name, dtype in self.schema.items():
            if name == "index":
                arrays[name] = pa.array(self.rows)
                continue
            if name not in self.cols:
                arrays[name] = pa.nulls(n, type=pa.string() if dtype == pl.String() else None)
                continue
            valid = self.valid[name]
            all_valid = bool(valid.all())
            if dtype == pl.String():
                texts.append(name)
                width = _TEXT_WIDTH[name]
                offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
                bitmap = None if all_valid else pa.py_buffer(np.packbits(valid, bitorder="little"))
                arrays[name] = pa.StringArray.from_buffers(
                    n, pa.py_buffer(offsets), pa.py_buffer(self.cols[name].tobytes()),
                    bitmap, 0 if all_valid else int(n - valid.sum()),
                )
            else:
                arrays[name] = pa.array(self.cols[name], mask=None if all_valid else ~valid)
        df = pl.from_arrow(pa.table(arrays))
        assert isinstance(df, pl.DataFrame)
        # pyais's get_str: "".join(chars).rstrip("@").strip(); the only whitespace
        # among the 64 text characters is the space.
        return df.with_columns(
            [pl.col(c).str.strip_chars_end("@").str.strip_chars(" ") for c in texts]
        ).cast(self.schema)  # type: ignore[arg-type]


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

    n_bits = 6 * lens - fill
    msg_type = np.full(n, -1, dtype=np.int8)
    nonempty = np.flatnonzero(lens > 0)
    first = _ARMOUR[raw[starts[nonempty]]]
    msg_type[nonempty] = np.where(first == _INVALID, -1, first).astype(np.int8)
    # The text on the base64 alphabet, padded so that every gather stays in bounds.
    b64 = np.frombuffer(raw.tobytes().translate(_TO_B64) + b"A" * 96, dtype=np.uint8)

    ok = (lens > 0) & (fill >= 0) & (fill <= 5) & ~forced
    ok &= n_bits >= _NEED[np.where(msg_type < 0, 0, msg_type)]

    candidates = np.flatnonzero(ok)
    cand_type = msg_type[candidates]

    def rows_of(*types: int) -> IntArray:
        return candidates[np.isin(cand_type, types)]

    # Type 24: dispatch on the part number as pyais does; drop what it decodes otherwise.
    r24 = rows_of(24)
    if r24.size:
        w = _words(b64, starts, r24, 7)
        partno = _field(w, 38, 2, False)
        mmsi24 = _field(w, 8, 30, False)
        keep_b = (partno == 1) & (n_bits[r24] >= MIN_BITS["24B"]) & ~((mmsi24 >= 980000000) & (mmsi24 <= 989999999))
        r24a, r24b = r24[partno == 0], r24[keep_b]
        ok[r24[~((partno == 0) | keep_b)]] = False
    else:
        r24a = r24b = r24

    r_a, r_b, r19, r27 = rows_of(1, 2, 3), rows_of(18), rows_of(19), rows_of(27)
    r_base, r5 = rows_of(4, 11), rows_of(5)

    positions = _FrameBuilder(POSITION_SCHEMA, np.sort(np.concatenate([r_a, r_b, r19, r27])))
    statics = _FrameBuilder(STATIC_SCHEMA, np.sort(np.concatenate([r5, r19, r24a, r24b])))
    bases = _FrameBuilder(BASE_STATION_SCHEMA, r_base)

    for rows, layout in ((r_a, _CLASS_A), (r_b, _CLASS_B), (r19, _CLASS_B), (r27, _LONG_RANGE)):
        if not rows.size:
            continue
        f = _fields(_words(b64, starts, rows, 24), layout)
        pos = positions.at(rows)
        positions.put("msg_type", pos, msg_type[rows])
        positions.put("mmsi", pos, f["mmsi"])
        positions.put("accuracy", pos, f["accuracy"].astype(bool))
        if layout is _LONG_RANGE:
            positions.put("lat", pos, _latlon(f["lat"], tenths_of_minutes=True))
            positions.put("lon", pos, _latlon(f["lon"], tenths_of_minutes=True))
            positions.put("speed", pos, f["speed"].astype(np.float64))
            positions.put("course", pos, f["course"].astype(np.float64))
            positions.put("heading", pos, np.full(rows.size, 511))
            positions.put("status", pos, _NAV_STATUS[f["status"]])
            continue
        positions.put("lat", pos, _latlon(f["lat"]))
        positions.put("lon", pos, _latlon(f["lon"]))
        positions.put("speed", pos, f["speed"] / 10.0)
        positions.put("course", pos, f["course"] / 10.0)
        positions.put("heading", pos, f["heading"])
        positions.put("second", pos, f["second"])
        if "status" in f:
            positions.put("status", pos, _NAV_STATUS[f["status"]])

    if r_base.size:
        f = _fields(_words(b64, starts, r_base, 23), _BASE_STATION)
        pos = bases.at(r_base)
        bases.put("msg_type", pos, msg_type[r_base])
        for name in ("mmsi", "year", "month", "day", "hour", "minute", "second"):
            bases.put(name, pos, f[name])
        bases.put("lat", pos, _latlon(f["lat"]))
        bases.put("lon", pos, _latlon(f["lon"]))
        bases.put("accuracy", pos, f["accuracy"].astype(bool))
        bases.put("epfd", pos, f["epfd"] if raw_codes else _EPFD[f["epfd"]])

    dims = ("to_bow", "to_stern", "to_port", "to_starboard")
    if r5.size:
        words = _words(b64, starts, r5, 71)
        f = _fields(words, _TYPE5)
        pos = statics.at(r5)
        statics.put("msg_type", pos, msg_type[r5])
        for name in ("mmsi", "imo", "ais_version", "month", "day", "hour", "minute", *dims):
            statics.put(name, pos, f[name])
        statics.put("ship_type", pos, f["ship_type"] if raw_codes else _SHIP_TYPE[f["ship_type"]])
        statics.put("epfd", pos, f["epfd"] if raw_codes else _EPFD[f["epfd"]])
        statics.put("draught", pos, f["draught"] / 10.0)
        for name, (start, width) in _TYPE5_TEXT.items():
            statics.put(name, pos, _text(words, start, width))
    if r19.size:
        words = _words(b64, starts, r19, 51)
        f = _fields(words, {"mmsi": (8, 30, False), **_TYPE19_STATIC})
        pos = statics.at(r19)
        statics.put("msg_type", pos, msg_type[r19])
        statics.put("mmsi", pos, f["mmsi"])
        for name in dims:
            statics.put(name, pos, f[name])
        statics.put("ship_type", pos, f["ship_type"] if raw_codes else _SHIP_TYPE[f["ship_type"]])
        statics.put("epfd", pos, f["epfd"] if raw_codes else _EPFD[f["epfd"]])
        statics.put("shipname", pos, _text(words, *_TYPE19_TEXT["shipname"]))
    if r24a.size:
        words = _words(b64, starts, r24a, 27)
        pos = statics.at(r24a)
        statics.put("msg_type", pos, msg_type[r24a])
        statics.put("mmsi", pos, _field(words, 8, 30, False))
        statics.put("partno", pos, np.zeros(r24a.size, dtype=np.int8))
        statics.put("shipname", pos, _text(words, *_TYPE24A_TEXT["shipname"]))
    if r24b.size:
        words = _words(b64, starts, r24b, 27)
        f = _fields(words, _TYPE24B)
        pos = statics.at(r24b)
        statics.put("msg_type", pos, msg_type[r24b])
        for name in ("mmsi", "partno", "ship_type", *dims):  # part B ship_type: raw int in pyais
            statics.put(name, pos, f[name])
        statics.put("callsign", pos, _text(words, *_TYPE24B_TEXT["callsign"]))

    return FastResult(
        msg_type=msg_type,
        handled=ok,
        n_bits=n_bits.astype(np.int32),
        positions=positions.build(),
        statics=statics.build(),
        base_stations=bases.build(),
    )
