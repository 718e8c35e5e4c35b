"""The Spark engine finds exactly the DuckDB engine's events, in local mode and on a real
standalone cluster (a master and two workers on 127.0.0.1, separate JVMs).

Inputs: the Ural fixture with its declared routes, and tests/spark/corpus.py, whose
meetings, gaps, archive hole and IMO change sit on the partition borders (cells of
CELL_DEG degrees, vessel shares, midnight). Events are compared column by column (ids,
times, details JSON, evidence); only ``detected_at`` differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from tests.conftest import FIXTURES, ingest_lines, run_cli
from tests.spark.corpus import CELL_DEG, border_corpus

pytest.importorskip("pyspark")

from shiptrack.spark.detect import Layout, detect_events  # noqa: E402
from shiptrack.spark.session import spark_session  # noqa: E402
from shiptrack.spark.standalone import standalone_cluster  # noqa: E402

pytestmark = pytest.mark.slow

COLUMNS = ("event_id, kind, mmsi, other_mmsi, start_utc, end_utc, duration_h, lat, lon, port, port_id, "
           "port_distance_nm, CAST(details AS VARCHAR) AS details, evidence, segment")
BORDER = Layout(shares=4, cell_deg=CELL_DEG, halo_deg=0.5)


def events_of(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(f"SELECT {COLUMNS} FROM events ORDER BY event_id").fetchall()  # noqa: S608
    finally:
        con.close()


def rows_of(table: pa.Table) -> list[tuple]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("found", table)
        return con.execute(f"SELECT {COLUMNS} FROM found ORDER BY event_id").fetchall()  # noqa: S608
    finally:
        con.close()


@pytest.fixture(scope="module")
def ural(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ural") / "ural.duckdb"
    for args in (["ingest", FIXTURES / "ural" / "ural.nmea"], ["route", "import", FIXTURES / "ural" / "routes.csv"],
                 ["detect"]):
        assert run_cli(args, db).exit_code == 0
    return db


@pytest.fixture(scope="module")
def ural_plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Ural fixture ingested and detected by the DuckDB engine, without declared routes."""
    db = tmp_path_factory.mktemp("ural_plain") / "ural.duckdb"
    for args in (["ingest", FIXTURES / "ural" / "ural.nmea"], ["detect"]):
        assert run_cli(args, db).exit_code == 0
    return db


# Every stored row and its provenance; only the time of the ingest differs.
TABLES = {
    "positions": "SELECT * FROM positions ORDER BY source_id, line_no, mmsi, ts",
    "static_reports": "SELECT * FROM static_reports ORDER BY source_id, line_no, mmsi, ts, part",
    "rejects": "SELECT * FROM rejects ORDER BY source_id, line_no",
    "sources": "SELECT * EXCLUDE (ingested_at, path) FROM sources ORDER BY source_id",
    "coverage": "SELECT * FROM coverage ORDER BY ALL",
}


