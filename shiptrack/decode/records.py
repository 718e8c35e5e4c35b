"""The typed records every decoder produces, as polars schemas, and a batch of them.

Every decoder (NMEA, DMA/NOAA archives, generic CSV/JSON lines, the fast batch
path) yields :class:`Batch` objects whose frames follow these schemas exactly, so
the store never needs to know where a row came from beyond ``line_no``/``raw``.

Units: ``lat``/``lon`` in decimal degrees (WGS84), ``sog`` in knots, ``cog`` and
``heading`` in degrees true, ``draught`` in metres, dimensions in metres,
``ts`` a UTC timestamp (receive time, microseconds).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from shiptrack.decode import fields
from shiptrack.decode.accounting import NO_LIMIT, LineEntries

UTC_US = pl.Datetime("us", "UTC")

# ``dedup`` is the text that identifies one transmission: for NMEA the armoured
# payload of all its fragments (the same radio message heard by two receivers has
# the same payload); for archive rows a canonical "mmsi|ts|lat|lon|..." string.
# ``dedup_window_s`` is how far apart in receive time two equal ``dedup`` values
# may be and still count as one message (NMEA: 60 s; archives: 0 = exact).
DTYPES: dict[str, pl.DataType] = {"i8": pl.Int8(), "i16": pl.Int16(), "i32": pl.Int32(), "f64": pl.Float64(),
                                   "bool": pl.Boolean(), "str": pl.String(), "ts": UTC_US}
# every record: who, when it was received, and (last) where it came from
_HEAD = {"mmsi": pl.Int32(), "ts": UTC_US}
_TAIL = {"station": pl.String(), "line_no": pl.Int64(), "raw": pl.String(), "dedup": pl.String()}


def _schema(tables: tuple[tuple[fields.Field, ...], ...], head: dict[str, pl.DataType],
            tail: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """The envelope's columns around those the tables' fields fill (shiptrack.decode.fields)."""
    body = {name: DTYPES[dtype] for name, dtype in fields.columns(tables).items() if name not in head}
    return {**head, **body, **tail}


# The fields' columns and units are in shiptrack.decode.fields; ``station_time`` is the UTC
# time the base station itself reports; ``part`` is None for type 5/19, "A" or "B" for
# type 24; ``eta`` is "MM-DDTHH:MM" as broadcast (no year), NULL when not available.
POSITION_SCHEMA = _schema(fields.POSITION_TABLES, _HEAD, {"msg_type": pl.Int8(), **_TAIL})
STATIC_SCHEMA = _schema(fields.STATIC_TABLES, {**_HEAD, "msg_type": pl.Int8(), "part": pl.String()}, _TAIL)
BASE_STATION_SCHEMA = _schema(fields.BASE_STATION_TABLES, _HEAD, _TAIL)

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "line_no": pl.Int64(),
    "reason": pl.String(),
    "detail": pl.String(),
    "raw": pl.String(),
}

# Reject reasons: part of the interface (tests, README, reports use them).
REJECT_REASONS: dict[str, str] = {
    "empty_line": "blank line",
    "not_ais": "a line that is not an AIS sentence (other NMEA, comments, headers of no use)",
    "garbage": "unreadable text or binary junk",
    "bad_checksum": "NMEA checksum does not match",
    "bad_tagblock": "tag block malformed, its checksum does not match, or no sentence right after it on its line",
    "truncated": "sentence with missing fields",
    "bad_payload": "payload with invalid characters, of a message type that does not exist (0, 28-63), or "
                   "whose number of bits is not one its type may have (the detail gives both)",
    "line_too_long": "a line longer than 1 MiB: its first 1 KiB is kept, the detail gives its length",
    "orphan_fragment": "part of a multi-sentence message whose other parts never arrived",
    "no_timestamp": "no receive time of its own (tag block, prefix, $PGHP, trailer, receiver clock or CSV "
                    "column), or only a clock not trusted for it (the detail says which and why)",
    "bad_timestamp": "a receive time that cannot be parsed or is out of range",
    "bad_mmsi": "MMSI missing or not a 9-digit number",
    "bad_lat": "latitude outside -90..90 and not the 91 'not available' value",
    "bad_lon": "longitude outside -180..180 and not the 181 'not available' value",
    "bad_sog": "speed over ground outside 0..102.2 kn",
    "bad_cog": "course over ground outside 0..359.9",
    "bad_heading": "heading outside 0..359 and not 511",
    "bad_value": "a field that cannot be parsed as its type",
    "decode_error": "the reference decoder (pyais) failed on the message",
}

def empty_frame(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows (dicts, missing keys = NULL) to a frame with exactly ``schema``."""
    if not rows:
        return empty_frame(schema)
    cols = {name: [r.get(name) for r in rows] for name in schema}
    return pl.DataFrame(cols, schema=schema, strict=False)


