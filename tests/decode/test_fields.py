"""The field tables (shiptrack.decode.fields) against pyais, and what is made of them.

Every line of every table is checked against pyais's own decoder plan (bit offset, width,
signedness, kind, scale); its not-available value must be a value the field can carry;
the record schemas, the compiled decoder's layouts and the bits each message needs are the
tables' (the decoders' agreement with pyais on real files is in tests/decode/test_decode_paths.py
and tests/decode/test_fast_decode.py).
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from pyais.messages import (
    MessageType1,
    MessageType4,
    MessageType5,
    MessageType18,
    MessageType19,
    MessageType24PartA,
    MessageType24PartB,
    MessageType27,
)

from shiptrack.decode import fields, records, reference
from shiptrack.decode.accel import fast
from shiptrack.decode.fields import Field

PYAIS: dict[int | str, Any] = {
    1: MessageType1, 2: MessageType1, 3: MessageType1, 18: MessageType18, 19: MessageType19, 27: MessageType27,
    4: MessageType4, 11: MessageType4, 5: MessageType5, "24A": MessageType24PartA, "24B": MessageType24PartB,
}
PYAIS_KIND = {0: ("uint", "int", "code"), 1: ("flag",), 2: ("uint", "int"), 3: ("text",)}


@pytest.mark.parametrize("key", list(fields.MESSAGES), ids=str)
def test_every_field_is_where_pyais_reads_it(key: int | str) -> None:
    plan = {name: (offset, width, signed, kind, conv) for name, offset, width, signed, kind, conv
            in PYAIS[key].decoder_plan()}
    for f in fields.MESSAGES[key]:
        offset, width, signed, kind, conv = plan[f.name]
        assert (f.start, f.width, f.signed) == (offset, width, signed), (key, f.name)
        assert f.kind in PYAIS_KIND[kind], (key, f.name, kind)
        if f.scale != 1:  # pyais's converter divides by the same scale
            assert conv is not None
            assert conv(1234 * f.scale) == pytest.approx(1234), (key, f.name)
        if f.kind == "text":
            assert f.width % 6 == 0


@pytest.mark.parametrize("f", sorted({f for t in fields.MESSAGES.values() for f in t if f.na is not None},
                                     key=lambda f: (f.name, f.start)), ids=lambda f: f"{f.name}@{f.start}")
def test_a_not_available_value_is_one_the_field_can_carry(f: Field) -> None:
    raw = round(f.na * f.scale)  # type: ignore[operator]
    assert raw == pytest.approx(f.na * f.scale)  # type: ignore[operator]
    lo, hi = (-(1 << (f.width - 1)), 1 << (f.width - 1)) if f.signed else (0, 1 << f.width)
    assert lo <= raw < hi


def test_a_column_has_one_type_and_unit_in_every_table() -> None:
    seen: dict[str, tuple[str, str]] = {}
    for table in fields.MESSAGES.values():
        for f in table:
            if f.column is not None:
                assert seen.setdefault(f.column, (f.dtype, f.unit)) == (f.dtype, f.unit), f.column


def test_the_record_schemas_are_the_tables_columns_in_their_envelope() -> None:
    envelope = {"mmsi", "ts", "msg_type", "part", "station", "line_no", "raw", "dedup"}
    for schema, tables in ((records.POSITION_SCHEMA, fields.POSITION_TABLES),
                           (records.STATIC_SCHEMA, fields.STATIC_TABLES),
                           (records.BASE_STATION_SCHEMA, fields.BASE_STATION_TABLES)):
        cols = fields.columns(tables)
        assert [c for c in schema if c not in envelope] == [c for c in cols if c != "mmsi"]
        for c, dtype in cols.items():
            assert schema[c] == records.DTYPES[dtype], c
    assert records.STATIC_SCHEMA["eta"] == pl.String()  # a column made of several fields
    assert records.BASE_STATION_SCHEMA["station_time"] == records.UTC_US


def test_a_new_line_in_a_table_is_a_new_column() -> None:
    """Adding a field is one line: the schema made of the table has its column."""
    turn = Field("turn", 42, 8, "int", column="rot", dtype="f64", unit="deg/min")
    schema = records._schema((fields.CLASS_A + (turn,), fields.CLASS_B), {"mmsi": pl.Int32()}, {})
    assert list(schema)[-1] == "rot" and schema["rot"] == pl.Float64()


def test_the_compiled_decoder_reads_the_tables() -> None:
    """Every field of every table is a constant of the generated loop, as its line says."""
    for key, table in fields.MESSAGES.items():
        if key in (2, 3, 11):  # the tables of 1 and 4
            continue
        for f in table:
            got = getattr(fast, f"_{key}_{f.name.upper()}")
            assert got == ((f.start, f.chars) if f.kind == "text" else (f.start, f.width, int(f.signed))), (key, f)
    assert fast.MIN_BITS == {k: max(f.end for f in t) for k, t in fields.MESSAGES.items()}
    assert fast._1_SPEED_S == 10.0 and fast._27_SPEED_S == 1.0 and fast._1_LAT_DEG == 10
    assert fast._27_LAT_DEG == 10_000
    assert fast._KEEP == 72  # type 5's destination ends in character 70; its last one reads 71


def test_the_reference_decoder_reads_the_tables() -> None:
    """The bits a stored message needs (type 5: from 420, as transmitters send it), and the
    codes read raw rather than through pyais's enums."""
    assert reference.MIN_BITS == {1: 137, 2: 137, 3: 137, 4: 138, 5: 420, 18: 133, 19: 305, 24: 160, 27: 94}
    assert reference.MIN_BITS_24B == 162
    assert reference._RAW_CODES[5] == {"ship_type": (232, 8), "epfd": (270, 4)}
    assert reference._RAW_CODES["24B"] == {"ship_type": (40, 8)}


def test_the_compiled_decoders_frames_hold_every_field() -> None:
    """decode_batch's frames: a column per field of the tables, by pyais's name."""
    for schema, tables in ((fast.POSITION_SCHEMA, fields.POSITION_TABLES),
                           (fast.STATIC_SCHEMA, (fields.TYPE24, *fields.STATIC_TABLES)),
                           (fast.BASE_STATION_SCHEMA, fields.BASE_STATION_TABLES)):
        assert set(schema) == {"index", "msg_type"} | {f.name for t in tables for f in t}
    assert fast.STATIC_SCHEMA["to_port"] == pl.Int16()  # a column of its own: the record's type
    assert fast.BASE_STATION_SCHEMA["year"] == pl.Int16()  # part of station_time: its 14 bits