def store_rows(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return {t: con.execute(sql).fetchall() for t, sql in TABLES.items()}
    finally:
        con.close()


def lake_rows(lake: Path) -> dict[str, list[tuple]]:
    from shiptrack.lake import open_lake

    con = open_lake(lake, confined=True)
    try:
        return {t: con.execute(sql).fetchall() for t, sql in TABLES.items()}
    finally:
        con.close()


def spark_ingest_and_detect(lake: Path, master: str, store: Path) -> None:
    """`ingest --engine spark` stores what the DuckDB ingest stores, again adds nothing, and
    `detect --engine spark` on it finds the store's events."""
    nmea = FIXTURES / "ural" / "ural.nmea"
    copy = lake.parent / "ural-copy.nmea"  # the same bytes twice in one run: read once
    copy.write_bytes(nmea.read_bytes())
    result = run_cli(["--db", f"{lake}/", "ingest", "--engine", "spark", "--master", master, nmea, copy])
    assert result.exit_code == 0, result.output
    assert "ural-copy.nmea: already ingested as source #1 on 20" in result.output  # the first copy's
    assert lake_rows(lake) == store_rows(store)
    again = run_cli(["--db", f"{lake}/", "ingest", "--engine", "spark", "--master", master, nmea])
    assert again.exit_code == 0 and "ural.nmea: already ingested as source #1 on 20" in again.output
    assert lake_rows(lake) == store_rows(store)
    result = run_cli(["--db", f"{lake}/", "detect", "--engine", "spark", "--master", master])
    assert result.exit_code == 0, result.output
    assert lake_events(lake) == events_of(store)


@pytest.fixture(scope="module")
def ural_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Ural fixture and its routes in a lake, before any detect (no events yet)."""
    tmp = tmp_path_factory.mktemp("ural_lake")
    store = tmp / "ural.duckdb"
    for args in (["ingest", FIXTURES / "ural" / "ural.nmea"], ["route", "import", FIXTURES / "ural" / "routes.csv"]):
        assert run_cli(args, store).exit_code == 0
    lake = tmp / "lake"
    assert run_cli(["lake", "export", store, lake]).exit_code == 0
    return lake


def lake_events(lake: Path) -> list[tuple]:
    from shiptrack.lake import open_lake

    con = open_lake(lake, confined=True)
    try:
        return con.execute(f"SELECT {COLUMNS} FROM events ORDER BY event_id").fetchall()  # noqa: S608
    finally:
        con.close()


@pytest.fixture(scope="module")
def border(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("border") / "border.duckdb"
    ingest_lines(db, border_corpus(), "border.nmea")
    assert run_cli(["detect"], db).exit_code == 0
    return db


def test_the_corpus_has_findings_on_every_border(border: Path) -> None:
    """What the equality tests rest on: the DuckDB engine finds the two meetings across the cell
    borders and midnight, gaps whose reception needs other shares' vessels, the IMO change."""
    found = {(r[1], r[2], r[3]) for r in events_of(border)}
    assert ("sts_encounter", 235000001, 235000002) in found
    assert ("sts_encounter", 235000003, 538000004) in found
    assert ("identity_change", 636000010, 235000001) in found
    con = duckdb.connect(str(border), read_only=True)
    gaps = con.execute("SELECT mmsi, details->>'piece', CAST(details->'coverage'->'start'->>'other_vessels' AS INT) "
                       "FROM events WHERE kind = 'ais_gap' ORDER BY mmsi").fetchall()
    meet = con.execute("SELECT details->'start_position'->>'lat', details->'end_position'->>'lat' FROM events "
                       "WHERE kind = 'sts_encounter' AND mmsi = 235000001").fetchall()
    con.close()
    assert {(m, piece) for m, piece, _ in gaps} >= {(636000005, "whole"), (244000010, "whole"),
                                                     (229000006, "before_hole")}
    assert all(n and n >= 2 for m, piece, n in gaps if piece == "whole")  # others heard near the gap start
    (start_lat, end_lat), = meet
    assert float(start_lat) < 35.0 < float(end_lat)  # the meeting crosses the cell border


@pytest.fixture(scope="module")
def local2() -> Iterator[object]:
    spark = spark_session("local[2]", shuffle_partitions=4)
    yield spark
    spark.stop()


def test_local_mode_finds_the_same_events(local2: object, ural: Path, border: Path) -> None:
    assert rows_of(detect_events(local2, str(ural), layout=Layout(shares=4))) == events_of(ural)
    assert rows_of(detect_events(local2, str(border), layout=BORDER)) == events_of(border)



def test_times_that_may_be_late_are_judged_the_same_on_spark(local2: object, tmp_path: Path) -> None:
    """exactEarth's real file read with --time-from trailer: every task reads the sources'
    time spread, so Spark finds the one jump the DuckDB engine finds (not 31), and the same
    destination changes given no order."""
    db = tmp_path / "ee.duckdb"
    assert run_cli(["ingest", "--time-from", "trailer", FIXTURES / "nmea" / "exact-earth-augmented-3.txt"],
                   db).exit_code == 0
    assert run_cli(["detect"], db).exit_code == 0
    found = rows_of(detect_events(local2, str(db), layout=Layout(shares=4)))
    assert found == events_of(db)
    assert [r[1] for r in found].count("spoofing_jump") == 1
    assert [r[1] for r in found].count("destination_change") == 15

def test_without_a_halo_a_meeting_on_a_border_is_cut(local2: object, border: Path) -> None:
    """The halo is what keeps the meetings whole: with none, the cell a meeting starts in
    sees only its own half, and the events differ (with 4 tasks, the two cells of each
    meeting go to different tasks)."""
    found = rows_of(detect_events(local2, str(border), ["sts_encounter"],
                                  layout=Layout(shares=4, cell_deg=CELL_DEG, halo_deg=0.0)))
    expected = [r for r in events_of(border) if r[1] == "sts_encounter"]
    assert found != expected


def test_one_core_finds_the_same_events(local2: object, border: Path) -> None:
    local2.stop()  # type: ignore[attr-defined]
    spark = spark_session("local[1]", shuffle_partitions=2)
    try:
        assert rows_of(detect_events(spark, str(border), layout=BORDER)) == events_of(border)
    finally:
        spark.stop()


def test_detect_engine_spark_writes_the_lake_events(ural: Path, ural_lake: Path) -> None:
    assert lake_events(ural_lake) == []
    result = run_cli(["--db", f"{ural_lake}/", "detect", "--engine", "spark", "--master", "local[2]"])
    assert result.exit_code == 0, result.output
    assert "dark_period" in result.output
    assert lake_events(ural_lake) == events_of(ural)


def test_ingest_engine_spark_stores_what_the_store_ingest_stores(ural_plain: Path, tmp_path: Path) -> None:
    spark_ingest_and_detect(tmp_path / "lake", "local[2]", ural_plain)


def test_a_standalone_cluster_finds_the_same_events(ural: Path, ural_plain: Path, border: Path,
                                                    tmp_path: Path) -> None:
    with standalone_cluster(workers=2, cores=1, memory="1g") as master:
        spark = spark_session(master, executor_memory="768m", shuffle_partitions=4)
        try:
            assert spark.sparkContext.defaultParallelism == 2  # both workers' executors
            assert rows_of(detect_events(spark, str(border), layout=BORDER)) == events_of(border)
        finally:
            spark.stop()
        spark_ingest_and_detect(tmp_path / "lake", master, ural_plain)


def test_relative_paths_hold_when_the_working_folder_changes(ural_plain: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Spark's Python workers keep the working folder of the first job of the process: a
    relative lake or file given later, from another folder, must still be found."""
    nmea = FIXTURES / "ural" / "ural.nmea"
    for k in (1, 2):  # (each folder's names exist in no other folder)
        here = tmp_path / f"folder{k}"
        here.mkdir()
        (here / f"ural{k}.nmea").write_bytes(nmea.read_bytes())
        monkeypatch.chdir(here)
        for args in (["ingest", "--engine", "spark", "--master", "local[2]", f"ural{k}.nmea"],
                     ["detect", "--engine", "spark", "--master", "local[2]"]):
            result = run_cli(["--db", f"lake{k}/", *args])
            assert result.exit_code == 0, (k, args, result.output, result.exception)
        assert lake_events(here / f"lake{k}") == events_of(ural_plain)
