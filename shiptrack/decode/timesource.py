"""Where an NMEA receive time can come from (the names ``--time-from`` accepts; the
order in which ``auto`` tries them). Kept apart from :mod:`shiptrack.decode.nmea` so
that the command line can offer them without loading the decoder."""

from __future__ import annotations

from typing import Literal

TimeSource = Literal["auto", "tagblock", "pghp", "prefix", "trailer", "rmc"]
TIME_SOURCES: tuple[str, ...] = ("tagblock", "pghp", "prefix", "trailer", "rmc")
