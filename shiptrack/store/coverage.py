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

import duckdb

CELL_DEG = 0.5

# The receiver of a position row, its cell and its hour (as hours since 1970: integer
# arithmetic, where date_trunc on TIMESTAMPTZ goes through ICU and took three times as
# long), counted per vessel first: the same expressions wherever coverage is computed, so
# that a rebuild equals the sum of the updates.
CELL_HOUR = """CAST(floor(lat / 0.5) AS SMALLINT) AS cell_lat,
           CAST(floor(((lon + 180.0) % 360.0 + 360.0) % 360.0 / 0.5) - 360 AS SMALLINT) AS cell_lon,
           epoch_us(ts) // 3600000000 AS h"""
_PER_VESSEL = """
    SELECT coalesce(station, 'source:' || CAST(source_id AS VARCHAR)) AS receiver,
           {cell_hour}, mmsi, count(*) AS n
    FROM positions
    WHERE lat IS NOT NULL AND lon IS NOT NULL AND {where}
    GROUP BY ALL""".replace("{cell_hour}", CELL_HOUR)
_SELECT = """
    SELECT receiver, cell_lat, cell_lon, to_timestamp(h * 3600) AS hour, sum(n) AS messages, count(*) AS vessels
    FROM ({per_vessel}) GROUP BY receiver, cell_lat, cell_lon, h"""
_INSERT = "INSERT INTO coverage" + _SELECT  # rebuild


def update(con: duckdb.DuckDBPyConnection, source_id: int, positions: str = "positions") -> None:
    """Add source ``source_id``'s positions to the coverage (call it inside the source's
    transaction, after its rows are in). Cells and hours that other sources' rows already
    cover for the same receiver are recomputed from all their rows (``positions``: the
    table or view that holds them)."""
    per_vessel = _PER_VESSEL.replace("FROM positions", f"FROM {positions}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cov_new AS {per_vessel.format(where='source_id = $sid')}",  # noqa: S608
        {"sid": source_id},
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _cov_shared AS
        SELECT DISTINCT c.receiver, c.cell_lat, c.cell_lon, epoch_us(c.hour) // 3600000000 AS h
        FROM coverage c
        JOIN (SELECT DISTINCT receiver, cell_lat, cell_lon, h FROM _cov_new) n
          ON c.receiver = n.receiver AND c.cell_lat = n.cell_lat AND c.cell_lon = n.cell_lon
         AND c.hour = to_timestamp(n.h * 3600)
        """
    )
    if con.sql("SELECT count(*) FROM _cov_shared").fetchall()[0][0]:
        con.execute(
            "DELETE FROM coverage WHERE (receiver, cell_lat, cell_lon, epoch_us(hour) // 3600000000) "
            "IN (SELECT (receiver, cell_lat, cell_lon, h) FROM _cov_shared)"
        )
        where = "epoch_us(ts) // 3600000000 IN (SELECT DISTINCT h FROM _cov_shared)"
        con.execute(
            f"""
            INSERT INTO coverage
            SELECT receiver, cell_lat, cell_lon, to_timestamp(h * 3600), sum(n), count(*)
            FROM ({per_vessel.format(where=where)}) a SEMI JOIN _cov_shared USING (receiver, cell_lat, cell_lon, h)
            GROUP BY receiver, cell_lat, cell_lon, h
            """  # noqa: S608 - constant SQL
        )
    con.execute(
        """
        INSERT INTO coverage
        SELECT receiver, cell_lat, cell_lon, to_timestamp(h * 3600), sum(n), count(*)
        FROM _cov_new a ANTI JOIN _cov_shared USING (receiver, cell_lat, cell_lon, h)
        GROUP BY receiver, cell_lat, cell_lon, h
        """
    )
    con.execute("DROP TABLE _cov_new")
    con.execute("DROP TABLE _cov_shared")


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the whole table from ``positions`` (stores made before it existed)."""
    con.execute("DELETE FROM coverage")
    con.execute(_INSERT.format(per_vessel=_PER_VESSEL.format(where="true")))
