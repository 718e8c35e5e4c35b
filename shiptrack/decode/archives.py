"""Decoded-position archives into the same records as NMEA.

Investigators download the public CSV archives (Danish Maritime Authority
"aisdk", US NOAA MarineCadastre) or get tracks exported by other tools (CSV
with any delimiter, JSON lines). :func:`decode_archive` turns their lines into
:class:`~shiptrack.decode.records.Batch` objects, ``batch_rows`` lines at a
time, so memory does not grow with the file; :func:`sniff_archive` recognises
the format from the first lines and reports the column mapping it chose.

Each chunk is parsed with polars expressions, not a Python loop per row: CSV
lines are split with ``str.split`` (lines that contain a quote go through the
``csv`` module instead), every value is cast with ``strict=False``, and a value
that was present but did not cast becomes a reject row. JSON lines are parsed
with ``json.loads`` per line (the only per-row Python loop).

Decisions (the loader runs ``clean_positions`` / ``clean_statics`` afterwards,
so values here are raw-but-scaled: 91/181/102.3/360/511 pass through):

* **Reject reasons.** Blank line -> ``empty_line``; a CSV row with the wrong
  number of fields or an unterminated quote -> ``truncated``; a JSON line that
  does not parse as an object -> ``garbage``; a repeated header line (files
  joined with ``cat``) -> ``not_ais``; MMSI missing, not a whole number or
  outside 1..999999999 -> ``bad_mmsi``; time missing -> ``no_timestamp``;
  time unparsable -> ``bad_timestamp``; any other present value that cannot be
  parsed as its type -> ``bad_value`` with detail ``Column='value'`` naming the
  source column. The first failure in that order names the reject; a rejected
  line yields nothing else.
* **Values meaning "none".** Empty strings and ``Unknown``, ``Undefined``,
  ``N/A``, ``NA``, ``NaN``, ``null``, ``None`` (lower, Title or UPPER case) are
  NULL in numeric, code and time columns. Text columns (name, call sign, destination) are passed
  as is except that empty text is NULL (``clean_statics`` trims them).
* **Text codes.** DMA navigational status text maps to its AIS code 0-15
  ("Unknown value" -> 15, which ``clean_positions`` makes NULL). DMA ship type
  text maps to a representative AIS code (Fishing 30, Passenger 60, Cargo 70,
  Tanker 80, Other 90, ...: the x0 code of each family, because the DMA file
  keeps the cargo/hazard digit in a separate "Cargo type" column we do not
  combine). DMA "Type of position fixing device" maps to the EPFD code. An
  unrecognised text code becomes NULL rather than rejecting the position: the
  original line is kept in ``raw``.
* **Message type.** DMA "Type of mobile" / NOAA "TransceiverClass": Class A or
  ``A`` -> 1, Class B or ``B`` -> 18, SART / MOB / EPIRB -> 1 (they transmit
  type 1 reports). Base Station -> type 4, emitted to ``base_stations``
  (``station_time`` NULL: the archives do not carry it). AtoN (21) and SAR
  airborne (9) are only counted in ``type_counts``. A row with no class column
  or an unknown class gets ``msg_type`` NULL and is counted under type 0
  ("position report, class unknown").
* **Units and rounding.** ``sog`` and ``cog`` are rounded to 0.1, the AIS
  resolution, so float32 exports (GFW writes 102.3000030518 for the 102.3 "not
  available" value) compare equal to the AIS sentinels. ``heading`` is rounded
  to a whole degree. Other numbers are kept as read. Rate of turn is not read:
  ``POSITION_SCHEMA`` has no column for it. Numeric nav status, ship type and
  EPFD codes pass through unchecked (``clean_positions`` handles the range).
* **Times.** Accepted everywhere: ISO 8601 with ``T`` or a space, optional
  fractional seconds, optional ``Z``, ``UTC`` or a ``+hh:mm`` offset (converted
  to UTC); ``dd/mm/yyyy HH:MM:SS`` (day first, as DMA writes it); unix seconds
  or, when the number is 1e11 or more, unix milliseconds. Naive times are UTC.
* **Static rows.** A vessel row (not base station / AtoN / SAR aircraft) that
  carries any static field (IMO, name, call sign, ship type, A/B/C/D
  dimensions, draught, destination, ETA, EPFD) yields a ``STATIC_SCHEMA`` row
  only when that tuple differs from the last one emitted for the same MMSI in
  this file; the state survives across batches (one short string per MMSI).
  ``msg_type`` 5 for class A, 24 for class B, NULL when unknown; ``part`` NULL.
  NOAA and DMA give overall Length/Width, not the distances from the antenna:
  ``to_bow`` etc. stay NULL unless the DMA file has its A, B, C, D columns.
  DMA ETA ``dd/mm/yyyy HH:MM:SS`` becomes ``MM-DDTHH:MM``; other ETA text is
  passed as is.
* **De-duplication.** ``dedup`` is ``mmsi|ts|lat|lon|sog|cog|heading`` of the
  parsed values and ``Batch.dedup_window_s`` is 0, so only exact duplicates
  merge (statics: ``mmsi|ts|static tuple``).
* **Streaming.** Nothing but the current chunk and :class:`ArchiveState` (the
  header's layout, the per-MMSI static state) is held; the state is a value that
  ``shiptrack.decode.stream.decode`` carries from chunk to chunk, as it carries the
  NMEA framer's. The header is read first (:meth:`ArchiveState.open`; an ingest
  reads it from the file's first lines, so a bad header fails the file before
  anything is stored), the rows only as the batches are taken.
* **Generic mapping.** Column names are compared case-insensitively with
  spaces, ``#``, ``_`` and ``-`` removed, against :data:`ALIASES`, then without a
  unit they carry (``Latitude_degrees``, ``SOG (kn)``, ``Time [UTC]``); ``--columns``
  (:func:`parse_columns_option`) overrides. In ``;``, tab or ``|`` separated
  files a decimal comma in numbers is accepted. Headerless CSV is not supported.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

import polars as pl

from shiptrack.decode import accounting
from shiptrack.decode.accounting import LineEntries
from shiptrack.decode.records import (
    BASE_STATION_SCHEMA,
    POSITION_SCHEMA,
    REJECT_SCHEMA,
    STATIC_SCHEMA,
    UTC_US,
    Batch,
    empty_frame,
)
from shiptrack.errors import InputError
from shiptrack.read.chunks import TooLong

ArchiveFormat = Literal["dma", "noaa", "generic"]

# Target fields a source column can be mapped to (the keys --columns accepts).
FIELDS: dict[str, str] = {
    "mmsi": "MMSI (required)",
    "ts": "UTC time of the report (required)",
    "lat": "latitude, decimal degrees (required)",
    "lon": "longitude, decimal degrees (required)",
    "sog": "speed over ground, knots",
    "cog": "course over ground, degrees",
    "heading": "true heading, degrees",
    "nav_status": "navigational status, AIS code or DMA text",
    "class": "transceiver class (A/B, 'Class A', ...) or AIS message number",
    "name": "vessel name",
    "callsign": "call sign",
    "imo": "IMO number ('IMO' prefix allowed)",
    "ship_type": "AIS ship type code or DMA text",
    "destination": "destination",
    "draught": "draught, metres",
    "eta": "ETA",
    "epfd": "position fixing device, code or DMA text",
    "to_bow": "antenna to bow, metres (DMA column A)",
    "to_stern": "antenna to stern, metres (DMA column B)",
    "to_port": "antenna to port, metres (DMA column C)",
    "to_starboard": "antenna to starboard, metres (DMA column D)",
}
REQUIRED_FIELDS = ("mmsi", "ts", "lat", "lon")

# Automatic mapping for generic files: the first alias found in the header wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "mmsi": ("mmsi", "ssvid", "userid", "user_id", "mmsi_number", "vessel_mmsi", "ship_mmsi"),
    "ts": ("ts", "timestamp", "time", "datetime", "basedatetime", "# Timestamp", "t",
           "timestamp_utc", "datetime_utc", "date_time_utc", "time_utc", "date_time", "utc_time",
           "time_stamp", "epoch", "unix_time", "received_at", "receive_time", "msg_time",
           "position_time", "report_time", "date_time_stamp", "utc_timestamp"),
    "lat": ("lat", "latitude", "y", "lat_dd", "latitude_dd", "position_lat"),
    "lon": ("lon", "lng", "long", "longitude", "x", "lon_dd", "longitude_dd", "position_lon"),
    "sog": ("sog", "speed", "speed_kn", "speed_knots", "speedoverground", "speed_over_ground"),
    "cog": ("cog", "course", "courseoverground", "course_over_ground"),
    "heading": ("heading", "true_heading", "trueheading", "hdg", "thdg"),
    "nav_status": ("nav_status", "navstatus", "status", "navigational status", "navigation_status",
                   "navigationalstatus"),
    "class": ("transceiverclass", "transceiver_class", "type of mobile", "class", "msg_type",
              "message_type", "message_id", "msgtype", "ais_class"),
    "name": ("name", "shipname", "vesselname", "vessel_name", "ship_name"),
    "callsign": ("callsign", "call_sign"),
    "imo": ("imo", "imo_number", "imonumber"),
    "ship_type": ("ship_type", "shiptype", "vesseltype", "vessel_type", "ship_and_cargo_type"),
    "destination": ("destination", "dest"),
    "draught": ("draught", "draft"),
    "eta": ("eta",),
    "epfd": ("epfd", "type of position fixing device"),
    "to_bow": ("to_bow", "dim_a"),
    "to_stern": ("to_stern", "dim_b"),
    "to_port": ("to_port", "dim_c"),
    "to_starboard": ("to_starboard", "dim_d"),
}
# Units and qualifiers that headers add to a name (``Latitude_degrees``, ``SOG (kn)``,
# ``Time [UTC]``, ``Draught_m``): compared without them when the whole name is no alias.
_UNIT_WORDS = frozenset({
    "deg", "degs", "degree", "degrees", "decimal", "decimaldegrees", "dd", "wgs84",
    "kn", "kt", "kts", "knot", "knots", "m", "meter", "meters", "metre", "metres",
    "utc", "z", "gmt", "iso", "iso8601", "s", "sec", "secs", "seconds", "ms", "unix",
})

DMA_COLUMNS: dict[str, str] = {
    "ts": "# Timestamp", "class": "Type of mobile", "mmsi": "MMSI", "lat": "Latitude",
    "lon": "Longitude", "nav_status": "Navigational status", "sog": "SOG",
    "cog": "COG", "heading": "Heading", "imo": "IMO", "callsign": "Callsign", "name": "Name",
    "ship_type": "Ship type", "epfd": "Type of position fixing device", "draught": "Draught",
    "destination": "Destination", "eta": "ETA",
    "to_bow": "A", "to_stern": "B", "to_port": "C", "to_starboard": "D",
}
NOAA_COLUMNS: dict[str, str] = {
    "mmsi": "MMSI", "ts": "BaseDateTime", "lat": "LAT", "lon": "LON", "sog": "SOG", "cog": "COG",
    "heading": "Heading", "name": "VesselName", "imo": "IMO", "callsign": "CallSign",
    "ship_type": "VesselType", "nav_status": "Status", "draught": "Draft", "class": "TransceiverClass",
}
_PRESETS: dict[str, dict[str, str]] = {"dma": DMA_COLUMNS, "noaa": NOAA_COLUMNS}

NAV_STATUS_TEXT: dict[str, int] = {
    "under way using engine": 0, "at anchor": 1, "not under command": 2,
    "restricted maneuverability": 3, "restricted manoeuverability": 3,
    "restricted manoeuvrability": 3, "constrained by her draught": 4, "moored": 5,
    "aground": 6, "engaged in fishing": 7, "under way sailing": 8,
    "reserved for future amendment [hsc]": 9, "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "reserved for future use [11]": 11, "reserved for future use [12]": 12,
    "reserved for future use [13]": 13, "reserved for future use": 13,
    "ais-sart": 14, "ais-sart (active)": 14, "unknown value": 15, "not defined": 15,
}
SHIP_TYPE_TEXT: dict[str, int] = {
    "wig": 20, "fishing": 30, "towing": 31, "towing long/wide": 32, "dredging": 33,
    "diving": 34, "military": 35, "sailing": 36, "pleasure": 37, "hsc": 40, "pilot": 50,
    "sar": 51, "tug": 52, "port tender": 53, "anti-pollution": 54, "law enforcement": 55,
    "spare 1": 56, "spare 2": 57, "medical": 58, "not party to conflict": 59,
    "passenger": 60, "cargo": 70, "tanker": 80, "other": 90,
}
EPFD_TEXT: dict[str, int] = {
    "gps": 1, "glonass": 2, "combined gps/glonass": 3, "loran-c": 4, "chayka": 5,
    "integrated navigation system": 6, "surveyed": 7, "galileo": 8,
}
CLASS_TEXT: dict[str, int] = {
    "class a": 1, "a": 1, "class b": 18, "b": 18, "base station": 4, "aton": 21,
    "sar airborne": 9, "sar": 9, "search and rescue transponder": 1,
    "man overboard device": 1, "epirb": 1,
}
_CLASS_NUMBERS = (1, 2, 3, 4, 9, 18, 19, 21, 27)
BASE_STATION_TYPE = 4
COUNT_ONLY_TYPES = (9, 21)  # SAR aircraft, AtoN: counted, not stored
UNKNOWN_CLASS = 0  # type_counts key for positions whose class is not known

_NULL_WORDS = ("unknown", "undefined", "n/a", "na", "nan", "null", "none")
# Compared as they are, without lowercasing each cell: each word as lower, Title and UPPER case, plus NaN.
_NULL_TOKENS = ["", "NaN", *sorted({v for w in _NULL_WORDS for v in (w, w.title(), w.upper())})]
_TEXT_FIELDS = ("name", "callsign", "destination")
_STATIC_FIELDS = ("imo", "name", "callsign", "ship_type", "to_bow", "to_stern", "to_port",
                  "to_starboard", "draught", "destination", "eta", "epfd")
_DELIMITERS = (",", ";", "\t", "|")
# Checked by their own reasons (mmsi, ts) or never rejected (codes: unknown -> NULL).
_LENIENT = ("mmsi", "ts", "nav_status", "class", "ship_type", "epfd")
_SEP = "\x1f"  # joins fields of quoted CSV lines so one split handles every line
_PRE = "_s_"  # prefix of the columns holding a row's source text, per field
_NMEA_RE = re.compile(r"[!$][A-Z]{2}[A-Z]{3},|^\\[a-z]:")


def _norm_name(name: str) -> str:
    return re.sub(r"[\s#_\-]", "", name).lower()


# --------------------------------------------------------------------- mapping

def _stripped_name(name: str) -> str:
    """A column name without its unit: ``Latitude_degrees`` and ``SOG (kn)`` -> ``latitude``,
    ``sog``; the name itself when it is all units (``UTC``)."""
    text = re.sub(r"[(\[{][^)\]}]*[)\]}]", " ", name)  # (deg), [UTC], {kn}
    words = [w for w in re.split(r"[\s#_\-/.,:;]+", text.lower()) if w]
    while len(words) > 1 and words[-1] in _UNIT_WORDS:
        words.pop()
    while len(words) > 1 and words[0] in _UNIT_WORDS:
        words.pop(0)
    return "".join(words) or _norm_name(name)


def auto_mapping(names: Iterable[str]) -> dict[str, str]:
    """Map our fields to the given source column names by :data:`ALIASES`: a name as it is,
    else without the unit it carries (``Latitude_degrees``, ``SOG_knots``, ``Time (UTC)``)."""
    by_norm: dict[str, str] = {}
    for n in names:
        by_norm.setdefault(_norm_name(n), n)
    by_stripped: dict[str, str] = {}
    for n in names:
        by_stripped.setdefault(_stripped_name(n), n)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for lookup in (by_norm, by_stripped):
        for target, aliases in ALIASES.items():
            if target in mapping:
                continue
            for alias in aliases:
                src = lookup.get(_norm_name(alias))
                if src and src not in used:
                    mapping[target] = src
                    used.add(src)
                    break
    return mapping


def _preset_mapping(fmt: str, names: list[str]) -> dict[str, str]:
    by_norm = {_norm_name(n): n for n in names}
    return {t: by_norm[_norm_name(c)] for t, c in _PRESETS[fmt].items() if _norm_name(c) in by_norm}


def parse_columns_option(text: str) -> dict[str, str]:
    """``"mmsi=ssvid,ts=timestamp"`` -> ``{"mmsi": "ssvid", "ts": "timestamp"}``."""
    mapping: dict[str, str] = {}
    for part in text.split(","):
        target, eq, source = part.partition("=")
        target, source = target.strip(), source.strip()
        if not eq or not target or not source:
            raise InputError(f"--columns: expected FIELD=COLUMN, got {part.strip()!r} "
                             "(e.g. --columns mmsi=ssvid,ts=timestamp)")
        if target not in FIELDS:
            raise InputError(f"--columns: unknown field {target!r}; fields are: {', '.join(FIELDS)}")
        if target in mapping:
            raise InputError(f"--columns: field {target!r} given twice")
        mapping[target] = source
    return mapping


def _check_mapping(mapping: dict[str, str], names: list[str] | None, where: str) -> None:
    if names is not None:
        unknown = sorted(set(mapping.values()) - set(names))
        if unknown:
            raise InputError(f"column(s) {', '.join(map(repr, unknown))} not in {where}; "
                             f"columns are: {', '.join(n for n in names if n)}")
    missing = [f for f in REQUIRED_FIELDS if f not in mapping]
    if missing:
        shown = ", ".join(n for n in (names or []) if n)
        raise InputError(
            f"cannot tell which column holds {', '.join(missing)} in {where}"
            + (f" (columns: {shown})" if shown else "")
            + "; name them with --columns "
            + ",".join(f"{f}=..." for f in missing)
        )


# ------------------------------------------------------------------- sniffing

def _split_line(line: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True))
    except (csv.Error, StopIteration):
        return None


def _detect_delimiter(lines: list[str]) -> str | None:
    """The delimiter giving the most header fields that the data lines agree with."""
    best: tuple[int, str] | None = None
    for d in _DELIMITERS:
        header = _split_line(lines[0], d)
        if header is None or len(header) < 2:
            continue
        rest = [_split_line(x, d) for x in lines[1:]]
        agree = sum(1 for r in rest if r is not None and len(r) == len(header))
        if rest and agree * 2 < len(rest):
            continue
        if best is None or len(header) > best[0]:
            best = (len(header), d)
    return best[1] if best else None


def _header_format(names: list[str]) -> ArchiveFormat:
    norm = {_norm_name(n) for n in names}
    if {"timestamp", "typeofmobile", "mmsi", "latitude"} <= norm:
        return "dma"
    if {"MMSI", "BaseDateTime", "LAT", "LON"} <= {n.strip() for n in names}:
        return "noaa"
    return "generic"


def sniff_archive(first_lines: list[str]) -> tuple[ArchiveFormat, dict[str, str]] | None:
    """Recognise an archive from its first non-empty lines.

    Returns ``(format, mapping)`` where mapping is {our field: source column}.
    A delimited table or JSON object whose columns cannot all be mapped is still
    reported as ``generic`` with the partial mapping, so that decoding it raises
    an error that asks for ``--columns`` instead of treating it as NMEA. None
    for NMEA and anything that is not a table.
    """
    lines = [x.lstrip("\ufeff") for x in first_lines if x.strip()]
    if not lines:
        return None
    if lines[0].lstrip().startswith("{"):
        try:
            obj = json.loads(lines[0])
        except ValueError:
            return None
        return ("generic", auto_mapping(obj)) if isinstance(obj, dict) else None
    if _NMEA_RE.search(lines[0]):
        return None
    delimiter = _detect_delimiter(lines)
    if delimiter is None:
        return None
    names = [n.strip() for n in _split_line(lines[0], delimiter) or []]
    if not any(re.search(r"[A-Za-z]", n) for n in names):
        return None  # a data row, not a header
    fmt = _header_format(names)
    mapping = auto_mapping(names) if fmt == "generic" else _preset_mapping(fmt, names)
    return fmt, mapping


# ------------------------------------------------------------------- layout

@dataclass(frozen=True)
class _Layout:
    kind: Literal["csv", "json"]
    mapping: dict[str, str]  # our field -> source column name / JSON key
    delimiter: str = ","
    names: tuple[str, ...] = ()
    header_text: str | None = None


def _csv_layout(fmt: ArchiveFormat, header: str, columns: dict[str, str] | None) -> _Layout:
    header = header.rstrip("\r")
    delimiter = "," if fmt != "generic" else (_detect_delimiter([header]) or ",")
    names = [n.strip() for n in _split_line(header, delimiter) or [header]]
    mapping = auto_mapping(names) if fmt == "generic" else _preset_mapping(fmt, names)
    mapping.update(columns or {})
    _check_mapping(mapping, names, f"the {fmt} header")
    return _Layout("csv", mapping, delimiter, tuple(names), header)


def _json_layout(first: dict[str, Any] | None, columns: dict[str, str] | None) -> _Layout:
    mapping = auto_mapping(first or {})
    mapping.update(columns or {})
    _check_mapping(mapping, None, "the JSON lines")
    return _Layout("json", mapping)


# ------------------------------------------------------------- value parsing

def _nullify(s: pl.Expr) -> pl.Expr:
    s = s.str.strip_chars()
    return pl.when(s.is_in(_NULL_TOKENS)).then(None).otherwise(s)


def _empty_null(s: pl.Expr) -> pl.Expr:
    return pl.when(s.str.strip_chars() == "").then(None).otherwise(s)


def _float(s: pl.Expr, decimal_comma: bool) -> pl.Expr:
    if decimal_comma:
        s = s.str.replace(",", ".", literal=True)
    return s.cast(pl.Float64, strict=False)


def _int(s: pl.Expr, dtype: pl.DataType, lo: int, hi: int, *, round_ok: bool = False,
         decimal_comma: bool = False) -> pl.Expr:
    f = _float(s, decimal_comma)
    ok = f.is_finite() & (f >= lo) & (f <= hi)
    if not round_ok:
        ok = ok & (f.round(0) == f)
    return pl.when(ok).then(f.round(0)).otherwise(None).cast(dtype)


def _coded(s: pl.Expr, table: dict[str, int], dtype: pl.DataType, lo: int, hi: int) -> pl.Expr:
    """A numeric code, or text looked up in ``table`` (unknown text -> NULL)."""
    key = s.str.to_lowercase().str.replace_all(r"\s+", " ")
    text = key.replace_strict(table, default=None, return_dtype=pl.Int64)
    return pl.coalesce(_int(s, pl.Int64(), lo, hi), text).cast(dtype)


def _msg_class(s: pl.Expr) -> pl.Expr:
    code = _coded(s, CLASS_TEXT, pl.Int8(), 1, 27)
    return pl.when(code.is_in(_CLASS_NUMBERS)).then(code).otherwise(None)


def _timestamp(s: pl.Expr) -> pl.Expr:
    """Parse every accepted time form to UTC microseconds (NULL if none fits)."""
    iso = (s.str.replace(r"^(\d{4}-\d{2}-\d{2}) +", "${1}T")
           .str.replace(r"\s*(?:[zZ]|UTC)$", "+00:00"))
    opts: dict[str, Any] = {"strict": False, "time_unit": "us", "time_zone": "UTC"}
    naive = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", **opts)
    aware = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", **opts)
    dmy = s.str.to_datetime("%d/%m/%Y %H:%M:%S", **opts)
    num = s.cast(pl.Float64, strict=False)
    us = pl.when(num.abs() >= 1e11).then(num * 1_000).otherwise(num * 1_000_000)
    epoch = pl.from_epoch(us.cast(pl.Int64, strict=False), time_unit="us").dt.replace_time_zone("UTC")
    return pl.coalesce(naive, aware, dmy, epoch).cast(UTC_US)


def _eta(s: pl.Expr) -> pl.Expr:
    parsed = s.str.to_datetime("%d/%m/%Y %H:%M:%S", strict=False, time_unit="us")
    return pl.coalesce(parsed.dt.strftime("%m-%dT%H:%M"), s)


def _typed_exprs(decimal_comma: bool) -> dict[str, pl.Expr]:
    """Our field -> expression turning its (nullified) source text into its type."""
    def c(field: str) -> pl.Expr:
        return pl.col(_PRE + field)

    dc = decimal_comma
    return {
        "mmsi": _int(c("mmsi"), pl.Int32(), 1, 999_999_999, decimal_comma=dc),
        "ts": _timestamp(c("ts")),
        "lat": _float(c("lat"), dc),
        "lon": _float(c("lon"), dc),
        "sog": _float(c("sog"), dc).round(1),
        "cog": _float(c("cog"), dc).round(1),
        "heading": _int(c("heading"), pl.Int16(), -32768, 32767, round_ok=True, decimal_comma=dc),
        "nav_status": _coded(c("nav_status"), NAV_STATUS_TEXT, pl.Int8(), -128, 127),
        "class": _msg_class(c("class")),
        "imo": _int(c("imo").str.strip_prefix("IMO").str.strip_prefix("imo").str.strip_chars_start(),
                    pl.Int32(), 0, 2**31 - 1),
        "ship_type": _coded(c("ship_type"), SHIP_TYPE_TEXT, pl.Int16(), -32768, 32767),
        "epfd": _coded(c("epfd"), EPFD_TEXT, pl.Int8(), -128, 127),
        "draught": _float(c("draught"), dc),
        "to_bow": _int(c("to_bow"), pl.Int16(), -32768, 32767, decimal_comma=dc),
        "to_stern": _int(c("to_stern"), pl.Int16(), -32768, 32767, decimal_comma=dc),
        "to_port": _int(c("to_port"), pl.Int16(), -32768, 32767, decimal_comma=dc),
        "to_starboard": _int(c("to_starboard"), pl.Int16(), -32768, 32767, decimal_comma=dc),
    }


# ------------------------------------------------------------------- decoder

class _Decoder:
    """Decodes chunks of lines of one file; keeps the per-MMSI static state."""

    def __init__(self, layout: _Layout) -> None:
        self.layout = layout
        self.state = pl.DataFrame(schema={"mmsi": pl.Int32(), "_state_sig": pl.String()})
        idx = {n: i for i, n in reversed(list(enumerate(layout.names)))}
        self.index = {t: idx[src] for t, src in layout.mapping.items() if src in idx}

    # -- line splitting: -> frame of line_no, raw, _s_<field> text, plus rejects

    def _split_csv(self, df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        lay = self.layout
        orig = df["raw"].str.strip_chars_end("\r")
        text, bad_quote, sep = orig, pl.Series([False] * len(df), dtype=pl.Boolean), lay.delimiter
        quoted = orig.str.contains('"', literal=True)
        if quoted.any():  # rare: re-split those lines with csv, join all on _SEP
            idx = quoted.arg_true().to_list()
            fixed = [_split_line(orig[i], lay.delimiter) for i in idx]
            text = orig.str.replace_all(lay.delimiter, _SEP, literal=True).scatter(
                idx, pl.Series([_SEP.join(f) if f is not None else "" for f in fixed], dtype=pl.String))
            bad = [i for i, f in zip(idx, fixed, strict=True) if f is None]
            if bad:
                bad_quote = bad_quote.scatter(bad, True)
            sep = _SEP
        n = len(lay.names)
        df = df.with_columns(_orig=orig, _bq=bad_quote, _fields=text.str.split(sep))
        nf = pl.col("_fields").list.len()
        blank = pl.col("_orig").str.strip_chars() == ""
        header = pl.col("_orig") == lay.header_text if lay.header_text is not None else pl.lit(False)
        df = df.with_columns(
            reason=pl.when(blank).then(pl.lit("empty_line"))
            .when(header).then(pl.lit("not_ais"))
            .when(pl.col("_bq") | (nf != n)).then(pl.lit("truncated")),
            detail=pl.when(blank).then(None)
            .when(header).then(pl.lit("repeated header line"))
            .when(pl.col("_bq")).then(pl.lit("unterminated quote"))
            .when(nf != n).then(pl.format("{} fields, expected {}", nf, pl.lit(n))),
        )
        rejects = df.filter(pl.col("reason").is_not_null()).select(REJECT_SCHEMA.keys())
        good = df.filter(pl.col("reason").is_null()).select(
            "line_no", "raw",
            *[pl.col("_fields").list.get(i, null_on_oob=True).alias(_PRE + t)
              for t, i in self.index.items()],
        )
        return good, rejects

    def _split_json(self, df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        keys = list(self.layout.mapping.items())
        cols: dict[str, list[Any]] = {"line_no": [], "raw": [], **{_PRE + t: [] for t, _ in keys}}
        rejects: list[tuple[int, str, str | None, str]] = []
        for line_no, raw in zip(df["line_no"].to_list(), df["raw"].to_list(), strict=True):
            if not raw.strip():
                rejects.append((line_no, "empty_line", None, raw))
                continue
            try:
                obj = json.loads(raw)
            except ValueError as e:
                rejects.append((line_no, "garbage", f"not JSON: {e}", raw))
                continue
            if not isinstance(obj, dict):
                rejects.append((line_no, "garbage", "JSON line is not an object", raw))
                continue
            cols["line_no"].append(line_no)
            cols["raw"].append(raw)
            for t, k in keys:
                cols[_PRE + t].append(_json_text(obj.get(k)))
        good = pl.DataFrame(cols, schema={"line_no": pl.Int64(), "raw": pl.String(),
                                          **{_PRE + t: pl.String() for t, _ in keys}})
        rej = pl.DataFrame(rejects, schema=REJECT_SCHEMA, orient="row")
        return good, rej

    # -- typing and rejects

    def _type(self, df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        present = [t for t in FIELDS if _PRE + t in df.columns]
        df = df.with_columns(
            *[(_empty_null(pl.col(_PRE + t)) if t in _TEXT_FIELDS
               else _nullify(pl.col(_PRE + t))).alias(_PRE + t) for t in present],
            *[pl.lit(None, dtype=pl.String).alias(_PRE + t) for t in FIELDS if t not in present],
        )
        exprs = _typed_exprs(self.layout.delimiter != ",")
        df = df.with_columns(
            *[e.alias(t) for t, e in exprs.items()],
            *[pl.col(_PRE + t).alias(t) for t in _TEXT_FIELDS],
            pl.coalesce(_eta(pl.col(_PRE + "eta")), pl.col(_PRE + "eta")).alias("eta"),
        )

        def failed(t: str) -> pl.Expr:
            return pl.col(_PRE + t).is_not_null() & pl.col(t).is_null()

        def shown(t: str) -> pl.Expr:
            return pl.format(f"{self.layout.mapping.get(t, t)}='{{}}'", pl.col(_PRE + t))

        checks: list[tuple[str, pl.Expr, pl.Expr]] = [
            ("bad_mmsi", pl.col(_PRE + "mmsi").is_null(), pl.lit("MMSI missing")),
            ("bad_mmsi", failed("mmsi"), shown("mmsi")),
            ("no_timestamp", pl.col(_PRE + "ts").is_null(), pl.lit(None, pl.String)),
            ("bad_timestamp", failed("ts"), shown("ts")),
        ] + [("bad_value", failed(t), shown(t)) for t in exprs if t not in _LENIENT]
        reason: Any = pl.lit(None, dtype=pl.String)
        detail: Any = pl.lit(None, dtype=pl.String)
        for r, cond, d in reversed(checks):
            reason = pl.when(cond).then(pl.lit(r)).otherwise(reason)
            detail = pl.when(cond).then(d).otherwise(detail)
        df = df.with_columns(reason=reason)
        bad = df.filter(pl.col("reason").is_not_null())
        rejects = bad.with_columns(detail=detail).select(REJECT_SCHEMA.keys())  # details for bad rows only
        good = df.filter(pl.col("reason").is_null()).drop("reason", *[_PRE + t for t in FIELDS])
        return good, rejects

    # -- outputs

    def _statics(self, vessels: pl.DataFrame) -> pl.DataFrame:
        has_static = pl.any_horizontal(*[pl.col(f).is_not_null() for f in _STATIC_FIELDS])
        sig = pl.concat_str([pl.col(f).cast(pl.String).fill_null("\x00") for f in _STATIC_FIELDS],
                            separator="|")
        st = (vessels.filter(has_static).with_columns(_sig=sig)
              .with_columns(_prev=pl.col("_sig").shift(1).over("mmsi"))
              .join(self.state, on="mmsi", how="left", maintain_order="left"))
        prev = pl.coalesce("_prev", "_state_sig")
        st = st.filter(prev.is_null() | (pl.col("_sig") != prev))
        if not st.is_empty():
            last = st.group_by("mmsi", maintain_order=True).agg(pl.col("_sig").last().alias("_state_sig"))
            self.state = pl.concat([self.state.join(last, on="mmsi", how="anti"), last])
        out = st.with_columns(
            msg_type=pl.when(pl.col("class").is_null()).then(None)
            .when(pl.col("class").is_in([18, 19])).then(24).otherwise(5),
            dedup=pl.format("{}|{}|{}", pl.col("mmsi"), _ts_text(), pl.col("_sig")),
        )
        return _conform(out, STATIC_SCHEMA)

    def decode(self, chunk: list[tuple[int, str]]) -> Batch:
        too_long = [(n, t) for n, t in chunk if t.__class__ is TooLong]
        rest = [(n, t) for n, t in chunk if t.__class__ is not TooLong] if too_long else chunk
        nos, raws = zip(*rest, strict=True) if rest else ((), ())
        df = pl.DataFrame({"line_no": list(nos), "raw": list(raws)},
                          schema={"line_no": pl.Int64(), "raw": pl.String()})
        split = self._split_csv if self.layout.kind == "csv" else self._split_json
        good, rej1 = split(df)
        if too_long:
            rej1 = pl.concat([rej1, pl.DataFrame(
                [(n, "line_too_long", t.detail(), _escaped(t)) for n, t in too_long],
                schema=REJECT_SCHEMA, orient="row")])
        good, rej2 = self._type(good)
        good = good.with_columns(dedup=pl.concat_str(
            [pl.col("mmsi").cast(pl.String), _ts_text()]
            + [pl.col(f).cast(pl.String).fill_null("") for f in ("lat", "lon", "sog", "cog", "heading")],
            separator="|"))
        kind = pl.col("class")
        vessels = good.filter(kind.is_null() | ~kind.is_in([BASE_STATION_TYPE, *COUNT_ONLY_TYPES]))
        bases = good.filter(kind == BASE_STATION_TYPE)
        counts: Counter[int] = Counter()
        for k, n in good.group_by("class").len().iter_rows():
            counts[UNKNOWN_CLASS if k is None else int(k)] += n
        entries = LineEntries()
        entries.add(good.filter(kind.is_in(COUNT_ONLY_TYPES))["line_no"].to_numpy(), accounting.OTHER_TYPE)
        return Batch(
            positions=_conform(vessels.with_columns(msg_type=kind), POSITION_SCHEMA),
            statics=self._statics(vessels),
            base_stations=_conform(bases, BASE_STATION_SCHEMA),
            rejects=pl.concat([rej1, rej2]).sort("line_no").cast(REJECT_SCHEMA),  # type: ignore[arg-type]
            type_counts=counts,
            lines=len(chunk),
            dedup_window_s=0,
            entries=entries,
            last_line=max((c[0] for c in chunk), default=0),
        )


def _escaped(text: str) -> str:
    """A line kept as raw text with its control characters escaped."""
    return text.encode("unicode_escape").decode("ascii") if _CONTROL.search(text) else str(text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _ts_text() -> pl.Expr:
    return pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")


def _json_text(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool | int | float):
        return str(v)
    return json.dumps(v)


def _conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select ``schema``'s columns in order, NULL where ``df`` lacks one."""
    if df.is_empty():
        return empty_frame(schema)
    return df.select(
        [(pl.col(n) if n in df.columns else pl.lit(None)).cast(t).alias(n) for n, t in schema.items()]
    )


