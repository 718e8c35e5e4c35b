"""The detection input: TEMP table ``pos`` with a track segment per position.

A segment is a run of positions of one MMSI that one transmitter could have
produced. Most MMSIs are one segment (``seg = 0``). Where one MMSI is broadcast
by two ships at once (a default or copied MMSI), consecutive positions imply
impossible speeds; such tracks are split so that gap and jump rules compare
each ship with itself (as Global Fishing Watch's segmenter does).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb

# How far before --since detection looks, so that a gap or call that began before
# the window is still seen whole.
LOOKBACK = timedelta(days=7)


def prepare(con: duckdb.DuckDBPyConnection, since: datetime | None, until: datetime | None) -> None:
    lo = since - LOOKBACK if since is not None else None
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE pos AS
        SELECT mmsi, ts, lat, lon, sog, cog, heading, nav_status, msg_type, source_id, line_no, dup_key,
               0 AS seg
        FROM positions
        WHERE lat IS NOT NULL AND lon IS NOT NULL
          AND ($lo IS NULL OR ts >= $lo) AND ($until IS NULL OR ts < $until)
        """,
        {"lo": lo, "until": until},
    )
