"""User SQL on a lake reads the lake and nothing else: `query`, reports (--queries) and rules
(--rules-dir), as for a store (tests/test_sql_confinement.py). The lake's views read Parquet
files, so DuckDB may open the lake's folder (allowed_directories), and only it: each hostile
statement is refused with one line, no file appears, and the lake's files stay as they were."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from shiptrack.cli import main
from tests.conftest import ping, run_cli


def cli(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def digest(lake: Path) -> dict[str, str]:
    """Every file of the lake and its hash (what a writer would change)."""
    return {str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(lake.rglob("*")) if p.is_file() and p.name != ".shiptrack-lake.lock"}


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    track = tmp_path / "track.nmea"
    track.write_text("\n".join(ping(f"2018-02-20T00:{m:02d}:00Z", 32.6, 19.4) for m in range(0, 60, 10)) + "\n")
    lake = tmp_path / "lake"
    assert run_cli(["--db", f"{lake}/", "ingest", track]).exit_code == 0
    (tmp_path / "secret.txt").write_text("secret\n")
    return lake


def refused(lake: Path, before: dict[str, str], code: int, err: str, created: list[Path]) -> None:
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("shiptrack: ") and "Traceback" not in err, err
    assert digest(lake) == before
    for path in created:
        assert not path.exists(), path


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('{tmp}/secret.txt')",
    "SELECT * FROM read_text('{lake}/../secret.txt')",
    "SELECT * FROM glob('/etc/*')",
    "COPY positions TO '{tmp}/leak.csv'",
    "COPY positions TO '{lake}/leak.csv'",
    "COPY (SELECT * FROM positions LIMIT 0) TO '{lake}/positions/day=2018-02-20/bucket=00/x.parquet'",
    "EXPORT DATABASE '{lake}/leak'",
    "ATTACH '{tmp}/other.duckdb' AS o",
    "INSTALL httpfs",
    "LOAD httpfs",
    "DELETE FROM sources",
    "SELECT 1; COPY positions TO '{lake}/leak.csv'",
    "SET allowed_directories = ['/']",
    "SET enable_external_access = true",
])
def test_query_on_a_lake_reads_the_lake_and_nothing_else(lake: Path, sql: str) -> None:
    tmp = lake.parent
    before = digest(lake)
    code, _, err = cli(lake, "query", sql.format(tmp=tmp, lake=lake))
    refused(lake, before, code, err, [tmp / "leak.csv", lake / "leak.csv", lake / "leak", tmp / "other.duckdb"])


def test_query_on_a_lake_still_reads_the_lake(lake: Path) -> None:
    code, out, _ = cli(lake, "query", "SELECT count(*) AS n FROM positions", "--format", "csv")
    assert code == 0 and out.splitlines() == ["n", "6"]
    code, out, _ = cli(lake, "query", "SELECT name, sha256 IS NOT NULL AS hashed FROM sources", "--format", "csv")
    assert code == 0 and out.splitlines()[1].endswith("track.nmea,true")


def test_a_report_on_a_lake_reads_nothing_else(lake: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "copy.sql").write_text(
        "-- title: Copy\n-- description: copies /etc/passwd into the lake\n"
        f"COPY (SELECT * FROM read_csv('/etc/passwd')) TO '{lake}/passwd.csv'\n")
    (queries / "sneaky.sql").write_text(
        "-- title: Sneaky\n-- description: a normal report that also reads a file\n"
        "SELECT count(*) AS n, (SELECT count(*) FROM read_csv('/etc/passwd')) AS leaked FROM positions\n")
    before = digest(lake)
    for name in ("copy", "sneaky"):
        code, _, err = cli(lake, "report", "run", name, "--queries", str(queries))
        refused(lake, before, code, err, [lake / "passwd.csv"])


def test_a_rule_on_a_lake_reads_nothing_outside_it(lake: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "leak.sql").write_text(
        "-- kind: leak\n-- title: Leak\n-- description: reads a file\n"
        "SELECT 'leak' AS kind, 1 AS mmsi, NULL AS other_mmsi, now() AS start_utc, now() AS end_utc, 0.0 AS lat, "
        "0.0 AS lon, content AS port, NULL AS port_id, NULL AS port_distance_nm, '{}' AS details, [] AS evidence "
        f"FROM read_text('{tmp_path}/secret.txt')\n")
    before = digest(lake)
    code, _, err = cli(lake, "detect", "--rules-dir", str(rules), "--rules", "leak")
    refused(lake, before, code, err, [])
