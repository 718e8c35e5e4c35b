"""The ``coverage`` table: when and where the store could hear, per receiver.

One row per receiver, 0.5-degree cell and UTC hour with at least one position report:
how many reports were received there and from how many vessels. A receiver is the
station a sentence names (tag block ``s:``, a USCG trailer), or the source file when it
names none. The rules read it to tell a ship that fell silent from a receiver that did
(nobody else heard there either) or a hole in the archive (nobody heard anywhere).

It is derived from ``positions``: ingest recomputes the hours a file touched, for the
receivers it brought, in the file's own transaction (a count of distinct vessels cannot
be added up, so the hours are recomputed, not incremented).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

CELL_DEG = 0.5

# The receiver of a position row, its cell and its hour: the same expressions wherever
# coverage is computed, so that a rebuild equals the sum of the updates.
_KEYS = """coalesce(station, 'source:' || CAST(source_id AS VARCHAR)) AS receiver,
           CAST(floor(lat / 0.5) AS SMALLINT) AS cell_lat,
           CAST(floor(((lon + 180.0) % 360.0 + 360.0) % 360.0 / 0.5) - 360 AS SMALLINT) AS cell_lon,
           date_trunc('hour', ts) AS hour"""


def update(con: duckdb.DuckDBPyConnection, source_id: int, first_ts: datetime | None,
           last_ts: datetime | None) -> None:
    """Recompute the coverage of the hours ``first_ts``..``last_ts`` for the receivers that
    source ``source_id`` brought (call it inside the source's transaction)."""
    if first_ts is None or last_ts is None:
        return
    bounds = {"sid": source_id, "lo": first_ts, "hi": last_ts}
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cov_receivers AS
        SELECT DISTINCT coalesce(station, 'source:' || CAST(source_id AS VARCHAR)) AS receiver
        FROM positions WHERE source_id = $sid AND lat IS NOT NULL AND lon IS NOT NULL
        """,  # noqa: S608 - constant SQL
        {"sid": source_id},
    )
    con.execute(
        "DELETE FROM coverage WHERE hour >= date_trunc('hour', CAST($lo AS TIMESTAMPTZ)) "
        "AND hour <= date_trunc('hour', CAST($hi AS TIMESTAMPTZ)) "
        "AND receiver IN (SELECT receiver FROM _cov_receivers)",
        {"lo": first_ts, "hi": last_ts},
    )
    con.execute(
        f"""
        INSERT INTO coverage
        SELECT receiver, cell_lat, cell_lon, hour, count(*) AS messages, count(DISTINCT mmsi) AS vessels
        FROM (SELECT mmsi, {_KEYS} FROM positions
              WHERE ts >= date_trunc('hour', CAST($lo AS TIMESTAMPTZ))
                AND ts < date_trunc('hour', CAST($hi AS TIMESTAMPTZ)) + INTERVAL 1 HOUR
                AND lat IS NOT NULL AND lon IS NOT NULL)
        WHERE receiver IN (SELECT receiver FROM _cov_receivers)
        GROUP BY ALL
        """,  # noqa: S608 - constant SQL
        {k: v for k, v in bounds.items() if k != "sid"},
    )
    con.execute("DROP TABLE _cov_receivers")


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the whole table from ``positions`` (stores made before it existed)."""
    con.execute("DELETE FROM coverage")
    con.execute(
        f"""
        INSERT INTO coverage
        SELECT receiver, cell_lat, cell_lon, hour, count(*), count(DISTINCT mmsi)
        FROM (SELECT mmsi, {_KEYS} FROM positions WHERE lat IS NOT NULL AND lon IS NOT NULL)
        GROUP BY ALL
        """  # noqa: S608 - constant SQL
    )
