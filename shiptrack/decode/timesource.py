"""Where an NMEA receive time can come from (the names ``--time-from`` accepts; the
order in which ``auto`` tries them). Kept apart from :mod:`shiptrack.decode.nmea` so
that the command line can offer them without loading the decoder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

TimeSource = Literal["auto", "tagblock", "pghp", "prefix", "trailer", "rmc", "basestation"]
TIME_SOURCES: tuple[str, ...] = ("tagblock", "pghp", "prefix", "trailer", "rmc")
# ``basestation``: as ``auto``, but a sentence with no stamp of its own takes the time of the
# type 4 base-station report before it (the receiver's only clock in many raw logs) instead
# of a $GPRMC/$GPZDA receiver clock. Only on request: a base station's clock can be wrong.
TIME_CHOICES: tuple[str, ...] = ("auto", *TIME_SOURCES, "basestation")

# How much later than sent a time may be when it is a trailing time that was not checked
# against another clock (``--time-from trailer``): such a time may be a satellite provider's
# ground-arrival time, which trails the sending by the time to the next downlink. On the
# exactEarth files of amsa-risky it trails their $PGHP times by 17 to 113 minutes, so two
# positions of one ship may have been sent in another order than their times say.
UNCHECKED_TRAILER_SPREAD_S = 7200.0


def time_spread_s(time_from: str, time_sources: Mapping[str, int]) -> float | None:
    """How much later than sent the times of a source may be, beyond a receiver's jitter
    (``sources.time_spread_s``): :data:`UNCHECKED_TRAILER_SPREAD_S` when trailing times were
    taken on request without checking them against another clock, else None (tag blocks,
    $PGHP, receiver clocks, and trailing times ``auto`` found to be the receiver's own).
    The track segmenter allows it between two positions before it calls a jump impossible."""
    if time_from == "trailer" and time_sources.get("trailer"):
        return UNCHECKED_TRAILER_SPREAD_S
    return None