# ------------------------------------------------------------------- driver

@dataclass
class ArchiveState:
    """Where decoding an archive stands, as a value (it pickles): its layout once the header
    is read, the blank lines before the header, the lines already read for it, and the
    decoder's static state per MMSI. ``shiptrack.decode.stream.decode`` carries it between
    chunks, as it carries the NMEA framer's."""

    fmt: ArchiveFormat
    columns: dict[str, str] | None = None
    decoder: _Decoder | None = None  # None until the header is read
    lead: list[tuple[int, str]] = field(default_factory=list)  # blank lines before the header
    header_no: int | None = None  # the header's line (None: JSON lines have none)
    read_through: int = 0  # lines up to this one were read for the header (and not again)
    reported: bool = False  # the blank lines and the header are in a batch already

    def __post_init__(self) -> None:
        if self.fmt not in ("dma", "noaa", "generic"):
            raise InputError(f"unknown archive format {self.fmt!r}; expected dma, noaa or generic")

    def open(self, lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """Read the header from the first lines, if it is among them (a header that cannot be
        understood raises :class:`InputError`); returns the lines after it. JSON lines have
        no header: their first object names the fields."""
        if lines and lines[0][0] <= self.read_through:  # read already, for the header
            lines = [(n, t) for n, t in lines if n > self.read_through]
        if self.decoder is not None:
            return lines
        at = next((i for i, (_, t) in enumerate(lines) if t.strip()), None)
        if at is None:
            self.lead += lines
            self.read_through = max(self.read_through, lines[-1][0]) if lines else self.read_through
            return []
        self.lead += lines[:at]
        no, header = lines[at]
        if self.fmt == "generic" and header.lstrip().startswith("{"):
            layout = _json_layout(_first_object(lines[at:]), self.columns)
            self.read_through = no - 1
            rest = lines[at:]
        else:
            layout = _csv_layout(self.fmt, header, self.columns)
            self.header_no = self.read_through = no
            rest = lines[at + 1:]
        self.decoder = _Decoder(layout)
        return rest

    def decode(self, lines: list[tuple[int, str]], end: bool = False) -> Batch:
        """The batch of these lines (the lines after those decoded before, in order). ``end``:
        the archive ends with them (a file of blank lines then gives its rejects)."""
        rest = self.open(lines)
        if self.decoder is None:
            if not end:
                return Batch(dedup_window_s=0)
            self.decoder = _Decoder(_Layout("csv", {}, names=("",)))  # nothing but blank lines
        batch = self.decoder.decode(rest)
        if not self.reported:
            self.reported = True
            if self.lead:
                lead = pl.DataFrame([(n, "empty_line", None, t) for n, t in self.lead],
                                    schema=REJECT_SCHEMA, orient="row")
                batch.rejects = pl.concat([lead, batch.rejects])
                batch.last_line = max(batch.last_line, self.lead[-1][0])
            batch.lines += len(self.lead) + (self.header_no is not None)
            if self.header_no is not None:
                batch.entries.add([self.header_no], accounting.HEADER)
                batch.last_line = max(batch.last_line, self.header_no)
            self.lead = []
        return batch


def decode_archive(
    lines: Iterable[tuple[int, str]],
    fmt: ArchiveFormat,
    columns: dict[str, str] | None = None,
    batch_rows: int = 50_000,
) -> Iterator[Batch]:
    """Decode an archive's ``(line_no, text)`` lines into batches of ``batch_rows`` lines
    (an :class:`ArchiveState` over them).

    The header is read when this function is called, so a header that cannot be
    understood raises :class:`InputError` at once; the rows are read lazily.
    Header lines (and blank lines before them, as ``empty_line`` rejects) are
    counted in the first batch's ``lines``.
    """
    state = ArchiveState(fmt, columns)
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    it = iter(lines)
    first = list(islice(it, batch_rows))
    if not first:
        return iter(())
    state.open(first)
    return _batches(state, first, it, batch_rows)


def _first_object(chunk: list[tuple[int, str]]) -> dict[str, Any] | None:
    for _, text in chunk:
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def _batches(state: ArchiveState, chunk: list[tuple[int, str]], it: Iterator[tuple[int, str]],
             batch_rows: int) -> Iterator[Batch]:
    while True:
        last = len(chunk) < batch_rows
        yield state.decode(chunk, end=last)
        if last:
            return
        chunk = list(islice(it, batch_rows))
        if not chunk:
            return
