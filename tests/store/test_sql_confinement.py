"""User SQL reads the store and nothing else: `query`, reports (--queries) and rules (--rules-dir).

Each hostile statement of the hardening issue, run through the real CLI as a user would:
it is refused with one line on stderr (no traceback), the exit status says so, no file
appears, and the store is exactly what it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from shiptrack.cli import main
from tests.conftest import ingest_lines, ping, query


def cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def state(db: Path) -> tuple:
    return (query(db, "SELECT count(*), sum(mmsi) FROM positions")[0], query(db, "SELECT count(*) FROM sources")[0],
            query(db, "SELECT count(*) FROM events")[0],
            query(db, "SELECT list(table_name ORDER BY table_name) FROM information_schema.tables")[0])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "store.duckdb"
    ingest_lines(db, [ping(f"2018-02-20T00:{m:02d}:00Z", 32.6, 19.4) for m in range(0, 60, 10)])
    other = duckdb.connect(str(tmp_path / "other.duckdb"))
    other.execute("CREATE TABLE t AS SELECT 1 AS a")
    other.close()
    return db


def refused(db: Path, before: tuple, code: int, err: str, *, created: list[Path] = ()) -> None:
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("shiptrack: ") and "Traceback" not in err, err
    assert state(db) == before
    for path in created:
        assert not path.exists(), path


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/home/*')",
    "COPY positions TO '{tmp}/leak.csv'",
    "EXPORT DATABASE '{tmp}/leak'",
    "ATTACH '{tmp}/other.duckdb' AS o (READ_WRITE)",
    "ATTACH '{tmp}/other.duckdb' AS o (READ_WRITE); DROP TABLE o.t",
    "INSTALL httpfs",
    "LOAD httpfs",
    "DELETE FROM positions",
    "DROP TABLE positions",
    "SET enable_external_access = true",
])
def test_query_reads_the_store_and_nothing_else(store: Path, sql: str) -> None:
    tmp = store.parent
    before = state(store)
    digest = hashlib.sha256((tmp / "other.duckdb").read_bytes()).hexdigest()
    code, _, err = cli(store, "query", sql.format(tmp=tmp))
    refused(store, before, code, err, created=[tmp / "leak.csv", tmp / "leak"])
    assert hashlib.sha256((tmp / "other.duckdb").read_bytes()).hexdigest() == digest


def test_query_still_reads_the_store(store: Path) -> None:
    code, out, _ = cli(store, "query", "SELECT count(*) AS n FROM positions", "--format", "csv")
    assert code == 0 and out.splitlines() == ["n", "6"]


def test_a_rule_that_deletes_positions_is_refused(store: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "wipe.sql").write_text(
        "-- kind: wipe\n-- title: Wipe\n-- description: deletes a vessel's positions\n"
        "DELETE FROM positions WHERE mmsi = 352001234\n")
    before = state(store)
    code, _, err = cli(store, "detect", "--rules-dir", str(rules))
    refused(store, before, code, err)
    assert "must be one SELECT statement" in err


@pytest.mark.parametrize("body", [
    "SELECT 'leak' AS kind, 1 AS mmsi, NULL AS other_mmsi, now() AS start_utc, now() AS end_utc, 0.0 AS lat, "
    "0.0 AS lon, content AS port, NULL AS port_id, NULL AS port_distance_nm, '{{}}' AS details, [] AS evidence "
    "FROM read_text('/etc/hostname')",
    "SELECT * FROM pos; DELETE FROM positions",
])
def test_a_rule_reads_nothing_outside_the_store(store: Path, tmp_path: Path, body: str) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "leak.sql").write_text("-- kind: leak\n-- title: Leak\n-- description: reads a file\n" + body + "\n")
    before = state(store)
    code, _, err = cli(store, "detect", "--rules-dir", str(rules), "--rules", "leak")
    refused(store, before, code, err)


def test_a_report_that_copies_a_file_is_refused(store: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "copy.sql").write_text(
        "-- title: Copy\n-- description: copies /etc/passwd elsewhere\n"
        f"COPY (SELECT * FROM read_csv('/etc/passwd')) TO '{tmp_path}/passwd.csv'\n")
    (queries / "sneaky.sql").write_text(
        "-- title: Sneaky\n-- description: a normal report that also reads a file\n"
        "SELECT count(*) AS n, (SELECT count(*) FROM read_csv('/etc/passwd')) AS leaked FROM positions\n")
    before = state(store)
    for name in ("copy", "sneaky"):
        code, _, err = cli(store, "report", "run", name, "--queries", str(queries))
        refused(store, before, code, err, created=[tmp_path / "passwd.csv"])
