"""Recognise an input's format from its first lines, and say what was chosen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shiptrack.errors import InputError

FORMATS = ("auto", "nmea", "dma", "noaa", "generic")
# The flag that chooses the input format, on `ingest` and `decode` alike (named in messages).
INPUT_FLAG = "--input-format"
_NMEA_RE = re.compile(r"[!$][A-Z-]{2}(VD[MO]|GHP)|\\[a-zA-Z0-9]+:")
# Any NMEA 0183 sentence with its checksum: `$SDHDG,...*hh`, `$GPRMC,...*hh`, `!AIVDM,...*hh`
# (after a logger's prefix or a tag block, or alone on its line).
_NMEA0183_RE = re.compile(r"[!$][A-Z][A-Z0-9]{2,7},[^\s]*\*[0-9A-Fa-f]{2}")
# Lines read to recognise a format: an instrument log can hold one AIS sentence in twenty
# lines (headings, winds, positions of its own), and a gpsd test file starts with comments.
SNIFF_LINES = 1000
# Lines a table's header and delimiter are recognised from.
_TABLE_LINES = 50


@dataclass
class Sniffed:
    format: str
    columns: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def _comment(line: str) -> bool:
    s = line.lstrip()
    return s.startswith(("#", "//")) and not s.startswith("# Timestamp")


def nmea_reason(lines: list[str]) -> str | None:
    """Why these lines are NMEA 0183 (None if they are not): AIS sentences among them, or
    other NMEA 0183 sentences ($GPRMC, $SDHDG, $WIMWD ...) making up most of the lines. Blank
    and comment lines (# ..., // ...) are not counted."""
    body = [ln for ln in lines if ln.strip() and not _comment(ln)]
    if not body:
        return None
    ais = sum(1 for ln in body if _NMEA_RE.search(ln))
    nmea = sum(1 for ln in body if _NMEA0183_RE.search(ln) or _NMEA_RE.search(ln))
    n = len(body)
    if ais >= max(1, min(3, n // 4)):
        return "AIVDM/AIVDO sentences found"
    if ais and nmea * 2 >= n:
        return f"NMEA 0183 sentences, {ais} of them AIS in the first {n} lines"
    if nmea * 5 >= n * 4:
        return f"NMEA 0183 sentences (no AIS in the first {n} lines)"
    return None


def sniff(first_lines: list[str], forced: str = "auto", columns: dict[str, str] | None = None,
          name: str = "input") -> Sniffed:
    """Choose the decoder for a source; ``forced`` (from --input-format) wins over sniffing."""
    lines = [ln for ln in first_lines if ln.strip()]
    if not lines and forced == "auto":
        return Sniffed("nmea", reason="empty input")
    if forced == "nmea":
        return Sniffed("nmea", reason=f"{INPUT_FLAG} nmea")
    if forced == "auto" and not columns and (why := nmea_reason(lines)) is not None:
        return Sniffed("nmea", reason=why)
    from shiptrack.decode import archives

    table = lines[:_TABLE_LINES]
    if forced in ("dma", "noaa", "generic"):
        found = archives.sniff_archive(table) if table else None
        mapping = dict(found[1]) if found and found[0] == forced else {}
        mapping.update(columns or {})
        return Sniffed(forced, mapping, reason=f"{INPUT_FLAG} {forced}")
    if columns:
        found = archives.sniff_archive(table) if table else None
        mapping = dict(found[1]) if found and found[0] == "generic" else {}
        mapping.update(columns)
        return Sniffed("generic", mapping, reason="--columns given")
    found = archives.sniff_archive(table) if table else None
    if found is not None:
        fmt, mapping = found
        return Sniffed(fmt, dict(mapping), reason=f"{fmt} header recognised")
    first = next((ln for ln in lines if not _comment(ln)), lines[0] if lines else "(empty)")[:80]
    raise InputError(
        f"{name}: cannot recognise the format (first line: {first!r}); "
        f"use {INPUT_FLAG} nmea|dma|noaa, or --columns mmsi=...,ts=...,lat=...,lon=..."
    )