@dataclass
class Batch:
    """What a decoder yields: typed frames plus counts for the summary.

    ``type_counts`` counts every decoded message by AIS type (stored or not);
    ``lines`` is the number of input lines this batch consumed.
    """

    positions: pl.DataFrame = field(default_factory=lambda: empty_frame(POSITION_SCHEMA))
    statics: pl.DataFrame = field(default_factory=lambda: empty_frame(STATIC_SCHEMA))
    base_stations: pl.DataFrame = field(default_factory=lambda: empty_frame(BASE_STATION_SCHEMA))
    rejects: pl.DataFrame = field(default_factory=lambda: empty_frame(REJECT_SCHEMA))
    type_counts: Counter[int] = field(default_factory=Counter)
    lines: int = 0
    dedup_window_s: float = 60.0
    duplicates: int = 0  # repeated fragments dropped before decoding (counted, not stored)
    time_sources: Counter[str] = field(default_factory=Counter)  # NMEA: sentences timed by tagblock, pghp, ...
    # NMEA: why a message got no receive time (its first line -> category, text), for the
    # detail of its no_timestamp reject; and how the clocks of the same sentences compared
    time_notes: dict[int, tuple[str, str]] = field(default_factory=dict)
    clock_stats: Counter[str] = field(default_factory=Counter)
    # what became of the lines (shiptrack.decode.accounting): entries decided while decoding,
    # links of multi-sentence messages, and the line before which every line has its entries
    entries: LineEntries = field(default_factory=LineEntries)
    final_below: int = NO_LIMIT
    last_line: int = 0  # the last line read


class BatchBuilder:
    """Collect rows one at a time, then emit a :class:`Batch` of typed frames."""

    def __init__(self, dedup_window_s: float = 60.0) -> None:
        self.dedup_window_s = dedup_window_s
        self.reset()

    def reset(self) -> None:
        self.positions: list[dict[str, Any]] = []
        self.statics: list[dict[str, Any]] = []
        self.base_stations: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.type_counts: Counter[int] = Counter()
        self.lines = 0
        self.entries = LineEntries()

    def reject(self, line_no: int, reason: str, raw: str, detail: str | None = None) -> None:
        assert reason in REJECT_REASONS, reason
        self.rejects.append({"line_no": line_no, "reason": reason, "detail": detail, "raw": raw})

    def __len__(self) -> int:
        return len(self.positions) + len(self.statics) + len(self.base_stations) + len(self.rejects)

    def emit(self) -> Batch:
        batch = Batch(
            positions=frame(self.positions, POSITION_SCHEMA),
            statics=frame(self.statics, STATIC_SCHEMA),
            base_stations=frame(self.base_stations, BASE_STATION_SCHEMA),
            rejects=frame(self.rejects, REJECT_SCHEMA),
            type_counts=self.type_counts,
            lines=self.lines,
            dedup_window_s=self.dedup_window_s,
            entries=self.entries,
        )
        self.reset()
        return batch
