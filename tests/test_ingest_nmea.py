"""Ingest of NMEA files through the real CLI into a real DuckDB store.

Every timestamp layout found in the real files of ../shared/data (copied into
fixtures/nmea with provenance) is ingested, and exact counts and times asserted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, query, run_cli

NMEA = FIXTURES / "nmea"


def ingest(db: Path, *paths: Path | str, args: tuple[str, ...] = ()) -> str:
    result = run_cli(["ingest", *map(str, paths), *args], db)
    assert result.exit_code == 0, result.output
    return result.output


def span(db: Path) -> tuple:
    return query(db, "SELECT count(*), min(ts), max(ts) FROM positions")[0]


def reject_counts(db: Path) -> dict[str, int]:
    return dict(query(db, "SELECT reason, count(*) FROM rejects GROUP BY reason"))


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


# (file, time layout, positions stored, first ts, last ts)
LAYOUTS = [
    ("norwegian.raw", "tag block s:,c: (Kystverket)", 136, utc(2024, 12, 9, 22, 7, 14), utc(2024, 12, 9, 22, 7, 19)),
    ("nmea-timestamped.txt", "tag block c: with *00 checksum (AMSA)", 99, utc(2014, 12, 31, 12, 59, 57), utc(2014, 12, 31, 13, 0, 1)),
    # c:1599239526500 is 17:12:06.5 UTC (the line's T: field shows local time, 18.12.06)
    ("gfw-sample-ms.nmea", "tag block c: in milliseconds", 1, utc(2020, 9, 4, 17, 12, 6, 500000), utc(2020, 9, 4, 17, 12, 6, 500000)),
    # 2 of its 4 sentences have no $PGHP before them, and one $PGHP has a bad checksum
    ("timestamped.ais", "Gatehouse $PGHP before the sentence", 1, utc(2008, 5, 9, 0, 0, 0, 10000), None),
    ("replay_dump.txt", "$PGHP + !BSVDM (DMA)", 45, utc(2013, 3, 18, 9, 19, 9, 499000), None),
    # 6 of its position sentences are rejected (type 27 with lon 218 or -195, short payloads), and
    # 3 type 27 of 200, 320 and 376 bits (bad_payload: a type 27 is 96 bits, or 168 in the wild);
    # 2 are kept with their out-of-range course (363) set to NULL and recorded as bad_cog
    ("test.aivdm", "USCG trailer ,b003669794,1272412827", 25, None, None),
    ("exact-earth-augmented-2.head400.txt", "$PGHP and a trailing unix ms time", None, None, None),
    ("ais-nmea.log", "only the receiver's $GPRMC clock", None, None, None),
    ("norwegian-prefixed.derived.nmea", "unix / ISO-8601 prefix", 136, utc(2024, 12, 9, 22, 7, 14), None),
]


@pytest.mark.parametrize(("name", "layout", "n_pos", "first", "last"), LAYOUTS, ids=[x[0] for x in LAYOUTS])
def test_every_timestamp_layout_is_ingested(db: Path, name: str, layout: str, n_pos, first, last) -> None:
    ingest(db, NMEA / name)
    n, lo, hi = span(db)
    assert n > 0, layout
    if n_pos is not None:
        assert n == n_pos, layout
    if first is not None:
        assert lo == first, layout
    if last is not None:
        assert hi == last, layout
    # every stored row cites its file and line, and the raw sentence holds its payload
    rows = query(db, "SELECT s.name, p.line_no, p.raw FROM positions p JOIN sources s USING (source_id)")
    assert all(r[0].endswith(name) and r[1] >= 1 and "VDM" in r[2] or "VDO" in r[2] for r in rows)


def test_pghp_times_its_message_and_the_arrival_trailer_times_nothing(db: Path) -> None:
    # exactEarth: $PGHP gives the satellite receive time (20:14-21:47), the trailer the
    # arrival at the ground station 15-110 min later: another clock. auto times each message
    # by the $PGHP that names its checksum; a message with only the trailer is a
    # no_timestamp reject saying why; --time-from trailer stores every message at its arrival.
    path = NMEA / "exact-earth-augmented-2.head400.txt"
    ingest(db, path)
    detail = query(db, "SELECT format_detail FROM sources")[0][0]
    assert "time from pghp (" in detail and "trailer (" not in detail and "WARNING" not in detail
    assert "trailing times are another clock (ground arrival)" in detail
    n, lo, hi = span(db)
    assert n > 0 and lo >= utc(2012, 2, 1, 20, 14) and hi <= utc(2012, 2, 1, 21, 48)
    arrival = query(db, "SELECT count(*) FROM rejects WHERE reason = 'no_timestamp' "
                        "AND detail LIKE '%ground-arrival clock%--time-from trailer%'")[0][0]
    assert arrival == reject_counts(db)["no_timestamp"] > 0
    assert f"{arrival} rejected (no_timestamp) for a clock not trusted" in detail
    strict = db.with_name("strict.duckdb")
    ingest(strict, path, args=("--time-from", "pghp"))
    assert span(strict) == (n, lo, hi)
    trailer = db.with_name("trailer.duckdb")
    ingest(trailer, path, args=("--time-from", "trailer"))
    assert span(trailer)[0] > n
    assert query(trailer, "SELECT min(ts) FROM positions")[0][0] > utc(2012, 2, 1, 21)  # arrival times


def test_uscg_trailer_time_and_station(db: Path) -> None:
    ingest(db, NMEA / "test.aivdm")
    row = query(db, "SELECT ts, station FROM positions WHERE raw LIKE '!AIVDM,1,1,,A,15B4FT5000JRP>PE6E68Nbkl0PS5,0*70%'")
    assert row == [(utc(2010, 4, 28, 0, 0, 27), "b003669794")]


def test_gprmc_receiver_clock_places_messages(db: Path) -> None:
    ingest(db, NMEA / "ais-nmea.log")
    n, lo, hi = span(db)
    assert n > 100
    assert lo.date() == hi.date()
    assert "no_timestamp" in reject_counts(db)  # the sentences before the first $GPRMC


def test_joined_sentences_and_groups_are_assembled(db: Path) -> None:
    # MarineTraffic relays join tag-block+sentence pairs on one line; exactEarth
    # groups put c: only on the first part; DMA ais250 joins two parts with a literal "\r\n".
    ingest(db, NMEA / "bad-type5.nmea", NMEA / "ee-multiline.nmea", NMEA / "ais250.txt")
    per_file = dict(query(db, "SELECT s.name, count(r.mmsi) FROM sources s LEFT JOIN static_reports r "
                              "USING (source_id) GROUP BY s.name"))
    assert per_file == {str(NMEA / "bad-type5.nmea"): 0, str(NMEA / "ee-multiline.nmea"): 2,
                        str(NMEA / "ais250.txt"): 0}
    # the "bad type 5" of that file are assembled (each from the two sentences of one line), and
    # are 400, 444 and 448 bits long: a type 5 is 424 (420-426 in the wild), so they are rejects
    details = [r[0] for r in query(db, "SELECT r.detail FROM rejects r JOIN sources s USING (source_id) "
                                       "WHERE s.name LIKE '%bad-type5.nmea' AND r.reason = 'bad_payload' "
                                       "ORDER BY r.line_no")]
    assert details == [f"type 5 with {n} bits; type 5 has 420-426 bits" for n in (448, 400, 444)]
    assert query(db, "SELECT count(*) FROM rejects WHERE reason = 'orphan_fragment'")[0][0] == 0
    names = [r[0] for r in query(db, "SELECT name FROM static_reports ORDER BY name")]
    assert all(n is None or n == n.strip() for n in names)


def test_summary_reports_types_rejects_and_span(db: Path) -> None:
    out = ingest(db, NMEA / "mixed.txt")
    assert "lines read" in out and "messages decoded" in out and "duplicates skipped" in out
    assert "not_ais" in out and "empty_line" in out and "bad_tagblock" in out
    assert "Store now holds" in out


def test_sources_row_records_counts_and_sha256(db: Path) -> None:
    import hashlib
    ingest(db, NMEA / "norwegian.raw")
    (sha, lines, pos, rej, fmt, types) = query(
        db, "SELECT sha256, lines_read, positions, rejects, format, type_counts FROM sources")[0]
    assert sha == hashlib.sha256((NMEA / "norwegian.raw").read_bytes()).hexdigest()
    assert lines == 223 and pos == 136 and fmt == "nmea"
    assert rej == query(db, "SELECT count(*) FROM rejects")[0][0]
    assert '"5"' in types


def test_store_span_is_what_the_vessels_view_gives(db: Path) -> None:
    """The summary's 'Store now holds N vessels, A to B' is computed without the vessels view."""
    import duckdb

    from shiptrack.ingest import store_span

    con = duckdb.connect(str(db))
    from shiptrack.store.db import ensure_schema

    ensure_schema(con)
    assert store_span(con) == (0, None, None)
    con.close()
    ingest(db, NMEA / "norwegian.raw", NMEA / "test.aivdm", FIXTURES / "ural" / "ural.nmea")
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    view = con.sql("SELECT count(*), min(first_seen), max(last_seen) FROM vessels").fetchall()[0]
    static_only = con.sql("SELECT count(*) FROM (SELECT mmsi FROM static_reports EXCEPT SELECT mmsi FROM positions)"
                          ).fetchall()[0][0]
    assert store_span(con) == view and view[0] > 0 and static_only > 0  # vessels heard only by static reports count
    con.close()
