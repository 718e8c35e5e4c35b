"""Where an NMEA receive time can come from (the names ``--time-from`` accepts; the
order in which ``auto`` tries them). Kept apart from :mod:`shiptrack.decode.nmea` so
that the command line can offer them without loading the decoder."""

from __future__ import annotations

from typing import Literal

TimeSource = Literal["auto", "tagblock", "pghp", "prefix", "trailer", "rmc", "basestation"]
TIME_SOURCES: tuple[str, ...] = ("tagblock", "pghp", "prefix", "trailer", "rmc")
# ``basestation``: as ``auto``, but a sentence with no stamp of its own takes the time of the
# type 4 base-station report before it (the receiver's only clock in many raw logs) instead
# of a $GPRMC/$GPZDA receiver clock. Only on request: a base station's clock can be wrong.
TIME_CHOICES: tuple[str, ...] = ("auto", *TIME_SOURCES, "basestation")
