"""A lake holds the store's tables as Parquet, and every read command gives on it the same
bytes as on the store it came from: the Ural reconstruction (with a declared route and
its events) and a store of many real files (fixtures/)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from shiptrack.lake import is_lake, open_lake
from shiptrack.lake.layout import TABLES, schema_columns
from tests.conftest import FIXTURES, run_cli

pytestmark = pytest.mark.slow

REAL_FILES = [FIXTURES / "nmea", FIXTURES / "archives" / "test_aisdk_20180208_sample.csv",
              FIXTURES / "archives" / "noaa_sample.csv"]


def make_store(db: Path, steps: list[list]) -> Path:
    for args in steps:
        result = run_cli(args, db)
        assert result.exit_code in (0, 1), result.output  # 1: some real file had a failed source
    return db


@pytest.fixture(scope="module")
def ural(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("ural")
    store = make_store(tmp / "ural.duckdb", [["ingest", FIXTURES / "ural" / "ural.nmea"],
                                             ["route", "import", FIXTURES / "ural" / "routes.csv"], ["detect"]])
    result = run_cli(["lake", "export", store, tmp / "lake"])
    assert result.exit_code == 0, result.output
    return store, tmp / "lake"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("real")
    store = make_store(tmp / "real.duckdb", [["ingest", *REAL_FILES], ["detect"]])
    assert run_cli(["lake", "export", store, tmp / "lake"]).exit_code == 0
    return store, tmp / "lake"


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall()  # noqa: S608 - our table names


@pytest.mark.parametrize("which", ["ural", "real"])
def test_export_copies_every_table_with_the_stores_columns(which: str, request: pytest.FixtureRequest) -> None:
    store, lake = request.getfixturevalue(which)
    assert is_lake(lake)
    s = duckdb.connect(str(store), read_only=True)
    s.execute("SET TimeZone = 'UTC'")
    lk = open_lake(lake, confined=True)
    try:
        assert s.sql("SELECT count(*) FROM sources").fetchall()[0][0] >= (1 if which == "ural" else 10)
        for table in TABLES:
            describe = f"SELECT column_name, column_type FROM (DESCRIBE {table})"  # (views: no NOT NULL)
            assert lk.sql(describe).fetchall() == s.sql(describe).fetchall(), table
            assert table_rows(lk, table) == table_rows(s, table), table
        for view in ("vessels", "identity_history"):
            assert table_rows(lk, view) == table_rows(s, view)
    finally:
        s.close()
        lk.close()


def test_the_lake_layout(ural: tuple[Path, Path]) -> None:
    _, lake = ural
    parts = sorted(p.relative_to(lake / "positions") for p in lake.glob("positions/*/*/*.parquet"))
    assert parts and all(p.parts[0].startswith("day=2018-") and p.parts[1].startswith("bucket=") for p in parts)
    assert {len(p.parts[1]) for p in parts} == {len("bucket=NN")}
    assert all(p.name.startswith("1-") for p in parts)  # <source_id>-<uuid>
    assert [p.relative_to(lake).parent.as_posix() for p in lake.glob("sources/*/*.parquet")] == ["sources/source_id=1"]
    for small in ("ports", "mid_flags", "coverage", "declared_voyages", "meta"):
        assert (lake / small / "data.parquet").is_file()
    # the files alone (no shiptrack) hold the store's columns, and the partitions
    files = f"read_parquet('{lake}/positions/*/*/*.parquet', hive_partitioning = true)"
    cols = [r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM {files}").fetchall()]
    names = [c.name for c in schema_columns()["positions"]]
    assert cols[:len(names)] == names and sorted(cols[len(names):]) == ["bucket", "day"]
    assert duckdb.sql(f"SELECT count(*) FROM {files} WHERE CAST(ts AS DATE) <> day OR mmsi % 16 <> bucket"
                      ).fetchall() == [(0,)]


READ_COMMANDS = [
    ["vessel", "URAL"], ["vessel", "URAL", "--format", "json"], ["vessel", "URAL", "--format", "md"],
    ["track", "URAL"], ["track", "URAL", "--format", "geojson", "--since", "2018-02-10"],
    ["events", "--format", "csv"], ["events", "--format", "json", "--kind", "port_call"],
    ["events", "--vessel", "URAL", "--near", "Benghazi", "--format", "md"],
    ["query", "SELECT name, flag, positions FROM vessels ORDER BY mmsi", "--format", "csv"],
    ["report", "run", "dark_near_ports", "--format", "csv"],
    ["export", "positions", "--format", "csv", "-o", "-"],
    ["export", "vessels", "--format", "csv", "-o", "-"],
    ["export", "events", "--format", "csv", "-o", "-"],
    ["export", "sources", "--format", "csv", "-o", "-"],
]


def output(db: Path, args: list[str], tmp: Path) -> bytes:
    args = [str(tmp / "out") if a == "-" else a for a in args]
    result = run_cli(args, db)
    assert result.exit_code == 0, result.output
    return (tmp / "out").read_bytes() if "-o" in args else result.stdout_bytes


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a)[:40])
def test_read_commands_give_the_same_bytes_on_the_lake(ural: tuple[Path, Path], args: list[str],
                                                       tmp_path: Path) -> None:
    store, lake = ural
    on_store = output(store, args, tmp_path)
    assert len(on_store) > 100
    assert output(lake, args, tmp_path) == on_store


@pytest.mark.parametrize("args", [["export", "positions", "--format", "csv", "-o", "-"],
                                  ["export", "rejects", "--format", "csv", "-o", "-"],
                                  ["events", "--format", "csv"], ["vessel", "MEA CULPA", "--format", "json"],
                                  ["query", "SELECT mmsi, count(*) FROM positions GROUP BY ALL ORDER BY ALL"]],
                         ids=lambda a: " ".join(a)[:30])
def test_real_files_give_the_same_bytes_on_the_lake(real: tuple[Path, Path], args: list[str], tmp_path: Path) -> None:
    store, lake = real
    on_store = output(store, args, tmp_path)
    assert output(lake, args, tmp_path) == on_store
