"""The coverage table: what the store heard, per receiver, 0.5-degree cell and hour.

Ingest keeps it up to date file by file; the result must equal a rebuild from all the
positions, also when two files share a receiver and hours (distinct vessels cannot be
added up), and a store made before the table existed gets it when opened.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from shiptrack.store import coverage
from shiptrack.store.db import connect
from tests.conftest import ingest_lines, ping, position, query, run_cli


def table(db: Path) -> list[tuple]:
    return query(db, "SELECT receiver, cell_lat, cell_lon, strftime(hour, '%Y-%m-%dT%H'), messages, vessels "
                     "FROM coverage ORDER BY ALL")


def rebuilt(db: Path) -> list[tuple]:
    con = connect(str(db))
    try:
        con.execute("BEGIN")
        coverage.rebuild(con)
        rows = con.execute("SELECT receiver, cell_lat, cell_lon, strftime(hour, '%Y-%m-%dT%H'), messages, vessels "
                           "FROM coverage ORDER BY ALL").fetchall()
        con.execute("ROLLBACK")
        return rows
    finally:
        con.close()


def test_counts_reports_and_vessels_per_receiver_cell_and_hour(db: Path) -> None:
    lines = [ping(f"2018-02-20T00:{m:02d}:00Z", 32.6, 19.4, mmsi=352000001, station="rA") for m in range(0, 60, 10)]
    lines += [ping("2018-02-20T00:30:00Z", 32.7, 19.45, mmsi=352000002, station="rA")]
    lines += [ping("2018-02-20T01:05:00Z", -33.9, -70.8, mmsi=352000003, station="rB")]  # another cell, hour
    ingest_lines(db, lines)
    assert table(db) == [("rA", 65, 38, "2018-02-20T00", 7, 2), ("rB", -68, -142, "2018-02-20T01", 1, 1)]


def test_updates_from_overlapping_files_equal_a_rebuild(db: Path) -> None:
    a = [ping(f"2018-02-20T00:{m:02d}:00Z", 32.6, 19.4, mmsi=352000001, station="rA") for m in range(0, 60, 5)]
    b = [ping(f"2018-02-20T00:{m:02d}:30Z", 32.6, 19.4, mmsi=352000001, station="rA") for m in range(0, 60, 7)]
    b += [ping(f"2018-02-20T00:{m:02d}:40Z", 32.61, 19.41, mmsi=352000009, station="rA") for m in range(0, 60, 20)]
    b += [ping("2018-02-20T03:00:00Z", 32.6, 19.4, mmsi=352000001, station="rA")]
    ingest_lines(db, a, name="a.nmea")
    ingest_lines(db, b, name="b.nmea")
    ingest_lines(db, b, name="b-again.nmea")  # the same bytes: nothing added
    rows = table(db)
    assert rows == rebuilt(db)
    stored = query(db, "SELECT count(*) FROM positions WHERE ts < '2018-02-20T01:00:00Z'")[0][0]
    assert 20 <= stored < 24  # a's and b's reports of the same payload within 60 s are stored once
    assert rows[0][4:] == (stored, 2)  # one receiver, one cell, one hour: 2 vessels, not 1 + 2


def test_a_file_without_stations_is_its_own_receiver(db: Path) -> None:
    ingest_lines(db, ["1519862400 " + position(352000001, 34.0, 18.0)])  # a logger's time prefix, no tag block
    ((receiver, *_),) = table(db)
    assert receiver == "source:1"


def test_a_store_made_before_the_table_gets_it_when_opened(db: Path) -> None:
    ingest_lines(db, [ping("2018-02-20T00:00:00Z", 32.6, 19.4, station="rA")])
    want = table(db)
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM coverage")
    con.execute("ALTER TABLE events DROP COLUMN segment")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    # a read-only command on it (events reads the segment column) brings it up to date first
    result = run_cli(["events", "--format", "csv"], db)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("event_id,kind,mmsi,segment,")
    assert table(db) == want


def test_reports_list_the_archive_holes_and_the_receivers(db: Path) -> None:
    lines = [ping(f"2018-02-20T{h:02d}:10:00Z", 32.6, 19.4, mmsi=352000001, station="rA") for h in range(0, 4)]
    lines += [ping(f"2018-02-20T{h:02d}:20:00Z", 32.7, 19.5, mmsi=352000002, station="rB") for h in range(12, 15)]
    ingest_lines(db, lines)
    result = run_cli(["report", "run", "archive_holes", "--param", "since=2018-02-01", "--param",
                      "until=2018-03-01", "--format", "csv"], db)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-2:] == ["hole_start_utc,hole_end_utc,hours",
                                               "2018-02-20T04:00:00Z,2018-02-20T12:00:00Z,8.0"]
    result = run_cli(["report", "run", "receivers", "--param", "since=2018-02-01", "--param",
                      "until=2018-03-01", "--format", "csv"], db)
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.output.splitlines() if line.startswith("r")]
    assert [(r[0], r[4], r[6]) for r in rows[1:]] == [("rA", "4", "4"), ("rB", "3", "3")]
