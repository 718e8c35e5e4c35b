"""The reference decoder: pyais decodes an assembled message into our records.

pyais is the reference for what a payload means; the compiled fast path
(``shiptrack.decode.accel.fast``) must give exactly the rows this module gives, and sends here
what it cannot vouch for. This module also holds what both paths check a payload
against: the message types we store, and the bit lengths each type may have.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from shiptrack.decode import accounting, fields
from shiptrack.decode.records import BatchBuilder

POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
STATIC_TYPES = frozenset({5, 19, 24})
BASE_STATION_TYPES = frozenset({4})

# Fewest bits that hold every field we store (shiptrack.decode.fields: the end of the last
# field with a column), but for type 5, from 420 bits (its destination's last character
# may be cut: see BIT_LENGTHS). A shorter payload would be zero-padded by pyais into
# plausible-looking garbage: it is rejected as bad_payload.
MIN_BITS = {t: fields.end_of_stored(t) for t in (1, 2, 3, 4, 18, 19, 27)} | {5: 420, 24: fields.end_of_stored("24A")}
MIN_BITS_24B = fields.end_of_stored("24B")

# The bit lengths a message of each type may have, as accepted: those of ITU-R M.1371-5
# (Annex 8), each widened to whole 6-bit characters, since a sentence's fill-bits field is
# often wrong (a 168-bit type 1 is 28 characters: 163-168 bits, whatever its fill field says),
# and what transmitters in the wild send, as gpsd and libais accept it: type 5 from 420 bits
# (gpsd: "a lot of transmitters in the wild ship with a length of 420 or 422"), type 24 part A
# of 168 bits (libais; 816 of the 1,269 part As in fixtures/ are), type 27 of 168 bits (gpsd: "a
# full 168-bit slot rather than just 96 bits"). Type 16 is 96 or 144 bits, nothing between.
# A payload of another length, or of a type that does not exist (0, 28-63), is bad_payload.
BIT_LENGTHS: dict[int, tuple[tuple[int, int], ...]] = {
    1: ((163, 168),), 2: ((163, 168),), 3: ((163, 168),), 4: ((163, 168),), 5: ((420, 426),),
    6: ((85, 1008),), 7: ((67, 168),), 8: ((55, 1008),), 9: ((163, 168),), 10: ((67, 72),),
    11: ((163, 168),), 12: ((67, 1008),), 13: ((67, 168),), 14: ((37, 1008),), 15: ((85, 162),),
    16: ((91, 96), (139, 144)), 17: ((79, 816),), 18: ((163, 168),), 19: ((307, 312),), 20: ((67, 162),),
    21: ((271, 360),), 22: ((163, 168),), 23: ((157, 162),), 24: ((157, 168),), 25: ((37, 168),),
    26: ((55, 1068),), 27: ((91, 96), (163, 168)),
}
BIT_LENGTHS_24 = {0: ((157, 168),), 1: ((163, 168),)}  # part A, part B (parts 2 and 3 do not exist)
# the same, by message id, for whole columns (a type that does not exist: nothing fits)
BITS_RANGES = np.zeros((64, 2, 2), dtype=np.int64)  # [type, range, lo/hi]; an unused range is (1, 0)
BITS_RANGES[:, :, 0] = 1
for _t, _ranges in BIT_LENGTHS.items():
    for _k, (_lo, _hi) in enumerate(_ranges):
        BITS_RANGES[_t, _k] = (_lo, _hi)
_LO1, _HI1 = BITS_RANGES[:, 0, 0].copy(), BITS_RANGES[:, 0, 1].copy()
_LO2, _HI2 = BITS_RANGES[:, 1, 0].copy(), BITS_RANGES[:, 1, 1].copy()
_TWO = _LO2 <= _HI2


def _legal_text(ranges: tuple[tuple[int, int], ...]) -> str:
    return " or ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def bits_problem(msg_type: int, nbits: int, part: int | None = None) -> str | None:
    """Why a payload of ``nbits`` bits cannot be a message of its type (``part``: a type 24's
    part number), for the detail of a bad_payload reject; None if it can."""
    if nbits < 6:
        return f"a payload of {nbits} bits holds no message type"
    if msg_type not in BIT_LENGTHS:
        return f"type {msg_type} with {nbits} bits: no AIS message has type {msg_type} (1-27)"
    ranges = BIT_LENGTHS_24.get(part, BIT_LENGTHS[24]) if msg_type == 24 else BIT_LENGTHS[msg_type]  # type: ignore[arg-type]
    if any(lo <= nbits <= hi for lo, hi in ranges):
        return None
    what = f"type 24 part {'AB'[part]}" if msg_type == 24 and part in (0, 1) else f"type {msg_type}"
    return f"{what} with {nbits} bits; {what} has {_legal_text(ranges)} bits"


def bits_legal(msg_type: npt.NDArray[np.integer], nbits: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """:func:`bits_problem` is None, for whole columns (type 24: either part's lengths)."""
    t = np.asarray(msg_type)
    n = np.asarray(nbits)
    k = t.astype(np.intp) & 63
    ok = (n >= _LO1[k]) & (n <= _HI1[k])
    two = _TWO[k]
    if two.any():
        ok |= two & (n >= _LO2[k]) & (n <= _HI2[k])
    return ok & (t >= 0) & (n >= 6)


# Code fields read from the raw bits: pyais maps them through enums that turn codes
# it does not know (ship type 38, 100-255, epfd 9-14...) into other values.
_RAW_CODES: dict[int | str, dict[str, tuple[int, int]]] = {
    key: {f.name: (f.start, f.width) for f in table if f.kind == "code"} for key, table in fields.MESSAGES.items()
}
# per record: the columns the field tables fill, and for each message the field filling each
_POSITION_COLUMNS = tuple(fields.columns(fields.POSITION_TABLES))
_STATIC_COLUMNS = tuple(fields.columns(fields.STATIC_TABLES))
_BASE_STATION_COLUMNS = tuple(fields.columns(fields.BASE_STATION_TABLES))
_BY_COLUMN: dict[int | str, dict[str, fields.Field]] = {
    key: {f.column: f for f in fields.stored(table) if f.column is not None} for key, table in fields.MESSAGES.items()
}
_CONVERT: dict[str, Any] = {"f64": float, "i8": int, "i16": int, "i32": int, "bool": bool}


@dataclass(slots=True)
class Message:
    """One assembled AIS message: the payload of all its fragments, with provenance."""

    line_no: int
    raw: str
    payload: str
    fill: int
    time: datetime | None
    station: str | None


@functools.cache
def _pyais() -> tuple[Any, Any]:
    """pyais's bit reader and message classes, imported on first use (about 0.1 s): an
    ingest whose messages all take the fast path never needs them."""
    from pyais.bit_vector import bit_vector
    from pyais.messages import MSG_CLASS

    return bit_vector, MSG_CLASS


def decode_message(msg: Message, builder: BatchBuilder) -> None:
    """Decode one assembled message with pyais into position/static/base rows."""
    bit_vector, msg_class = _pyais()
    payload = msg.payload
    bv = bit_vector(payload.encode("ascii"), msg.fill)
    nbits = len(bv)
    msg_type = bv.get(0, 6) if nbits >= 6 else -1
    part = bv.get(38, 2) if msg_type == 24 and nbits >= 40 else None
    problem = bits_problem(msg_type, nbits, part)
    if problem is None:
        need = MIN_BITS_24B if part == 1 else MIN_BITS.get(msg_type, 0)
        problem = f"type {msg_type} with {nbits} bits" if nbits < need else None
    if problem is not None:
        builder.reject(msg.line_no, "bad_payload", msg.raw, problem)
        return
    builder.type_counts[msg_type] += 1
    if msg_type not in POSITION_TYPES and msg_type not in STATIC_TYPES and msg_type not in BASE_STATION_TYPES:
        builder.entries.one(msg.line_no, accounting.OTHER_TYPE)
        return
    try:
        decoded = msg_class[msg_type].from_vector(bv)
    except Exception as err:  # pyais raises many kinds; each becomes a reject
        builder.type_counts[msg_type] -= 1
        builder.reject(msg.line_no, "decode_error", msg.raw, f"{type(err).__name__}: {err}")
        return
    d = decoded.asdict() if hasattr(decoded, "asdict") else {}
    key: int | str = msg_type if msg_type != 24 else ("24A" if d.get("partno") == 0 else "24B")
    for name, (start, width) in _RAW_CODES.get(key, {}).items():
        d[name] = bv.get(start, width)
    common = {
        "mmsi": d.get("mmsi"),
        "ts": msg.time,
        "station": msg.station,
        "line_no": msg.line_no,
        "raw": msg.raw,
        "dedup": payload,
    }
    if msg_type in POSITION_TYPES:
        builder.positions.append(position_row(msg_type, d, common))
    if msg_type in STATIC_TYPES:
        builder.statics.append(static_row(msg_type, d, common, key))
    if msg_type in BASE_STATION_TYPES:
        builder.base_stations.append(base_station_row(d, common))


def _values(key: int | str, names: tuple[str, ...], d: dict[str, Any]) -> dict[str, Any]:
    """The columns ``names`` filled from pyais's fields ``d`` of message ``key``, as the field
    table says (a column its message has no field for: NULL; a not-available value stored
    as another, ``na_stored``); the columns made of several fields are left out."""
    by_column = _BY_COLUMN[key]
    out: dict[str, Any] = {}
    for name in names:
        f = by_column.get(name)
        v = d.get(f.name) if f is not None else None
        if v is not None and f is not None:
            if f.na_stored is not None and v == f.na:
                v = None if f.na_stored == "null" else f.na_stored
            convert = _CONVERT.get(f.dtype)
            if v is not None and convert is not None:
                v = convert(v)
        out[name] = v
    return out


def position_row(msg_type: int, d: dict[str, Any], common: dict[str, Any]) -> dict[str, Any]:
    """pyais fields of a position report -> a POSITION_SCHEMA row (sentinels kept)."""
    row = {**common, **_values(msg_type, _POSITION_COLUMNS[1:], d), "msg_type": msg_type}
    for column, value in fields.NOT_SENT.items():  # type 27's heading: "not available"
        if column not in _BY_COLUMN[msg_type]:
            row[column] = value
    return row


def _eta(d: dict[str, Any]) -> str | None:
    mo, day, hour, minute = d.get("month"), d.get("day"), d.get("hour"), d.get("minute")
    if not mo or not day or mo > 12 or day > 31:
        return None
    if hour is None or hour > 23 or minute is None or minute > 59:
        return f"{mo:02d}-{day:02d}"  # the day is given, the time is not available
    return f"{mo:02d}-{day:02d}T{hour:02d}:{minute:02d}"


def static_row(msg_type: int, d: dict[str, Any], common: dict[str, Any], key: int | str) -> dict[str, Any]:
    """pyais fields of a type 5, 19 or 24 message (``key``: its field table, "24A" or "24B"
    for a type 24) -> a STATIC_SCHEMA row."""
    return {
        **common,
        **_values(key, _STATIC_COLUMNS[1:], d),
        "msg_type": msg_type,
        "part": {"24A": "A", "24B": "B"}.get(str(key)),
        "eta": _eta(d) if msg_type == 5 else None,
    }


def base_station_row(d: dict[str, Any], common: dict[str, Any]) -> dict[str, Any]:
    try:
        station_time = datetime(
            d["year"], d["month"], d["day"], d["hour"], d["minute"], d["second"], tzinfo=UTC
        )
    except (KeyError, TypeError, ValueError):
        station_time = None
    return {**common, **_values(4, _BASE_STATION_COLUMNS[1:], d), "station_time": station_time}
