"""The lake's Python API, as another engine's tasks use it (a Spark driver allocates source
ids under the lock; its tasks append sources from Arrow tables): real tables from a real
store, read back through open_lake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from shiptrack.lake import allocate_source_ids, create_lake, lake_lock, open_lake, replace_table, write_source
from shiptrack.lake.ingest import rebuild_coverage
from shiptrack.lake.layout import SOURCE_TABLES, schema_columns
from tests.conftest import FIXTURES, ROOT, run_cli


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("store") / "s.duckdb"
    for f in (FIXTURES / "nmea" / "ais.head12000.txt", FIXTURES / "nmea" / "tagblock.nmea"):
        assert run_cli(["ingest", f], db).exit_code == 0
    return db


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.sql(sql).fetchall()


def test_sources_appended_from_arrow_tables_read_back_as_in_the_store(store: Path, tmp_path: Path) -> None:
    lake = create_lake(tmp_path / "lake")
    st = duckdb.connect(str(store), read_only=True)
    st.execute("SET TimeZone = 'UTC'")
    try:
        ids = [r[0] for r in rows(st, "SELECT source_id FROM sources ORDER BY 1")]
        with lake_lock(lake):
            given = allocate_source_ids(lake, len(ids))
        assert given == ids == [1, 2]
        for sid in ids:
            tables = {t: st.sql(f"SELECT * FROM {t} WHERE source_id = {int(sid)}").to_arrow_table()  # noqa: S608
                      for t in (*SOURCE_TABLES, "sources")}
            # a task's frames need not carry the store's exact types: they are cast
            tables["positions"] = pl.from_arrow(tables["positions"]).with_columns(pl.col("mmsi").cast(pl.Int64))
            assert write_source(lake, sid, tables) is True
            assert write_source(lake, sid, tables) is False  # the same bytes again: skipped
        assert rebuild_coverage(lake) == rows(st, "SELECT count(*) FROM coverage")[0][0]
        lk = open_lake(lake, confined=True)
        try:
            for table in (*SOURCE_TABLES, "sources", "coverage"):
                sql = f"SELECT * FROM {table} ORDER BY ALL"  # noqa: S608
                assert rows(lk, sql) == rows(st, sql), table
        finally:
            lk.close()
    finally:
        st.close()
    files = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{lake}/positions/*/*/*.parquet')").fetchall()
    assert files[0][:2] == ("mmsi", "INTEGER")


def test_source_ids_are_never_given_twice_across_processes(tmp_path: Path) -> None:
    lake = create_lake(tmp_path / "lake")
    script = ("import sys\nfrom shiptrack.lake import allocate_source_ids, lake_lock\n"
              "for _ in range(25):\n    with lake_lock(sys.argv[1]):\n"
              "        print(*allocate_source_ids(sys.argv[1], 2))\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(lake)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    got = [int(x) for p in procs for x in p.communicate()[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(got) == list(range(1, 151))


def test_a_small_table_is_replaced_whole(tmp_path: Path) -> None:
    lake = create_lake(tmp_path / "lake")
    areas = pl.DataFrame({"name": ["box"], "port_id": [None], "lat": [32.0], "lon": [19.0], "radius_nm": [5.0],
                          "geojson": [None], "created_at": [None]})
    replace_table(lake, "areas", areas.to_arrow())
    con = open_lake(lake, confined=True)
    try:
        assert rows(con, "SELECT name, radius_nm FROM areas") == [("box", 5.0)]
        assert [r[1] for r in rows(con, "DESCRIBE areas")] == [c.type for c in schema_columns()["areas"]]
    finally:
        con.close()
    assert [p.name for p in (lake / "areas").iterdir()] == ["data.parquet"]


def test_a_file_decoded_by_a_task_is_the_file_ingest_writes(tmp_path: Path) -> None:
    """decode_file (a parallel ingest's task) + write_source give the lake that ingest gives."""
    from shiptrack.lake.ingest import decode_file

    f = FIXTURES / "nmea" / "ais.head12000.txt"
    by_ingest = tmp_path / "by_ingest"
    assert run_cli(["--db", f"{by_ingest}/", "ingest", f]).exit_code == 0
    by_task = create_lake(tmp_path / "by_task")
    with lake_lock(by_task):
        (sid,) = allocate_source_ids(by_task, 1)
    result, tables = decode_file(str(f), sid, tmp_path / "work")
    assert result.status == "ingested" and tables["positions"].num_rows == result.counts.positions > 1000
    assert write_source(by_task, sid, tables)
    rebuild_coverage(by_task)
    assert not list((tmp_path / "work").iterdir())  # its scratch store is gone
    a, b = open_lake(by_ingest, confined=True), open_lake(by_task, confined=True)
    try:
        for table in (*SOURCE_TABLES, "sources", "coverage"):
            cols = "* EXCLUDE (ingested_at)" if table == "sources" else "*"
            sql = f"SELECT {cols} FROM {table} ORDER BY ALL"  # noqa: S608
            assert rows(a, sql) == rows(b, sql), table
    finally:
        a.close()
        b.close()
