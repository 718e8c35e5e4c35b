"""The fields of the AIS messages we store: one table per message type, one line per field.

Each line gives where the field is in the message (first bit, width in bits, signed or
not: ITU-R M.1371-5, as pyais reads it), how its value is scaled (the value is the raw
integer divided by ``scale``), the value that means "not available", and the record
column it fills with that column's type and unit. From these tables come:

* the record schemas (``shiptrack.decode.records``: the columns of positions, static
  reports and base stations, in table order between the envelope columns);
* the reference row builders (``shiptrack.decode.reference``: which pyais attribute fills
  which column, which codes are read raw, how many bits a message needs);
* the compiled decoder (``shiptrack.decode.accel.fast``): its loop is generated from
  these tables by ``python -m shiptrack.decode.accel.generate`` (every offset, width and
  scale a constant in it), and its frames and the records' Arrow columns are read from
  them.

pyais stays the reference decoder: tests/decode/test_fields.py checks every line against pyais's
own decoder plan. Adding a stored field is one line here, then that command (a test fails
until the generated loop is the tables' again). A column made of several fields (the ETA,
a base station's time) is put together by hand, on both paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["uint", "int", "code", "flag", "text"]
# the columns' types, named here so that this module needs no polars
DType = Literal["i8", "i16", "i32", "f64", "bool", "str", "ts"]


@dataclass(frozen=True)
class Field:
    """One field of a message: ``name`` is pyais's attribute (and the compiled decoder's).

    ``kind``: ``uint``/``int`` (two's complement) integers; ``code`` an integer pyais maps
    through an enum, which we store as transmitted (read raw from the bits); ``flag`` one
    bit; ``text`` 6-bit characters (``width`` is 6 per character). ``na``: the value (after
    scaling) that means "not available"; ``na_stored``: what the record holds then, when it
    is not ``na`` itself ("null": NULL). ``column``: the record column it fills (None: read
    but not stored as such; several fields of one column make it together, as the ETA)."""

    name: str
    start: int
    width: int
    kind: Kind = "uint"
    scale: int = 1
    na: float | None = None
    column: str | None = None
    dtype: DType = "i32"
    unit: str = ""
    na_stored: float | str | None = None

    @property
    def end(self) -> int:
        return self.start + self.width

    @property
    def signed(self) -> bool:
        return self.kind == "int"

    @property
    def chars(self) -> int:
        """Characters of a text field."""
        return self.width // 6


F = Field

# Types 1, 2 and 3: the class A position report.
CLASS_A = (
    F("mmsi", 8, 30, column="mmsi", dtype="i32"),
    F("lat", 89, 27, "int", 600_000, 91, "lat", "f64", "deg"),
    F("lon", 61, 28, "int", 600_000, 181, "lon", "f64", "deg"),
    F("speed", 50, 10, "uint", 10, 102.3, "sog", "f64", "kn"),
    F("course", 116, 12, "uint", 10, 360, "cog", "f64", "deg"),
    F("heading", 128, 9, "uint", 1, 511, "heading", "i16", "deg"),
    F("status", 38, 4, "code", 1, 15, "nav_status", "i8"),
    F("accuracy", 60, 1, "flag", column="accuracy", dtype="bool"),
    F("second", 137, 6, na=60),
)

# Types 18 (class B position report) and 19 (its extended form: the same up to ``second``).
CLASS_B = (
    F("mmsi", 8, 30, column="mmsi", dtype="i32"),
    F("lat", 85, 27, "int", 600_000, 91, "lat", "f64", "deg"),
    F("lon", 57, 28, "int", 600_000, 181, "lon", "f64", "deg"),
    F("speed", 46, 10, "uint", 10, 102.3, "sog", "f64", "kn"),
    F("course", 112, 12, "uint", 10, 360, "cog", "f64", "deg"),
    F("heading", 124, 9, "uint", 1, 511, "heading", "i16", "deg"),
    F("accuracy", 56, 1, "flag", column="accuracy", dtype="bool"),
    F("second", 133, 6, na=60),
)
TYPE19_STATIC = (
    F("shipname", 143, 120, "text", column="name", dtype="str"),
    F("ship_type", 263, 8, "code", 1, 0, "ship_type", "i16"),
    F("to_bow", 271, 9, column="to_bow", dtype="i16", unit="m"),
    F("to_stern", 280, 9, column="to_stern", dtype="i16", unit="m"),
    F("to_port", 289, 6, column="to_port", dtype="i16", unit="m"),
    F("to_starboard", 295, 6, column="to_starboard", dtype="i16", unit="m"),
    F("epfd", 301, 4, "code", 1, 0, "epfd", "i8"),
)

# Type 27: the long-range position report (whole knots and degrees, 1/10 minute positions).
LONG_RANGE = (
    F("mmsi", 8, 30, column="mmsi", dtype="i32"),
    F("lat", 62, 17, "int", 600, 91, "lat", "f64", "deg"),
    F("lon", 44, 18, "int", 600, 181, "lon", "f64", "deg"),
    F("speed", 79, 6, "uint", 1, 63, "sog", "f64", "kn", na_stored=102.3),
    F("course", 85, 9, "uint", 1, 511, "cog", "f64", "deg", na_stored=360.0),
    F("status", 40, 4, "code", 1, 15, "nav_status", "i8"),
    F("accuracy", 38, 1, "flag", column="accuracy", dtype="bool"),
)

# Types 4 (base station report) and 11 (a mobile's answer to a UTC request: only counted).
BASE_STATION = (
    F("mmsi", 8, 30, column="mmsi", dtype="i32"),
    F("year", 38, 14, na=0, column="station_time", dtype="ts"),
    F("month", 52, 4, na=0, column="station_time", dtype="ts"),
    F("day", 56, 5, na=0, column="station_time", dtype="ts"),
    F("hour", 61, 5, na=24, column="station_time", dtype="ts"),
    F("minute", 66, 6, na=60, column="station_time", dtype="ts"),
    F("second", 72, 6, na=60, column="station_time", dtype="ts"),
    F("lat", 107, 27, "int", 600_000, 91, "lat", "f64", "deg"),
    F("lon", 79, 28, "int", 600_000, 181, "lon", "f64", "deg"),
    F("accuracy", 78, 1, "flag", column="accuracy", dtype="bool"),
    F("epfd", 134, 4, "code", 1, 0, "epfd", "i8"),
)

# Type 5: static and voyage data (two sentences).
TYPE5 = (
    F("mmsi", 8, 30, column="mmsi", dtype="i32"),
    F("imo", 40, 30, na=0, column="imo", dtype="i32", na_stored="null"),
    F("shipname", 112, 120, "text", column="name", dtype="str"),
    F("callsign", 70, 42, "text", column="callsign", dtype="str"),
    F("ship_type", 232, 8, "code", 1, 0, "ship_type", "i16"),
    F("to_bow", 240, 9, column="to_bow", dtype="i16", unit="m"),
    F("to_stern", 249, 9, column="to_stern", dtype="i16", unit="m"),
    F("to_port", 258, 6, column="to_port", dtype="i16", unit="m"),
    F("to_starboard", 264, 6, column="to_starboard", dtype="i16", unit="m"),
    F("draught", 294, 8, "uint", 10, 0, "draught", "f64", "m"),
    F("destination", 302, 120, "text", column="destination", dtype="str"),
    F("month", 274, 4, na=0, column="eta", dtype="str"),
    F("day", 278, 5, na=0, column="eta", dtype="str"),
    F("hour", 283, 5, na=24, column="eta", dtype="str"),
    F("minute", 288, 6, na=60, column="eta", dtype="str"),
    F("ais_version", 38, 2, column="ais_version", dtype="i8"),
    F("epfd", 270, 4, "code", 1, 0, "epfd", "i8"),
)

# Type 24: static data of class B, in two parts (A: the name; B: the rest).
TYPE24 = (F("mmsi", 8, 30, column="mmsi", dtype="i32"), F("partno", 38, 2))
TYPE24A = (F("shipname", 40, 120, "text", column="name", dtype="str"),)
TYPE24B = (
    F("callsign", 90, 42, "text", column="callsign", dtype="str"),
    F("ship_type", 40, 8, "code", 1, 0, "ship_type", "i16"),
    F("to_bow", 132, 9, column="to_bow", dtype="i16", unit="m"),
    F("to_stern", 141, 9, column="to_stern", dtype="i16", unit="m"),
    F("to_port", 150, 6, column="to_port", dtype="i16", unit="m"),
    F("to_starboard", 156, 6, column="to_starboard", dtype="i16", unit="m"),
)

#: The fields of each message we decode, by message id ("24A"/"24B": the two parts of type 24).
MESSAGES: dict[int | str, tuple[Field, ...]] = {
    1: CLASS_A, 2: CLASS_A, 3: CLASS_A, 18: CLASS_B, 19: CLASS_B + TYPE19_STATIC, 27: LONG_RANGE,
    4: BASE_STATION, 11: BASE_STATION, 5: TYPE5, "24A": TYPE24 + TYPE24A, "24B": TYPE24 + TYPE24B,
}

#: What a record holds for a column its message has no field for, when not NULL: a type 27
#: says nothing of its heading, stored as "not available" as a class A says it.
NOT_SENT: dict[str, int] = {"heading": 511}

# The tables whose columns each record holds, in the order their columns are listed.
POSITION_TABLES = (CLASS_A, CLASS_B, LONG_RANGE)
STATIC_TABLES = (TYPE5, TYPE19_STATIC, TYPE24A, TYPE24B)
BASE_STATION_TABLES = (BASE_STATION,)


def columns(tables: tuple[tuple[Field, ...], ...]) -> dict[str, DType]:
    """The record columns the tables' fields fill, in table order, each once."""
    out: dict[str, DType] = {}
    for table in tables:
        for f in table:
            if f.column is not None and f.column not in out:
                out[f.column] = f.dtype
    return out


def stored(fields: tuple[Field, ...]) -> tuple[Field, ...]:
    """The fields that fill a column, their own value (not part of a column made of several)."""
    made = {f.column for f in fields if f.column is not None and sum(g.column == f.column for g in fields) > 1}
    return tuple(f for f in fields if f.column is not None and f.column not in made)


def end_of_stored(key: int | str) -> int:
    """The end of the last field of a message that a record column holds."""
    return max(f.end for f in MESSAGES[key] if f.column is not None)


def end_of_all(key: int | str) -> int:
    """The end of the last field of a message."""
    return max(f.end for f in MESSAGES[key])


#: The frames of the compiled decoder: the tables whose fields are its columns (by field
#: name, in table order) and the messages whose rows it holds.
FRAMES: dict[str, tuple[tuple[tuple[Field, ...], ...], tuple[int | str, ...]]] = {
    "positions": (POSITION_TABLES, (1, 2, 3, 18, 19, 27)),
    "statics": ((TYPE24, *STATIC_TABLES), (5, 19, "24A", "24B")),
    "base_stations": (BASE_STATION_TABLES, (4, 11)),
}


def frame_columns(frame: str) -> dict[str, DType]:
    """The columns of a compiled decoder's frame, by field name: the record's type for a field
    that is a column of its own, text for text, else the narrowest integer of its width."""
    tables, _ = FRAMES[frame]
    out: dict[str, DType] = {}
    for table in tables:
        alone = {f.name for f in stored(table)}
        for f in table:
            if f.name not in out:
                out[f.name] = (f.dtype if f.name in alone else "str" if f.kind == "text"
                               else "i8" if f.width < 8 else "i16" if f.width < 16 else "i32")
    return out
