"""Writing a lake: `ingest` gives the rows, counts, rejects and coverage a store gets from
the same files; a file is in the lake whole or not at all (a failure, a kill); `detect`
gives the store's events and replaces them in one step."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from shiptrack.lake import open_lake
from shiptrack.lake.layout import TABLES, schema_columns
from tests.conftest import FIXTURES, ROOT, run_cli

pytestmark = pytest.mark.slow

# real files from several receivers and archives; ais250.txt twice: the second adds nothing
REAL_FILES = [FIXTURES / "nmea", FIXTURES / "archives" / "test_aisdk_20180208_sample.csv",
              FIXTURES / "archives" / "noaa_sample.csv", FIXTURES / "nmea" / "ais250.txt"]
URAL = FIXTURES / "ural" / "ural.nmea"


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every table's rows in order, but the time of the ingest."""
    out = {}
    for table in TABLES:
        cols = ", ".join(f'"{c.name}"' for c in schema_columns()[table] if c.name not in ("ingested_at", "detected_at"))
        out[table] = con.sql(f"SELECT {cols} FROM {table} ORDER BY ALL").fetchall()  # noqa: S608
    return out


def store_dump(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    try:
        return dump(con)
    finally:
        con.close()


def lake_dump(lake: Path) -> dict[str, list[tuple]]:
    con = open_lake(lake, confined=True)
    try:
        return dump(con)
    finally:
        con.close()


def files(lake: Path) -> dict[str, bytes]:
    return {str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("store") / "real.duckdb"
    assert run_cli(["ingest", *REAL_FILES], db).exit_code in (0, 1)
    return db


def test_ingest_into_a_lake_gives_what_a_store_gets(real_store: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    result = run_cli(["--db", f"{lake}/", "ingest", *REAL_FILES])
    assert result.exit_code in (0, 1)
    got, want = lake_dump(lake), store_dump(real_store)
    assert len(want["sources"]) >= 10 and want["rejects"] and want["coverage"]
    assert sum(r[0] for r in duckdb.connect(str(real_store), read_only=True).sql(
        "SELECT duplicates FROM sources").fetchall()) > 0  # files that repeat each other's messages
    for table in TABLES:
        assert got[table] == want[table], table
    # and again: every file is there already, nothing changes
    before = files(lake)
    again = run_cli(["--db", str(lake), "ingest", *REAL_FILES])
    assert "already ingested" in again.stdout
    after = files(lake)
    assert {k: v for k, v in after.items() if k != "next_source_id.json"} == {
        k: v for k, v in before.items() if k != "next_source_id.json"}


def test_a_file_that_fails_half_way_is_not_in_the_lake(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = FIXTURES / "nmea" / "ais.head12000.txt"
    assert run_cli(["--db", f"{lake}/", "ingest", first]).exit_code == 0
    before = lake_dump(lake)
    nxt = json.loads((lake / "next_source_id.json").read_text())["next"]
    # the folder of the next source's `sources` row is taken by a file: its rows are
    # written, then the row that would show them cannot be
    (lake / "sources").mkdir(exist_ok=True)
    (lake / "sources" / f"source_id={nxt}").write_text("in the way")
    result = run_cli(["--db", str(lake), "ingest", URAL])
    assert result.exit_code == 1 and "the lake could not be written" in result.stdout
    assert list(lake.glob(f"positions/*/*/{nxt}-*.parquet"))  # its files are there, unread
    assert lake_dump(lake) == before
    (lake / "sources" / f"source_id={nxt}").unlink()
    assert run_cli(["--db", str(lake), "ingest", URAL]).exit_code == 0
    assert not list(lake.glob(f"positions/*/*/{nxt}-*.parquet"))  # the dead source's files went
    store = tmp_path / "store.duckdb"
    assert run_cli(["ingest", first, URAL], store).exit_code == 0
    # the same rows as a store of the two files, but the source ids (one id was lost)
    queries = {t: f"SELECT * EXCLUDE (source_id) FROM {t} ORDER BY ALL" for t in ("positions", "static_reports",
                                                                                 "rejects")}
    queries["sources"] = "SELECT * EXCLUDE (source_id, ingested_at) FROM sources ORDER BY ALL"
    queries["coverage"] = "SELECT * EXCLUDE (receiver) FROM coverage ORDER BY ALL"
    lk = open_lake(lake, confined=True)
    st = duckdb.connect(str(store), read_only=True)
    st.execute("SET TimeZone = 'UTC'")
    try:
        for table, sql in queries.items():
            assert lk.sql(sql).fetchall() == st.sql(sql).fetchall(), table
    finally:
        lk.close()
        st.close()


def test_an_ingest_killed_at_any_point_leaves_the_file_whole_or_absent(tmp_path: Path) -> None:
    first = tmp_path / "first"
    assert run_cli(["--db", f"{first}/", "ingest", FIXTURES / "nmea" / "ais250.txt"]).exit_code == 0
    before = lake_dump(first)
    store = tmp_path / "store.duckdb"
    assert run_cli(["ingest", FIXTURES / "nmea" / "ais250.txt", URAL], store).exit_code == 0
    whole = store_dump(store)
    states = []
    for attempt in range(6):  # killed as the file's first Parquet files appear, or a little later
        lake = tmp_path / f"lake{attempt}"
        shutil.copytree(first, lake)
        proc = subprocess.Popen([sys.executable, "-m", "shiptrack", "--db", str(lake), "ingest", str(URAL)],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while proc.poll() is None and not list(lake.glob("positions/*/*/[2-9]*-*.parquet")):
            assert time.monotonic() < deadline
            time.sleep(0.002)
        time.sleep(0.01 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        got = lake_dump(lake)
        if got["sources"] == before["sources"]:
            states.append("absent")
            assert got == before
        else:
            states.append("whole")
            assert [r[1:] for r in got["sources"]] == [r[1:] for r in whole["sources"]]
            assert len(got["positions"]) == len(whole["positions"])
        # either way the next ingest completes the lake: the file whole, its coverage too
        assert run_cli(["--db", str(lake), "ingest", URAL]).exit_code == 0
        got = lake_dump(lake)
        assert len(got["positions"]) == len(whole["positions"]) and got["coverage"] == whole["coverage"]
        assert not list(lake.glob(".scratch-*"))
        if "absent" in states:
            break
    assert "absent" in states, states  # the kill did land half-way


@pytest.fixture(scope="module")
def ural_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("ural")
    store = tmp / "ural.duckdb"
    for args in (["ingest", URAL], ["route", "import", FIXTURES / "ural" / "routes.csv"]):
        assert run_cli(args, store).exit_code == 0
    assert run_cli(["lake", "export", store, tmp / "lake"]).exit_code == 0
    assert run_cli(["detect"], store).exit_code == 0
    return store, tmp / "lake"


def test_detect_on_a_lake_finds_what_it_finds_in_the_store(ural_pair: tuple[Path, Path]) -> None:
    store, lake = ural_pair
    assert not lake_dump(lake)["events"]
    result = run_cli(["--db", str(lake), "detect"])
    assert result.exit_code == 0
    assert result.stdout.replace(str(lake), "") == run_cli(["detect"], store).stdout.replace(str(store), "")
    want = store_dump(store)["events"]
    assert len(want) > 100 and {r[1] for r in want} >= {"port_call", "dark_period", "unplanned_port_call"}
    assert lake_dump(lake)["events"] == want
    for args in (["events", "--format", "csv"], ["vessel", "URAL", "--format", "md"]):
        assert run_cli(args, lake).stdout == run_cli(args, store).stdout
    # a second run replaces the folder whole, leaving nothing behind
    assert run_cli(["--db", str(lake), "detect", "--rules", "port_call"]).exit_code == 0
    assert lake_dump(lake)["events"] == want
    assert sorted(p.name for p in lake.iterdir() if p.name.startswith(".")) == [".shiptrack-lake.lock"]
    assert [p.name for p in (lake / "events").iterdir()] == ["part-0.parquet"]


def test_declared_voyages_and_areas_on_a_lake_as_on_a_store(tmp_path: Path) -> None:
    """A lake made by ingest takes the user's areas and declared voyages (the tables the rules
    read beside the tracks), and detect then finds on it what it finds in the store."""
    store, lake = tmp_path / "ural.duckdb", tmp_path / "lake"
    steps = [["ingest", URAL], ["route", "import", FIXTURES / "ural" / "routes.csv"],
             ["areas", "add", "Benghazi outer", "--port", "Benghazi", "--radius-nm", "9"], ["detect"]]
    for args in steps:
        on_store, on_lake = run_cli(args, store), run_cli(["--db", f"{lake}/", *args])
        assert on_store.exit_code == on_lake.exit_code == 0, on_lake.output
        if args[0] != "ingest":
            assert on_lake.stdout == on_store.stdout
    for args in (["route", "list", "--format", "csv"], ["areas", "list", "--format", "csv"],
                 ["events", "--format", "csv"]):
        # (an area's created_at is when each was added: a second apart, maybe)
        made = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ,$", re.M) if args[0] == "areas" else re.compile("^$")
        assert made.sub("", run_cli(args, lake).stdout) == made.sub("", run_cli(args, store).stdout)
    assert len(lake_dump(lake)["declared_route_points"]) > 10
    assert lake_dump(lake)["events"] == store_dump(store)["events"]


@pytest.mark.parametrize("args", [["ingest", str(FIXTURES / "nmea" / "ais250.txt")], ["detect"]])
def test_writing_an_object_storage_lake_is_refused_in_one_line(args: list[str], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(["--db", "s3://bucket/ais/", *args])
    assert result.exit_code == 1
    assert result.stderr.startswith("shiptrack: s3://bucket/ais") and "writes lakes in local folders only" in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_lake_path_with_a_glob_character_is_refused_in_one_line(tmp_path: Path) -> None:
    """DuckDB reads a lake's files by pattern: a folder named ``la[k]e`` would read other
    folders' files, so it is refused before anything is written."""
    lake = tmp_path / "la[k]e"
    for args in (["ingest", FIXTURES / "ural" / "ural.nmea"], ["query", "SELECT 1"]):
        result = run_cli(["--db", f"{lake}/", *args])
        assert result.exit_code != 0
        assert result.output.strip().count("\n") == 0 and "may not contain" in result.output
    assert not lake.exists()
