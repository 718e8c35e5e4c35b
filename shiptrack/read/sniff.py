"""Recognise an input's format from its first lines, and say what was chosen."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shiptrack.errors import InputError

FORMATS = ("auto", "nmea", "dma", "noaa", "generic")
_NMEA_RE = re.compile(r"[!$][A-Z-]{2}(VD[MO]|GHP)|\\[a-zA-Z0-9]+:")


@dataclass
class Sniffed:
    format: str
    columns: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def sniff(first_lines: list[str], forced: str = "auto", columns: dict[str, str] | None = None,
          name: str = "input") -> Sniffed:
    """Choose the decoder for a source; ``forced`` (from --format) wins over sniffing."""
    lines = [ln for ln in first_lines if ln.strip()]
    if not lines and forced == "auto":
        return Sniffed("nmea", reason="empty input")
    if forced == "nmea":
        return Sniffed("nmea", reason="--format nmea")
    if forced == "auto" and not columns and sum(1 for ln in lines[:50] if _NMEA_RE.search(ln)) >= max(
        1, min(3, len(lines) // 4)
    ):
        return Sniffed("nmea", reason="AIVDM/AIVDO sentences found")
    from shiptrack.decode import archives

    if forced in ("dma", "noaa", "generic"):
        found = archives.sniff_archive(lines) if lines else None
        mapping = dict(found[1]) if found and found[0] == forced else {}
        mapping.update(columns or {})
        return Sniffed(forced, mapping, reason=f"--format {forced}")
    if columns:
        return Sniffed("generic", dict(columns), reason="--columns given")
    found = archives.sniff_archive(lines) if lines else None
    if found is not None:
        fmt, mapping = found
        return Sniffed(fmt, dict(mapping), reason=f"{fmt} header recognised")
    first = lines[0][:80] if lines else "(empty)"
    raise InputError(
        f"{name}: cannot recognise the format (first line: {first!r}); "
        "use --format nmea|dma|noaa, or --columns mmsi=...,ts=...,lat=...,lon=..."
    )
